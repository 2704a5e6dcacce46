// net/addr.cpp: SocketAddr parsing and formatting (inet_pton / inet_ntop).
#include "rill/net/addr.hpp"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace rill::net {

SocketAddr::SocketAddr() noexcept {
  std::memset(&storage_, 0, sizeof storage_);
  storage_.ss_family = AF_INET;
}

SocketAddr SocketAddr::v4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d,
                          std::uint16_t port) noexcept {
  SocketAddr s;
  auto* in = reinterpret_cast<sockaddr_in*>(&s.storage_);
  in->sin_family = AF_INET;
  in->sin_port = htons(port);
  in->sin_addr.s_addr =
      htonl((std::uint32_t{a} << 24) | (std::uint32_t{b} << 16) | (std::uint32_t{c} << 8) | d);
  return s;
}

SocketAddr SocketAddr::localhost_v6(std::uint16_t port) noexcept {
  SocketAddr s;
  auto* in6 = reinterpret_cast<sockaddr_in6*>(&s.storage_);
  in6->sin6_family = AF_INET6;
  in6->sin6_port = htons(port);
  in6->sin6_addr = in6addr_loopback;
  return s;
}

SocketAddr SocketAddr::from_native(const void* sa, std::uint32_t len) noexcept {
  SocketAddr s;
  const auto* p = static_cast<const sockaddr*>(sa);
  if (p && len >= sizeof(sockaddr_in) && p->sa_family == AF_INET)
    std::memcpy(&s.storage_, p, sizeof(sockaddr_in));
  else if (p && len >= sizeof(sockaddr_in6) && p->sa_family == AF_INET6)
    std::memcpy(&s.storage_, p, sizeof(sockaddr_in6));
  return s;
}

io::Result<SocketAddr> SocketAddr::parse(std::string_view s) {
  const auto bad = Unexpected{io::make_error_code(io::Errc::invalid_address)};
  std::string_view host, port;
  bool v6 = false;
  if (!s.empty() && s.front() == '[') {
    const auto close = s.find(']');
    if (close == std::string_view::npos || close + 1 >= s.size() || s[close + 1] != ':') return bad;
    host = s.substr(1, close - 1);
    port = s.substr(close + 2);
    v6 = true;
  } else {
    const auto colon = s.rfind(':');
    if (colon == std::string_view::npos) return bad;
    host = s.substr(0, colon);
    port = s.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) return bad;  // v6 needs brackets
  }
  unsigned p = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size() || p > 65535)
    return bad;
  if (host.empty() || host.size() >= INET6_ADDRSTRLEN) return bad;
  char buf[INET6_ADDRSTRLEN];
  std::memcpy(buf, host.data(), host.size());
  buf[host.size()] = '\0';
  SocketAddr out;
  if (v6) {
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&out.storage_);
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(static_cast<std::uint16_t>(p));
    if (inet_pton(AF_INET6, buf, &in6->sin6_addr) != 1) return bad;
  } else {
    auto* in = reinterpret_cast<sockaddr_in*>(&out.storage_);
    in->sin_family = AF_INET;
    in->sin_port = htons(static_cast<std::uint16_t>(p));
    if (inet_pton(AF_INET, buf, &in->sin_addr) != 1) return bad;
  }
  return out;
}

std::uint16_t SocketAddr::port() const noexcept {
  if (is_ipv6()) return ntohs(reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_port);
  return ntohs(reinterpret_cast<const sockaddr_in*>(&storage_)->sin_port);
}

void SocketAddr::set_port(std::uint16_t port) noexcept {
  if (is_ipv6())
    reinterpret_cast<sockaddr_in6*>(&storage_)->sin6_port = htons(port);
  else
    reinterpret_cast<sockaddr_in*>(&storage_)->sin_port = htons(port);
}

std::string SocketAddr::ip() const {
  char buf[INET6_ADDRSTRLEN] = {};
  if (is_ipv6())
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_addr, buf,
              sizeof buf);
  else
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&storage_)->sin_addr, buf, sizeof buf);
  return buf;
}

std::string SocketAddr::to_string() const {
  if (is_ipv6()) return "[" + ip() + "]:" + std::to_string(port());
  return ip() + ":" + std::to_string(port());
}

bool operator==(const SocketAddr& a, const SocketAddr& b) noexcept {
  if (a.family() != b.family()) return false;
  return std::memcmp(a.native(), b.native(), a.native_len()) == 0;
}

}  // namespace rill::net

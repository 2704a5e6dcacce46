// rill/net/addr.hpp: SocketAddr, an IPv4 or IPv6 address with a port. Mirrors
// std::net::SocketAddr (the type tokio::net uses).
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "rill/io.hpp"

namespace rill::net {

/// An IPv4 or IPv6 socket address (IP + port). A plain value: copyable, comparable, no
/// resources, thread-compatible. The default value is 0.0.0.0:0. Mirrors std::net::SocketAddr.
class SocketAddr {
 public:
  SocketAddr() noexcept;
  /// Parses "a.b.c.d:port" or "[v6]:port" (numeric only; see lookup_host for names). Errors:
  /// io::Errc::invalid_address.
  static io::Result<SocketAddr> parse(std::string_view s);
  /// An IPv4 address from four octets and a port: SocketAddr::v4(127, 0, 0, 1, 8080).
  static SocketAddr v4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d,
                       std::uint16_t port) noexcept;
  /// 127.0.0.1:port (port 0: the kernel picks one when binding).
  static SocketAddr localhost_v4(std::uint16_t port = 0) noexcept { return v4(127, 0, 0, 1, port); }
  /// [::1]:port.
  static SocketAddr localhost_v6(std::uint16_t port = 0) noexcept;
  /// Converts a native sockaddr (AF_INET or AF_INET6); other families yield 0.0.0.0:0.
  static SocketAddr from_native(const void* sa, std::uint32_t len) noexcept;

  bool is_ipv4() const noexcept { return storage_.ss_family == AF_INET; }
  bool is_ipv6() const noexcept { return storage_.ss_family == AF_INET6; }
  /// The port in host byte order.
  std::uint16_t port() const noexcept;
  void set_port(std::uint16_t port) noexcept;
  /// The IP alone ("127.0.0.1", "::1").
  std::string ip() const;
  /// "ip:port", with brackets for IPv6 ("[::1]:80"); parse() accepts it back.
  std::string to_string() const;

  /// The native form, for the system calls.
  const sockaddr* native() const noexcept { return reinterpret_cast<const sockaddr*>(&storage_); }
  std::uint32_t native_len() const noexcept {
    return is_ipv6() ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
  }
  int family() const noexcept { return storage_.ss_family; }

  friend bool operator==(const SocketAddr& a, const SocketAddr& b) noexcept;

 private:
  sockaddr_storage storage_;
};

}  // namespace rill::net

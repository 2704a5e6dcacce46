// net/lookup.cpp: lookup_host via getaddrinfo on the blocking pool.
#include "rill/net/lookup.hpp"

#include <netdb.h>

#include <cerrno>

#include "rill/runtime.hpp"

namespace rill::net {

namespace {
io::Result<std::vector<SocketAddr>> resolve(const std::string& host, const std::string& port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  const int rc = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &res);
  if (rc != 0) {
    if (rc == EAI_SYSTEM) return Unexpected{std::error_code(errno, std::system_category())};
    return Unexpected{std::make_error_code(std::errc::host_unreachable)};
  }
  std::vector<SocketAddr> out;
  for (addrinfo* p = res; p; p = p->ai_next)
    out.push_back(SocketAddr::from_native(p->ai_addr, static_cast<std::uint32_t>(p->ai_addrlen)));
  ::freeaddrinfo(res);
  return out;
}
}  // namespace

Task<io::Result<std::vector<SocketAddr>>> lookup_host(std::string host_port) {
  if (auto a = SocketAddr::parse(host_port)) co_return std::vector<SocketAddr>{*a};
  const auto colon = host_port.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == host_port.size())
    co_return Unexpected{io::make_error_code(io::Errc::invalid_address)};
  std::string host = host_port.substr(0, colon), port = host_port.substr(colon + 1);
  if (host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  co_return co_await spawn_blocking([host, port] { return resolve(host, port); });
}

}  // namespace rill::net

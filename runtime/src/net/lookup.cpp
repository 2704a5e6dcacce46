// net/lookup.cpp: lookup_host via getaddrinfo on the blocking pool, and the synchronous
// resolution TcpListener::bind uses for host names.
#include "rill/net/lookup.hpp"

#include <netdb.h>

#include <cerrno>
#include <string>
#include <string_view>

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

/// Splits "host:port" ("[v6]:port" loses its brackets); false when there is no port.
bool split_host_port(std::string_view host_port, std::string& host, std::string& port) {
  const auto colon = host_port.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == host_port.size()) return false;
  host = std::string(host_port.substr(0, colon));
  port = std::string(host_port.substr(colon + 1));
  if (host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  return true;
}
}  // namespace

Task<io::Result<std::vector<SocketAddr>>> lookup_host(std::string host_port) {
  if (auto a = SocketAddr::parse(host_port)) co_return std::vector<SocketAddr>{*a};
  std::string host, port;
  if (!split_host_port(host_port, host, port))
    co_return Unexpected{io::make_error_code(io::Errc::invalid_address)};
  co_return co_await spawn_blocking([host, port] { return resolve(host, port); });
}

namespace detail {
io::Result<std::vector<SocketAddr>> resolve_in_place(std::string_view host_port) {
  if (auto a = SocketAddr::parse(host_port)) return std::vector<SocketAddr>{*a};
  std::string host, port;
  if (!split_host_port(host_port, host, port))
    return Unexpected{io::make_error_code(io::Errc::invalid_address)};
  rill::detail::Scheduler* s = rill::detail::t_ctx.sched;
  if (s != nullptr && !rill::detail::scheduler_is_current_thread(s))
    return block_in_place([&] { return resolve(host, port); });
  return resolve(host, port);
}
}  // namespace detail


}  // namespace rill::net

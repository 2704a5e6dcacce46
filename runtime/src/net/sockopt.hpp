// net/sockopt.hpp: small helpers shared by the socket types (options, names, creation).
#pragma once

#include <sys/socket.h>

#include <cerrno>
#include <system_error>

#include "io/op.hpp"
#include "rill/net/addr.hpp"

namespace rill::net::detail {

inline std::error_code last_error() noexcept {
  return {errno, std::system_category()};
}

inline io::Result<void> set_int(const rill::detail::IoHandle* h, int level, int opt, int v) {
  if (!h) return Unexpected{std::error_code(EBADF, std::system_category())};
  if (::setsockopt(h->fd, level, opt, &v, sizeof v) < 0) return Unexpected{last_error()};
  return {};
}

inline io::Result<int> get_int(const rill::detail::IoHandle* h, int level, int opt) {
  if (!h) return Unexpected{std::error_code(EBADF, std::system_category())};
  int v = 0;
  socklen_t l = sizeof v;
  if (::getsockopt(h->fd, level, opt, &v, &l) < 0) return Unexpected{last_error()};
  return v;
}

/// getsockname / getpeername as a SocketAddr.
inline io::Result<SocketAddr> name_of(const rill::detail::IoHandle* h, bool peer) {
  if (!h) return Unexpected{std::error_code(EBADF, std::system_category())};
  sockaddr_storage ss{};
  socklen_t l = sizeof ss;
  const int rc = peer ? ::getpeername(h->fd, reinterpret_cast<sockaddr*>(&ss), &l)
                      : ::getsockname(h->fd, reinterpret_cast<sockaddr*>(&ss), &l);
  if (rc < 0) return Unexpected{last_error()};
  return SocketAddr::from_native(&ss, l);
}

/// A new socket wrapped for the current runtime.
inline io::Result<std::shared_ptr<rill::detail::IoHandle>> new_socket(int family, int type) {
  if (!rill::detail::any_driver()) return Unexpected{io::make_error_code(io::Errc::not_in_runtime)};
  const int fd = ::socket(family, type | SOCK_CLOEXEC, 0);
  if (fd < 0) return Unexpected{last_error()};
  return rill::detail::make_handle(fd, true, type == SOCK_STREAM);
}

}  // namespace rill::net::detail

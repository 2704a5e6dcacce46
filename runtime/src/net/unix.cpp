// net/unix.cpp: UnixListener and UnixStream.
#include "rill/net/unix.hpp"

#include <sys/un.h>

#include <cstring>

#include "net/sockopt.hpp"

namespace rill::net {

namespace {

io::Result<std::pair<sockaddr_un, socklen_t>> unix_addr(std::string_view path) {
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof a.sun_path)
    return Unexpected{std::error_code(ENAMETOOLONG, std::system_category())};
  std::memcpy(a.sun_path, path.data(), path.size());
  return std::pair<sockaddr_un, socklen_t>(
      a, static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() + 1));
}

std::string path_of(const sockaddr_un& a, socklen_t len) {
  if (len <= offsetof(sockaddr_un, sun_path)) return {};
  return std::string(a.sun_path, strnlen(a.sun_path, len - offsetof(sockaddr_un, sun_path)));
}

io::Result<std::string> name(const rill::detail::IoHandle* h, bool peer) {
  if (!h) return Unexpected{std::error_code(EBADF, std::system_category())};
  sockaddr_un a{};
  socklen_t l = sizeof a;
  const int rc = peer ? ::getpeername(h->fd, reinterpret_cast<sockaddr*>(&a), &l)
                      : ::getsockname(h->fd, reinterpret_cast<sockaddr*>(&a), &l);
  if (rc < 0) return Unexpected{detail::last_error()};
  return path_of(a, l);
}

}  // namespace

Task<io::Result<UnixStream>> UnixStream::connect(std::string path) {
  auto a = unix_addr(path);
  if (!a) co_return Unexpected{a.error()};
  auto h = detail::new_socket(AF_UNIX, SOCK_STREAM);
  if (!h) co_return Unexpected{h.error()};
  auto r = co_await io::UnitOp(rill::detail::io_connect(h->get(), &a->first, a->second));
  if (!r) co_return Unexpected{r.error()};
  co_return UnixStream(std::move(*h));
}

io::Result<std::pair<UnixStream, UnixStream>> UnixStream::pair() {
  if (!rill::detail::any_driver()) return Unexpected{io::make_error_code(io::Errc::not_in_runtime)};
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) < 0)
    return Unexpected{detail::last_error()};
  auto a = rill::detail::make_handle(fds[0], true, true);
  if (!a) {
    ::close(fds[1]);
    return Unexpected{a.error()};
  }
  auto b = rill::detail::make_handle(fds[1], true, true);
  if (!b) return Unexpected{b.error()};
  return std::pair<UnixStream, UnixStream>(UnixStream(std::move(*a)), UnixStream(std::move(*b)));
}

io::Result<std::string> UnixStream::peer_addr() const {
  return name(h_.get(), true);
}
io::Result<std::string> UnixStream::local_addr() const {
  return name(h_.get(), false);
}

io::Result<UnixListener> UnixListener::bind(std::string_view path) {
  auto a = unix_addr(path);
  if (!a) return Unexpected{a.error()};
  auto h = detail::new_socket(AF_UNIX, SOCK_STREAM);
  if (!h) return Unexpected{h.error()};
  if (::bind((*h)->fd, reinterpret_cast<const sockaddr*>(&a->first), a->second) < 0 ||
      ::listen((*h)->fd, 1024) < 0)
    return Unexpected{detail::last_error()};
  return UnixListener(std::move(*h));
}

io::Result<std::pair<UnixStream, std::string>> UnixListener::Accept::await_resume() {
  const std::int64_t fd = result();
  if (fd < 0) return Unexpected{rill::detail::io_error(fd)};
  std::uint32_t len = 0;
  const auto* sa = static_cast<const sockaddr_un*>(rill::detail::io_op_addr(op_, &len));
  std::string peer = path_of(*sa, len);
  auto h = rill::detail::make_handle(static_cast<int>(fd), true, true);
  if (!h) return Unexpected{h.error()};
  return std::pair<UnixStream, std::string>(UnixStream(std::move(*h)), std::move(peer));
}

io::Result<std::string> UnixListener::local_addr() const {
  return name(h_.get(), false);
}

}  // namespace rill::net

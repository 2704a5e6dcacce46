// net/tcp.cpp: TcpListener, TcpStream and TcpSocket on top of the driver's operations.
#include "rill/net/tcp.hpp"

#include "rill/net/lookup.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>

#include "net/sockopt.hpp"

namespace rill::net {

using detail::get_int;
using detail::last_error;
using detail::name_of;
using detail::set_int;

// ---- TcpStream ----------------------------------------------------------------------------------

Task<io::Result<TcpStream>> TcpStream::connect(SocketAddr addr) {
  auto h = detail::new_socket(addr.family(), SOCK_STREAM);
  if (!h) co_return Unexpected{h.error()};
  auto r =
      co_await io::UnitOp(rill::detail::io_connect(h->get(), addr.native(), addr.native_len()));
  if (!r) co_return Unexpected{r.error()};
  co_return TcpStream(std::move(*h));
}

namespace {
/// Connects to each address `host_port` resolves to, in turn; the last error when none accepts.
Task<io::Result<TcpStream>> connect_each(std::string host_port) {
  auto addrs = co_await lookup_host(std::move(host_port));
  if (!addrs) co_return Unexpected{addrs.error()};
  std::error_code last = io::make_error_code(io::Errc::invalid_address);
  for (const SocketAddr& a : *addrs) {
    auto s = co_await TcpStream::connect(a);
    if (s) co_return std::move(*s);
    last = s.error();
  }
  co_return Unexpected{last};
}
}  // namespace

Task<io::Result<TcpStream>> TcpStream::connect(std::string_view addr) {
  if (auto a = SocketAddr::parse(addr)) return connect(*a);
  return connect_each(std::string(addr));  // copied before the coroutine: `addr` may dangle
}

io::Result<SocketAddr> TcpStream::peer_addr() const {
  return name_of(h_.get(), true);
}
io::Result<SocketAddr> TcpStream::local_addr() const {
  return name_of(h_.get(), false);
}
io::Result<void> TcpStream::set_nodelay(bool on) {
  return set_int(h_.get(), IPPROTO_TCP, TCP_NODELAY, on ? 1 : 0);
}
io::Result<bool> TcpStream::nodelay() const {
  auto v = get_int(h_.get(), IPPROTO_TCP, TCP_NODELAY);
  if (!v) return Unexpected{v.error()};
  return *v != 0;
}
io::Result<void> TcpStream::set_linger(int seconds) {
  if (!h_) return Unexpected{std::error_code(EBADF, std::system_category())};
  linger l{1, seconds};
  if (::setsockopt(h_->fd, SOL_SOCKET, SO_LINGER, &l, sizeof l) < 0)
    return Unexpected{last_error()};
  return {};
}

// ---- TcpListener --------------------------------------------------------------------------------

io::Result<TcpListener> TcpListener::bind(const SocketAddr& addr) {
  auto s = addr.is_ipv6() ? TcpSocket::new_v6() : TcpSocket::new_v4();
  if (!s) return Unexpected{s.error()};
  if (auto r = s->set_reuseaddr(true); !r) return Unexpected{r.error()};
  if (auto r = s->bind(addr); !r) return Unexpected{r.error()};
  return std::move(*s).listen(1024);
}

io::Result<TcpListener> TcpListener::bind(std::string_view addr) {
  auto addrs = detail::resolve_in_place(addr);
  if (!addrs) return Unexpected{addrs.error()};
  std::error_code last = io::make_error_code(io::Errc::invalid_address);
  for (const SocketAddr& a : *addrs) {
    auto l = bind(a);
    if (l) return l;
    last = l.error();
  }
  return Unexpected{last};
}

io::Result<TcpListener> TcpListener::from_raw_fd(int fd) {
  auto h = rill::detail::make_handle(fd, true, true);
  if (!h) return Unexpected{h.error()};
  return TcpListener(std::move(*h));
}

io::Result<std::pair<TcpStream, SocketAddr>> TcpListener::Accept::await_resume() {
  const std::int64_t fd = result();
  if (fd < 0) return Unexpected{rill::detail::io_error(fd)};
  std::uint32_t len = 0;
  const void* sa = rill::detail::io_op_addr(op_, &len);
  SocketAddr peer = SocketAddr::from_native(sa, len);
  auto h = rill::detail::make_handle(static_cast<int>(fd), true, true);
  if (!h) return Unexpected{h.error()};
  return std::pair<TcpStream, SocketAddr>(TcpStream(std::move(*h)), peer);
}

io::Result<SocketAddr> TcpListener::local_addr() const {
  return name_of(h_.get(), false);
}

// ---- TcpSocket ----------------------------------------------------------------------------------

io::Result<TcpSocket> TcpSocket::new_v4() {
  auto h = detail::new_socket(AF_INET, SOCK_STREAM);
  if (!h) return Unexpected{h.error()};
  return TcpSocket(std::move(*h));
}
io::Result<TcpSocket> TcpSocket::new_v6() {
  auto h = detail::new_socket(AF_INET6, SOCK_STREAM);
  if (!h) return Unexpected{h.error()};
  return TcpSocket(std::move(*h));
}
io::Result<void> TcpSocket::set_reuseaddr(bool on) {
  return set_int(h_.get(), SOL_SOCKET, SO_REUSEADDR, on ? 1 : 0);
}
io::Result<void> TcpSocket::set_reuseport(bool on) {
  return set_int(h_.get(), SOL_SOCKET, SO_REUSEPORT, on ? 1 : 0);
}
io::Result<void> TcpSocket::set_send_buffer_size(std::uint32_t bytes) {
  return set_int(h_.get(), SOL_SOCKET, SO_SNDBUF, static_cast<int>(bytes));
}
io::Result<void> TcpSocket::set_recv_buffer_size(std::uint32_t bytes) {
  return set_int(h_.get(), SOL_SOCKET, SO_RCVBUF, static_cast<int>(bytes));
}
io::Result<std::uint32_t> TcpSocket::send_buffer_size() const {
  auto v = get_int(h_.get(), SOL_SOCKET, SO_SNDBUF);
  if (!v) return Unexpected{v.error()};
  return static_cast<std::uint32_t>(*v);
}
io::Result<std::uint32_t> TcpSocket::recv_buffer_size() const {
  auto v = get_int(h_.get(), SOL_SOCKET, SO_RCVBUF);
  if (!v) return Unexpected{v.error()};
  return static_cast<std::uint32_t>(*v);
}
io::Result<void> TcpSocket::set_nodelay(bool on) {
  return set_int(h_.get(), IPPROTO_TCP, TCP_NODELAY, on ? 1 : 0);
}
io::Result<void> TcpSocket::bind(const SocketAddr& addr) {
  if (!h_) return Unexpected{std::error_code(EBADF, std::system_category())};
  if (::bind(h_->fd, addr.native(), addr.native_len()) < 0) return Unexpected{last_error()};
  return {};
}
io::Result<SocketAddr> TcpSocket::local_addr() const {
  return name_of(h_.get(), false);
}
io::Result<TcpListener> TcpSocket::listen(std::uint32_t backlog) && {
  if (!h_) return Unexpected{std::error_code(EBADF, std::system_category())};
  if (::listen(h_->fd, static_cast<int>(backlog)) < 0) return Unexpected{last_error()};
  return TcpListener(std::move(h_));
}
Task<io::Result<TcpStream>> TcpSocket::connect(TcpSocket self, SocketAddr addr) {
  if (!self.h_) co_return Unexpected{std::error_code(EBADF, std::system_category())};
  auto r = co_await io::UnitOp(
      rill::detail::io_connect(self.h_.get(), addr.native(), addr.native_len()));
  if (!r) co_return Unexpected{r.error()};
  co_return TcpStream(std::move(self.h_));
}

}  // namespace rill::net

// net/udp.cpp: UdpSocket.
#include "rill/net/udp.hpp"

#include "net/sockopt.hpp"

namespace rill::net {

io::Result<UdpSocket> UdpSocket::bind(const SocketAddr& addr) {
  auto h = detail::new_socket(addr.family(), SOCK_DGRAM);
  if (!h) return Unexpected{h.error()};
  if (::bind((*h)->fd, addr.native(), addr.native_len()) < 0)
    return Unexpected{detail::last_error()};
  return UdpSocket(std::move(*h));
}

io::Result<UdpSocket> UdpSocket::bind(std::string_view addr) {
  auto a = SocketAddr::parse(addr);
  if (!a) return Unexpected{a.error()};
  return bind(*a);
}

io::Result<void> UdpSocket::connect(const SocketAddr& addr) {
  if (!h_) return Unexpected{std::error_code(EBADF, std::system_category())};
  if (::connect(h_->fd, addr.native(), addr.native_len()) < 0)
    return Unexpected{detail::last_error()};
  return {};
}

io::Result<std::pair<std::size_t, SocketAddr>> UdpSocket::RecvFrom::await_resume() noexcept {
  const std::int64_t r = result();
  if (r < 0) return Unexpected{rill::detail::io_error(r)};
  const auto n = std::min<std::size_t>(static_cast<std::size_t>(r), buf_.size());
  if (n) std::memcpy(buf_.data(), rill::detail::io_op_data(op_), n);
  std::uint32_t len = 0;
  const void* sa = rill::detail::io_op_addr(op_, &len);
  return std::pair<std::size_t, SocketAddr>(n, SocketAddr::from_native(sa, len));
}

io::Result<SocketAddr> UdpSocket::local_addr() const {
  return detail::name_of(h_.get(), false);
}
io::Result<SocketAddr> UdpSocket::peer_addr() const {
  return detail::name_of(h_.get(), true);
}
io::Result<void> UdpSocket::set_broadcast(bool on) {
  return detail::set_int(h_.get(), SOL_SOCKET, SO_BROADCAST, on ? 1 : 0);
}

}  // namespace rill::net

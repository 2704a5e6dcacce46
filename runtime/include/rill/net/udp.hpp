// rill/net/udp.hpp: UDP sockets on the runtime's I/O driver. Mirrors tokio::net::UdpSocket.
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "rill/io.hpp"
#include "rill/net/addr.hpp"

namespace rill::net {

/// A UDP socket. Move-only; the destructor closes it. Create and use it inside a rill runtime.
/// Concurrency: one task receiving and one task sending at a time (the epoll backend keeps one
/// reader and one writer waker per socket). Datagrams larger than the receive buffer are
/// truncated (the excess is dropped, like recvfrom(2)). Mirrors tokio::net::UdpSocket.
class UdpSocket {
 public:
  UdpSocket() noexcept = default;
  UdpSocket(UdpSocket&&) noexcept = default;
  UdpSocket& operator=(UdpSocket&&) noexcept = default;

  /// A socket bound to `addr` (port 0: the kernel picks one). Synchronous. Errors: EADDRINUSE,
  /// io::Errc::not_in_runtime. Mirrors UdpSocket::bind.
  static io::Result<UdpSocket> bind(const SocketAddr& addr);
  static io::Result<UdpSocket> bind(std::string_view addr);
  /// Sets the default destination and filters incoming datagrams to `addr` (no packets are
  /// exchanged; synchronous). Mirrors UdpSocket::connect.
  io::Result<void> connect(const SocketAddr& addr);

  /// Awaitable receive of one datagram: yields (bytes, source address). Mirrors recv_from.
  class [[nodiscard]] RecvFrom : public rill::detail::IoLeaf {
   public:
    RecvFrom(rill::detail::IoHandle* h, std::span<std::byte> buf) noexcept : h_(h), buf_(buf) {}
    bool await_ready() { return start(rill::detail::io_recv_from(h_, buf_.size())); }
    io::Result<std::pair<std::size_t, SocketAddr>> await_resume() noexcept;

   private:
    rill::detail::IoHandle* h_;
    std::span<std::byte> buf_;
  };
  RecvFrom recv_from(std::span<std::byte> buf) noexcept { return RecvFrom(h_.get(), buf); }
  RecvFrom recv_from(std::span<char> buf) noexcept {
    return recv_from(std::as_writable_bytes(buf));
  }

  /// Awaitable send of one datagram to `target` (`buf` is copied at once): yields the bytes sent.
  /// Mirrors send_to.
  class [[nodiscard]] SendTo : public rill::detail::IoLeaf {
   public:
    SendTo(rill::detail::IoHandle* h, std::span<const std::byte> buf, const SocketAddr& to) noexcept
        : h_(h), buf_(buf), to_(to) {}
    bool await_ready() {
      return start(
          rill::detail::io_send_to(h_, buf_.data(), buf_.size(), to_.native(), to_.native_len()));
    }
    io::Result<std::size_t> await_resume() noexcept {
      const std::int64_t r = result();
      if (r < 0) return Unexpected{rill::detail::io_error(r)};
      return static_cast<std::size_t>(r);
    }

   private:
    rill::detail::IoHandle* h_;
    std::span<const std::byte> buf_;
    SocketAddr to_;
  };
  SendTo send_to(std::span<const std::byte> buf, const SocketAddr& target) noexcept {
    return SendTo(h_.get(), buf, target);
  }
  SendTo send_to(std::span<const char> buf, const SocketAddr& target) noexcept {
    return send_to(std::as_bytes(buf), target);
  }
  /// Text overloads: exactly the characters (a string literal sends no terminating NUL).
  SendTo send_to(std::string_view s, const SocketAddr& target) noexcept {
    return send_to(io::text_bytes(s), target);
  }
  SendTo send_to(const std::string& s, const SocketAddr& target) noexcept {
    return send_to(io::text_bytes(s), target);
  }
  template <std::size_t N>
  SendTo send_to(const char (&s)[N], const SocketAddr& target) noexcept {
    return send_to(io::text_bytes(s), target);
  }
  template <std::size_t N>
  SendTo send_to(char (&buf)[N], const SocketAddr& target) noexcept {
    return send_to(std::span<const char>(buf), target);
  }

  /// On a connected socket: receive one datagram from the peer / send one to it. Mirrors
  /// UdpSocket::recv / send. (ENOTCONN / EDESTADDRREQ when not connected.)
  io::ReadOp recv(std::span<std::byte> buf) noexcept { return io::ReadOp(h_.get(), buf, false); }
  io::ReadOp recv(std::span<char> buf) noexcept { return recv(std::as_writable_bytes(buf)); }
  io::WriteOp<false> send(std::span<const std::byte> buf) noexcept {
    return io::WriteOp<false>(h_.get(), buf);
  }
  io::WriteOp<false> send(std::span<const char> buf) noexcept { return send(std::as_bytes(buf)); }
  /// Text overloads of send (see send_to).
  io::WriteOp<false> send(std::string_view s) noexcept { return send(io::text_bytes(s)); }
  io::WriteOp<false> send(const std::string& s) noexcept { return send(io::text_bytes(s)); }
  template <std::size_t N>
  io::WriteOp<false> send(const char (&s)[N]) noexcept {
    return send(io::text_bytes(s));
  }
  template <std::size_t N>
  io::WriteOp<false> send(char (&buf)[N]) noexcept {
    return send(std::span<const char>(buf));
  }

  io::Result<SocketAddr> local_addr() const;
  io::Result<SocketAddr> peer_addr() const;
  /// SO_BROADCAST. Mirrors set_broadcast.
  io::Result<void> set_broadcast(bool on);
  int as_raw_fd() const noexcept { return rill::detail::handle_fd(h_.get()); }

 private:
  explicit UdpSocket(std::shared_ptr<rill::detail::IoHandle> h) noexcept : h_(std::move(h)) {}
  std::shared_ptr<rill::detail::IoHandle> h_;
};

}  // namespace rill::net

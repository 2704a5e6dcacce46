// rill/net/tcp.hpp: TCP on the runtime's I/O driver: TcpListener, TcpStream, TcpSocket.
// Mirrors tokio::net::{TcpListener, TcpStream, TcpSocket}. Every type must be created and used
// inside a rill runtime (the socket is tied to the runtime's backend); errors are
// std::error_code values in io::Result, never exceptions (except std::bad_alloc).
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>
#include <utility>

#include "rill/io.hpp"
#include "rill/net/addr.hpp"
#include "rill/net/stream.hpp"
#include "rill/task.hpp"

namespace rill::net {

/// A connected TCP socket. Move-only; the destructor closes it (an operation still in flight on
/// it — only possible if its awaiter was leaked — is cancelled by the driver). read/write/
/// write_all/read_exact/shutdown come from StreamSocket. Mirrors tokio::net::TcpStream.
class TcpStream : public StreamSocket {
 public:
  TcpStream() noexcept = default;
  explicit TcpStream(std::shared_ptr<rill::detail::IoHandle> h) noexcept
      : StreamSocket(std::move(h)) {}

  /// Opens a connection to `addr` (awaits the handshake). Errors: ECONNREFUSED, ETIMEDOUT,
  /// ENETUNREACH, io::Errc::not_in_runtime... Mirrors TcpStream::connect.
  static Task<io::Result<TcpStream>> connect(SocketAddr addr);
  /// Connects to "host:port" ("127.0.0.1:80", "[::1]:80", "localhost:8080"): a host name is
  /// resolved on the blocking pool (lookup_host), and each address is tried in turn until one
  /// accepts; the error is the last address's. io::Errc::invalid_address when there is no port;
  /// std::errc::host_unreachable when the name does not resolve. `addr` is copied at once.
  /// Mirrors TcpStream::connect with a ToSocketAddrs string.
  static Task<io::Result<TcpStream>> connect(std::string_view addr);

  /// The remote address. Mirrors TcpStream::peer_addr.
  io::Result<SocketAddr> peer_addr() const;
  /// The local address. Mirrors TcpStream::local_addr.
  io::Result<SocketAddr> local_addr() const;
  /// TCP_NODELAY on/off (disables Nagle's algorithm). Mirrors TcpStream::set_nodelay.
  io::Result<void> set_nodelay(bool on);
  io::Result<bool> nodelay() const;
  /// SO_LINGER: with a zero duration, close() sends a RST instead of a FIN. Seconds.
  io::Result<void> set_linger(int seconds);
};

/// A listening TCP socket. Move-only; dropping it stops listening and closes connections it
/// accepted that no accept() took. One task should accept at a time. Mirrors
/// tokio::net::TcpListener.
class TcpListener {
 public:
  TcpListener() noexcept = default;
  explicit TcpListener(std::shared_ptr<rill::detail::IoHandle> h) noexcept : h_(std::move(h)) {}
  TcpListener(TcpListener&&) noexcept = default;
  TcpListener& operator=(TcpListener&&) noexcept = default;

  /// Creates a socket bound to `addr` (SO_REUSEADDR on, backlog 1024) and listening. Port 0
  /// picks a free port (see local_addr()). Synchronous: binding never blocks. Errors:
  /// EADDRINUSE, EACCES, io::Errc::not_in_runtime. Mirrors TcpListener::bind.
  static io::Result<TcpListener> bind(const SocketAddr& addr);
  /// Binds "host:port" ("127.0.0.1:0", "[::1]:0", "localhost:0"), trying each address the
  /// host resolves to in turn; the error is the last address's. Binding stays synchronous (unlike
  /// Tokio's async bind), so a host name is resolved on the calling thread: on a multi_thread
  /// worker after handing the worker's tasks to another thread (block_in_place), on a
  /// current_thread runtime inline (numeric addresses never resolve). Errors as bind(SocketAddr),
  /// io::Errc::invalid_address without a port, std::errc::host_unreachable for an unknown name.
  /// Mirrors TcpListener::bind with a ToSocketAddrs string.
  static io::Result<TcpListener> bind(std::string_view addr);
  /// Adopts a listening socket created elsewhere (takes ownership of `fd`; it is closed on
  /// error). Must be called inside a runtime. Mirrors TcpListener::from_std.
  static io::Result<TcpListener> from_raw_fd(int fd);

  /// Awaitable accepting the next connection: yields (stream, peer address) or the error
  /// (EMFILE when out of fds: the listener stays usable). On io_uring the listener keeps one
  /// multishot accept in flight (Linux >= 5.19; RILL_MULTISHOT_ACCEPT=0 turns it off) and
  /// queues up to 128 accepted connections for the next accepts; beyond that they wait in the
  /// kernel's backlog. Cancel-safe (as Tokio's): an accept dropped by a timeout or select loses
  /// no connection, the next accept gets it. Connections accepted but never taken are closed
  /// when the listener is dropped, which stops listening at once. Mirrors TcpListener::accept.
  class [[nodiscard]] Accept : public rill::detail::IoLeaf {
   public:
    explicit Accept(rill::detail::IoHandle* h) noexcept : h_(h) {}
    bool await_ready() { return start(rill::detail::io_accept(h_)); }
    io::Result<std::pair<TcpStream, SocketAddr>> await_resume();

   private:
    rill::detail::IoHandle* h_;
  };
  Accept accept() noexcept { return Accept(h_.get()); }

  /// The bound address (with the real port after binding port 0). Mirrors local_addr.
  io::Result<SocketAddr> local_addr() const;
  /// The raw fd (owned by the listener), -1 when empty.
  int as_raw_fd() const noexcept { return rill::detail::handle_fd(h_.get()); }

 private:
  std::shared_ptr<rill::detail::IoHandle> h_;
};

/// A TCP socket not yet connected or listening, to set options first. Move-only; closed by the
/// destructor unless consumed by listen()/connect(). Mirrors tokio::net::TcpSocket.
class TcpSocket {
 public:
  /// A new IPv4 / IPv6 TCP socket. Errors: EMFILE..., io::Errc::not_in_runtime. Mirrors
  /// TcpSocket::new_v4 / new_v6.
  static io::Result<TcpSocket> new_v4();
  static io::Result<TcpSocket> new_v6();
  TcpSocket(TcpSocket&&) noexcept = default;
  TcpSocket& operator=(TcpSocket&&) noexcept = default;

  /// SO_REUSEADDR. Mirrors TcpSocket::set_reuseaddr.
  io::Result<void> set_reuseaddr(bool on);
  /// SO_REUSEPORT (several listeners on one port, load-balanced by the kernel).
  io::Result<void> set_reuseport(bool on);
  /// SO_SNDBUF / SO_RCVBUF in bytes (the kernel doubles and clamps the value).
  io::Result<void> set_send_buffer_size(std::uint32_t bytes);
  io::Result<void> set_recv_buffer_size(std::uint32_t bytes);
  io::Result<std::uint32_t> send_buffer_size() const;
  io::Result<std::uint32_t> recv_buffer_size() const;
  /// TCP_NODELAY before connecting.
  io::Result<void> set_nodelay(bool on);
  /// Binds to a local address. Mirrors TcpSocket::bind.
  io::Result<void> bind(const SocketAddr& addr);
  io::Result<SocketAddr> local_addr() const;
  /// Starts listening with the given backlog and becomes a TcpListener. Mirrors listen.
  io::Result<TcpListener> listen(std::uint32_t backlog) &&;
  /// Connects and becomes a TcpStream. Mirrors TcpSocket::connect.
  static Task<io::Result<TcpStream>> connect(TcpSocket self, SocketAddr addr);

 private:
  explicit TcpSocket(std::shared_ptr<rill::detail::IoHandle> h) noexcept : h_(std::move(h)) {}
  std::shared_ptr<rill::detail::IoHandle> h_;
};

}  // namespace rill::net

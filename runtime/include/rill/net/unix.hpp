// rill/net/unix.hpp: Unix-domain stream sockets. Mirrors tokio::net::{UnixListener, UnixStream}.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "rill/io.hpp"
#include "rill/net/stream.hpp"
#include "rill/task.hpp"

namespace rill::net {

/// A connected Unix-domain stream socket; read/write/... from StreamSocket. Move-only; closed by
/// the destructor. Mirrors tokio::net::UnixStream.
class UnixStream : public StreamSocket {
 public:
  UnixStream() noexcept = default;
  explicit UnixStream(std::shared_ptr<rill::detail::IoHandle> h) noexcept
      : StreamSocket(std::move(h)) {}
  /// Connects to the socket file at `path` (copied before the coroutine starts). Errors:
  /// ENOENT, ECONNREFUSED, ENAMETOOLONG (paths over 107 bytes). Mirrors UnixStream::connect.
  static Task<io::Result<UnixStream>> connect(std::string path);
  /// A connected pair (socketpair(2)). Mirrors UnixStream::pair.
  static io::Result<std::pair<UnixStream, UnixStream>> pair();
  /// The path of the peer / of this end ("" when unnamed).
  io::Result<std::string> peer_addr() const;
  io::Result<std::string> local_addr() const;
};

/// A listening Unix-domain socket bound to a path. Move-only; closing it does not remove the
/// socket file (like Tokio). Mirrors tokio::net::UnixListener.
class UnixListener {
 public:
  UnixListener() noexcept = default;
  UnixListener(UnixListener&&) noexcept = default;
  UnixListener& operator=(UnixListener&&) noexcept = default;
  /// Binds and listens (backlog 1024). Errors: EADDRINUSE (the file exists), ENAMETOOLONG.
  /// Mirrors UnixListener::bind.
  static io::Result<UnixListener> bind(std::string_view path);

  /// Awaitable yielding (stream, peer path) for the next connection; multishot, queued and
  /// cancel-safe exactly like TcpListener::accept. Mirrors UnixListener::accept.
  class [[nodiscard]] Accept : public rill::detail::IoLeaf {
   public:
    explicit Accept(rill::detail::IoHandle* h) noexcept : h_(h) {}
    bool await_ready() { return start(rill::detail::io_accept(h_)); }
    io::Result<std::pair<UnixStream, std::string>> await_resume();

   private:
    rill::detail::IoHandle* h_;
  };
  Accept accept() noexcept { return Accept(h_.get()); }
  io::Result<std::string> local_addr() const;
  int as_raw_fd() const noexcept { return rill::detail::handle_fd(h_.get()); }

 private:
  explicit UnixListener(std::shared_ptr<rill::detail::IoHandle> h) noexcept : h_(std::move(h)) {}
  std::shared_ptr<rill::detail::IoHandle> h_;
};

}  // namespace rill::net

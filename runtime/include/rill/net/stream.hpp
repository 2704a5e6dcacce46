// rill/net/stream.hpp: the byte-stream operations TcpStream and UnixStream share, and the read /
// write halves `split()` and `into_split()` return. Mirrors tokio::io::{AsyncReadExt,
// AsyncWriteExt} on tokio::net::{TcpStream, UnixStream} and their ReadHalf / WriteHalf /
// OwnedReadHalf / OwnedWriteHalf (Tokio has one set per protocol; rill shares them).
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <utility>

#include "rill/io.hpp"

namespace rill::detail {
/// shutdown(SHUT_WR) on the handle's socket (errors such as ENOTCONN are ignored: a drop has
/// nobody to report them to). Used by OwnedWriteHalf's destructor.
void handle_shutdown_write(IoHandle* h) noexcept;
}  // namespace rill::detail

namespace rill::net {

/// Which direction(s) shutdown() closes. Mirrors std::net::Shutdown.
enum class Shutdown : int { Read = 0, Write = 1, Both = 2 };

namespace detail {
inline std::span<std::byte> bytes(std::span<char> s) noexcept {
  return std::as_writable_bytes(s);
}
inline std::span<const std::byte> cbytes(std::span<const char> s) noexcept {
  return std::as_bytes(s);
}
}  // namespace detail

/// Reading operations of a stream socket. One task should read at a time (a second concurrent
/// reader on the same socket is not supported under the epoll backend: one reader waker).
/// Cancel safety belongs to the socket: bytes the kernel delivered to a read whose awaiter was
/// destroyed (a lost select or timeout, an abort) are kept by the socket and returned, in order,
/// by its next read, on both backends.
class ReadOps {
 public:
  /// Reads up to buf.size() bytes; yields the count (0 = the peer closed its write side) or the
  /// error (a reset peer is ECONNRESET, never a crash). This method is cancel safe: if the
  /// awaiter is destroyed before it resumes, nothing is written to `buf` and no byte is lost
  /// (the next read on the socket returns it). Mirrors AsyncReadExt::read.
  io::ReadOp read(std::span<std::byte> buf) noexcept { return io::ReadOp(h(), buf, false); }
  io::ReadOp read(std::span<char> buf) noexcept { return read(detail::bytes(buf)); }
  /// Reads exactly buf.size() bytes; io::Errc::unexpected_eof if the stream ends first. This
  /// method is cancel safe in rill (Tokio's read_exact is not): if the awaiter is destroyed, the
  /// bytes it had read are not written to `buf` but kept, in order, for the next read on the
  /// socket. Mirrors AsyncReadExt::read_exact.
  io::ReadOp read_exact(std::span<std::byte> buf) noexcept { return io::ReadOp(h(), buf, true); }
  io::ReadOp read_exact(std::span<char> buf) noexcept { return read_exact(detail::bytes(buf)); }

 protected:
  virtual rill::detail::IoHandle* h() const noexcept = 0;
  ~ReadOps() = default;
};

/// Writing operations of a stream socket. One task should write at a time.
class WriteOps {
 public:
  /// Writes some of `buf` (copied at once); yields how many bytes were written. Writing to a
  /// closed / reset peer yields EPIPE / ECONNRESET (SIGPIPE is suppressed). Not cancel safe on
  /// io_uring: a write cancelled while the kernel runs it may have sent some of `buf` (Tokio's
  /// write is cancel safe; under the epoll backend rill's is too). Mirrors AsyncWriteExt::write.
  io::WriteOp<false> write(std::span<const std::byte> buf) noexcept {
    return io::WriteOp<false>(h(), buf);
  }
  io::WriteOp<false> write(std::span<const char> buf) noexcept {
    return write(detail::cbytes(buf));
  }
  /// Writes all of `buf` (copied at once; partial writes continue in the driver). Not cancel
  /// safe (as Tokio's): a cancelled write_all may have sent part of `buf`. Mirrors
  /// AsyncWriteExt::write_all.
  io::WriteOp<true> write_all(std::span<const std::byte> buf) noexcept {
    return io::WriteOp<true>(h(), buf);
  }
  io::WriteOp<true> write_all(std::span<const char> buf) noexcept {
    return write_all(detail::cbytes(buf));
  }
  /// Shuts down the write side (the peer reads end-of-stream), or another direction. Mirrors
  /// AsyncWriteExt::shutdown / TcpStream's std shutdown(how).
  io::UnitOp shutdown(Shutdown how = Shutdown::Write) {
    return io::UnitOp(rill::detail::io_shutdown(h(), static_cast<int>(how)));
  }

 protected:
  virtual rill::detail::IoHandle* h() const noexcept = 0;
  ~WriteOps() = default;
};

/// The read half of a stream borrowed by split(): valid while the stream lives. Mirrors
/// tokio::net::tcp::ReadHalf.
class ReadHalf : public ReadOps {
 public:
  explicit ReadHalf(rill::detail::IoHandle* h) noexcept : h_(h) {}

 protected:
  rill::detail::IoHandle* h() const noexcept override { return h_; }

 private:
  rill::detail::IoHandle* h_;
};
/// The write half of a stream borrowed by split(). Mirrors tokio::net::tcp::WriteHalf.
class WriteHalf : public WriteOps {
 public:
  explicit WriteHalf(rill::detail::IoHandle* h) noexcept : h_(h) {}

 protected:
  rill::detail::IoHandle* h() const noexcept override { return h_; }

 private:
  rill::detail::IoHandle* h_;
};
/// The read half of into_split(): shares ownership of the socket (closed when both halves are
/// gone); may be moved to another task. Mirrors tokio::net::tcp::OwnedReadHalf.
class OwnedReadHalf : public ReadOps {
 public:
  explicit OwnedReadHalf(std::shared_ptr<rill::detail::IoHandle> h) noexcept : h_(std::move(h)) {}
  OwnedReadHalf(OwnedReadHalf&&) noexcept = default;
  OwnedReadHalf& operator=(OwnedReadHalf&&) noexcept = default;

 protected:
  rill::detail::IoHandle* h() const noexcept override { return h_.get(); }

 private:
  std::shared_ptr<rill::detail::IoHandle> h_;
};
/// The write half of into_split(): shares ownership of the socket with the read half; may be
/// moved to another task. Dropping it shuts the write side down (shutdown(SHUT_WR): the peer reads
/// end-of-stream) even while the read half lives, unless forget() was called; the socket itself
/// closes when both halves are gone. Mirrors tokio::net::tcp::OwnedWriteHalf (whose Drop shuts
/// down the write side the same way).
class OwnedWriteHalf : public WriteOps {
 public:
  explicit OwnedWriteHalf(std::shared_ptr<rill::detail::IoHandle> h) noexcept : h_(std::move(h)) {}
  OwnedWriteHalf(OwnedWriteHalf&& o) noexcept
      : h_(std::move(o.h_)), shutdown_on_drop_(o.shutdown_on_drop_) {}
  /// Shuts down the write side of the half this one held (as its destructor would), then takes
  /// `o`'s.
  OwnedWriteHalf& operator=(OwnedWriteHalf&& o) noexcept {
    if (this != &o) {
      drop_write();
      h_ = std::move(o.h_);
      shutdown_on_drop_ = o.shutdown_on_drop_;
    }
    return *this;
  }
  ~OwnedWriteHalf() { drop_write(); }

  /// Destroys the half without shutting down the write side: the peer sees end-of-stream only
  /// when the socket closes (both halves dropped). Mirrors OwnedWriteHalf::forget.
  void forget() && noexcept {
    shutdown_on_drop_ = false;
    h_.reset();
  }

 protected:
  rill::detail::IoHandle* h() const noexcept override { return h_.get(); }

 private:
  void drop_write() noexcept {
    if (h_ && shutdown_on_drop_) rill::detail::handle_shutdown_write(h_.get());
    h_.reset();
  }
  std::shared_ptr<rill::detail::IoHandle> h_;
  bool shutdown_on_drop_ = true;
};

/// A connected stream socket (the common part of TcpStream and UnixStream): owns the socket
/// (closed by the destructor), move-only. Concurrent use: one reader and one writer task at a
/// time (use split()/into_split() to hand them to two tasks).
class StreamSocket : public ReadOps, public WriteOps {
 public:
  StreamSocket() noexcept = default;
  explicit StreamSocket(std::shared_ptr<rill::detail::IoHandle> h) noexcept : h_(std::move(h)) {}
  StreamSocket(StreamSocket&&) noexcept = default;
  StreamSocket& operator=(StreamSocket&&) noexcept = default;
  virtual ~StreamSocket() = default;

  using ReadOps::read;
  using ReadOps::read_exact;
  using WriteOps::shutdown;
  using WriteOps::write;
  using WriteOps::write_all;

  /// True when the object holds a socket (false after a move).
  bool is_open() const noexcept { return h_ != nullptr; }
  /// The raw fd (still owned by this object), -1 when empty.
  int as_raw_fd() const noexcept { return rill::detail::handle_fd(h_.get()); }
  /// Borrowed halves for a reader and a writer running concurrently (e.g. in a select).
  std::pair<ReadHalf, WriteHalf> split() noexcept {
    return {ReadHalf(h_.get()), WriteHalf(h_.get())};
  }
  /// Owned halves that may go to two tasks; the socket closes when both are dropped.
  std::pair<OwnedReadHalf, OwnedWriteHalf> into_split() && noexcept {
    auto h = std::move(h_);
    return {OwnedReadHalf(h), OwnedWriteHalf(h)};
  }

 protected:
  rill::detail::IoHandle* h() const noexcept override { return h_.get(); }
  std::shared_ptr<rill::detail::IoHandle> h_;
};

}  // namespace rill::net

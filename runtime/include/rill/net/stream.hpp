// rill/net/stream.hpp: the byte-stream operations TcpStream and UnixStream share, and the read /
// write halves `split()` and `into_split()` return. Mirrors tokio::io::{AsyncReadExt,
// AsyncWriteExt} on tokio::net::{TcpStream, UnixStream} and their ReadHalf / WriteHalf /
// OwnedReadHalf / OwnedWriteHalf (Tokio has one set per protocol; rill shares them).
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "rill/io.hpp"

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
class ReadOps {
 public:
  /// Reads up to buf.size() bytes; yields the count (0 = the peer closed its write side) or the
  /// error (a reset peer is ECONNRESET, never a crash). Cancel-safe in Tokio's sense only
  /// before completion: see rill/io.hpp. Mirrors AsyncReadExt::read.
  io::ReadOp read(std::span<std::byte> buf) noexcept { return io::ReadOp(h(), buf, false); }
  io::ReadOp read(std::span<char> buf) noexcept { return read(detail::bytes(buf)); }
  /// Reads exactly buf.size() bytes; io::Errc::unexpected_eof if the stream ends first. Not
  /// cancel-safe (bytes read before a cancellation are lost). Mirrors AsyncReadExt::read_exact.
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
  /// closed / reset peer yields EPIPE / ECONNRESET (SIGPIPE is suppressed). Mirrors
  /// AsyncWriteExt::write.
  io::WriteOp<false> write(std::span<const std::byte> buf) noexcept {
    return io::WriteOp<false>(h(), buf);
  }
  io::WriteOp<false> write(std::span<const char> buf) noexcept {
    return write(detail::cbytes(buf));
  }
  /// Text overloads: exactly the characters of `s` (a string literal sends no terminating NUL;
  /// a `char` array that is not const sends all its elements, like a span).
  io::WriteOp<false> write(std::string_view s) noexcept { return write(io::text_bytes(s)); }
  io::WriteOp<false> write(const std::string& s) noexcept { return write(io::text_bytes(s)); }
  template <std::size_t N>
  io::WriteOp<false> write(const char (&s)[N]) noexcept {
    return write(io::text_bytes(s));
  }
  template <std::size_t N>
  io::WriteOp<false> write(char (&buf)[N]) noexcept {
    return write(std::span<const char>(buf));
  }
  /// Writes all of `buf` (copied at once; partial writes continue in the driver). Mirrors
  /// AsyncWriteExt::write_all.
  io::WriteOp<true> write_all(std::span<const std::byte> buf) noexcept {
    return io::WriteOp<true>(h(), buf);
  }
  io::WriteOp<true> write_all(std::span<const char> buf) noexcept {
    return write_all(detail::cbytes(buf));
  }
  /// Text overloads: `write_all("PONG\n")` sends exactly the 5 characters (no NUL); see write().
  io::WriteOp<true> write_all(std::string_view s) noexcept { return write_all(io::text_bytes(s)); }
  io::WriteOp<true> write_all(const std::string& s) noexcept {
    return write_all(io::text_bytes(s));
  }
  template <std::size_t N>
  io::WriteOp<true> write_all(const char (&s)[N]) noexcept {
    return write_all(io::text_bytes(s));
  }
  template <std::size_t N>
  io::WriteOp<true> write_all(char (&buf)[N]) noexcept {
    return write_all(std::span<const char>(buf));
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
/// The write half of into_split(). Mirrors tokio::net::tcp::OwnedWriteHalf (which shuts the
/// write side down when dropped; rill closes the socket when both halves are gone).
class OwnedWriteHalf : public WriteOps {
 public:
  explicit OwnedWriteHalf(std::shared_ptr<rill::detail::IoHandle> h) noexcept : h_(std::move(h)) {}
  OwnedWriteHalf(OwnedWriteHalf&&) noexcept = default;
  OwnedWriteHalf& operator=(OwnedWriteHalf&&) noexcept = default;

 protected:
  rill::detail::IoHandle* h() const noexcept override { return h_.get(); }

 private:
  std::shared_ptr<rill::detail::IoHandle> h_;
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

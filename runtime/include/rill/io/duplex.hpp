// rill/io/duplex.hpp: an in-memory, bidirectional byte stream, for tests and for connecting two
// parts of a program that speak a stream protocol. Mirrors tokio::io::{duplex, DuplexStream}.
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "rill/io.hpp"
#include "rill/task.hpp"

namespace rill::io {

namespace detail {
struct Pipe;
}

/// One end of a duplex() pair: what one end writes the other reads. Each direction buffers at
/// most `max_buf_size` bytes (a writer waits for the reader beyond that). Move-only; one reader
/// and one writer task at a time; the two ends may live on different threads. Dropping an end
/// closes both directions: the peer reads end of stream, and its writes fail with EPIPE
/// (std::errc::broken_pipe). An AsyncRead and AsyncWrite. Mirrors tokio::io::DuplexStream.
class DuplexStream {
 public:
  DuplexStream() noexcept = default;
  DuplexStream(std::shared_ptr<detail::Pipe> rx, std::shared_ptr<detail::Pipe> tx) noexcept
      : rx_(std::move(rx)), tx_(std::move(tx)) {}
  DuplexStream(DuplexStream&&) noexcept = default;
  DuplexStream& operator=(DuplexStream&& o) noexcept {
    if (this != &o) {
      close();
      rx_ = std::move(o.rx_);
      tx_ = std::move(o.tx_);
    }
    return *this;
  }
  ~DuplexStream() { close(); }

  /// Reads up to buf.size() bytes the peer wrote, waiting while there are none; 0 once the peer
  /// shut down its side (or was dropped) and everything was read. Cancel-safe: bytes leave the
  /// pipe only when the read completes. Mirrors AsyncReadExt::read.
  Task<io::Result<std::size_t>> read(std::span<std::byte> buf);
  Task<io::Result<std::size_t>> read(std::span<char> buf) { return read(std::as_writable_bytes(buf)); }
  /// Writes what fits in the peer's direction (at least one byte, waiting for room); yields
  /// the count; EPIPE when the peer is gone. Cancel-safe: nothing is written unless it
  /// completes. Mirrors AsyncWriteExt::write.
  Task<io::Result<std::size_t>> write(std::span<const std::byte> buf);
  /// Writes all of `buf` (waiting for room as needed). `buf` is borrowed until it completes.
  /// Not cancel-safe: part of it may have been written. Mirrors AsyncWriteExt::write_all.
  Task<io::Result<void>> write_all(std::span<const std::byte> buf);
  /// Text overloads (a string literal writes no terminating NUL).
  Task<io::Result<std::size_t>> write(std::span<const char> s) { return write(std::as_bytes(s)); }
  Task<io::Result<std::size_t>> write(std::string_view s) { return write(io::text_bytes(s)); }
  Task<io::Result<std::size_t>> write(const std::string& s) { return write(io::text_bytes(s)); }
  template <std::size_t N>
  Task<io::Result<std::size_t>> write(const char (&s)[N]) {
    return write(io::text_bytes(s));
  }
  Task<io::Result<void>> write_all(std::span<const char> s) { return write_all(std::as_bytes(s)); }
  Task<io::Result<void>> write_all(std::string_view s) { return write_all(io::text_bytes(s)); }
  Task<io::Result<void>> write_all(const std::string& s) { return write_all(io::text_bytes(s)); }
  template <std::size_t N>
  Task<io::Result<void>> write_all(const char (&s)[N]) {
    return write_all(io::text_bytes(s));
  }
  /// Ends this end's writing: the peer reads end of stream after the bytes already written.
  /// Mirrors AsyncWriteExt::shutdown.
  Task<io::Result<void>> shutdown();

 private:
  void close() noexcept;
  std::shared_ptr<detail::Pipe> rx_;  ///< the direction this end reads
  std::shared_ptr<detail::Pipe> tx_;  ///< the direction this end writes
};

/// A connected pair of in-memory streams, each direction buffering up to `max_buf_size` bytes
/// (> 0; 0 throws std::invalid_argument). Works inside any rill runtime (and across runtimes).
/// Mirrors tokio::io::duplex.
std::pair<DuplexStream, DuplexStream> duplex(std::size_t max_buf_size);

}  // namespace rill::io

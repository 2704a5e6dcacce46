// rill/io/buf_writer.hpp: BufWriter, a write buffer in front of any AsyncWrite, so many small
// writes become few system calls. Mirrors tokio::io::BufWriter.
#pragma once

#include <cstddef>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "rill/io/async_io.hpp"
#include "rill/task.hpp"

namespace rill::io {

/// Collects writes in a buffer of `capacity` bytes and passes them to `W` with write_all when
/// the buffer is full, on flush() and on shutdown(). A write at least as large as the capacity
/// goes straight to W (after the buffered bytes). `W` is the writer by value (owned) or a
/// reference (borrowed; it must outlive the BufWriter). Itself an AsyncWrite. Move-only; one
/// task at a time.
///
/// Dropping a BufWriter does NOT write its buffer (a destructor cannot await): call flush()
/// (or shutdown()) before it goes away, as in Tokio. The methods return Tasks that borrow
/// `*this` and the data: await them at once. Cancel safety: a write that is dropped before it
/// completes may have moved the older buffered bytes to W or not; the buffer never holds bytes
/// twice. On an error from W the buffered bytes are kept (W may have taken part of them).
///
/// ```cpp
/// rill::Task<rill::io::Result<void>> greet(rill::net::TcpStream& s) {
///   rill::io::BufWriter<rill::net::TcpStream&> out(s);
///   for (int i = 0; i < 3; ++i)
///     if (auto r = co_await out.write_all("hello\n"); !r) co_return r;  // buffered
///   co_return co_await out.flush();  // one write of 18 bytes
/// }
/// ```
template <class W>
  requires AsyncWrite<std::remove_reference_t<W>>
class BufWriter {
 public:
  /// The buffer size when none is given (Tokio's is 8 KiB too).
  static constexpr std::size_t default_capacity = 8192;

  /// Wraps `inner` with a buffer of `capacity` bytes (> 0; 0 throws std::invalid_argument).
  explicit BufWriter(W inner, std::size_t capacity = default_capacity)
      : inner_(std::forward<W>(inner)), cap_(capacity) {
    if (capacity == 0) throw std::invalid_argument("rill::io::BufWriter: capacity must be > 0");
    buf_.reserve(capacity);
  }
  BufWriter(BufWriter&&) noexcept = default;

  /// The underlying writer (writing to it directly bypasses the buffered bytes).
  std::remove_reference_t<W>& get_mut() noexcept { return inner_; }
  const std::remove_reference_t<W>& get_ref() const noexcept { return inner_; }
  /// The bytes written but not yet passed to W.
  std::span<const std::byte> buffer() const noexcept { return buf_; }

  /// Buffers `data` (flushing first when it does not fit); yields data.size(). Mirrors
  /// AsyncWriteExt::write on a BufWriter.
  Task<io::Result<std::size_t>> write(std::span<const std::byte> data) {
    if (auto r = co_await write_all(data); !r) co_return Unexpected{r.error()};
    co_return data.size();
  }
  /// Buffers all of `data` (see the class comment). Mirrors AsyncWriteExt::write_all.
  Task<io::Result<void>> write_all(std::span<const std::byte> data) {
    if (buf_.size() + data.size() > cap_) {
      if (auto r = co_await flush_buf(); !r) co_return r;
    }
    if (data.size() >= cap_) co_return co_await inner_.write_all(data);
    buf_.insert(buf_.end(), data.begin(), data.end());
    co_return io::Result<void>();
  }
  /// Text overloads: exactly the characters (a string literal writes no terminating NUL).
  Task<io::Result<std::size_t>> write(std::span<const char> s) { return write(std::as_bytes(s)); }
  Task<io::Result<std::size_t>> write(std::string_view s) { return write(io::text_bytes(s)); }
  Task<io::Result<std::size_t>> write(const std::string& s) { return write(io::text_bytes(s)); }
  template <std::size_t N>
  Task<io::Result<std::size_t>> write(const char (&s)[N]) {
    return write(io::text_bytes(s));
  }
  template <std::size_t N>
  Task<io::Result<std::size_t>> write(char (&buf)[N]) {
    return write(std::span<const char>(buf));
  }
  Task<io::Result<void>> write_all(std::span<const char> s) { return write_all(std::as_bytes(s)); }
  Task<io::Result<void>> write_all(std::string_view s) { return write_all(io::text_bytes(s)); }
  Task<io::Result<void>> write_all(const std::string& s) { return write_all(io::text_bytes(s)); }
  template <std::size_t N>
  Task<io::Result<void>> write_all(const char (&s)[N]) {
    return write_all(io::text_bytes(s));
  }
  template <std::size_t N>
  Task<io::Result<void>> write_all(char (&buf)[N]) {
    return write_all(std::span<const char>(buf));
  }

  /// Writes the buffered bytes to W (and flushes W when it buffers too). Mirrors
  /// AsyncWriteExt::flush.
  Task<io::Result<void>> flush() {
    if (auto r = co_await flush_buf(); !r) co_return r;
    co_return co_await detail::flush_if_any(inner_);
  }
  /// flush(), then W's shutdown() when it has one (the peer reads end of stream). Mirrors
  /// AsyncWriteExt::shutdown.
  Task<io::Result<void>> shutdown() {
    if (auto r = co_await flush_buf(); !r) co_return r;
    co_return co_await detail::shutdown_if_any(inner_);
  }

 private:
  Task<io::Result<void>> flush_buf() {
    if (buf_.empty()) co_return io::Result<void>();
    auto r = co_await inner_.write_all(std::span<const std::byte>(buf_));
    if (r) buf_.clear();
    co_return r;
  }
  W inner_;
  std::size_t cap_;
  std::vector<std::byte> buf_;
};

template <class W>
BufWriter(W) -> BufWriter<W>;

}  // namespace rill::io

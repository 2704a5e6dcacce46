// rill/io/buf_reader.hpp: BufReader, a read buffer in front of any AsyncRead, for line- and
// delimiter-framed protocols. Mirrors tokio::io::BufReader with tokio::io::AsyncBufReadExt.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

#include "rill/io/async_io.hpp"
#include "rill/task.hpp"

namespace rill::io {

/// Reads from `R` in chunks of `capacity` bytes and hands them out piece by piece: fill_buf /
/// consume to look at the buffered bytes, read_until / read_line / lines for framing, read for
/// plain reads (itself an AsyncRead). `R` is the reader by value (BufReader<net::TcpStream>
/// owns the stream) or a reference (BufReader<net::OwnedReadHalf&> borrows it; it must outlive
/// the BufReader). Move-only; one task at a time. Each awaitable method returns a Task that
/// borrows `*this` and its arguments: await it at once.
///
/// Cancel safety: bytes move out of the buffer only when a method returns, so dropping a
/// read_until/read_line in a select or timeout loses nothing already buffered; what it had
/// appended to `out` stays there (call it again with the same string to continue, as Tokio
/// documents for read_until). A read of the underlying R that is cancelled loses what R's own
/// cancel safety says (see rill/io.hpp). Mirrors tokio::io::BufReader.
///
/// ```cpp
/// rill::Task<void> echo_lines(rill::net::TcpStream stream) {
///   auto [rd, wr] = std::move(stream).into_split();
///   rill::io::BufReader<rill::net::OwnedReadHalf> reader(std::move(rd));
///   std::string line;
///   while (true) {
///     line.clear();
///     auto n = co_await reader.read_line(line);  // keeps the '\n'
///     if (!n || *n == 0) co_return;              // an error, or the peer closed
///     if (!co_await wr.write_all(line)) co_return;
///   }
/// }
/// ```
template <class R>
  requires AsyncRead<std::remove_reference_t<R>>
class BufReader {
 public:
  /// The buffer size when none is given (Tokio's is 8 KiB too).
  static constexpr std::size_t default_capacity = 8192;

  /// Wraps `inner` with a buffer of `capacity` bytes (> 0; 0 throws std::invalid_argument).
  explicit BufReader(R inner, std::size_t capacity = default_capacity)
      : inner_(std::forward<R>(inner)), cap_(capacity) {
    if (capacity == 0) throw std::invalid_argument("rill::io::BufReader: capacity must be > 0");
    buf_ = std::make_unique<std::byte[]>(capacity);
  }
  BufReader(BufReader&&) noexcept = default;

  /// The underlying reader. Reading from it directly skips the buffered bytes.
  std::remove_reference_t<R>& get_mut() noexcept { return inner_; }
  const std::remove_reference_t<R>& get_ref() const noexcept { return inner_; }
  /// The bytes read from R but not consumed yet.
  std::span<const std::byte> buffer() const noexcept { return {buf_.get() + pos_, end_ - pos_}; }
  /// The buffer size.
  std::size_t capacity() const noexcept { return cap_; }

  /// The buffered bytes, reading once from R when the buffer is empty (an empty span: end of
  /// stream). The span stays valid until the next call on this BufReader; take what you use
  /// with consume(). Cancel-safe. Mirrors AsyncBufReadExt::fill_buf.
  Task<io::Result<std::span<const std::byte>>> fill_buf() {
    if (pos_ == end_) {
      auto n = co_await inner_.read(std::span<std::byte>(buf_.get(), cap_));
      if (!n) co_return Unexpected{n.error()};
      pos_ = 0;
      end_ = *n;
    }
    co_return buffer();
  }
  /// Marks `n` buffered bytes as used (clamped to what is buffered). Mirrors
  /// AsyncBufRead::consume.
  void consume(std::size_t n) noexcept { pos_ = std::min(end_, pos_ + n); }

  /// Reads up to buf.size() bytes: from the buffer when it holds some, else one read of R (a
  /// buffer at least as large as the capacity is read into directly). 0 at end of stream.
  /// Cancel-safe as R::read. Mirrors AsyncReadExt::read.
  Task<io::Result<std::size_t>> read(std::span<std::byte> out) {
    if (out.empty()) co_return std::size_t{0};
    if (pos_ == end_ && out.size() >= cap_) co_return co_await inner_.read(out);
    auto b = co_await fill_buf();
    if (!b) co_return Unexpected{b.error()};
    const std::size_t n = std::min(out.size(), b->size());
    if (n > 0) std::memcpy(out.data(), b->data(), n);
    consume(n);
    co_return n;
  }
  Task<io::Result<std::size_t>> read(std::span<char> out) { return read(std::as_writable_bytes(out)); }

  /// Appends bytes to `out` up to and including the first `delim` (or up to the end of the
  /// stream); yields how many bytes were appended: 0 only at end of stream. No length limit:
  /// bound a peer's line with a timeout or by checking out.size() between calls of fill_buf.
  /// Cancel-safe (see the class comment). Mirrors AsyncBufReadExt::read_until.
  Task<io::Result<std::size_t>> read_until(char delim, std::string& out) {
    std::size_t total = 0;
    for (;;) {
      auto b = co_await fill_buf();
      if (!b) co_return Unexpected{b.error()};
      if (b->empty()) co_return total;  // end of stream
      const char* p = reinterpret_cast<const char*>(b->data());
      const void* hit = std::memchr(p, delim, b->size());
      const std::size_t take =
          hit ? static_cast<std::size_t>(static_cast<const char*>(hit) - p) + 1 : b->size();
      out.append(p, take);
      consume(take);
      total += take;
      if (hit) co_return total;
    }
  }
  /// read_until('\n', out): appends one line, with its "\n" (and a "\r" before it, if any).
  /// 0 at end of stream. rill does not check UTF-8 (a std::string holds bytes), so unlike
  /// Tokio's read_line this is cancel-safe like read_until. Mirrors AsyncBufReadExt::read_line.
  Task<io::Result<std::size_t>> read_line(std::string& out) { return read_until('\n', out); }

  /// The lines of a BufReader, without their "\n" / "\r\n": `co_await lines.next_line()` yields
  /// the next line, nullopt at end of stream (a last line without "\n" is still yielded), or
  /// the error. Borrows the BufReader. Cancel-safe: a partial line stays buffered for the next
  /// call. Mirrors tokio::io::Lines.
  class Lines {
   public:
    explicit Lines(BufReader& r) noexcept : r_(&r) {}
    /// The next line; see the class comment. Mirrors Lines::next_line.
    Task<io::Result<std::optional<std::string>>> next_line() {
      auto n = co_await r_->read_until('\n', partial_);
      if (!n) co_return Unexpected{n.error()};
      if (partial_.empty()) co_return std::optional<std::string>();
      std::string line = std::move(partial_);
      partial_.clear();
      if (!line.empty() && line.back() == '\n') {
        line.pop_back();
        if (!line.empty() && line.back() == '\r') line.pop_back();
      }
      co_return std::optional<std::string>(std::move(line));
    }

   private:
    BufReader* r_;
    std::string partial_;  ///< a line whose read was cancelled before its '\n'
  };
  /// The stream of lines (see Lines). Mirrors AsyncBufReadExt::lines.
  Lines lines() noexcept { return Lines(*this); }

 private:
  R inner_;
  std::unique_ptr<std::byte[]> buf_;
  std::size_t cap_;
  std::size_t pos_ = 0;  ///< first unconsumed byte
  std::size_t end_ = 0;  ///< end of the buffered bytes
};

template <class R>
BufReader(R) -> BufReader<R>;

}  // namespace rill::io

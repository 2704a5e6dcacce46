// rill/io/util.hpp: generic helpers over any AsyncRead / AsyncWrite: copy, copy_bidirectional and
// split. Mirrors tokio::io::{copy, copy_bidirectional, split}.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <tuple>
#include <utility>

#include "rill/io/async_io.hpp"
#include "rill/select.hpp"
#include "rill/task.hpp"

namespace rill::io {

/// Copies everything `reader` yields to `writer` (8 KiB at a time) until end of stream, then
/// flushes the writer when it buffers; yields the number of bytes copied, or the first error
/// (read or write). Both are borrowed until the Task completes. Not cancel-safe: bytes read but
/// not yet written when it is dropped are lost. Mirrors tokio::io::copy.
template <class R, class W>
  requires AsyncRead<R> && AsyncWrite<W>
Task<io::Result<std::uint64_t>> copy(R& reader, W& writer) {
  constexpr std::size_t chunk = 8192;
  auto buf = std::make_unique<std::byte[]>(chunk);
  std::uint64_t total = 0;
  for (;;) {
    auto n = co_await reader.read(std::span<std::byte>(buf.get(), chunk));
    if (!n) co_return Unexpected{n.error()};
    if (*n == 0) break;
    if (auto w = co_await writer.write_all(std::span<const std::byte>(buf.get(), *n)); !w)
      co_return Unexpected{w.error()};
    total += *n;
  }
  if (auto f = co_await detail::flush_if_any(writer); !f) co_return Unexpected{f.error()};
  co_return total;
}

namespace detail {
/// One direction of copy_bidirectional: copy, then end the destination's stream.
template <class R, class W>
Task<io::Result<std::uint64_t>> copy_then_shutdown(R& from, W& to) {
  auto n = co_await io::copy(from, to);
  if (!n) co_return n;
  if (auto s = co_await shutdown_if_any(to); !s) co_return Unexpected{s.error()};
  co_return n;
}
}  // namespace detail

/// Copies `a` to `b` and `b` to `a` at once (inside the current task, with rill::try_join);
/// when one side reaches end of stream, the other side's write half is shut down (its peer reads
/// end of stream) and the other direction goes on. Yields (bytes a->b, bytes b->a) once both
/// directions ended, or the first error (the other direction is then cancelled). Each stream
/// must allow one reader and one writer at a time (every rill stream does). Not cancel-safe
/// (see copy). Mirrors tokio::io::copy_bidirectional.
template <class A, class B>
  requires AsyncRead<A> && AsyncWrite<A> && AsyncRead<B> && AsyncWrite<B>
Task<io::Result<std::pair<std::uint64_t, std::uint64_t>>> copy_bidirectional(A& a, B& b) {
  auto r = co_await rill::try_join(detail::copy_then_shutdown(a, b), detail::copy_then_shutdown(b, a));
  if (!r) co_return Unexpected{r.error()};
  co_return std::pair<std::uint64_t, std::uint64_t>(std::get<0>(*r), std::get<1>(*r));
}

/// The read half of io::split(): shares the stream with its WriteHalf (the stream is destroyed
/// with the last half). Movable, may go to another task. An AsyncRead. Mirrors
/// tokio::io::ReadHalf.
template <class S>
class ReadHalf {
 public:
  explicit ReadHalf(std::shared_ptr<S> s) noexcept : s_(std::move(s)) {}
  /// S's read (every overload). Cancel-safe as S's.
  template <class B>
  auto read(B&& buf) -> decltype(std::declval<S&>().read(std::forward<B>(buf))) {
    return s_->read(std::forward<B>(buf));
  }
  /// True when `other` is the WriteHalf of the same stream. Mirrors ReadHalf::is_pair_of.
  template <class T>
  bool is_pair_of(const T& other) const noexcept {
    return other.s_ == s_;
  }

 private:
  template <class>
  friend class WriteHalf;
  std::shared_ptr<S> s_;
};

/// The write half of io::split() (see ReadHalf). An AsyncWrite; flush() and shutdown() when S
/// has them. Mirrors tokio::io::WriteHalf.
template <class S>
class WriteHalf {
 public:
  explicit WriteHalf(std::shared_ptr<S> s) noexcept : s_(std::move(s)) {}
  /// S's write / write_all (every overload, text included).
  template <class B>
  auto write(B&& buf) -> decltype(std::declval<S&>().write(std::forward<B>(buf))) {
    return s_->write(std::forward<B>(buf));
  }
  template <class B>
  auto write_all(B&& buf) -> decltype(std::declval<S&>().write_all(std::forward<B>(buf))) {
    return s_->write_all(std::forward<B>(buf));
  }
  /// S's flush() / shutdown(), when it has them.
  template <class T = S>
  auto flush() -> decltype(std::declval<T&>().flush()) {
    return s_->flush();
  }
  template <class T = S>
  auto shutdown() -> decltype(std::declval<T&>().shutdown()) {
    return s_->shutdown();
  }
  template <class T>
  bool is_pair_of(const T& other) const noexcept {
    return other.s_ == s_;
  }

 private:
  template <class>
  friend class ReadHalf;
  std::shared_ptr<S> s_;
};

/// Splits any stream that is both AsyncRead and AsyncWrite into a read half and a write half
/// that may be used by two tasks at once (the stream must support one reader plus one writer at
/// a time, as every rill stream does; the halves add no lock). Takes the stream by value. For
/// sockets, TcpStream::into_split() gives the same without the shared allocation. Mirrors
/// tokio::io::split.
template <class S>
  requires AsyncRead<S> && AsyncWrite<S>
std::pair<ReadHalf<S>, WriteHalf<S>> split(S stream) {
  auto s = std::make_shared<S>(std::move(stream));
  return {ReadHalf<S>(s), WriteHalf<S>(s)};
}

}  // namespace rill::io

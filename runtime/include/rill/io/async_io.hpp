// rill/io/async_io.hpp: the concepts every generic I/O utility of rill::io is written against.
// Mirrors tokio::io::{AsyncRead, AsyncWrite} (as the methods of AsyncReadExt/AsyncWriteExt:
// C++ has no poll-based traits, so a type qualifies by the awaitable methods it offers).
#pragma once

#include <concepts>
#include <cstddef>
#include <span>

#include "rill/awaitable.hpp"
#include "rill/io.hpp"

namespace rill::io {

/// A byte source: `co_await r.read(buf)` (buf a std::span<std::byte>) yields io::Result<size_t>,
/// the number of bytes read, 0 at end of stream. Satisfied by net::TcpStream, net::UnixStream,
/// their halves (split / into_split), fs::File, io::DuplexStream, io::BufReader<R> and
/// io::ReadHalf<S>. Mirrors tokio::io::AsyncRead.
template <class R>
concept AsyncRead = requires(R& r, std::span<std::byte> buf) {
  requires Awaitable<decltype(r.read(buf))>;
  requires std::same_as<await_result_t<decltype(r.read(buf))>, io::Result<std::size_t>>;
};

/// A byte sink: `co_await w.write(buf)` yields io::Result<size_t> (bytes accepted, maybe fewer
/// than buf.size()), `co_await w.write_all(buf)` yields io::Result<void> (buf a
/// std::span<const std::byte>). A sink that buffers also has `flush()`, one that can end the
/// stream `shutdown()`; the utilities call them when present. Satisfied by net::TcpStream,
/// net::UnixStream, their halves, fs::File, io::DuplexStream, io::BufWriter<W> and
/// io::WriteHalf<S>. Mirrors tokio::io::AsyncWrite.
template <class W>
concept AsyncWrite = requires(W& w, std::span<const std::byte> buf) {
  requires Awaitable<decltype(w.write(buf))>;
  requires std::same_as<await_result_t<decltype(w.write(buf))>, io::Result<std::size_t>>;
  requires Awaitable<decltype(w.write_all(buf))>;
  requires std::same_as<await_result_t<decltype(w.write_all(buf))>, io::Result<void>>;
};

namespace detail {
/// `co_await w.flush()` when W has one (a buffering writer), else nothing.
template <class W>
Task<io::Result<void>> flush_if_any(W& w) {
  if constexpr (requires { w.flush(); }) {
    co_return co_await w.flush();
  } else {
    co_return io::Result<void>();
  }
}
/// `co_await w.shutdown()` when W has one (a stream that can end), else flush_if_any(w).
template <class W>
Task<io::Result<void>> shutdown_if_any(W& w) {
  if constexpr (requires { w.shutdown(); }) {
    co_return co_await w.shutdown();
  } else {
    co_return co_await flush_if_any(w);
  }
}
}  // namespace detail

}  // namespace rill::io

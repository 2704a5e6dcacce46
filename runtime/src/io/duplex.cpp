// io/duplex.cpp: io::duplex, two in-memory pipes (one per direction), each a byte queue under a
// mutex with two Notify: `readable` (bytes or end of stream arrived) and `writable` (room
// appeared, or the reader left). Notify stores a permit when nobody waits, so a notification
// that comes between a check and the wait is not lost.
#include "rill/io/duplex.hpp"

#include <algorithm>
#include <cerrno>
#include <deque>
#include <mutex>
#include <stdexcept>
#include <system_error>

#include "rill/sync/notify.hpp"

namespace rill::io {

namespace detail {
struct Pipe {
  explicit Pipe(std::size_t cap) : cap(cap) {}
  std::mutex mu;
  std::deque<std::byte> buf;   ///< guarded by mu
  std::size_t cap;
  bool write_closed = false;   ///< guarded by mu: the writer shut down or was dropped
  bool read_closed = false;    ///< guarded by mu: the reader was dropped
  rill::sync::Notify readable;
  rill::sync::Notify writable;
};
}  // namespace detail

Task<io::Result<std::size_t>> DuplexStream::read(std::span<std::byte> out) {
  detail::Pipe* p = rx_.get();
  if (p == nullptr) co_return Unexpected{std::make_error_code(std::errc::bad_file_descriptor)};
  if (out.empty()) co_return std::size_t{0};
  for (;;) {
    {
      std::unique_lock lk(p->mu);
      if (!p->buf.empty()) {
        const std::size_t n = std::min(out.size(), p->buf.size());
        std::copy_n(p->buf.begin(), n, out.begin());
        p->buf.erase(p->buf.begin(), p->buf.begin() + static_cast<std::ptrdiff_t>(n));
        lk.unlock();
        p->writable.notify_one();
        co_return n;
      }
      if (p->write_closed) co_return std::size_t{0};
    }
    co_await p->readable.notified();
  }
}

Task<io::Result<std::size_t>> DuplexStream::write(std::span<const std::byte> in) {
  detail::Pipe* p = tx_.get();
  if (p == nullptr) co_return Unexpected{std::make_error_code(std::errc::bad_file_descriptor)};
  for (;;) {
    {
      std::unique_lock lk(p->mu);
      if (p->read_closed) co_return Unexpected{std::make_error_code(std::errc::broken_pipe)};
      if (p->write_closed) co_return Unexpected{std::make_error_code(std::errc::broken_pipe)};
      if (in.empty()) co_return std::size_t{0};
      const std::size_t room = p->cap - p->buf.size();
      if (room > 0) {
        const std::size_t n = std::min(room, in.size());
        p->buf.insert(p->buf.end(), in.begin(), in.begin() + static_cast<std::ptrdiff_t>(n));
        lk.unlock();
        p->readable.notify_one();
        co_return n;
      }
    }
    co_await p->writable.notified();
  }
}

Task<io::Result<void>> DuplexStream::write_all(std::span<const std::byte> in) {
  while (!in.empty()) {
    auto n = co_await write(in);
    if (!n) co_return Unexpected{n.error()};
    in = in.subspan(*n);
  }
  co_return io::Result<void>();
}

Task<io::Result<void>> DuplexStream::shutdown() {
  if (detail::Pipe* p = tx_.get()) {
    {
      std::lock_guard lk(p->mu);
      p->write_closed = true;
    }
    p->readable.notify_one();
  }
  co_return io::Result<void>();
}

void DuplexStream::close() noexcept {
  if (auto p = std::move(tx_)) {
    {
      std::lock_guard lk(p->mu);
      p->write_closed = true;
    }
    p->readable.notify_one();
  }
  if (auto p = std::move(rx_)) {
    {
      std::lock_guard lk(p->mu);
      p->read_closed = true;
      p->buf.clear();
    }
    p->writable.notify_one();
  }
}

std::pair<DuplexStream, DuplexStream> duplex(std::size_t max_buf_size) {
  if (max_buf_size == 0) throw std::invalid_argument("rill::io::duplex: max_buf_size must be > 0");
  auto ab = std::make_shared<detail::Pipe>(max_buf_size);
  auto ba = std::make_shared<detail::Pipe>(max_buf_size);
  return {DuplexStream(ba, ab), DuplexStream(ab, ba)};
}

}  // namespace rill::io

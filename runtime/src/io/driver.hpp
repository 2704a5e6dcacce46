// io/driver.hpp: the per-worker event driver: an io_uring the worker parks on.
//
// An idle worker blocks in io_uring_submit_and_wait_timeout on its own ring, with the next timer
// deadline as the timeout. Another thread unparks it by writing to an eventfd whose read is kept
// armed on that ring (an eventfd works from any thread, ring or not, unlike IORING_OP_MSG_RING).
// The ring is created with COOP_TASKRUN | TASKRUN_FLAG, not SINGLE_ISSUER, because a worker's
// core (and ring) moves to another thread in block_in_place. When io_uring is refused (ENOSYS,
// EPERM from seccomp, kernel.io_uring_disabled) or RILL_IO_BACKEND=epoll, it parks with poll(2)
// on the same eventfd instead. Issue #4 adds socket and file operations to this ring.
#pragma once

#include <liburing.h>

#include <atomic>
#include <cstdint>

namespace rill::detail {

enum class IoBackend : std::uint8_t { Uring, Poll };

class Driver {
 public:
  Driver();
  ~Driver();
  Driver(const Driver&) = delete;
  Driver& operator=(const Driver&) = delete;

  /// Blocks until unpark() or until `timeout_ns` passes (-1: no timeout; 0: just poll).
  /// Only the thread that currently owns the core calls this.
  void park(std::int64_t timeout_ns) noexcept;
  /// Wakes a park() in progress, or makes the next one return at once. Any thread.
  void unpark() noexcept;
  /// Reaps ready completions without blocking; cheap when nothing is in flight.
  void poll() noexcept;

  IoBackend backend() const noexcept { return backend_; }
  /// Completions handled by park()/poll() other than unpark notifications (metrics).
  std::uint64_t ready_count() const noexcept { return ready_count_; }

 private:
  void arm_wake_read() noexcept;
  void reap() noexcept;
  io_uring ring_{};
  IoBackend backend_ = IoBackend::Poll;
  int event_fd_ = -1;
  bool wake_armed_ = false;
  std::uint64_t wake_buf_ = 0;
  std::uint64_t ready_count_ = 0;
  std::uint32_t inflight_ = 0;  // operations other than the wake read
};

}  // namespace rill::detail

// io/driver.hpp: the per-worker event driver: one io_uring (or one epoll instance) per core.
//
// An idle worker blocks in io_uring_submit_and_wait_timeout on its own ring, with the next timer
// deadline as the timeout. Another thread unparks it by writing to an eventfd whose read is kept
// armed on that ring (an eventfd works from any thread, ring or not, unlike IORING_OP_MSG_RING).
//
// Ring setup: COOP_TASKRUN | TASKRUN_FLAG, a 1024-entry SQ and 8192-entry CQ, and the ring fd
// registered lazily by the thread that drives the core (registered ring fds are per thread).
// Not SINGLE_ISSUER + DEFER_TASKRUN: block_in_place moves a core (and so its ring) to another
// thread, and the runtime's shutdown drains every ring from the thread that calls shutdown; both
// break the single-issuer rule. Measured on the echo benchmark (bench/uring_echo_baseline with
// URING_BASELINE_SETUP=coop vs defer) the two setups cost the same server CPU per message within
// noise (about 5.0 us either way), so the simpler, thread-agnostic COOP_TASKRUN is kept.
//
// Operations (io/op.hpp) are submitted to the ring of the core the current thread runs, and only
// that thread touches the ring. Submission is batched: SQEs are queued and submitted by poll()
// (every event_interval ticks) or park(), so one io_uring_enter carries many operations. A
// thread without a core queues the operation on some core (submit_remote) and unparks it;
// cancellations from other threads are queued the same way (cancel_remote). Completions wake the
// waiting task through its Waker, so a task stolen by another worker still gets its completion.
//
// When io_uring is refused (ENOSYS, EPERM from seccomp, kernel.io_uring_disabled) or the
// runtime asks for it (Builder::io_backend(IoBackend::Epoll), RILL_IO_BACKEND=epoll), the driver
// is an epoll instance instead: sockets register edge-triggered readiness (Tokio's model) and
// file operations run on the blocking pool. Mirrors tokio/src/runtime/io/driver.rs.
#pragma once

#include <liburing.h>
#include <sys/epoll.h>

#include <atomic>
#include <cstdint>
#include <mutex>
#include <vector>

#include "rill/runtime.hpp"

namespace rill::detail {

struct IoOp;
struct Registration;

/// The backend one driver (and the whole runtime) uses.
enum class DriverKind : std::uint8_t { Uring, Epoll };

class Driver {
 public:
  /// Creates the driver's ring or epoll instance. Throws RuntimeError when the kind cannot be
  /// set up (the scheduler resolves IoBackend::Auto with choose() first).
  explicit Driver(DriverKind kind);
  /// Drains in-flight operations (shutdown()) and closes the ring.
  ~Driver();
  Driver(const Driver&) = delete;
  Driver& operator=(const Driver&) = delete;

  /// Resolves a Builder choice: Auto consults RILL_IO_BACKEND (epoll|poll forces epoll) and
  /// then probes io_uring once per process; IoUring throws RuntimeError when the kernel refuses.
  static DriverKind choose(IoBackend requested);

  /// Blocks until unpark() or until `timeout_ns` passes (-1: no timeout; 0: just poll), then
  /// handles completions. Submits queued operations first. Owner thread only.
  void park(std::int64_t timeout_ns) noexcept;
  /// Wakes a park() in progress, or makes the next one return at once. Any thread.
  void unpark() noexcept;
  /// Submits queued operations and handles ready completions without blocking; a few loads
  /// when nothing is queued or in flight. Owner thread only.
  void poll() noexcept;
  /// Submits queued operations without handling completions (a current_thread block_on that
  /// returns: a file close queued by its last poll must not wait for the next block_on).
  /// Owner thread only.
  void flush() noexcept;
  /// Cancels every in-flight operation and waits (up to 2 s) for their completions, freeing
  /// orphaned operations; operations still in flight after that are leaked, never freed under
  /// the kernel. Called by Scheduler::shutdown after every task was cancelled, and by the
  /// destructor. Any single thread once the workers have stopped. Idempotent.
  void shutdown() noexcept;

  DriverKind kind() const noexcept { return kind_; }
  /// True once shutdown() began (no new operations are started on this ring). Owner thread.
  bool shutting_down() const noexcept { return shut_; }
  /// Completions handled by park()/poll() other than unpark notifications (metrics).
  /// Any thread (relaxed: a metric).
  std::uint64_t ready_count() const noexcept {
    return ready_count_.load(std::memory_order_relaxed);
  }
  /// Operations submitted to the kernel and not completed yet (owner thread).
  std::uint32_t inflight() const noexcept { return inflight_; }
  /// True when no event of this driver can give its worker work: no operation queued or in
  /// flight, no socket registered (epoll), no request from another thread pending. Only another
  /// thread's unpark() or a timer can end a park() then. Owner thread.
  bool idle() const noexcept {
    return inflight_ == 0 && registrations_.load(std::memory_order_relaxed) == 0 &&
           !remote_pending_.load(std::memory_order_relaxed);
  }

  // ---- io_uring (owner thread) ----
  /// Queues `op` on this ring (prepared by op_uring.cpp); submitted by the next poll()/park().
  void push(IoOp* op) noexcept;
  /// Queues an async cancel of the operation with user_data `key`.
  void cancel_local(std::uint64_t key) noexcept;
  // ---- io_uring (any thread) ----
  /// Hands `op` to this ring's owner (a thread without a core submits through here).
  void submit_remote(IoOp* op) noexcept;
  /// Asks the owner to cancel the operation with user_data `key`; unparks it.
  void cancel_remote(std::uint64_t key) noexcept;
  /// True when the kernel supports `opcode` on this ring (probed at set-up).
  bool supports(std::uint8_t opcode) const noexcept;

  // ---- epoll ----
  int epoll_fd() const noexcept { return epfd_; }
  /// Registers `r` (edge-triggered read+write+hup). Returns 0 or -errno. Any thread.
  int add(Registration* r) noexcept;
  /// Deregisters `r` and frees it once no epoll_wait in progress can still return it.
  void remove(Registration* r) noexcept;

 private:
  io_uring_sqe* sqe() noexcept;
  void arm_wake_read() noexcept;
  void reap() noexcept;
  void drain_remote() noexcept;
  void enter_thread() noexcept;
  void dispatch_epoll(int timeout_ms) noexcept;

  DriverKind kind_;
  io_uring ring_{};
  bool ring_ok_ = false;
  int event_fd_ = -1;
  bool wake_armed_ = false;
  std::uint64_t wake_buf_ = 0;
  std::atomic<std::uint64_t> ready_count_{0};  // written by the owner only, read by metrics
  std::uint32_t inflight_ = 0;                 // operations other than the wake read and cancels
  std::uint64_t owner_tid_ = 0;                // thread that registered the ring fd (0: none)
  bool reg_fd_off_ = false;      // ring fd registration abandoned (the core changed threads)
  std::uint64_t probe_[4] = {};  // supported opcodes bitmap
  bool shut_ = false;

  // Requests from other threads.
  std::mutex remote_mu_;
  std::vector<IoOp*> remote_submit_;
  std::vector<std::uint64_t> remote_cancel_;
  std::atomic<bool> remote_pending_{false};

  // epoll.
  int epfd_ = -1;
  std::vector<Registration*> release_;  // removed registrations, freed on a later turn (reg mu)
  std::atomic<std::uint32_t> registrations_{0};  // written under the global registration mutex
  Registration* reg_head_ = nullptr;             // live registrations (global registration mutex)
  friend struct Registration;
  friend void registration_close(Registration*) noexcept;
};

}  // namespace rill::detail

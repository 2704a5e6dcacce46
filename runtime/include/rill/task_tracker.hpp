// rill/task_tracker.hpp: TaskTracker, which counts the tasks spawned through it and lets a task
// wait until all of them have ended once the tracker is closed. Mirrors
// tokio_util::task::TaskTracker.
//
// Design (tokio-util's): one atomic word holds `closed` (bit 0) and the number of live tracked
// tasks (bits 1..63). Every tracked task owns a TaskTrackerToken in its own coroutine frame; the
// token's destructor decrements the count, so a task that ends, throws, is aborted or is
// destroyed unstarted at runtime shutdown is untracked exactly once and never refers to any
// other task's frame. The transition to "closed and empty" wakes every waiter of wait() (an
// intrusive list guarded by a mutex, as rill::sync::Notify).
#pragma once

#include <atomic>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <source_location>
#include <utility>

#include "rill/detail/adaptive_mutex.hpp"
#include "rill/detail/task_header.hpp"
#include "rill/join_handle.hpp"
#include "rill/runtime.hpp"
#include "rill/sync/detail/wait_list.hpp"
#include "rill/task.hpp"

namespace rill {

namespace detail {
/// The shared state of a TaskTracker and its copies and tokens. Internal.
struct TrackerState {
  /// Bit 0: closed. Bits 1..63: live tracked tasks (tokens).
  std::atomic<std::uint64_t> state{0};
  rill::detail::AdaptiveMutex mu;
  sync::detail::WaitList waiters;  ///< tasks in wait(); guarded by mu

  static constexpr std::uint64_t kClosed = 1;
  static constexpr std::uint64_t kOne = 2;

  /// Wakes every waiter (the tracker just became closed and empty).
  void notify_now() noexcept {
    sync::detail::WakeList wl;
    std::lock_guard lk(mu);
    while (auto* w = waiters.pop_front())
      wl.complete(w);
  }
  void add() noexcept { state.fetch_add(kOne, std::memory_order_relaxed); }
  void remove() noexcept {
    if (state.fetch_sub(kOne, std::memory_order_acq_rel) == (kOne | kClosed)) notify_now();
  }
};
}  // namespace detail

/// Proof that one task is tracked: while it exists, the TaskTracker that made it counts one live
/// task. Move-only; destroying it untracks the task (and may complete the tracker's wait()).
/// Thread-safe. Mirrors tokio_util::task::task_tracker::TaskTrackerToken.
class TaskTrackerToken {
 public:
  explicit TaskTrackerToken(std::shared_ptr<detail::TrackerState> s) noexcept : s_(std::move(s)) {
    s_->add();
  }
  TaskTrackerToken(TaskTrackerToken&&) noexcept = default;
  TaskTrackerToken& operator=(TaskTrackerToken&& o) noexcept {
    if (this != &o) {
      if (s_) s_->remove();
      s_ = std::move(o.s_);
    }
    return *this;
  }
  TaskTrackerToken(const TaskTrackerToken&) = delete;
  TaskTrackerToken& operator=(const TaskTrackerToken&) = delete;
  ~TaskTrackerToken() {
    if (s_) s_->remove();
  }

 private:
  std::shared_ptr<detail::TrackerState> s_;
};

/// Counts the tasks spawned through it; `co_await tracker.wait()` completes once the tracker is
/// closed and every tracked task has ended (returned, thrown, been aborted, or been destroyed by
/// runtime shutdown). Unlike JoinSet it keeps no outputs and no handles: tracking costs one
/// atomic increment per task and nothing accumulates, so it suits connection tasks of a server.
/// close() only stops wait() from completing early: spawning after close() still works (and is
/// tracked). Copies share one state (copying costs one reference count); every method is
/// thread-safe.
///
/// Typical use (graceful shutdown): spawn every connection task with `tracker.spawn(...)`;
/// at shutdown, stop accepting, `tracker.close()`, then `co_await rill::timeout(5s,
/// tracker_wait_task)`.
///
/// Mirrors tokio_util::task::TaskTracker.
class TaskTracker {
 public:
  /// A new open, empty tracker. Allocates its state (may throw std::bad_alloc). Mirrors
  /// TaskTracker::new.
  TaskTracker() : s_(std::make_shared<detail::TrackerState>()) {}

  /// Closes the tracker: wait() completes once it is empty. Returns true if this call closed it
  /// (false if it already was). Mirrors TaskTracker::close.
  bool close() noexcept {
    auto prev = s_->state.fetch_or(detail::TrackerState::kClosed, std::memory_order_acq_rel);
    if (prev == 0) s_->notify_now();
    return (prev & detail::TrackerState::kClosed) == 0;
  }
  /// Reopens a closed tracker. Returns true if this call reopened it. Mirrors
  /// TaskTracker::reopen.
  bool reopen() noexcept {
    auto prev = s_->state.fetch_and(~detail::TrackerState::kClosed, std::memory_order_acq_rel);
    return (prev & detail::TrackerState::kClosed) != 0;
  }
  /// True when closed. Mirrors TaskTracker::is_closed.
  bool is_closed() const noexcept {
    return s_->state.load(std::memory_order_acquire) & detail::TrackerState::kClosed;
  }
  /// The number of tracked tasks that have not ended yet. Mirrors TaskTracker::len.
  std::size_t len() const noexcept {
    return static_cast<std::size_t>(s_->state.load(std::memory_order_acquire) >> 1);
  }
  /// True when no tracked task is alive. Mirrors TaskTracker::is_empty.
  bool is_empty() const noexcept { return len() == 0; }

  /// A token that counts as one tracked task while it lives (for work not spawned through the
  /// tracker). Mirrors TaskTracker::token.
  TaskTrackerToken token() const noexcept { return TaskTrackerToken(s_); }

  /// Wraps `task` so that it is tracked from now until it ends (the returned Task owns a token;
  /// destroying it unstarted untracks it too). Mirrors TaskTracker::track_future.
  template <class T>
  Task<T> track_future(Task<T> task) const {
    return tracked(std::move(task), token());
  }

  /// Spawns `task` on the current runtime, tracked (see rill::spawn; throws RuntimeError outside
  /// a runtime). Dropping the JoinHandle detaches the task; it stays tracked. Mirrors
  /// TaskTracker::spawn.
  template <class T>
  JoinHandle<T> spawn(Task<T> task, std::source_location loc = std::source_location::current()) {
    return rill::spawn(track_future(std::move(task)), loc);
  }
  /// Like spawn(task), with options (a name).
  template <class T>
  JoinHandle<T> spawn(Task<T> task, const TaskOptions& opts,
                      std::source_location loc = std::source_location::current()) {
    return rill::spawn(track_future(std::move(task)), opts, loc);
  }
  /// Spawns `task` on the runtime of `h`, tracked. Mirrors TaskTracker::spawn_on.
  template <class T>
  JoinHandle<T> spawn_on(Task<T> task, Handle h,
                         std::source_location loc = std::source_location::current()) {
    return h.spawn(track_future(std::move(task)), loc);
  }

  /// Awaitable of wait(): completes once the tracker is closed and empty (at once if it is now).
  /// If the tracker becomes closed and empty while waiting, the wait completes even if it is
  /// reopened or a task is added before the waiter runs (Tokio's behavior). Keeps the tracker's
  /// state alive. Must be awaited inside a rill task. Cancel-safe: destroyed while waiting it
  /// leaves the waiter list at once. Mirrors tokio_util::task::task_tracker::TaskTrackerWaitFuture.
  class [[nodiscard]] Wait : private detail::Leaf {
   public:
    explicit Wait(std::shared_ptr<detail::TrackerState> s) noexcept : s_(std::move(s)) {}
    Wait(Wait&& o) noexcept : detail::Leaf(), s_(std::move(o.s_)) {}
    Wait(const Wait&) = delete;
    Wait& operator=(const Wait&) = delete;
    ~Wait() {
      if (waiting_) {
        std::lock_guard lk(s_->mu);
        if (node_.queued) {
          s_->waiters.unlink(&node_);
          node_.waker.reset();
        }
      }
    }
    bool await_ready() const noexcept {
      return s_->state.load(std::memory_order_acquire) == detail::TrackerState::kClosed;
    }
    bool await_suspend(std::coroutine_handle<> h) noexcept {
      {
        std::lock_guard lk(s_->mu);
        // Checked under the lock: the side that makes the tracker closed-and-empty changes the
        // word first and then takes the lock to wake, so it sees this node or we see the word.
        if (s_->state.load(std::memory_order_acquire) == detail::TrackerState::kClosed)
          return false;
        node_.waker = detail::task_waker(detail::current_task());
        s_->waiters.push_back(&node_);
        waiting_ = true;
      }
      suspend_here(h, [](detail::Resumable* self) noexcept {
        auto* me = static_cast<Wait*>(static_cast<detail::Leaf*>(self));
        if (me->node_.done.load(std::memory_order_acquire)) me->resume();
      });
      return true;
    }
    void await_resume() noexcept { waiting_ = false; }

   private:
    std::shared_ptr<detail::TrackerState> s_;
    bool waiting_ = false;
    sync::detail::WaitNode node_;
  };

  /// Waits until the tracker is closed and empty; see Wait. Mirrors TaskTracker::wait.
  Wait wait() const noexcept { return Wait(s_); }

  /// True when both trackers share one state.
  friend bool operator==(const TaskTracker& a, const TaskTracker& b) noexcept {
    return a.s_ == b.s_;
  }

 private:
  template <class T>
  static Task<T> tracked(Task<T> task, TaskTrackerToken token) {
    (void)token;  // lives in this frame: untracks when the frame is destroyed, however it ends
    co_return co_await std::move(task);
  }

  std::shared_ptr<detail::TrackerState> s_;
};

}  // namespace rill

// rill/time.hpp: sleeping, deadlines, timeouts and intervals on the runtime's timer wheels
// (6 levels x 64 slots, 1 ms resolution, O(1) insert and cancel; one wheel per worker).
// Mirrors tokio::time.
#pragma once

#include <chrono>
#include <coroutine>
#include <stdexcept>
#include <type_traits>
#include <utility>

#include "rill/awaitable.hpp"
#include "rill/detail/task_header.hpp"
#include "rill/detail/timer_node.hpp"
#include "rill/result.hpp"
#include "rill/task.hpp"

namespace rill {

/// A point on the monotonic clock (std::chrono::steady_clock). Mirrors tokio::time::Instant.
using Instant = std::chrono::steady_clock::time_point;
/// A span of time (nanosecond resolution; timers round up to the next millisecond).
using Duration = std::chrono::nanoseconds;

namespace time {

/// The current instant of the current runtime's clock: std::chrono::steady_clock::now(), unless
/// a test paused or advanced the clock (then every rill timer, sleep() and timeout() follows this
/// clock, not steady_clock). Outside a runtime: steady_clock::now(). Thread-safe. Mirrors
/// tokio::time::Instant::now.
Instant now() noexcept;

/// Pauses the current runtime's clock: now() stops moving, and timers fire only when the clock
/// is advanced, by advance() or automatically: whenever every task is idle (nothing runnable, no
/// I/O ready, no spawn_blocking job running), the clock jumps to the next timer's deadline. A
/// test of a 2 s idle timeout thus runs in milliseconds, with the same ordering as in real
/// time. Throws RuntimeError outside a current_thread runtime (as Tokio panics) or when the
/// clock is already paused. Mirrors tokio::time::pause (test-util).
void pause();

/// Lets a paused clock run again, from the instant it shows (time never goes backwards).
/// Throws RuntimeError when the clock is not paused or outside a runtime. Mirrors
/// tokio::time::resume.
void resume();

/// Moves a paused clock forward by `d`, fires the timers that are due, and yields so that their
/// tasks run before the caller continues: `co_await rill::time::advance(5s);`. Throws (when
/// awaited) RuntimeError when the clock is not paused, std::invalid_argument for a negative
/// `d`. Mirrors tokio::time::advance.
Task<void> advance(Duration d);

}  // namespace time

/// The error of a timeout whose deadline passed first. Mirrors tokio::time::error::Elapsed.
struct Elapsed {
  const char* what() const noexcept { return "deadline has elapsed"; }
};

/// Awaitable that completes at its deadline (never earlier; timers have 1 ms resolution and fire
/// on the next driver poll after the deadline). Spends one unit of budget when the deadline has
/// already passed. Destroying it before it fires cancels the timer (O(1)). Must be awaited inside
/// a rill task. Movable before it is awaited (so combinators can own it). Mirrors
/// tokio::time::Sleep.
class [[nodiscard]] Sleep : private detail::Leaf {
 public:
  explicit Sleep(Instant deadline) noexcept : deadline_(deadline) {}
  /// Moves the deadline; a registration of `o` is cancelled (the new Sleep registers when it is
  /// awaited). Do not move a Sleep that a suspended coroutine is awaiting.
  Sleep(Sleep&& o) noexcept : deadline_(o.deadline_) { o.cancel(); }
  Sleep(const Sleep&) = delete;
  Sleep& operator=(const Sleep&) = delete;
  ~Sleep() { cancel(); }

  /// The instant at which the sleep completes.
  Instant deadline() const noexcept { return deadline_; }
  /// True once the deadline has passed.
  bool is_elapsed() const noexcept { return time::now() >= deadline_; }
  /// Moves the deadline (cancels a pending registration). Mirrors Sleep::reset.
  void reset(Instant deadline) noexcept {
    cancel();
    deadline_ = deadline;
  }

  bool await_ready() noexcept {
    if (node_.registered) return node_.fired.load(std::memory_order_acquire) && ready_spend();
    return is_elapsed() && ready_spend();
  }
  void await_suspend(std::coroutine_handle<> h) {
    if (must_yield) {
      must_yield = false;
      suspend_yield(h);
      return;
    }
    if (!node_.registered) detail::timer_register(&node_, deadline_, detail::task_waker(detail::current_task()));
    suspend_here(h, [](detail::Resumable* self) noexcept {
      auto* me = static_cast<Sleep*>(static_cast<detail::Leaf*>(self));
      if (me->node_.fired.load(std::memory_order_acquire)) me->resume();
    });
  }
  void await_resume() const noexcept {}

 private:
  void cancel() noexcept {
    if (node_.registered) {
      detail::timer_cancel(&node_);
      node_.registered = false;
      node_.fired.store(false, std::memory_order_relaxed);
    }
  }
  Instant deadline_;
  detail::TimerNode node_;
};

/// Waits until `d` has passed. `co_await rill::sleep(10ms);` Mirrors tokio::time::sleep.
inline Sleep sleep(Duration d) noexcept { return Sleep(time::now() + d); }
/// Waits until `deadline`. Mirrors tokio::time::sleep_until.
inline Sleep sleep_until(Instant deadline) noexcept { return Sleep(deadline); }

/// Awaitable that runs `task` in the current task and gives up at `deadline`: yields
/// Result<T, Elapsed>, holding T when the task finished first (its exception propagates) and
/// Elapsed when the deadline passed while it was suspended; the task is then destroyed at its
/// suspension point (RAII cleans up). The task is polled before the deadline is checked, so a task
/// that finishes without suspending always succeeds, and no timer is registered for it.
/// Mirrors tokio::time::Timeout.
template <class T>
class [[nodiscard]] Timeout : private detail::Resumable {
 public:
  Timeout(Task<T> inner, Instant deadline) noexcept
      : inner_(std::move(inner)), deadline_(deadline) {}
  Timeout(const Timeout&) = delete;
  ~Timeout() {
    if (node_.registered) detail::timer_cancel(&node_);
  }

  bool await_ready() const noexcept { return false; }
  bool await_suspend(std::coroutine_handle<> parent) {
    parent_ = parent;
    task_ = detail::current_task();
    auto ih = inner_.release();
    inner_ = Task<T>(ih);
    ih.promise().continuation = nullptr;  // finishing returns here, not to the parent
    ih.promise().diag_parent = parent;     // async stacks continue at the parent
    ih.resume();
    if (ih.done()) return false;
    if (time::now() >= deadline_) {
      elapsed_ = true;
      inner_ = Task<T>();  // destroys the suspended task
      task_->hook = nullptr;
      return false;
    }
    saved_ = task_->hook;
    task_->hook = this;
    poll = &poll_fn;
    inner = [](detail::Resumable* self) noexcept { return static_cast<Timeout*>(self)->saved_; };
    detail::timer_register(&node_, deadline_, detail::task_waker(task_));
    return true;
  }
  /// Yields the task's value, or Elapsed.
  Result<T, Elapsed> await_resume() {
    if (elapsed_) return Unexpected{Elapsed{}};
    if constexpr (std::is_void_v<T>) {
      inner_.await_resume();
      return Result<T, Elapsed>();
    } else {
      return Result<T, Elapsed>(inner_.await_resume());
    }
  }

 private:
  static void poll_fn(detail::Resumable* self) noexcept {
    auto* me = static_cast<Timeout*>(self);
    if (me->node_.fired.load(std::memory_order_acquire)) {
      me->elapsed_ = true;
      me->node_.registered = false;
      me->inner_ = Task<T>();
      me->task_->hook = nullptr;
      me->parent_.resume();  // may destroy *me: nothing after this
      return;
    }
    me->task_->hook = me->saved_;
    if (me->saved_) me->saved_->poll(me->saved_);
    if (me->inner_.await_ready()) {
      detail::timer_cancel(&me->node_);
      me->node_.registered = false;
      me->task_->hook = nullptr;
      me->parent_.resume();  // may destroy *me
      return;
    }
    me->saved_ = me->task_->hook;
    me->task_->hook = me;
  }

  Task<T> inner_;
  Instant deadline_;
  detail::TimerNode node_;
  std::coroutine_handle<> parent_;
  detail::TaskHeader* task_ = nullptr;
  detail::Resumable* saved_ = nullptr;
  bool elapsed_ = false;
};

/// Gives `x` (any rill awaitable: a Task, a read, an accept, a channel receive, a JoinHandle...)
/// `d` to complete; see Timeout, and detail::as_task for who owns `x`:
/// ```cpp
/// rill::Task<void> wait_a_bit(rill::sync::mpsc::Receiver<int>& rx) {
///   auto r = co_await rill::timeout(100ms, rx.recv());
///   if (!r) co_return;  // r.error() is rill::Elapsed: nothing arrived within 100 ms
///   std::optional<int> v = *r;  // the receive's value (nullopt: every sender is gone)
///   (void)v;
/// }
/// ```
/// Mirrors tokio::time::timeout.
template <class A>
  requires Awaitable<std::remove_cvref_t<A>>
Timeout<combinator_value_t<A>> timeout(Duration d, A&& x) {
  return Timeout<combinator_value_t<A>>(detail::as_task(std::forward<A>(x)),
                                        time::now() + d);
}
/// Like timeout() with an absolute deadline. Mirrors tokio::time::timeout_at.
template <class A>
  requires Awaitable<std::remove_cvref_t<A>>
Timeout<combinator_value_t<A>> timeout_at(Instant deadline, A&& x) {
  return Timeout<combinator_value_t<A>>(detail::as_task(std::forward<A>(x)), deadline);
}

/// What an Interval does when ticks were missed (the task was late). Mirrors
/// tokio::time::MissedTickBehavior.
enum class MissedTickBehavior {
  Burst,  ///< fire the missed ticks as fast as possible, then continue on the original schedule
  Delay,  ///< the next tick is one period after the late tick actually fired
  Skip,   ///< skip missed ticks; the next tick is the next multiple of the period on schedule
};

/// Ticks every `period`; the first tick completes at once. `co_await iv.tick()` yields the
/// instant the tick was scheduled for. Owned by one task. Mirrors tokio::time::Interval.
class Interval {
 public:
  /// Throws std::invalid_argument for a zero or negative period.
  Interval(Instant start, Duration period) : next_(start), period_(period) {
    if (period <= Duration::zero()) throw std::invalid_argument("rill::interval: period must be > 0");
  }

  /// Awaitable yielding the scheduled instant of the tick.
  struct [[nodiscard]] Tick {
    Interval* iv;
    Sleep sleep;
    bool await_ready() noexcept { return sleep.await_ready(); }
    void await_suspend(std::coroutine_handle<> h) { sleep.await_suspend(h); }
    Instant await_resume() noexcept { return iv->advance(); }
  };
  /// Waits for the next tick.
  Tick tick() noexcept { return Tick{this, Sleep(next_)}; }

  void set_missed_tick_behavior(MissedTickBehavior b) noexcept { behavior_ = b; }
  MissedTickBehavior missed_tick_behavior() const noexcept { return behavior_; }
  Duration period() const noexcept { return period_; }
  /// Restarts the schedule: the next tick is one period from now.
  void reset() noexcept { next_ = time::now() + period_; }

 private:
  Instant advance() noexcept {
    const Instant scheduled = next_;
    const Instant now = time::now();
    if (now < scheduled + period_) {
      next_ = scheduled + period_;
      return scheduled;
    }
    switch (behavior_) {  // at least one whole period late
      case MissedTickBehavior::Burst:
        next_ = scheduled + period_;
        break;
      case MissedTickBehavior::Delay:
        next_ = now + period_;
        break;
      case MissedTickBehavior::Skip:
        next_ = now + period_ - (now - scheduled) % period_;
        break;
    }
    return scheduled;
  }
  Instant next_;
  Duration period_;
  MissedTickBehavior behavior_ = MissedTickBehavior::Burst;
};

/// An Interval whose first tick is now. Mirrors tokio::time::interval.
inline Interval interval(Duration period) {
  return Interval(time::now(), period);
}
/// An Interval whose first tick is at `start`. Mirrors tokio::time::interval_at.
inline Interval interval_at(Instant start, Duration period) { return Interval(start, period); }

}  // namespace rill

// rill/detail/task_header.hpp: the type-erased part of a spawned task (the "cell"), its state
// word, and the per-thread runtime context. Internal: used by the public templates.
//
// A spawned task is a heap cell: TaskHeader (state, reference count, vtable, scheduler, the
// suspended leaf to poll next, join waker) followed by the typed part (the root coroutine and
// its output). Mirrors tokio/src/runtime/task/{core.rs,state.rs,harness.rs}.
//
// State word (one atomic, so every transition is a single CAS):
//   RUNNING        being polled by some thread
//   COMPLETE       output stored (or cancelled); the coroutine frame is gone
//   NOTIFIED       in a run queue, or must be re-queued when the current poll ends
//   CANCELLED      abort requested; the next poll (or the end of the current one) cancels
//   JOIN_INTEREST  a JoinHandle exists and will read the output
//   refs           bits 8..63: references (run-queue entry, JoinHandle, each Waker)
#pragma once

#include "rill/detail/compiler.hpp"

#include <atomic>
#include <coroutine>
#include <cstdint>
#include <memory>
#include <source_location>

#include "rill/detail/waker.hpp"

namespace rill::detail {

struct TaskHeader;
class Scheduler;
struct Core;

/// A suspended leaf awaiter that the task's next poll calls. It re-checks its own readiness and
/// resumes its coroutine only when ready, so spurious wake-ups are harmless (Rust's poll model
/// at the leaves). `poll` runs on the thread that polls the task.
struct Resumable {
  void (*poll)(Resumable* self) noexcept = nullptr;
  /// The coroutine suspended at this leaf (set by detail::Leaf; null for combinators such as
  /// Timeout that poll another hook). Diagnostics (Handle::dump) walk the task's async stack
  /// from it through the promises' continuation links.
  std::coroutine_handle<> handle;
  /// Combinators (Timeout, select/join): the hook of a child still waiting, so diagnostics can
  /// descend to the innermost leaf; null for leaves. Called only on a task nobody is polling.
  Resumable* (*inner)(Resumable* self) noexcept = nullptr;
};

/// Per-type operations of a task cell.
struct TaskVTable {
  /// Coroutine tasks: the root finished; move its result into the cell and free the frame.
  void (*complete)(TaskHeader*) noexcept;
  /// Drop the coroutine frame without running it further (cancellation).
  void (*cancel)(TaskHeader*) noexcept;
  /// Destroy a stored output nobody will read.
  void (*drop_output)(TaskHeader*) noexcept;
  /// Free the cell (the last reference is gone).
  void (*dealloc)(TaskHeader*) noexcept;
  /// Blocking tasks only: run the function on the calling (blocking-pool) thread.
  void (*run_blocking)(TaskHeader*) noexcept;
};

namespace state {
inline constexpr std::uint64_t RUNNING = 1u << 0;
inline constexpr std::uint64_t COMPLETE = 1u << 1;
inline constexpr std::uint64_t NOTIFIED = 1u << 2;
inline constexpr std::uint64_t CANCELLED = 1u << 3;
inline constexpr std::uint64_t JOIN_INTEREST = 1u << 4;
inline constexpr std::uint64_t REF_SHIFT = 8;
inline constexpr std::uint64_t REF_ONE = std::uint64_t{1} << REF_SHIFT;
}  // namespace state

/// The non-generic head of every task cell.
struct TaskHeader {
  std::atomic<std::uint64_t> state{0};
  TaskHeader* queue_next = nullptr;  ///< injection-queue link
  const TaskVTable* vtable = nullptr;
  Scheduler* sched = nullptr;             ///< where wakes schedule it (null for blocking tasks)
  Resumable* hook = nullptr;              ///< the suspended leaf to poll next (owned by the poller)
  std::coroutine_handle<> resume_point;   ///< first poll: the root coroutine
  std::coroutine_handle<> root;           ///< the root coroutine frame (null once freed)
  std::uint64_t id = 0;                   ///< unique per process, starts at 1
  std::uint32_t unconstrained_depth = 0;  ///< >0 while inside rill::unconstrained()
  bool is_blocking = false;
  std::source_location spawn_location;  ///< where spawn() was called
  /// Name given at spawn (rill::TaskOptions / rill::task::Builder), NUL-terminated; null when
  /// unnamed. Immutable after spawn.
  std::unique_ptr<char[]> name;
  /// Polls of this task and the time spent in them (ns). Written only by the thread polling
  /// the task (RUNNING orders successive pollers); read with relaxed loads by diagnostics.
  std::atomic<std::uint64_t> polls{0};
  std::atomic<std::uint64_t> busy_ns{0};
  // Owned-tasks list (for shutdown, metrics and dumps); guarded by the scheduler's list lock.
  TaskHeader* owned_prev = nullptr;
  TaskHeader* owned_next = nullptr;
  bool in_owned = false;
  // The JoinHandle's waker, guarded by join_lock (a tiny spin lock: held for a pointer swap).
  std::atomic<bool> join_lock{false};
  Waker join_waker;

  void lock_join() noexcept {
    while (join_lock.exchange(true, std::memory_order_acquire)) {
      while (join_lock.load(std::memory_order_relaxed))
        __builtin_ia32_pause();
    }
  }
  void unlock_join() noexcept { join_lock.store(false, std::memory_order_release); }

  bool is_complete() const noexcept {
    return state.load(std::memory_order_acquire) & state::COMPLETE;
  }
};

// ---- references ------------------------------------------------------------------------------

inline void task_ref_inc(TaskHeader* t) noexcept {
  t->state.fetch_add(state::REF_ONE, std::memory_order_relaxed);
}
/// Drops one reference; frees the cell when it was the last.
inline void task_ref_dec(TaskHeader* t) noexcept {
  auto prev = t->state.fetch_sub(state::REF_ONE, std::memory_order_acq_rel);
  if ((prev >> state::REF_SHIFT) == 1) t->vtable->dealloc(t);
}

// ---- per-thread context -----------------------------------------------------------------------

/// What the current thread is doing for a runtime. Plain data, owned by the thread.
struct Context {
  Scheduler* sched = nullptr;  ///< runtime this thread belongs to (worker or block_on caller)
  Core* core = nullptr;        ///< the worker core this thread runs, if any
  TaskHeader* task = nullptr;  ///< the task being polled
  std::uint32_t budget = 0;    ///< cooperative budget left in this poll (Tokio: 128)
  bool defer_yield = false;    ///< the current poll ended in yield_now(): defer the re-queue
};

extern thread_local constinit Context t_ctx;

// ---- wakes from outside the task's runtime ----------------------------------------------------

/// Wakes in progress on threads that do not belong to the woken task's runtime (a blocking-pool
/// thread, the signal thread, another runtime, a plain std::thread). Process-wide. A scheduler's
/// shutdown completes every task and then waits for this count to drain, so such a wake that
/// saw the task still pending finishes with the scheduler before it is destroyed, and a wake
/// that starts later sees the task COMPLETE and never touches the scheduler.
extern std::atomic<std::uint64_t> g_foreign_wakes;

/// Counts the current wake of `t` in g_foreign_wakes when it comes from outside t's runtime
/// (threads of the runtime, its workers and block_on callers, cannot race with its destruction).
class ForeignWakeScope {
 public:
  explicit ForeignWakeScope(const TaskHeader* t) noexcept : on_(t_ctx.sched != t->sched) {
    if (on_) g_foreign_wakes.fetch_add(1, std::memory_order_acq_rel);
  }
  ~ForeignWakeScope() {
    if (on_) g_foreign_wakes.fetch_sub(1, std::memory_order_acq_rel);
  }
  ForeignWakeScope(const ForeignWakeScope&) = delete;
  ForeignWakeScope& operator=(const ForeignWakeScope&) = delete;

 private:
  bool on_;
};

// ---- scheduling (implemented by the scheduler, runtime/src/scheduler) -----------------------

/// Queues a NOTIFIED task on its scheduler; the caller transfers one reference to the queue.
void schedule_task(TaskHeader* t) noexcept;

/// Wakes `t` without consuming a reference: idle -> queued; running -> re-queued when the poll
/// ends; complete or already notified -> nothing.
inline void wake_task_by_ref(TaskHeader* t) noexcept {
  ForeignWakeScope scope(t);
  auto s = t->state.load(std::memory_order_acquire);
  for (;;) {
    if (s & (state::COMPLETE | state::NOTIFIED)) return;
    if (s & state::RUNNING) {
      if (t->state.compare_exchange_weak(s, s | state::NOTIFIED, std::memory_order_acq_rel)) return;
      continue;
    }
    if (t->state.compare_exchange_weak(s, (s | state::NOTIFIED) + state::REF_ONE,
                                       std::memory_order_acq_rel)) {
      schedule_task(t);
      return;
    }
  }
}

/// Wakes `t` and consumes one reference (reused for the queue entry when possible).
inline void wake_task(TaskHeader* t) noexcept {
  ForeignWakeScope scope(t);
  auto s = t->state.load(std::memory_order_acquire);
  for (;;) {
    if (s & (state::COMPLETE | state::NOTIFIED)) break;
    if (s & state::RUNNING) {
      if (t->state.compare_exchange_weak(s, s | state::NOTIFIED, std::memory_order_acq_rel)) break;
      continue;
    }
    if (t->state.compare_exchange_weak(s, s | state::NOTIFIED, std::memory_order_acq_rel)) {
      schedule_task(t);  // our reference becomes the queue's
      return;
    }
  }
  task_ref_dec(t);
}

inline constexpr WakerVTable kTaskWakerVTable{
    [](void* p) noexcept -> void* {
      task_ref_inc(static_cast<TaskHeader*>(p));
      return p;
    },
    [](void* p) noexcept { wake_task(static_cast<TaskHeader*>(p)); },
    [](void* p) noexcept { wake_task_by_ref(static_cast<TaskHeader*>(p)); },
    [](void* p) noexcept { task_ref_dec(static_cast<TaskHeader*>(p)); },
};

/// A new Waker for task `t` (takes a reference).
inline Waker task_waker(TaskHeader* t) noexcept {
  task_ref_inc(t);
  return Waker(&kTaskWakerVTable, t);
}

/// The task being polled on this thread; null outside a rill task.
inline TaskHeader* current_task() noexcept {
  return t_ctx.task;
}

/// Initial cooperative budget per poll, like Tokio's coop budget.
inline constexpr std::uint32_t kBudget = 128;

/// Spends one unit of the current task's budget. Returns false when the budget is exhausted
/// (the caller must yield); always true outside a task or inside rill::unconstrained().
inline bool coop_spend() noexcept {
  auto* t = t_ctx.task;
  if (t == nullptr || t->unconstrained_depth != 0) return true;
  if (t_ctx.budget == 0) return false;
  --t_ctx.budget;
  return true;
}

/// Counts a forced yield (metrics: budget_forced_yield_count). Implemented by the scheduler.
void note_forced_yield() noexcept;

/// Makes the current task's next poll call `r`, and requests a poll (the task yields to the back
/// of its run queue). Used by leaves that completed without suspending but ran out of budget.
inline void yield_to(Resumable* r) noexcept {
  auto* t = t_ctx.task;
  t->hook = r;
  wake_task_by_ref(t);
}

/// Base of rill's leaf awaiters: remembers the awaiting coroutine and task, and implements the
/// "completed without suspending, but the budget is spent" yield.
struct Leaf : Resumable {
  // `handle` (the awaiting coroutine) lives in Resumable so that diagnostics can find it.
  TaskHeader* task = nullptr;

  /// Call from await_ready when the operation completed at once: true to continue, false to
  /// yield first (then await_suspend must call suspend_yield()).
  bool ready_spend() noexcept {
    if (coop_spend()) return true;
    note_forced_yield();
    must_yield = true;
    return false;
  }
  /// Suspends for a budget yield: the next poll resumes the coroutine unconditionally.
  void suspend_yield(std::coroutine_handle<> h) noexcept {
    handle = h;
    task = t_ctx.task;
    poll = [](Resumable* self) noexcept { static_cast<Leaf*>(self)->resume(); };
    yield_to(this);
  }
  /// Registers this leaf as the task's next poll target.
  void suspend_here(std::coroutine_handle<> h, void (*fn)(Resumable*) noexcept) noexcept {
    handle = h;
    task = t_ctx.task;
    poll = fn;
    task->hook = this;
  }
  /// Resumes the awaiting coroutine (clears the task's hook first).
  void resume() noexcept {
    task->hook = nullptr;
    handle.resume();
  }
  bool must_yield = false;
};

}  // namespace rill::detail

// rill/detail/task_cell.hpp: typed task cells (coroutine and blocking) and the thread parker used
// by block_on. Internal.
#pragma once

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <cstdint>
#include <source_location>
#include <type_traits>
#include <utility>

#include "rill/detail/frame_alloc.hpp"
#include "rill/detail/task_header.hpp"
#include "rill/task.hpp"

namespace rill::detail {

/// Registers a new NOTIFIED cell with `sched` (id, owned-tasks list) and queues it. If the
/// scheduler is shutting down the task is cancelled at once. Implemented in scheduler/.
void bind_task(Scheduler* sched, TaskHeader* t) noexcept;
/// Runs a cancelled-or-finished transition for a task nobody will poll again: drops the frame,
/// records cancellation, wakes the JoinHandle. Implemented in scheduler/.
void complete_task(TaskHeader* t, bool cancelled) noexcept;

/// The cell of a spawned coroutine: header + output.
template <class T>
struct TaskCell : TaskHeader {
  Outcome<T> output;
  bool cancelled = false;
  bool taken = false;

  static void* operator new(std::size_t n) {
    return frame_alloc(n, std::source_location::current());
  }
  static void operator delete(void* p, std::size_t n) noexcept { frame_free(p, n); }

  explicit TaskCell(std::coroutine_handle<Promise<T>> h) noexcept {
    vtable = &kVTable;
    root = h;
    resume_point = h;
  }

  static void complete_fn(TaskHeader* h) noexcept {
    auto* c = static_cast<TaskCell*>(h);
    auto r = std::coroutine_handle<Promise<T>>::from_address(c->root.address());
    c->output = std::move(r.promise().outcome);
    c->root = {};
    r.destroy();
  }
  static void cancel_fn(TaskHeader* h) noexcept {
    auto* c = static_cast<TaskCell*>(h);
    if (auto r = std::exchange(c->root, {})) r.destroy();
    c->cancelled = true;
  }
  static void drop_output_fn(TaskHeader* h) noexcept {
    static_cast<TaskCell*>(h)->output.template emplace<0>();
  }
  static void dealloc_fn(TaskHeader* h) noexcept {
    auto* c = static_cast<TaskCell*>(h);
    if (auto r = std::exchange(c->root, {})) r.destroy();
    delete c;
  }
  static constexpr TaskVTable kVTable{&complete_fn, &cancel_fn, &drop_output_fn, &dealloc_fn,
                                      nullptr};
};

/// Submits a blocking cell to the current runtime's blocking pool (or runs it on a new thread
/// outside any runtime). Implemented in blocking/.
void submit_blocking(TaskHeader* t);

/// The cell of a spawn_blocking job: header + the function + its output.
template <class F, class R>
struct BlockingCell : TaskHeader {
  F fn;
  Outcome<R> output;
  bool cancelled = false;
  bool taken = false;

  static void* operator new(std::size_t n) {
    return frame_alloc(n, std::source_location::current());
  }
  static void operator delete(void* p, std::size_t n) noexcept { frame_free(p, n); }

  explicit BlockingCell(F&& f) : fn(std::move(f)) {
    vtable = &kVTable;
    is_blocking = true;
  }
  static void run_fn(TaskHeader* h) noexcept {
    auto* c = static_cast<BlockingCell*>(h);
    try {
      if constexpr (std::is_void_v<R>) {
        c->fn();
        c->output.template emplace<1>();
      } else {
        c->output.template emplace<1>(c->fn());
      }
    } catch (...) {
      c->output.template emplace<2>(std::current_exception());
    }
  }
  static void cancel_fn(TaskHeader* h) noexcept { static_cast<BlockingCell*>(h)->cancelled = true; }
  static void drop_output_fn(TaskHeader* h) noexcept {
    static_cast<BlockingCell*>(h)->output.template emplace<0>();
  }
  static void dealloc_fn(TaskHeader* h) noexcept { delete static_cast<BlockingCell*>(h); }
  static constexpr TaskVTable kVTable{nullptr, &cancel_fn, &drop_output_fn, &dealloc_fn, &run_fn};
};

/// Blocks an OS thread until woken through its Waker. Heap-allocated and reference counted so a
/// late wake never touches freed memory. Used by block_on on a multi-thread runtime.
class ThreadParker {
 public:
  static ThreadParker* create() { return new ThreadParker(); }
  Waker waker() noexcept {
    refs_.fetch_add(1, std::memory_order_relaxed);
    return Waker(&kVTable, this);
  }
  /// Waits until unpark() was called since the last wait (consumes the notification).
  void park() noexcept {
    std::unique_lock lk(mu_);
    cv_.wait(lk, [&] { return notified_; });
    notified_ = false;
  }
  void unpark() noexcept {
    {
      std::lock_guard lk(mu_);
      notified_ = true;
    }
    cv_.notify_one();
  }
  void release() noexcept {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }

 private:
  ThreadParker() = default;
  std::atomic<std::uint32_t> refs_{1};
  std::mutex mu_;
  std::condition_variable cv_;
  bool notified_ = false;
  static const WakerVTable kVTable;
};

inline const WakerVTable ThreadParker::kVTable{
    [](void* p) noexcept -> void* {
      static_cast<ThreadParker*>(p)->refs_.fetch_add(1, std::memory_order_relaxed);
      return p;
    },
    [](void* p) noexcept {
      auto* t = static_cast<ThreadParker*>(p);
      t->unpark();
      t->release();
    },
    [](void* p) noexcept { static_cast<ThreadParker*>(p)->unpark(); },
    [](void* p) noexcept { static_cast<ThreadParker*>(p)->release(); },
};

/// JoinHandle plumbing shared by all T (implemented in scheduler/).
void join_handle_drop(TaskHeader* t) noexcept;
void join_handle_abort(TaskHeader* t) noexcept;
/// Stores `w` as the join waker unless the task completed; returns true when it completed.
bool join_register(TaskHeader* t, Waker w) noexcept;

}  // namespace rill::detail

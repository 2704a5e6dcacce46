// scheduler/inject.hpp: the global injection queue: tasks scheduled from outside a worker
// (other threads, timers of other cores, local-queue overflow). Pushers never take a lock: they
// push onto a lock-free stack (one compare-and-swap); the workers that pop take the tasks in
// order from a FIFO list behind a mutex only they contend on, refilling it from the stack (one
// exchange, then a reversal) when it runs dry. A thread spawning in a loop thus never waits for
// a worker inside the lock (or for one preempted there). An atomic length makes empty checks
// lock-free. Closed at shutdown: pushes still land in the queue (their queue references keep
// the tasks alive: the owned-tasks list holds no reference, and shutdown is about to cancel them
// through it) but report false, so nobody notifies a worker; shutdown drops them at its end.
// Mirrors tokio/src/runtime/task/inject.rs (whose pushes take the lock).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <utility>

#include "rill/detail/adaptive_mutex.hpp"
#include "rill/detail/task_header.hpp"

namespace rill::detail {

class Inject {
 public:
  /// Appends `t` (which carries a queue reference). Returns false when closed (the task is
  /// still appended, for shutdown to drop). Any thread; lock-free.
  bool push(TaskHeader* t) noexcept {
    t->queue_next = nullptr;
    return push_batch(t, t, 1);
  }
  /// Appends the linked list first..last (n tasks, in that order). Returns false when closed
  /// (they are still appended: dropping their references here could free a task that shutdown
  /// is about to cancel through the owned-tasks list). Any thread; lock-free.
  bool push_batch(TaskHeader* first, TaskHeader* last, std::size_t n) noexcept {
    // The stack is newest-first: link the batch last..first before publishing it at once.
    last->queue_next = nullptr;
    reverse(first);
    TaskHeader* top = incoming_.load(std::memory_order_relaxed);
    do {
      first->queue_next = top;
    } while (!incoming_.compare_exchange_weak(top, last, std::memory_order_release,
                                              std::memory_order_relaxed));
    // Counted once reachable: a popper that sees the count finds the tasks.
    len_.fetch_add(static_cast<std::int64_t>(n), std::memory_order_release);
    return !closed_.load(std::memory_order_acquire);
  }
  /// Pops the oldest task; null when empty.
  TaskHeader* pop() noexcept {
    TaskHeader* t = nullptr;
    pop_n(1, [&](TaskHeader* x) { t = x; });
    return t;
  }
  /// Pops up to `max` tasks, oldest first, into `out(t)`; returns how many. The lock is held
  /// only to detach them; `out` runs after unlocking, on tasks nobody else can reach any more.
  template <class F>
  std::size_t pop_n(std::size_t max, F&& out) noexcept {
    if (max == 0 || empty()) return 0;
    TaskHeader* first;
    std::size_t n = 0;
    {
      std::lock_guard lk(mu_);
      if (!head_) refill();
      first = head_;
      if (!first) return 0;
      TaskHeader* last = first;
      n = 1;
      while (n < max) {
        if (!last->queue_next) {
          // The list ends here (last is its tail): append what was pushed since, if anything.
          refill();
          if (!last->queue_next) break;
        }
        last = last->queue_next;
        ++n;
      }
      head_ = last->queue_next;
      if (!head_) tail_ = nullptr;
      len_.fetch_sub(static_cast<std::int64_t>(n), std::memory_order_release);
    }
    for (std::size_t i = 0; i < n; ++i) {
      TaskHeader* t = first;
      first = t->queue_next;  // the last one's may name the new head: not followed
      t->queue_next = nullptr;
      out(t);
    }
    return n;
  }
  /// Tasks queued. A push is counted just after it becomes reachable and a pop just after it
  /// detaches, so the count can lag by the pushes and pops in progress (never below zero here).
  std::size_t len() const noexcept {
    const std::int64_t n = len_.load(std::memory_order_acquire);
    return n > 0 ? static_cast<std::size_t>(n) : 0;
  }
  bool empty() const noexcept { return len() == 0; }
  /// Refuses further pushes. Returns false if it was already closed.
  bool close() noexcept { return !closed_.exchange(true, std::memory_order_acq_rel); }
  bool is_closed() const noexcept { return closed_.load(std::memory_order_acquire); }

 private:
  // Under mu_: moves everything pushed so far (newest-first) to the end of the FIFO list.
  void refill() noexcept {
    TaskHeader* newest = incoming_.exchange(nullptr, std::memory_order_acquire);
    if (!newest) return;
    TaskHeader* oldest = reverse(newest);
    if (tail_)
      tail_->queue_next = oldest;
    else
      head_ = oldest;
    tail_ = newest;
  }

  // Reverses the null-terminated list starting at `first`; returns its new first element (the
  // old last one). `first` ends the list.
  static TaskHeader* reverse(TaskHeader* first) noexcept {
    TaskHeader* prev = nullptr;
    while (first) {
      TaskHeader* next = first->queue_next;
      first->queue_next = prev;
      prev = first;
      first = next;
    }
    return prev;
  }

  // Pushers: the stack of tasks pushed and not yet moved to the list, newest first.
  alignas(64) std::atomic<TaskHeader*> incoming_{nullptr};
  // Poppers (under mu_): the FIFO list.
  alignas(64) AdaptiveMutex mu_;
  TaskHeader* head_ = nullptr;
  TaskHeader* tail_ = nullptr;
  alignas(64) std::atomic<std::int64_t> len_{0};
  std::atomic<bool> closed_{false};
};

}  // namespace rill::detail

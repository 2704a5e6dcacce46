// scheduler/inject.hpp: the global injection queue: tasks scheduled from outside a worker
// (other threads, timers of other cores, local-queue overflow). An intrusive FIFO list behind a
// mutex, with an atomic length so empty checks take no lock. Closed at shutdown: pushes still
// land in the list (their queue references keep the tasks alive: the owned-tasks list holds no
// reference, and shutdown is about to cancel them through it) but report false, so nobody
// notifies a worker; shutdown drops them at its end. Mirrors tokio/src/runtime/task/inject.rs.
#pragma once

#include <atomic>
#include <cstddef>
#include <mutex>
#include <utility>

#include "rill/detail/adaptive_mutex.hpp"
#include "rill/detail/task_header.hpp"

namespace rill::detail {

class Inject {
 public:
  /// Appends `t` (which carries a queue reference). Returns false when closed (the task is
  /// still appended, for shutdown to drop).
  bool push(TaskHeader* t) noexcept {
    t->queue_next = nullptr;
    return push_batch(t, t, 1);
  }
  /// Appends the linked list first..last (n tasks). Returns false when closed (they are still
  /// appended: dropping their references here could free a task that shutdown is about to
  /// cancel through the owned-tasks list).
  bool push_batch(TaskHeader* first, TaskHeader* last, std::size_t n) noexcept {
    std::lock_guard lk(mu_);
    last->queue_next = nullptr;
    if (tail_)
      tail_->queue_next = first;
    else
      head_ = first;
    tail_ = last;
    len_.store(len_.load(std::memory_order_relaxed) + n, std::memory_order_release);
    return !closed_;
  }
  /// Pops the oldest task; null when empty.
  TaskHeader* pop() noexcept {
    if (len_.load(std::memory_order_acquire) == 0) return nullptr;
    std::lock_guard lk(mu_);
    return pop_locked();
  }
  /// Pops up to `max` tasks into `out(t)`; returns how many. The lock is held only to find
  /// and detach them (one length update); `out` runs after unlocking, on tasks no pusher can
  /// reach any more (a push touches only the tail, which is not among them).
  template <class F>
  std::size_t pop_n(std::size_t max, F&& out) noexcept {
    if (max == 0 || len_.load(std::memory_order_acquire) == 0) return 0;
    TaskHeader* first;
    std::size_t n = 1;
    {
      std::lock_guard lk(mu_);
      first = head_;
      if (!first) return 0;
      TaskHeader* last = first;
      while (n < max && last->queue_next) {
        last = last->queue_next;
        ++n;
      }
      head_ = last->queue_next;
      if (!head_) tail_ = nullptr;
      len_.store(len_.load(std::memory_order_relaxed) - n, std::memory_order_release);
    }
    for (std::size_t i = 0; i < n; ++i) {
      TaskHeader* t = first;
      first = t->queue_next;  // the last one's may name the new head: not followed
      t->queue_next = nullptr;
      out(t);
    }
    return n;
  }
  std::size_t len() const noexcept { return len_.load(std::memory_order_acquire); }
  bool empty() const noexcept { return len() == 0; }
  /// Refuses further pushes. Returns false if it was already closed.
  bool close() noexcept {
    std::lock_guard lk(mu_);
    return !std::exchange(closed_, true);
  }
  bool is_closed() const noexcept {
    std::lock_guard lk(mu_);
    return closed_;
  }

 private:
  TaskHeader* pop_locked() noexcept {
    TaskHeader* t = head_;
    if (!t) return nullptr;
    head_ = t->queue_next;
    if (!head_) tail_ = nullptr;
    t->queue_next = nullptr;
    len_.store(len_.load(std::memory_order_relaxed) - 1, std::memory_order_release);
    return t;
  }
  mutable AdaptiveMutex mu_;
  TaskHeader* head_ = nullptr;
  TaskHeader* tail_ = nullptr;
  std::atomic<std::size_t> len_{0};
  bool closed_ = false;
};

}  // namespace rill::detail

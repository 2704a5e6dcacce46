// rill/sync/barrier.hpp: lets a fixed number of tasks wait for each other. Mirrors
// tokio::sync::Barrier.
#pragma once

#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <mutex>

#include "rill/detail/adaptive_mutex.hpp"
#include "rill/detail/task_header.hpp"
#include "rill/sync/detail/wait_list.hpp"

namespace rill::sync {

/// What Barrier::wait() yields: exactly one task per generation is the leader (the last to
/// arrive). Mirrors tokio::sync::BarrierWaitResult.
class BarrierWaitResult {
 public:
  explicit BarrierWaitResult(bool leader) noexcept : leader_(leader) {}
  /// True for the one task (per generation) whose arrival released the others.
  bool is_leader() const noexcept { return leader_; }

 private:
  bool leader_;
};

/// A reusable barrier for `n` tasks: wait() suspends until `n` tasks have called it, then all of
/// them continue and the barrier resets for the next generation. A wait() destroyed while
/// suspended still counts as arrived (Tokio's behavior), so cancelling a waiter may release a
/// generation early for the others; it never loses or corrupts the queue. Thread-safe; must
/// outlive its waiters. Not movable. Mirrors tokio::sync::Barrier (n == 0 behaves like 1).
class Barrier {
 public:
  explicit Barrier(std::size_t n) noexcept : n_(n == 0 ? 1 : n) {}
  Barrier(const Barrier&) = delete;
  Barrier& operator=(const Barrier&) = delete;

  /// Awaitable of wait(): yields BarrierWaitResult.
  class [[nodiscard]] Wait : private rill::detail::Leaf {
   public:
    explicit Wait(Barrier* b) noexcept : b_(b) {}
    Wait(Wait&& o) noexcept : rill::detail::Leaf(), b_(o.b_) {}
    Wait(const Wait&) = delete;
    ~Wait() {
      if (registered_) {
        std::lock_guard lk(b_->mu_);
        b_->waiters_.unlink(&node_);
      }
    }
    bool await_ready() const noexcept { return false; }
    bool await_suspend(std::coroutine_handle<> h) noexcept {
      {
        detail::WakeList wl;  // destroyed (wakes) after the lock below is released
        std::lock_guard lk(b_->mu_);
        if (++b_->arrived_ < b_->n_) {
          node_.waker = rill::detail::task_waker(rill::detail::current_task());
          b_->waiters_.push_back(&node_);
          registered_ = true;
          suspend_here(h, [](rill::detail::Resumable* self) noexcept {
            auto* me = static_cast<Wait*>(static_cast<rill::detail::Leaf*>(self));
            if (me->node_.done.load(std::memory_order_acquire)) me->resume();
          });
          return true;
        }
        b_->arrived_ = 0;
        ++b_->generation_;
        while (auto* w = b_->waiters_.pop_front())
          wl.complete(w);
        leader_ = true;
        node_.done.store(true, std::memory_order_relaxed);
      }
      return false;
    }
    BarrierWaitResult await_resume() const noexcept { return BarrierWaitResult(leader_); }

   private:
    Barrier* b_;
    detail::WaitNode node_;
    bool leader_ = false;
    bool registered_ = false;
  };

  /// Waits until `n` tasks (including this one) are waiting. Mirrors Barrier::wait.
  Wait wait() noexcept { return Wait(this); }
  /// How many tasks each generation waits for.
  std::size_t size() const noexcept { return n_; }

 private:
  std::size_t n_;
  rill::detail::AdaptiveMutex mu_;
  detail::WaitList waiters_;
  std::size_t arrived_ = 0;       ///< guarded by mu_
  std::uint64_t generation_ = 0;  ///< guarded by mu_
};

}  // namespace rill::sync

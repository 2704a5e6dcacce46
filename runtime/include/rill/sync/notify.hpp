// rill/sync/notify.hpp: wakes one task or all waiting tasks, without data. Mirrors
// tokio::sync::Notify.
#pragma once

#include <atomic>
#include <coroutine>
#include <cstdint>
#include <mutex>

#include "rill/detail/adaptive_mutex.hpp"
#include "rill/detail/task_header.hpp"
#include "rill/sync/detail/wait_list.hpp"

namespace rill::sync {

class Notify;

namespace detail {
/// A queued notified(): how it was woken (guarded by the Notify's mutex, published by `done`).
struct NotifyWaiter : WaitNode {
  enum class Kind : std::uint8_t { None, One, All } kind = Kind::None;
};
}  // namespace detail

/// A notification point. notify_one() wakes the first waiting task (FIFO) or, when nobody
/// waits, stores a single permit that the next notified() consumes at once (several notify_one()
/// calls with nobody waiting store one permit, not several). notify_waiters() wakes every task
/// waiting now (and every Notified created before the call, even if not yet awaited) and stores
/// no permit. Typical use: `co_await notify.notified();` in a loop that re-checks a condition.
/// Every method is thread-safe; the Notify must outlive its Notified awaiters. Not movable.
/// Mirrors tokio::sync::Notify (which does not spend coop budget; neither does this).
class Notify {
 public:
  Notify() = default;
  Notify(const Notify&) = delete;
  Notify& operator=(const Notify&) = delete;

  /// Wakes the longest-waiting task, or stores a permit if none waits. Mirrors
  /// Notify::notify_one.
  void notify_one() noexcept;
  /// Wakes the most recently queued task, or stores a permit if none waits. Mirrors
  /// Notify::notify_last.
  void notify_last() noexcept;
  /// Wakes every task waiting now; does not store a permit. Mirrors Notify::notify_waiters.
  void notify_waiters() noexcept;

  /// Awaitable of notified(). Cancel-safe: destroyed while queued it leaves the queue; destroyed
  /// after notify_one() chose it but before it resumed, it passes the notification on (to the
  /// next waiter, or back as the stored permit), so no notification is lost. Mirrors
  /// tokio::sync::Notified.
  class [[nodiscard]] Notified : private rill::detail::Leaf {
   public:
    explicit Notified(Notify* n) noexcept
        : n_(n), calls_(n->calls_.load(std::memory_order_acquire)) {}
    Notified(Notified&& o) noexcept : rill::detail::Leaf(), n_(o.n_), calls_(o.calls_) {}
    Notified(const Notified&) = delete;
    ~Notified() {
      if (state_ == State::Waiting) cancel();
    }
    bool await_ready() const noexcept { return false; }
    bool await_suspend(std::coroutine_handle<> h) noexcept;
    void await_resume() noexcept { state_ = State::Done; }

   private:
    enum class State : std::uint8_t { Init, Waiting, Done };
    void cancel() noexcept;
    Notify* n_;
    std::uint64_t calls_;  ///< notify_waiters() count when created
    State state_ = State::Init;
    detail::NotifyWaiter node_;
  };

  /// Waits for a notification (see the class comment). Mirrors Notify::notified.
  Notified notified() noexcept { return Notified(this); }

 private:
  void notify_locked(bool last, detail::WakeList& wl) noexcept;
  rill::detail::AdaptiveMutex mu_;
  detail::WaitList waiters_;
  bool permit_ = false;                  ///< guarded by mu_
  std::atomic<std::uint64_t> calls_{0};  ///< notify_waiters() calls (written under mu_)
};

}  // namespace rill::sync

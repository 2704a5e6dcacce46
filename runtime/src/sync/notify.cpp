// sync/notify.cpp: rill::sync::Notify (mutex-guarded FIFO waiter list, one stored permit, and a
// notify_waiters() counter captured by each Notified). Mirrors tokio/src/sync/notify.rs.
#include "rill/sync/notify.hpp"

namespace rill::sync {

using detail::NotifyWaiter;
using detail::WakeList;

void Notify::notify_locked(bool last, WakeList& wl) noexcept {
  NotifyWaiter* w;
  if (last) {
    w = nullptr;
    for (auto* n = waiters_.front(); n; n = n->next)
      w = static_cast<NotifyWaiter*>(n);
    if (w) waiters_.unlink(w);
  } else {
    w = static_cast<NotifyWaiter*>(waiters_.pop_front());
  }
  if (!w) {
    permit_ = true;
    return;
  }
  w->kind = NotifyWaiter::Kind::One;
  wl.complete(w);
}

void Notify::notify_one() noexcept {
  WakeList wl;
  std::lock_guard lk(mu_);
  notify_locked(false, wl);
}

void Notify::notify_last() noexcept {
  WakeList wl;
  std::lock_guard lk(mu_);
  notify_locked(true, wl);
}

void Notify::notify_waiters() noexcept {
  WakeList wl;
  std::lock_guard lk(mu_);
  calls_.fetch_add(1, std::memory_order_release);
  while (auto* w = static_cast<NotifyWaiter*>(waiters_.pop_front())) {
    w->kind = NotifyWaiter::Kind::All;
    wl.complete(w);
  }
}

bool Notify::Notified::await_suspend(std::coroutine_handle<> h) noexcept {
  {
    std::lock_guard lk(n_->mu_);
    if (n_->calls_.load(std::memory_order_relaxed) != calls_) {
      state_ = State::Done;  // a notify_waiters() happened after this Notified was created
      return false;
    }
    if (n_->permit_) {
      n_->permit_ = false;
      state_ = State::Done;
      return false;
    }
    node_.waker = rill::detail::task_waker(rill::detail::current_task());
    n_->waiters_.push_back(&node_);
    state_ = State::Waiting;
  }
  suspend_here(h, [](rill::detail::Resumable* self) noexcept {
    auto* me = static_cast<Notified*>(static_cast<rill::detail::Leaf*>(self));
    if (me->node_.done.load(std::memory_order_acquire)) me->resume();
  });
  return true;
}

void Notify::Notified::cancel() noexcept {
  WakeList wl;
  std::lock_guard lk(n_->mu_);
  if (node_.queued) {
    n_->waiters_.unlink(&node_);
    node_.waker.reset();
  } else if (node_.kind == NotifyWaiter::Kind::One) {
    n_->notify_locked(false, wl);  // pass the unconsumed notification on
  }
  state_ = State::Done;
}

}  // namespace rill::sync

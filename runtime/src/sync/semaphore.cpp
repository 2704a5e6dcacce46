// sync/semaphore.cpp: the FIFO batch semaphore behind rill::sync::Semaphore, Mutex and RwLock.
// Mirrors tokio/src/sync/batch_semaphore.rs: an atomic permit counter for the uncontended paths
// and a mutex-guarded intrusive waiter queue; released permits go to the queue head first.
#include "rill/sync/semaphore.hpp"

#include <stdexcept>
#include <string>

namespace rill::sync {

using detail::RawAcquire;
using detail::WakeList;

Semaphore::Semaphore(std::size_t permits) : state_(permits << kShift) {
  if (permits > MAX_PERMITS)
    throw std::invalid_argument("rill::sync::Semaphore: " + std::to_string(permits) +
                                " permits exceed MAX_PERMITS");
}

int Semaphore::try_take(std::size_t n) noexcept {
  auto s = state_.load(std::memory_order_acquire);
  for (;;) {
    if (s & kClosed) return 2;
    if ((s >> kShift) < n) return 1;
    if (state_.compare_exchange_weak(s, s - (n << kShift), std::memory_order_acq_rel,
                                     std::memory_order_acquire))
      return 0;
  }
}

void Semaphore::add_permits_locked(std::size_t n, WakeList& wl) noexcept {
  while (n > 0) {
    auto* w = static_cast<detail::SemWaiter*>(waiters_.front());
    if (w == nullptr) break;
    const std::size_t take = std::min(n, w->remaining);
    w->remaining -= take;
    w->assigned += take;
    n -= take;
    if (w->remaining == 0) {
      waiters_.pop_front();
      wl.complete(w);
    }
  }
  if (waiters_.empty()) has_waiters_.store(false, std::memory_order_seq_cst);
  if (n > 0) state_.fetch_add(n << kShift, std::memory_order_seq_cst);
}

void Semaphore::drain_to_waiters_locked(WakeList& wl) noexcept {
  if (waiters_.empty()) return;
  auto s = state_.load(std::memory_order_seq_cst);
  while ((s >> kShift) != 0) {
    if (state_.compare_exchange_weak(s, s & kClosed, std::memory_order_seq_cst)) {
      add_permits_locked(s >> kShift, wl);
      return;
    }
  }
}

void Semaphore::release(std::size_t n) noexcept {
  if (n == 0) return;
  if (!has_waiters_.load(std::memory_order_seq_cst)) {
    state_.fetch_add(n << kShift, std::memory_order_seq_cst);
    // Dekker pair with RawAcquire::await_suspend (sets has_waiters_, then re-reads state_):
    // if a waiter queued meanwhile, hand it the permits we just made available.
    if (!has_waiters_.load(std::memory_order_seq_cst)) return;
    WakeList wl;
    std::lock_guard lk(mu_);
    drain_to_waiters_locked(wl);
    return;  // wl wakes after the lock is released (destruction order)
  }
  WakeList wl;
  {
    std::lock_guard lk(mu_);
    add_permits_locked(n, wl);
  }
}

void Semaphore::add_permits(std::size_t n) {
  if (n > MAX_PERMITS || available_permits() > MAX_PERMITS - n)
    throw std::invalid_argument("rill::sync::Semaphore::add_permits: more than MAX_PERMITS");
  WakeList wl;
  {
    std::lock_guard lk(mu_);
    add_permits_locked(n, wl);
  }
}

std::size_t Semaphore::forget_permits(std::size_t n) noexcept {
  auto s = state_.load(std::memory_order_acquire);
  for (;;) {
    const std::size_t take = std::min(n, s >> kShift);
    if (state_.compare_exchange_weak(s, s - (take << kShift), std::memory_order_acq_rel))
      return take;
  }
}

void Semaphore::close() noexcept {
  WakeList wl;
  {
    std::lock_guard lk(mu_);
    state_.fetch_or(kClosed, std::memory_order_seq_cst);
    std::size_t back = 0;
    while (detail::WaitNode* node = waiters_.pop_front()) {
      auto* w = static_cast<detail::SemWaiter*>(node);
      back += w->assigned;  // partially assigned permits return to the pool
      w->assigned = 0;
      w->closed = true;
      wl.complete(w);
    }
    has_waiters_.store(false, std::memory_order_seq_cst);
    if (back) state_.fetch_add(back << kShift, std::memory_order_seq_cst);
  }
}

Result<SemaphorePermit, TryAcquireError> Semaphore::try_acquire(std::uint32_t n) noexcept {
  switch (try_take(n)) {
    case 0:
      return SemaphorePermit(this, n);
    case 1:
      return Unexpected{TryAcquireError{TryAcquireError::Kind::NoPermits}};
    default:
      return Unexpected{TryAcquireError{TryAcquireError::Kind::Closed}};
  }
}

Semaphore::AcquireOwned Semaphore::acquire_owned(std::shared_ptr<Semaphore> s, std::uint32_t n) {
  if (!s) throw std::invalid_argument("rill::sync::Semaphore::acquire_owned: null semaphore");
  return AcquireOwned(std::move(s), n);
}

Result<OwnedSemaphorePermit, TryAcquireError> Semaphore::try_acquire_owned(
    std::shared_ptr<Semaphore> s, std::uint32_t n) {
  if (!s) throw std::invalid_argument("rill::sync::Semaphore::try_acquire_owned: null semaphore");
  switch (s->try_take(n)) {
    case 0:
      return OwnedSemaphorePermit(std::move(s), n);
    case 1:
      return Unexpected{TryAcquireError{TryAcquireError::Kind::NoPermits}};
    default:
      return Unexpected{TryAcquireError{TryAcquireError::Kind::Closed}};
  }
}

// ---- permits ------------------------------------------------------------------------------------

void SemaphorePermit::release() noexcept {
  if (sem_ && n_) sem_->release(n_);
  sem_ = nullptr;
  n_ = 0;
}

void SemaphorePermit::merge(SemaphorePermit&& other) {
  if (other.sem_ == nullptr || other.n_ == 0) return;
  if (sem_ != nullptr && sem_ != other.sem_)
    throw std::invalid_argument(
        "rill::sync::SemaphorePermit::merge: permits from different semaphores");
  sem_ = other.sem_;
  n_ += std::exchange(other.n_, 0);
  other.sem_ = nullptr;
}

void OwnedSemaphorePermit::release() noexcept {
  if (sem_ && n_) sem_->release(n_);
  sem_.reset();
  n_ = 0;
}

// ---- RawAcquire ---------------------------------------------------------------------------------

namespace detail {

bool RawAcquire::await_ready() noexcept {
  switch (sem_->try_take(n_)) {
    case 0:
      state_ = State::Acquired;
      break;
    case 2:
      state_ = State::Closed;
      break;
    default:
      return false;
  }
  return ready_spend();
}

bool RawAcquire::await_suspend(std::coroutine_handle<> h) noexcept {
  if (must_yield) {
    suspend_yield(h);
    return true;
  }
  WakeList wl;  // declared before the lock: wakes after it is released
  {
    std::lock_guard lk(sem_->mu_);
    if (sem_->state_.load(std::memory_order_seq_cst) & Semaphore::kClosed) {
      state_ = State::Closed;
      return false;
    }
    // Queue first, then hand every permit in the counter to the queue in FIFO order. Permits
    // can sit in the counter while others wait (a fast-path release adds them before it sees
    // has_waiters_ and takes the lock); they belong to the queue head, not to this newcomer.
    node_.remaining = n_;
    node_.assigned = 0;
    sem_->waiters_.push_back(&node_);
    sem_->has_waiters_.store(true, std::memory_order_seq_cst);
    state_ = State::Waiting;
    sem_->drain_to_waiters_locked(wl);
    if (node_.done.load(std::memory_order_relaxed)) return false;  // granted: no waker needed
    // Still queued: releases complete us only under mu_, which we hold, so the waker is in
    // place before anyone can take it.
    node_.waker = rill::detail::task_waker(rill::detail::current_task());
  }
  suspend_here(h, &poll_fn);
  return true;
}

void RawAcquire::poll_fn(rill::detail::Resumable* self) noexcept {
  auto* me = static_cast<RawAcquire*>(static_cast<rill::detail::Leaf*>(self));
  if (me->node_.done.load(std::memory_order_acquire)) me->resume();
}

bool RawAcquire::await_resume() noexcept {
  switch (state_) {
    case State::Acquired:
      state_ = State::Consumed;
      return true;
    case State::Waiting:
      state_ = State::Consumed;
      return !node_.closed;  // node_.done was observed (acquire) by the poll hook
    default:
      state_ = State::Consumed;
      return false;
  }
}

void RawAcquire::cancel() noexcept {
  if (state_ == State::Acquired) {  // acquired at once, destroyed during the budget yield
    state_ = State::Consumed;
    sem_->release(n_);
    return;
  }
  WakeList wl;
  std::lock_guard lk(sem_->mu_);
  std::size_t back;
  if (node_.queued) {
    sem_->waiters_.unlink(&node_);
    back = node_.assigned;
    node_.waker.reset();
  } else {
    back = node_.closed ? 0 : n_;  // granted but never consumed
  }
  state_ = State::Consumed;
  if (back)
    sem_->add_permits_locked(back, wl);
  else if (sem_->waiters_.empty())
    sem_->has_waiters_.store(false, std::memory_order_seq_cst);
}

}  // namespace detail
}  // namespace rill::sync

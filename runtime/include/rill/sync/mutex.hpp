// rill/sync/mutex.hpp: an asynchronous, fair mutex whose guard may be held across co_await.
// Mirrors tokio::sync::Mutex (a Semaphore with one permit).
#pragma once

#include <coroutine>
#include <memory>
#include <stdexcept>
#include <utility>

#include "rill/result.hpp"
#include "rill/sync/semaphore.hpp"

namespace rill::sync {

/// try_lock() failed because the lock is held (or others are queued for it). Mirrors
/// tokio::sync::TryLockError.
struct TryLockError {
  const char* what() const noexcept { return "operation would block"; }
};

template <class T>
class Mutex;

/// Exclusive access to the value of a Mutex; unlocking (the destructor) hands the lock to the
/// first queued waiter. May be held across co_await (that is the point of an async mutex) and
/// moved between tasks and threads. Must not outlive its Mutex. Move-only. Mirrors
/// tokio::sync::MutexGuard.
template <class T>
class [[nodiscard]] MutexGuard {
 public:
  explicit MutexGuard(Mutex<T>* m) noexcept : m_(m) {}
  MutexGuard(MutexGuard&& o) noexcept : m_(std::exchange(o.m_, nullptr)) {}
  MutexGuard& operator=(MutexGuard&& o) noexcept {
    if (this != &o) {
      unlock();
      m_ = std::exchange(o.m_, nullptr);
    }
    return *this;
  }
  ~MutexGuard() { unlock(); }

  T& operator*() const noexcept { return m_->value_; }
  T* operator->() const noexcept { return &m_->value_; }
  /// The mutex this guard locks. Mirrors MutexGuard::mutex.
  Mutex<T>& mutex() const noexcept { return *m_; }
  /// Unlocks now (the guard becomes empty). Same as destroying it.
  void unlock() noexcept {
    if (auto* m = std::exchange(m_, nullptr)) m->sem_.release(1);
  }

 private:
  Mutex<T>* m_;
};

/// Like MutexGuard, but keeps the Mutex alive through a shared_ptr (for guards that move into
/// spawned tasks). Mirrors tokio::sync::OwnedMutexGuard.
template <class T>
class [[nodiscard]] OwnedMutexGuard {
 public:
  explicit OwnedMutexGuard(std::shared_ptr<Mutex<T>> m) noexcept : m_(std::move(m)) {}
  OwnedMutexGuard(OwnedMutexGuard&& o) noexcept = default;
  OwnedMutexGuard& operator=(OwnedMutexGuard&& o) noexcept {
    if (this != &o) {
      unlock();
      m_ = std::move(o.m_);
    }
    return *this;
  }
  ~OwnedMutexGuard() { unlock(); }

  T& operator*() const noexcept { return m_->value_; }
  T* operator->() const noexcept { return &m_->value_; }
  /// The mutex this guard locks.
  const std::shared_ptr<Mutex<T>>& mutex() const noexcept { return m_; }
  /// Unlocks now (the guard becomes empty).
  void unlock() noexcept {
    if (m_) {
      m_->sem_.release(1);
      m_.reset();
    }
  }

 private:
  std::shared_ptr<Mutex<T>> m_;
};

/// An asynchronous mutual-exclusion lock around a T. `auto g = co_await m.lock();` suspends the
/// task (never the worker thread) until the lock is free. Fair: waiters get the lock in the order
/// they called lock() (FIFO), and unlock hands it directly to the first one. The guard may be held
/// across co_await; prefer std::mutex when it is not (cheaper). Locking spends one unit of coop
/// budget when it succeeds at once. Cancel-safe: a lock() destroyed while queued leaves the queue
/// without losing the lock. All methods are thread-safe; the Mutex must outlive its guards (or
/// use lock_owned). Not movable. Mirrors tokio::sync::Mutex.
template <class T>
class Mutex {
 public:
  /// A mutex holding `value` (default-constructed by default).
  explicit Mutex(T value = T()) : sem_(1), value_(std::move(value)) {}
  /// Constructs the value in place.
  template <class... Args>
  explicit Mutex(std::in_place_t, Args&&... args) : sem_(1), value_(std::forward<Args>(args)...) {}
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  /// Awaitable of lock(): yields a MutexGuard<T>.
  class [[nodiscard]] Lock {
   public:
    explicit Lock(Mutex* m) noexcept : raw_(&m->sem_, 1), m_(m) {}
    bool await_ready() noexcept { return raw_.await_ready(); }
    bool await_suspend(std::coroutine_handle<> h) noexcept { return raw_.await_suspend(h); }
    MutexGuard<T> await_resume() noexcept {
      (void)raw_.await_resume();  // a mutex's semaphore is never closed
      return MutexGuard<T>(m_);
    }

   private:
    detail::RawAcquire raw_;
    Mutex* m_;
  };

  /// Awaitable of lock_owned(): yields an OwnedMutexGuard<T>.
  class [[nodiscard]] LockOwned {
   public:
    explicit LockOwned(std::shared_ptr<Mutex> m) noexcept : raw_(&m->sem_, 1), m_(std::move(m)) {}
    bool await_ready() noexcept { return raw_.await_ready(); }
    bool await_suspend(std::coroutine_handle<> h) noexcept { return raw_.await_suspend(h); }
    OwnedMutexGuard<T> await_resume() noexcept {
      (void)raw_.await_resume();
      return OwnedMutexGuard<T>(m_);
    }

   private:
    detail::RawAcquire raw_;
    std::shared_ptr<Mutex> m_;
  };

  /// Waits for the lock (FIFO). Mirrors Mutex::lock.
  Lock lock() noexcept { return Lock(this); }
  /// Takes the lock if it is free now and nobody is queued. Mirrors Mutex::try_lock.
  Result<MutexGuard<T>, TryLockError> try_lock() noexcept {
    if (sem_.try_take(1) == 0) return MutexGuard<T>(this);
    return Unexpected{TryLockError{}};
  }
  /// Like lock() on a shared mutex; the guard keeps it alive. Throws std::invalid_argument for a
  /// null pointer. Mirrors Mutex::lock_owned.
  static LockOwned lock_owned(std::shared_ptr<Mutex> m) {
    if (!m) throw std::invalid_argument("rill::sync::Mutex::lock_owned: null mutex");
    return LockOwned(std::move(m));
  }
  /// Like try_lock() on a shared mutex. Mirrors Mutex::try_lock_owned.
  static Result<OwnedMutexGuard<T>, TryLockError> try_lock_owned(std::shared_ptr<Mutex> m) {
    if (!m) throw std::invalid_argument("rill::sync::Mutex::try_lock_owned: null mutex");
    if (m->sem_.try_take(1) == 0) return OwnedMutexGuard<T>(std::move(m));
    return Unexpected{TryLockError{}};
  }
  /// The value without locking: only for a caller that has exclusive access to the Mutex itself
  /// (no guard alive, no other thread using it). Mirrors Mutex::get_mut.
  T& get_mut() noexcept { return value_; }
  /// True when the lock is held right now (a racy snapshot, for diagnostics).
  bool is_locked() const noexcept { return sem_.available_permits() == 0; }

 private:
  friend class MutexGuard<T>;
  friend class OwnedMutexGuard<T>;
  Semaphore sem_;
  T value_;
};

}  // namespace rill::sync

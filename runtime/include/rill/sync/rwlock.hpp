// rill/sync/rwlock.hpp: an asynchronous, fair reader-writer lock. Mirrors tokio::sync::RwLock (a
// Semaphore with max_readers permits: a reader takes one, a writer takes all of them).
#pragma once

#include <coroutine>
#include <cstdint>
#include <stdexcept>
#include <utility>

#include "rill/result.hpp"
#include "rill/sync/mutex.hpp"
#include "rill/sync/semaphore.hpp"

namespace rill::sync {

template <class T>
class RwLock;

/// Shared (read) access to the value of an RwLock; the destructor releases it. May be held across
/// co_await. Must not outlive its RwLock. Move-only. Mirrors tokio::sync::RwLockReadGuard.
template <class T>
class [[nodiscard]] RwLockReadGuard {
 public:
  explicit RwLockReadGuard(RwLock<T>* l) noexcept : l_(l) {}
  RwLockReadGuard(RwLockReadGuard&& o) noexcept : l_(std::exchange(o.l_, nullptr)) {}
  RwLockReadGuard& operator=(RwLockReadGuard&& o) noexcept {
    if (this != &o) {
      unlock();
      l_ = std::exchange(o.l_, nullptr);
    }
    return *this;
  }
  ~RwLockReadGuard() { unlock(); }
  const T& operator*() const noexcept { return l_->value_; }
  const T* operator->() const noexcept { return &l_->value_; }
  /// Releases the read lock now.
  void unlock() noexcept {
    if (auto* l = std::exchange(l_, nullptr)) l->sem_.release(1);
  }

 private:
  RwLock<T>* l_;
};

/// Exclusive (write) access to the value of an RwLock; the destructor releases it. May be held
/// across co_await. Must not outlive its RwLock. Move-only. Mirrors tokio::sync::RwLockWriteGuard.
template <class T>
class [[nodiscard]] RwLockWriteGuard {
 public:
  explicit RwLockWriteGuard(RwLock<T>* l) noexcept : l_(l) {}
  RwLockWriteGuard(RwLockWriteGuard&& o) noexcept : l_(std::exchange(o.l_, nullptr)) {}
  RwLockWriteGuard& operator=(RwLockWriteGuard&& o) noexcept {
    if (this != &o) {
      unlock();
      l_ = std::exchange(o.l_, nullptr);
    }
    return *this;
  }
  ~RwLockWriteGuard() { unlock(); }
  T& operator*() const noexcept { return l_->value_; }
  T* operator->() const noexcept { return &l_->value_; }
  /// Turns the write lock into a read lock without letting a writer in between (releases all
  /// permits but one). Mirrors RwLockWriteGuard::downgrade.
  RwLockReadGuard<T> downgrade() && noexcept {
    auto* l = std::exchange(l_, nullptr);
    l->sem_.release(l->max_readers_ - 1);
    return RwLockReadGuard<T>(l);
  }
  /// Releases the write lock now.
  void unlock() noexcept {
    if (auto* l = std::exchange(l_, nullptr)) l->sem_.release(l->max_readers_);
  }

 private:
  RwLock<T>* l_;
};

/// An asynchronous reader-writer lock around a T: any number of readers (up to max_readers) or
/// one writer. Fair (FIFO): a queued writer blocks readers that arrive after it, so writers are
/// not starved (Tokio's policy). Guards may be held across co_await. Acquiring spends one unit of
/// coop budget when it succeeds at once; a read()/write() destroyed while queued leaves the queue
/// losing nothing. Thread-safe; must outlive its guards. Not movable. Mirrors tokio::sync::RwLock.
template <class T>
class RwLock {
 public:
  /// Default reader limit (Tokio's MAX_READS, u32::MAX >> 3).
  static constexpr std::uint32_t MAX_READS = UINT32_MAX >> 3;

  explicit RwLock(T value = T()) : RwLock(MAX_READS, std::move(value)) {}
  /// A lock allowing at most `max_readers` concurrent readers (1..MAX_READS; otherwise
  /// std::invalid_argument). Mirrors RwLock::with_max_readers.
  RwLock(std::uint32_t max_readers, T value)
      : max_readers_(check(max_readers)), sem_(max_readers), value_(std::move(value)) {}
  RwLock(const RwLock&) = delete;
  RwLock& operator=(const RwLock&) = delete;

  /// Awaitable of read(): yields a RwLockReadGuard<T>.
  class [[nodiscard]] Read {
   public:
    explicit Read(RwLock* l) noexcept : raw_(&l->sem_, 1), l_(l) {}
    bool await_ready() noexcept { return raw_.await_ready(); }
    bool await_suspend(std::coroutine_handle<> h) noexcept { return raw_.await_suspend(h); }
    RwLockReadGuard<T> await_resume() noexcept {
      (void)raw_.await_resume();
      return RwLockReadGuard<T>(l_);
    }

   private:
    detail::RawAcquire raw_;
    RwLock* l_;
  };
  /// Awaitable of write(): yields a RwLockWriteGuard<T>.
  class [[nodiscard]] Write {
   public:
    explicit Write(RwLock* l) noexcept : raw_(&l->sem_, l->max_readers_), l_(l) {}
    bool await_ready() noexcept { return raw_.await_ready(); }
    bool await_suspend(std::coroutine_handle<> h) noexcept { return raw_.await_suspend(h); }
    RwLockWriteGuard<T> await_resume() noexcept {
      (void)raw_.await_resume();
      return RwLockWriteGuard<T>(l_);
    }

   private:
    detail::RawAcquire raw_;
    RwLock* l_;
  };

  /// Waits for shared access (FIFO with writers). Mirrors RwLock::read.
  Read read() noexcept { return Read(this); }
  /// Waits for exclusive access (FIFO). Mirrors RwLock::write.
  Write write() noexcept { return Write(this); }
  /// Shared access if available now. Mirrors RwLock::try_read.
  Result<RwLockReadGuard<T>, TryLockError> try_read() noexcept {
    if (sem_.try_take(1) == 0) return RwLockReadGuard<T>(this);
    return Unexpected{TryLockError{}};
  }
  /// Exclusive access if available now. Mirrors RwLock::try_write.
  Result<RwLockWriteGuard<T>, TryLockError> try_write() noexcept {
    if (sem_.try_take(max_readers_) == 0) return RwLockWriteGuard<T>(this);
    return Unexpected{TryLockError{}};
  }
  /// The value without locking; only with exclusive access to the RwLock itself.
  T& get_mut() noexcept { return value_; }
  std::uint32_t max_readers() const noexcept { return max_readers_; }

 private:
  friend class RwLockReadGuard<T>;
  friend class RwLockWriteGuard<T>;
  static std::uint32_t check(std::uint32_t n) {
    if (n == 0 || n > MAX_READS)
      throw std::invalid_argument("rill::sync::RwLock: max_readers must be in 1..MAX_READS");
    return n;
  }
  std::uint32_t max_readers_;
  Semaphore sem_;
  T value_;
};

}  // namespace rill::sync

// rill/detail/adaptive_mutex.hpp: the mutex for the runtime's short critical sections (the
// injection queue, the owned-tasks shards, channel state): glibc's adaptive pthread mutex, which
// spins briefly on a held lock before sleeping in the kernel. Internal.
#pragma once

#include <pthread.h>

namespace rill::detail {

/// A mutex that spins (glibc's PTHREAD_MUTEX_ADAPTIVE_NP: up to about 100 tries) before it parks
/// the thread on a futex. Meant for critical sections of a few dozen instructions taken by
/// several workers at once (a spawner binding tasks while another worker completes them): with
/// std::mutex, every collision costs a futex wait and a futex wake, and a waiter that slept
/// tends to collide again (a lock convoy). Rust's std::sync::Mutex, which Tokio uses, spins
/// the same way. Satisfies Lockable (std::lock_guard, std::unique_lock, std::scoped_lock).
/// Thread-safe; not recursive; not movable. Mirrors std::sync::Mutex's locking behaviour.
class AdaptiveMutex {
 public:
  AdaptiveMutex() noexcept {
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ADAPTIVE_NP);
    pthread_mutex_init(&m_, &a);
    pthread_mutexattr_destroy(&a);
  }
  ~AdaptiveMutex() { pthread_mutex_destroy(&m_); }
  AdaptiveMutex(const AdaptiveMutex&) = delete;
  AdaptiveMutex& operator=(const AdaptiveMutex&) = delete;

  /// Takes the lock, spinning briefly and then sleeping while another thread holds it.
  void lock() noexcept { pthread_mutex_lock(&m_); }
  /// Takes the lock if it is free; never waits. True on success.
  bool try_lock() noexcept { return pthread_mutex_trylock(&m_) == 0; }
  /// Releases the lock (held by this thread), waking a sleeping waiter if there is one.
  void unlock() noexcept { pthread_mutex_unlock(&m_); }

 private:
  pthread_mutex_t m_;
};

}  // namespace rill::detail

// Fixture for rill-blocking-call with Strict on: acquiring a std mutex is reported, whether by
// m.lock() or by a guard's constructor (one policy); guards that do not wait are not.
// FIXTURE-ARGS: '--config={CheckOptions: {rill-blocking-call.Strict: true}}'
#include <coroutine>
#include <mutex>
#include <shared_mutex>

#include <pthread.h>

#include "include/task_stub.hpp"

rill::Task flush();

// ============================== must flag ===================================================

rill::Task guards(std::mutex& m, std::shared_mutex& sm, std::recursive_mutex& rm, int& n) {
  {
    std::lock_guard g(m);
    // CHECK-MESSAGES: :[[@LINE-1]]:21: warning: blocking mutex acquisition 'std::lock_guard' in coroutine 'guards'; use rill::sync::Mutex (co_await m.lock()) when the lock may be contended or held long [rill-blocking-call]
    ++n;
  }
  {
    std::scoped_lock g(m, rm);
    // CHECK-MESSAGES: :[[@LINE-1]]:22: warning: blocking mutex acquisition 'std::scoped_lock' in coroutine 'guards'
    ++n;
  }
  {
    std::unique_lock<std::mutex> g(m);
    // CHECK-MESSAGES: :[[@LINE-1]]:34: warning: blocking mutex acquisition 'std::unique_lock' in coroutine 'guards'
    ++n;
  }
  {
    std::shared_lock g(sm);
    // CHECK-MESSAGES: :[[@LINE-1]]:22: warning: blocking mutex acquisition 'std::shared_lock' in coroutine 'guards'
    ++n;
  }
  m.lock();
  // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: blocking mutex acquisition 'std::mutex::lock' in coroutine 'guards'
  ++n;
  m.unlock();
  co_await flush();
}

// pthread_mutex_lock takes the same policy as std::mutex::lock; trylock does not wait.
rill::Task posix_mutex(pthread_mutex_t* pm, pthread_rwlock_t* rw, int& n) {
  pthread_mutex_lock(pm);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: blocking mutex acquisition 'pthread_mutex_lock' in coroutine 'posix_mutex'
  ++n;
  pthread_mutex_unlock(pm);
  pthread_rwlock_rdlock(rw);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: blocking mutex acquisition 'pthread_rwlock_rdlock' in coroutine 'posix_mutex'
  pthread_rwlock_unlock(rw);
  if (pthread_mutex_trylock(pm) == 0) pthread_mutex_unlock(pm);  // ok: returns at once
  co_await flush();
}

// Through a helper: the helper's guard makes the call blocking, like a helper calling m.lock().
void bump(std::mutex& m, int& n) {
  std::lock_guard g(m);
  ++n;
}
rill::Task through_helper(std::mutex& m, int& n) {
  bump(m, n);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: blocking mutex acquisition 'std::lock_guard' reached through call to 'bump' in coroutine 'through_helper'
  // CHECK-NOTES: :[[@LINE-6]]:19: note: 'bump' calls blocking mutex acquisition 'std::lock_guard' here
  co_await flush();
}

// ============================== must NOT flag ================================================

rill::Task non_waiting_guards(std::mutex& m, int& n) {
  std::unique_lock<std::mutex> deferred(m, std::defer_lock);  // holds nothing yet
  std::unique_lock<std::mutex> attempt(m, std::try_to_lock);  // try_lock: returns at once
  if (attempt.owns_lock()) ++n;
  attempt.unlock();
  m.lock();
  // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: blocking mutex acquisition 'std::mutex::lock' in coroutine 'non_waiting_guards'
  std::lock_guard<std::mutex> adopted(m, std::adopt_lock);  // takes over the lock above
  std::unique_lock<std::mutex> empty;                       // no mutex
  std::unique_lock<std::mutex> moved(std::move(deferred));  // a move locks nothing
  co_await flush();
}

// Not a coroutine: never reported.
void plain(std::mutex& m, int& n) {
  std::lock_guard g(m);
  ++n;
}

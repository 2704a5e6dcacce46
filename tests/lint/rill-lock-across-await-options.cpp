// Fixture for rill-lock-across-await's options: extra guard, mutex and async-safe types.
// FIXTURE-ARGS: '--config={CheckOptions: {rill-lock-across-await.LockTypes: "absl::MutexLock", rill-lock-across-await.MutexTypes: "app::SpinLock", rill-lock-across-await.AsyncSafeTypes: "app::AsyncGuard"}}'
#include <coroutine>

namespace rill {
struct Task {
  struct promise_type {
    Task get_return_object() { return {}; }
    std::suspend_always initial_suspend() noexcept { return {}; }
    std::suspend_always final_suspend() noexcept { return {}; }
    void return_void() {}
    void unhandled_exception() {}
  };
};
struct Sleep {
  bool await_ready() { return false; }
  void await_suspend(std::coroutine_handle<>) {}
  void await_resume() {}
};
}  // namespace rill

namespace absl {
class Mutex {
 public:
  void Lock();
  void Unlock();
};
class MutexLock {  // not annotated: known only through the LockTypes option
 public:
  explicit MutexLock(Mutex* mu);
  ~MutexLock();
};
}  // namespace absl

namespace app {
class SpinLock {  // known only through the MutexTypes option
 public:
  void lock();
  void unlock();
};
class [[clang::scoped_lockable]] AsyncGuard {  // scoped_lockable, but declared async-safe
 public:
  explicit AsyncGuard(SpinLock& s);
  ~AsyncGuard();
};
}  // namespace app

absl::Mutex amu;
app::SpinLock spin;

// case flag: a guard type added with LockTypes
rill::Task flag_option_lock_type() {
  absl::MutexLock l(&amu);
  // CHECK-MESSAGES: :[[@LINE-1]]:19: warning: lock 'l' on mutex 'amu' is held across a suspension point in coroutine 'flag_option_lock_type'
  co_await rill::Sleep{};
  // CHECK-NOTES: :[[@LINE-1]]:3: note: co_await here while the lock is held
}

// case flag: a mutex type added with MutexTypes, locked manually
rill::Task flag_option_mutex_type() {
  spin.lock();
  // CHECK-MESSAGES: :[[@LINE-1]]:8: warning: mutex 'spin' locked here is held across a suspension point in coroutine 'flag_option_mutex_type'
  co_await rill::Sleep{};
  // CHECK-NOTES: :[[@LINE-1]]:3: note: co_await here while the lock is held
  spin.unlock();
}

// case ok: a type declared async-safe is never reported, even if scoped_lockable
rill::Task ok_option_async_safe() {
  app::AsyncGuard g(spin);
  co_await rill::Sleep{};
}

// case ok: option mutex type unlocked before the suspension
rill::Task ok_option_mutex_unlocked() {
  spin.lock();
  spin.unlock();
  co_await rill::Sleep{};
}

// Fixture for rill-lock-across-await, run by tests/lint/check_fixture.py: every expectation
// must match and nothing else may be reported. Each case starts with a
// "// case flag:" (must be reported) or "// case ok:" (must not be reported) comment; the
// upstream comparison in docs/lint/rill-lock-across-await.md counts hits per case.
// Real libstdc++ <mutex>/<shared_mutex>/<optional>; a minimal fake rill API declared inline.
#include <coroutine>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <utility>

namespace rill {
template <class T = void>
struct Task {
  struct promise_type {
    Task get_return_object() { return {}; }
    std::suspend_always initial_suspend() noexcept { return {}; }
    std::suspend_always final_suspend() noexcept { return {}; }
    void return_void() {}
    void unhandled_exception() {}
    std::suspend_always yield_value(int) { return {}; }
  };
};
template <>
struct Task<int> {
  struct promise_type {
    Task get_return_object() { return {}; }
    std::suspend_always initial_suspend() noexcept { return {}; }
    std::suspend_always final_suspend() noexcept { return {}; }
    void return_value(int) {}
    void unhandled_exception() {}
  };
};
struct Sleep {
  bool await_ready() { return false; }
  void await_suspend(std::coroutine_handle<>) {}
  int await_resume() { return 0; }
};
inline Sleep sleep_ms(int) { return {}; }
namespace sync {
template <class T>
struct MutexGuard {
  T* value;
  ~MutexGuard();
};
template <class T>
struct RwLockReadGuard {
  const T* value;
  ~RwLockReadGuard();
};
template <class T>
struct RwLockWriteGuard {
  T* value;
  ~RwLockWriteGuard();
};
template <class T>
struct Ready {
  T v;
  bool await_ready() { return true; }
  void await_suspend(std::coroutine_handle<>) {}
  T await_resume() { return v; }
};
template <class T>
struct Mutex {
  Ready<MutexGuard<T>> lock();
};
template <class T>
struct RwLock {
  Ready<RwLockReadGuard<T>> read();
  Ready<RwLockWriteGuard<T>> write();
};
}  // namespace sync
}  // namespace rill

using rill::Task;
std::mutex m;
std::mutex m2;
std::shared_mutex sm;
std::timed_mutex tm;
int counter;
void take(std::unique_lock<std::mutex> lock);
int use(std::unique_lock<std::mutex>&& lock, int x);

class [[clang::scoped_lockable]] SpinGuard {
 public:
  explicit SpinGuard(std::mutex& mu);
  ~SpinGuard();
};

struct Locked {  // a user type wrapping a guard
  std::unique_lock<std::mutex> lock;
  int* data;
};

struct Lazy {  // wraps a guard that owns nothing by default
  std::unique_lock<std::mutex> lock;
};

struct Holder {  // holds a mutex, not a lock
  std::mutex mu;
};

// ---------------------------------------------------------------------------------------------
// Flagged cases
// ---------------------------------------------------------------------------------------------

// case flag: std::lock_guard with explicit template argument
Task<> flag_lock_guard() {
  std::lock_guard<std::mutex> g(m);
  // CHECK-MESSAGES: :[[@LINE-1]]:31: warning: lock 'g' on mutex 'm' is held across a suspension point in coroutine 'flag_lock_guard'
  co_await rill::sleep_ms(1);
  // CHECK-NOTES: :[[@LINE-1]]:3: note: co_await here while the lock is held
}

// case flag: std::lock_guard with CTAD
Task<> flag_lock_guard_ctad() {
  std::lock_guard g(m);
  // CHECK-MESSAGES: :[[@LINE-1]]:19: warning: lock 'g' on mutex 'm' is held across a suspension point in coroutine 'flag_lock_guard_ctad'
  ++counter;
  co_await rill::sleep_ms(1);
  // CHECK-NOTES: :[[@LINE-1]]:3: note: co_await here while the lock is held
}

// case flag: std::unique_lock
Task<> flag_unique_lock() {
  std::unique_lock<std::mutex> lk(m);
  // CHECK-MESSAGES: :[[@LINE-1]]:32: warning: lock 'lk' on mutex 'm' is held across a suspension point in coroutine 'flag_unique_lock'
  co_await rill::sleep_ms(1);
  // CHECK-NOTES: :[[@LINE-1]]:3: note: co_await here while the lock is held
}

// case flag: std::unique_lock with std::try_to_lock
Task<> flag_try_to_lock() {
  std::unique_lock lk(m, std::try_to_lock);
  // CHECK-MESSAGES: :[[@LINE-1]]:20: warning: lock 'lk' on mutex 'm' is held across a suspension point in coroutine 'flag_try_to_lock'
  co_await rill::sleep_ms(1);
  // CHECK-NOTES: :[[@LINE-1]]:3: note: co_await here while the lock is held
}

// case flag: std::unique_lock with std::adopt_lock (the manual lock() is taken over)
Task<> flag_adopt_lock() {
  m.lock();
  std::unique_lock lk(m, std::adopt_lock);
  // CHECK-MESSAGES: :[[@LINE-1]]:20: warning: lock 'lk' on mutex 'm' is held across a suspension point in coroutine 'flag_adopt_lock'
  co_await rill::sleep_ms(1);
  // CHECK-NOTES: :[[@LINE-1]]:3: note: co_await here while the lock is held
}

// case flag: std::scoped_lock on two mutexes
Task<> flag_scoped_lock() {
  std::scoped_lock both(m, m2);
  // CHECK-MESSAGES: :[[@LINE-1]]:20: warning: lock 'both' on mutexes 'm', 'm2' is held across a suspension point in coroutine 'flag_scoped_lock'
  co_await rill::sleep_ms(1);
  // CHECK-NOTES: :[[@LINE-1]]:3: note: co_await here while the lock is held
}

// case flag: std::shared_lock on a shared_mutex
Task<> flag_shared_lock() {
  std::shared_lock reader(sm);
  // CHECK-MESSAGES: :[[@LINE-1]]:20: warning: lock 'reader' on mutex 'sm' is held across a suspension point in coroutine 'flag_shared_lock'
  co_await rill::sleep_ms(1);
  // CHECK-NOTES: :[[@LINE-1]]:3: note: co_await here while the lock is held
}

// case flag: auto g = std::unique_lock(m)
Task<> flag_auto_unique_lock() {
  auto g = std::unique_lock(m);
  // CHECK-MESSAGES: :[[@LINE-1]]:8: warning: lock 'g' on mutex 'm' is held across a suspension point in coroutine 'flag_auto_unique_lock'
  co_await rill::sleep_ms(1);
  // CHECK-NOTES: :[[@LINE-1]]:3: note: co_await here while the lock is held
}

// case flag: guard in an if init-statement
Task<> flag_if_init(bool fast) {
  if (std::unique_lock g(m); fast) {
  // CHECK-MESSAGES: :[[@LINE-1]]:24: warning: lock 'g' on mutex 'm' is held across a suspension point in coroutine 'flag_if_init'
    co_await rill::sleep_ms(1);
    // CHECK-NOTES: :[[@LINE-1]]:5: note: co_await here while the lock is held
  }
}

// case flag: guard in a for init-statement
Task<> flag_for_init(int n) {
  for (std::lock_guard g(m); n > 0; --n) {
  // CHECK-MESSAGES: :[[@LINE-1]]:24: warning: lock 'g' on mutex 'm' is held across a suspension point in coroutine 'flag_for_init'
    co_await rill::sleep_ms(n);
    // CHECK-NOTES: :[[@LINE-1]]:5: note: co_await here while the lock is held
  }
}

// case flag: guard in a switch init-statement
Task<> flag_switch_init(int mode) {
  switch (std::lock_guard g(m); mode) {
  // CHECK-MESSAGES: :[[@LINE-1]]:27: warning: lock 'g' on mutex 'm' is held across a suspension point in coroutine 'flag_switch_init'
    case 1:
      co_await rill::sleep_ms(1);
      // CHECK-NOTES: :[[@LINE-1]]:7: note: co_await here while the lock is held
      break;
    default:
      break;
  }
}

// case flag: guard wrapped in a user struct member
Task<> flag_wrapped_guard() {
  Locked state{std::unique_lock(m), &counter};
  // CHECK-MESSAGES: :[[@LINE-1]]:10: warning: lock 'state' on mutex 'm' is held across a suspension point in coroutine 'flag_wrapped_guard'
  co_await rill::sleep_ms(1);
  // CHECK-NOTES: :[[@LINE-1]]:3: note: co_await here while the lock is held
}

// case flag: [[clang::scoped_lockable]] guard type
Task<> flag_scoped_lockable() {
  SpinGuard spin(m);
  // CHECK-MESSAGES: :[[@LINE-1]]:13: warning: lock 'spin' on mutex 'm' is held across a suspension point in coroutine 'flag_scoped_lockable'
  co_await rill::sleep_ms(1);
  // CHECK-NOTES: :[[@LINE-1]]:3: note: co_await here while the lock is held
}

// case flag: manual lock() ... co_await ... unlock()
Task<> flag_manual_lock() {
  m.lock();
  // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: mutex 'm' locked here is held across a suspension point in coroutine 'flag_manual_lock'
  co_await rill::sleep_ms(1);
  // CHECK-NOTES: :[[@LINE-1]]:3: note: co_await here while the lock is held
  m.unlock();
}

// case flag: manual lock_shared() ... co_await ... unlock_shared()
Task<> flag_manual_lock_shared() {
  sm.lock_shared();
  // CHECK-MESSAGES: :[[@LINE-1]]:6: warning: mutex 'sm' locked here is held across a suspension point in coroutine 'flag_manual_lock_shared'
  co_await rill::sleep_ms(1);
  // CHECK-NOTES: :[[@LINE-1]]:3: note: co_await here while the lock is held
  sm.unlock_shared();
}

// case flag: may be held: unlocked on one path only
Task<> flag_maybe_held(bool early) {
  std::unique_lock lk(m);
  // CHECK-MESSAGES: :[[@LINE-1]]:20: warning: lock 'lk' on mutex 'm' may be held across a suspension point in coroutine 'flag_maybe_held' on some paths
  if (early) {
    lk.unlock();
  }
  co_await rill::sleep_ms(1);
  // CHECK-NOTES: :[[@LINE-1]]:3: note: co_await here while the lock may be held
}

// case flag: co_yield while holding a lock
Task<> flag_co_yield() {
  std::lock_guard g(m);
  // CHECK-MESSAGES: :[[@LINE-1]]:19: warning: lock 'g' on mutex 'm' is held across a suspension point in coroutine 'flag_co_yield'
  co_yield 1;
  // CHECK-NOTES: :[[@LINE-1]]:3: note: co_yield here while the lock is held
}

// case flag: member coroutine locking a member mutex manually
struct Service {
  std::mutex mu;
  int hits = 0;
  Task<> flag_member() {
    mu.lock();
    // CHECK-MESSAGES: :[[@LINE-1]]:8: warning: mutex 'mu' locked here is held across a suspension point in coroutine 'Service::flag_member'
    ++hits;
    co_await rill::sleep_ms(1);
    // CHECK-NOTES: :[[@LINE-1]]:5: note: co_await here while the lock is held
    mu.unlock();
  }
  // case ok: member coroutine unlocking before the suspension
  Task<> ok_member() {
    mu.lock();
    ++hits;
    mu.unlock();
    co_await rill::sleep_ms(1);
  }
};

// case flag: coroutine lambda
auto flag_lambda = []() -> Task<> {
  std::lock_guard g(m);
  // CHECK-MESSAGES: :[[@LINE-1]]:19: warning: lock 'g' on mutex 'm' is held across a suspension point in coroutine 'lambda at rill-lock-across-await.cpp:279'
  co_await rill::sleep_ms(1);
  // CHECK-NOTES: :[[@LINE-1]]:3: note: co_await here while the lock is held
};

// case flag: function template, reported once for its two instantiations
template <class Mutex>
Task<> flag_template(Mutex& mu) {
  std::lock_guard g(mu);
  // CHECK-MESSAGES: :[[@LINE-1]]:19: warning: lock 'g' on mutex 'mu' is held across a suspension point in coroutine 'flag_template'
  co_await rill::sleep_ms(1);
  // CHECK-NOTES: :[[@LINE-1]]:3: note: co_await here while the lock is held
}
void instantiate_templates() {
  flag_template(m);
  flag_template(tm);
}

// case flag: the lock moved into a second guard is reported at that guard
Task<> flag_moved_to_second_guard() {
  std::unique_lock first(m);
  std::unique_lock second = std::move(first);
  // CHECK-MESSAGES: :[[@LINE-1]]:20: warning: lock 'second' on mutex 'm' is held across a suspension point in coroutine 'flag_moved_to_second_guard'
  co_await rill::sleep_ms(1);
  // CHECK-NOTES: :[[@LINE-1]]:3: note: co_await here while the lock is held
}

// case flag: deferred lock locked later with lock()
Task<> flag_deferred_then_locked() {
  std::unique_lock lk(m, std::defer_lock);
  // CHECK-MESSAGES: :[[@LINE-1]]:20: warning: lock 'lk' on mutex 'm' is held across a suspension point in coroutine 'flag_deferred_then_locked'
  lk.lock();
  co_await rill::sleep_ms(1);
  // CHECK-NOTES: :[[@LINE-1]]:3: note: co_await here while the lock is held
}

// case flag: a guard temporary alive during the co_await of the same full-expression
Task<> flag_temporary_guard() {
  use(std::unique_lock(m), co_await rill::sleep_ms(1));
  // CHECK-MESSAGES: :[[@LINE-1]]:7: warning: temporary lock on mutex 'm' is held across a suspension point in coroutine 'flag_temporary_guard'
  // CHECK-NOTES: :[[@LINE-2]]:28: note: co_await here while the lock is held
}

// case flag: std::optional<guard> engaged with emplace()
Task<> flag_optional_emplace() {
  std::optional<std::lock_guard<std::mutex>> opt;
  // CHECK-MESSAGES: :[[@LINE-1]]:46: warning: lock 'opt' on mutex 'm' is held across a suspension point in coroutine 'flag_optional_emplace'
  opt.emplace(m);
  co_await rill::sleep_ms(1);
  // CHECK-NOTES: :[[@LINE-1]]:3: note: co_await here while the lock is held
}

// case flag: may be held on the next loop iteration (locked at the end of the body)
Task<> flag_loop_carried(int n) {
  std::unique_lock lk(m, std::defer_lock);
  // CHECK-MESSAGES: :[[@LINE-1]]:20: warning: lock 'lk' on mutex 'm' may be held across a suspension point in coroutine 'flag_loop_carried' on some paths
  for (int i = 0; i < n; ++i) {
    co_await rill::sleep_ms(i);
    // CHECK-NOTES: :[[@LINE-1]]:5: note: co_await here while the lock may be held
    lk.lock();
  }
}

// case flag: unlocked, then locked again before the suspension
Task<> flag_relocked() {
  std::unique_lock lk(m);
  // CHECK-MESSAGES: :[[@LINE-1]]:20: warning: lock 'lk' on mutex 'm' is held across a suspension point in coroutine 'flag_relocked'
  lk.unlock();
  ++counter;
  lk.lock();
  co_await rill::sleep_ms(1);
  // CHECK-NOTES: :[[@LINE-1]]:3: note: co_await here while the lock is held
}

// case flag: held across several suspension points (one note each)
Task<> flag_two_suspensions() {
  std::lock_guard g(m);
  // CHECK-MESSAGES: :[[@LINE-1]]:19: warning: lock 'g' on mutex 'm' is held across a suspension point in coroutine 'flag_two_suspensions'
  co_await rill::sleep_ms(1);
  // CHECK-NOTES: :[[@LINE-1]]:3: note: co_await here while the lock is held
  co_await rill::sleep_ms(2);
  // CHECK-NOTES: :[[@LINE-1]]:3: note: co_await here while the lock is held
}

// case flag: timed_mutex try_lock_for held across co_await
Task<> flag_timed_try_lock() {
  if (tm.try_lock_for(std::chrono::milliseconds(5))) {
  // CHECK-MESSAGES: :[[@LINE-1]]:10: warning: mutex 'tm' locked here is held across a suspension point in coroutine 'flag_timed_try_lock'
    co_await rill::sleep_ms(1);
    // CHECK-NOTES: :[[@LINE-1]]:5: note: co_await here while the lock is held
    tm.unlock();
  }
}

// ---------------------------------------------------------------------------------------------
// Must-not-flag cases
// ---------------------------------------------------------------------------------------------

// case ok: guard scope ends before the co_await
Task<> ok_scope_ends() {
  {
    std::lock_guard g(m);
    ++counter;
  }
  co_await rill::sleep_ms(1);
}

// case ok: unlock() before the co_await (upstream no-suspend-with-lock misfires here)
Task<> ok_unlock_before_await() {
  std::unique_lock lk(m);
  ++counter;
  lk.unlock();
  co_await rill::sleep_ms(1);
}

// case ok: std::defer_lock never locked before the co_await
Task<> ok_defer_lock() {
  std::unique_lock lk(m, std::defer_lock);
  co_await rill::sleep_ms(1);
}

// case ok: guard moved into a function (released when the callee's parameter dies)
Task<> ok_moved_into_call() {
  std::unique_lock lk(m);
  take(std::move(lk));
  co_await rill::sleep_ms(1);
}

// case ok: std::optional<guard>::reset() before the co_await
Task<> ok_optional_reset() {
  std::optional<std::lock_guard<std::mutex>> opt;
  opt.emplace(m);
  ++counter;
  opt.reset();
  co_await rill::sleep_ms(1);
}

// case ok: std::optional<guard> = std::nullopt before the co_await
Task<> ok_optional_nullopt() {
  std::optional<std::unique_lock<std::mutex>> opt(std::in_place, m);
  ++counter;
  opt = std::nullopt;
  co_await rill::sleep_ms(1);
}

// case ok: manual lock()/unlock() pair before the co_await
Task<> ok_manual_pair() {
  m.lock();
  ++counter;
  m.unlock();
  co_await rill::sleep_ms(1);
}

// case ok: the runtime's async mutex guard is meant to be held across co_await
Task<> ok_async_mutex(rill::sync::Mutex<int>& mu) {
  auto guard = co_await mu.lock();
  co_await rill::sleep_ms(1);
}

// case ok: async RwLock read and write guards
Task<> ok_async_rwlock(rill::sync::RwLock<int>& rw) {
  {
    auto r = co_await rw.read();
    co_await rill::sleep_ms(1);
  }
  auto w = co_await rw.write();
  co_await rill::sleep_ms(1);
}

// case ok: a lock inside a non-coroutine lambda called before the co_await
Task<> ok_lock_in_plain_lambda() {
  auto bump = [] {
    std::lock_guard g(m);
    ++counter;
  };
  bump();
  co_await rill::sleep_ms(1);
}

// case ok: lock taken after the last suspension, held through co_return (final suspend)
Task<int> ok_lock_after_last_await() {
  co_await rill::sleep_ms(1);
  std::lock_guard g(m);
  co_return counter;
}

// case ok: not a coroutine at all
int ok_plain_function() {
  std::lock_guard g(m);
  return counter;
}

// case ok: guard in a loop body, co_await after the loop
Task<> ok_lock_in_loop(int n) {
  for (int i = 0; i < n; ++i) {
    std::lock_guard g(m);
    ++counter;
  }
  co_await rill::sleep_ms(1);
}

// case ok: guard released at the end of the then-branch, co_await in the else-branch
Task<> ok_branches(bool b) {
  if (b) {
    std::lock_guard g(m);
    ++counter;
  } else {
    co_await rill::sleep_ms(1);
  }
}

// case ok: a guard temporary whose full-expression ends before the co_await
Task<> ok_temporary_guard() {
  use(std::unique_lock(m), 1);
  co_await rill::sleep_ms(1);
}

// case ok: default-constructed std::unique_lock owns nothing
Task<> ok_empty_unique_lock() {
  std::unique_lock<std::mutex> lk;
  co_await rill::sleep_ms(1);
}

// case ok: try_lock() paired with unlock() before the co_await
Task<> ok_try_lock_pair() {
  if (m.try_lock()) {
    ++counter;
    m.unlock();
  }
  co_await rill::sleep_ms(1);
}

// case ok: lock taken after the co_await in each loop iteration, released at the iteration end
Task<> ok_lock_after_await_in_loop(int n) {
  for (int i = 0; i < n; ++i) {
    co_await rill::sleep_ms(i);
    std::lock_guard g(m);
    ++counter;
  }
}

// case ok: a struct holding a mutex (not a lock)
Task<> ok_mutex_holder() {
  Holder h;
  co_await rill::sleep_ms(1);
}

// case ok: wrapper whose guard member owns nothing
Task<> ok_lazy_wrapper() {
  Lazy lazy;
  co_await rill::sleep_ms(1);
}

// case ok: std::scoped_lock in a block that ends before co_yield
Task<> ok_scoped_lock_block() {
  {
    std::scoped_lock both(m, m2);
    ++counter;
  }
  co_yield counter;
}

// case ok: std::shared_lock unlocked before the co_await
Task<> ok_shared_unlock() {
  std::shared_lock reader(sm);
  ++counter;
  reader.unlock();
  co_await rill::sleep_ms(1);
}

// case ok: if-init guard whose if-statement ends before the co_await
Task<> ok_if_init_scope(bool b) {
  if (std::lock_guard g(m); b) {
    ++counter;
  }
  co_await rill::sleep_ms(1);
}

// case ok: guard in a case block that ends before the co_await
Task<> ok_case_block(int mode) {
  switch (mode) {
    case 1: {
      std::lock_guard g(m);
      ++counter;
      break;
    }
    default:
      break;
  }
  co_await rill::sleep_ms(1);
}

// case ok: the outer coroutine holds no lock at its suspension; the nested coroutine lambda
// suspends in its own frame
Task<> ok_nested_coroutine_lambda() {
  {
    std::lock_guard g(m);
    auto inner = []() -> Task<> { co_await rill::sleep_ms(1); };
    (void)inner;
  }
  co_await rill::sleep_ms(2);
}

// case ok: adopted lock released with unlock() before the co_await
Task<> ok_adopt_unlock() {
  m.lock();
  std::unique_lock lk(m, std::adopt_lock);
  lk.unlock();
  co_await rill::sleep_ms(1);
}

// case ok: guard moved into a second guard that dies before the co_await
Task<> ok_moved_guard_dies() {
  std::unique_lock first(m);
  {
    std::unique_lock second = std::move(first);
    ++counter;
  }
  co_await rill::sleep_ms(1);
}

// case ok: unique_lock::release() hands the mutex to manual code that unlocks it
Task<> ok_release_then_unlock() {
  std::unique_lock lk(m);
  std::mutex* raw = lk.release();
  raw->unlock();
  co_await rill::sleep_ms(1);
}

// case ok: co_await only on the path where try_to_lock failed
Task<> ok_try_to_lock_failed_path() {
  if (std::unique_lock lk(m, std::try_to_lock); !lk.owns_lock()) {
    co_await rill::sleep_ms(1);
  }
}

// case ok: co_await only when try_lock() failed
Task<> ok_try_lock_failed_path() {
  if (!m.try_lock()) {
    co_await rill::sleep_ms(1);
  } else {
    m.unlock();
  }
}

// case flag: try_lock() succeeded and the coroutine suspends before unlocking
Task<> flag_try_lock_success_path() {
  if (!m.try_lock()) {
  // CHECK-MESSAGES: :[[@LINE-1]]:10: warning: mutex 'm' locked here is held across a suspension point in coroutine 'flag_try_lock_success_path'
    co_return;
  }
  co_await rill::sleep_ms(1);
  // CHECK-NOTES: :[[@LINE-1]]:3: note: co_await here while the lock is held
  m.unlock();
}

// case ok: explicitly typed unique_lock unlocked before the co_await (upstream
// cppcoreguidelines-no-suspend-with-lock misfires here)
Task<> ok_unlock_before_await_explicit() {
  std::unique_lock<std::mutex> lk(m);
  ++counter;
  lk.unlock();
  co_await rill::sleep_ms(1);
}

// case ok: unlocked on every path before the co_await (upstream misfires)
Task<> ok_unlock_on_every_path(bool b) {
  std::unique_lock<std::mutex> lk(m);
  if (b) {
    lk.unlock();
  } else {
    ++counter;
    lk.unlock();
  }
  co_await rill::sleep_ms(1);
}

// case ok: unlocked before a loop of suspensions (upstream misfires)
Task<> ok_unlock_before_loop(int n) {
  std::unique_lock<std::mutex> lk(m);
  ++counter;
  lk.unlock();
  for (int i = 0; i < n; ++i) {
    co_await rill::sleep_ms(i);
  }
}

// case ok: unlocked before the co_await and locked again after it (upstream misfires)
Task<> ok_relock_after_await() {
  std::unique_lock<std::mutex> lk(m);
  ++counter;
  lk.unlock();
  co_await rill::sleep_ms(1);
  lk.lock();
  ++counter;
}

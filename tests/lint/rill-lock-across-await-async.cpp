// Fixture for rill-lock-across-await on code of other runtimes: a lock obtained
// by `co_await` is not held across that co_await (and is an async lock), and a std guard over an
// asynchronous mutex type does not block. Synchronous locks next to them are still flagged.
#include <coroutine>
#include <mutex>

namespace coro {
struct task {
  struct promise_type {
    task get_return_object() { return {}; }
    std::suspend_always initial_suspend() noexcept { return {}; }
    std::suspend_always final_suspend() noexcept { return {}; }
    void return_void() {}
    void unhandled_exception() {}
  };
  bool await_ready() const noexcept { return true; }
  void await_suspend(std::coroutine_handle<>) noexcept {}
  void await_resume() {}
};
class mutex;
// libcoro-style guard: not a std guard, not scoped_lockable; owns the async mutex until destroyed.
class scoped_lock {
 public:
  explicit scoped_lock(mutex& m) : m_(&m) {}
  scoped_lock(scoped_lock&& o) noexcept : m_(o.m_) { o.m_ = nullptr; }
  ~scoped_lock();
  void unlock();

 private:
  mutex* m_;
};
struct lock_operation {
  mutex& m;
  bool await_ready() const noexcept { return true; }
  void await_suspend(std::coroutine_handle<>) noexcept {}
  scoped_lock await_resume() { return scoped_lock(m); }
};
class mutex {
 public:
  lock_operation lock() { return {*this}; }  // returns an awaitable: an asynchronous mutex
  bool try_lock();
  void unlock();
};
}  // namespace coro

// async_simple-style: a guard type wrapping std::unique_lock over the asynchronous mutex.
namespace async_like {
struct Lazy {
  struct promise_type;
};
class Mutex {
 public:
  Lazy coLock();
  void lock();  // std::unique_lock requires lock()/unlock(); coLock is the awaitable one
  void unlock();
  bool try_lock();
};
}  // namespace async_like

coro::task yield_now();

coro::task counter(coro::mutex& m, int& n) {
  auto lk = co_await m.lock();  // ok: acquired by suspending; an async lock
  ++n;
  co_await yield_now();  // ok: holding an async lock across co_await is fine
}

coro::task guarded(async_like::Mutex& am, std::mutex& sm, int& n) {
  std::unique_lock<async_like::Mutex> ul(am, std::adopt_lock);  // ok: async mutex type
  co_await yield_now();
  std::unique_lock<std::mutex> sl(sm);
  // CHECK-MESSAGES: :[[@LINE-1]]:32: warning: lock 'sl' on mutex 'sm' is held across a suspension point in coroutine 'guarded'
  ++n;
  co_await yield_now();
}

// A home-grown RAII guard is recognised by what its constructor and destructor do (lock and
// unlock a member mutex), not by its name.
class Locker {
 public:
  explicit Locker(std::mutex& m) : m_(m) { m_.lock(); }
  ~Locker() { m_.unlock(); }

 private:
  std::mutex& m_;
};
// Not a guard: the constructor only stores the mutex.
class MutexRef {
 public:
  explicit MutexRef(std::mutex& m) : m_(m) {}
  ~MutexRef() {}

 private:
  std::mutex& m_;
};

coro::task home_grown(std::mutex& sm, int& n) {
  MutexRef ref(sm);  // ok
  Locker l(sm);
  // CHECK-MESSAGES: :[[@LINE-1]]:10: warning: lock 'l' on mutex 'sm' is held across a suspension point in coroutine 'home_grown'; release it before co_await or use the runtime's async mutex [rill-lock-across-await]
  ++n;
  co_await yield_now();
}

// async_simple-style: the awaitable type gets promise_type and operator co_await from a base,
// and the guard comes out of co_await as a std::unique_lock temporary moved into a variable.
namespace async_like2 {
template <typename T>
struct LazyBase {
  struct promise_type;
  bool await_ready() const noexcept { return true; }
  void await_suspend(std::coroutine_handle<>) noexcept {}
  T await_resume();
};
template <typename T = void>
struct Lazy : LazyBase<T> {};
class SpinLock {
 public:
  Lazy<> coLock();
  Lazy<std::unique_lock<SpinLock>> coScopedLock();
  void lock();
  void unlock();
  bool try_lock();
};
}  // namespace async_like2

coro::task scoped_from_await(async_like2::SpinLock& sl, int& n) {
  auto scoper = co_await sl.coScopedLock();  // ok: asynchronous lock
  ++n;
  co_await yield_now();
}

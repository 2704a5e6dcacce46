// Fixture for rill-lock-across-await: a std guard captured by a coroutine lambda lives in the
// closure (or in the enclosing frame), so the lock it holds where the lambda is created is held
// across every suspension of the lambda's body.
#include <coroutine>
#include <mutex>
#include <utility>

namespace rill {
struct Task {
  struct promise_type {
    Task get_return_object() { return {}; }
    std::suspend_always initial_suspend() noexcept { return {}; }
    std::suspend_always final_suspend() noexcept { return {}; }
    void return_void() {}
    void unhandled_exception() {}
  };
  bool await_ready() const noexcept { return true; }
  void await_suspend(std::coroutine_handle<>) noexcept {}
  void await_resume() {}
};
struct Sleep {
  bool await_ready() { return false; }
  void await_suspend(std::coroutine_handle<>) {}
  void await_resume() {}
};
inline Sleep sleep_ms(int) { return {}; }
void spawn(Task) {}
}  // namespace rill

// ============================== must flag ===================================================

// Moved into the closure: the task owns the lock while it sleeps.
void moved_into_task(std::mutex& m, int& n) {
  std::unique_lock lk(m);
  ++n;
  rill::spawn([lk = std::move(lk), &n]() -> rill::Task {
    // CHECK-MESSAGES: :[[@LINE-1]]:16: warning: lock 'lk' on mutex 'm' captured by the coroutine lambda is held across a suspension point in coroutine 'lambda at rill-lock-across-await-lambda.cpp:36'; release it before co_await or use rill::sync::Mutex [rill-lock-across-await]
    co_await rill::sleep_ms(10);
    // CHECK-NOTES: :[[@LINE-1]]:5: note: co_await here while the lock is held
    ++n;
  }());
}

// Captured by reference: the lambda's suspensions happen while the caller's guard holds it.
rill::Task by_reference(std::mutex& m, int& n) {
  std::unique_lock<std::mutex> lk(m);
  auto step = [&lk, &n]() -> rill::Task {
    // CHECK-MESSAGES: :[[@LINE-1]]:17: warning: lock 'lk' on mutex 'm' captured by the coroutine lambda is held across a suspension point in coroutine 'lambda at rill-lock-across-await-lambda.cpp:47'
    ++n;
    co_await rill::sleep_ms(1);
    // CHECK-NOTES: :[[@LINE-1]]:5: note: co_await here while the lock is held
  };
  rill::spawn(step());
  lk.unlock();
  co_return;
}

// A guard constructed in the capture.
void fresh_guard(std::mutex& m) {
  rill::spawn([g = std::unique_lock(m)]() -> rill::Task {
    // CHECK-MESSAGES: :[[@LINE-1]]:16: warning: lock 'g' on mutex 'm' captured by the coroutine lambda is held across a suspension point
    co_await rill::sleep_ms(1);
    // CHECK-NOTES: :[[@LINE-1]]:5: note: co_await here while the lock is held
  }());
}

// ============================== must NOT flag ================================================

// Released before the lambda is created: the captured guard holds nothing.
void released_before(std::mutex& m, int& n) {
  std::unique_lock lk(m);
  ++n;
  lk.unlock();
  rill::spawn([lk = std::move(lk)]() -> rill::Task { co_await rill::sleep_ms(1); }());
}

// Deferred: never locked.
void deferred(std::mutex& m) {
  std::unique_lock lk(m, std::defer_lock);
  rill::spawn([lk = std::move(lk)]() -> rill::Task { co_await rill::sleep_ms(1); }());
}

// The lambda unlocks before its first suspension.
void unlocked_in_body(std::mutex& m, int& n) {
  std::unique_lock lk(m);
  rill::spawn([lk = std::move(lk), &n]() mutable -> rill::Task {
    ++n;
    lk.unlock();
    co_await rill::sleep_ms(1);
  }());
}

// Not a coroutine lambda: it runs to completion while the lock is held, which is fine.
void plain_lambda(std::mutex& m, int& n) {
  std::unique_lock lk(m);
  auto bump = [&lk, &n] { ++n; (void)lk; };
  bump();
}

// The coroutine lambda captures only the mutex, and locks and unlocks inside.
void captures_mutex(std::mutex& m, int& n) {
  rill::spawn([&m, &n]() -> rill::Task {
    {
      std::lock_guard g(m);
      ++n;
    }
    co_await rill::sleep_ms(1);
  }());
}

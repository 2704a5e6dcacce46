// Fixture for rill-lock-across-await next to rill-blocking-call with Strict on: a std guard
// (`std::lock_guard g(mu)`) is reported by rill-blocking-call as a blocking acquisition, and by
// rill-lock-across-await when it is still held at a co_await; Strict does not change what
// rill-lock-across-await reports.
// FIXTURE-CHECKS: -*,rill-lock-across-await,rill-blocking-call
// FIXTURE-ARGS: '--config={CheckOptions: {rill-blocking-call.Strict: true}}'
#include <coroutine>
#include <mutex>

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

// ============================== must flag ===================================================

rill::Task held_across(std::mutex& mu, int& n) {
  std::lock_guard g(mu);
  // CHECK-MESSAGES: :[[@LINE-1]]:19: warning: blocking mutex acquisition 'std::lock_guard' in coroutine 'held_across'; use rill::sync::Mutex (co_await m.lock()) when the lock may be contended or held long [rill-blocking-call]
  // CHECK-MESSAGES: :[[@LINE-2]]:19: warning: lock 'g' on mutex 'mu' is held across a suspension point in coroutine 'held_across'; release it before co_await or use rill::sync::Mutex [rill-lock-across-await]
  ++n;
  co_await rill::Sleep{};
}

// ============================== only the acquisition (Strict) ===============================

rill::Task released_before(std::mutex& mu, int& n) {
  {
    std::lock_guard g(mu);
    // CHECK-MESSAGES: :[[@LINE-1]]:21: warning: blocking mutex acquisition 'std::lock_guard' in coroutine 'released_before'
    ++n;
  }
  co_await rill::Sleep{};
}

// ============================== must NOT flag ================================================

rill::Task deferred(std::mutex& mu) {
  std::unique_lock<std::mutex> g(mu, std::defer_lock);  // holds nothing, waits for nothing
  co_await rill::Sleep{};
}

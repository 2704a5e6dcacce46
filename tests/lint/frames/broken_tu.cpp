// Deliberately does not compile: used by frame_report_test.py to check that
// `rill-lint --frame-report` reports the compiler's error, exits 2 and still measures other TUs.
#include <coroutine>

struct Task {
  struct promise_type {
    Task get_return_object() { return {}; }
    std::suspend_always initial_suspend() noexcept { return {}; }
    std::suspend_always final_suspend() noexcept { return {}; }
    void return_void() {}
    void unhandled_exception() {}
  };
};

Task broken() {
  co_await undeclared_awaitable();
}

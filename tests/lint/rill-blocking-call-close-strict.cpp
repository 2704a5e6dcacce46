// Fixture for rill-blocking-call's close(2) policy with the Strict option: close is reported (it
// can wait for a socket whose SO_LINGER is set, or a network file system's flush).
// FIXTURE-ARGS: '--config={CheckOptions: {rill-blocking-call.Strict: true}}'
// FIXTURE-CHECKS: -*,rill-blocking-call
#include <coroutine>

#include <unistd.h>

namespace app {
struct task {
  struct promise_type {
    task get_return_object() { return {}; }
    std::suspend_always initial_suspend() noexcept { return {}; }
    std::suspend_always final_suspend() noexcept { return {}; }
    void return_void() {}
    void unhandled_exception() {}
  };
};
struct tick {
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<>) noexcept {}
  void await_resume() noexcept {}
};

task close_raw_fd(int fd) {
  co_await tick{};
  ::close(fd);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: blocking file I/O 'close'
}

void helper_without_suspension(int fd) { ::close(fd); }  // ok: not a coroutine
}  // namespace app

// The NOLINT family (same line, next line, begin/end blocks) suppresses rill-* diagnostics like clang-tidy.
// FIXTURE-CHECKS: -*,rill-*
#include <coroutine>
#include <unistd.h>

struct Task {
  struct promise_type {
    Task get_return_object() { return {}; }
    std::suspend_never initial_suspend() noexcept { return {}; }
    std::suspend_never final_suspend() noexcept { return {}; }
    void return_void() {}
    void unhandled_exception() {}
  };
};
namespace rill::sync::mpsc {
template <typename T>
int unbounded_channel() { return 0; }
}  // namespace rill::sync::mpsc

Task suppressed() {
  sleep(1);  // NOLINT
  sleep(1);  // NOLINT(rill-blocking-call)
  sleep(1);  // NOLINT(rill-*)
  sleep(1);  // NOLINT(rill-unbounded-fanout)
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: blocking sleep 'sleep' in coroutine 'suppressed'
  // NOLINTNEXTLINE(rill-blocking-call)
  sleep(1);
  // NOLINTNEXTLINE(rill-unbounded-fanout)
  usleep(1);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: blocking sleep 'usleep' in coroutine 'suppressed'
  // NOLINTBEGIN(rill-blocking-call)
  sleep(1);
  usleep(1);
  int a = rill::sync::mpsc::unbounded_channel<int>();
  // CHECK-MESSAGES: :[[@LINE-1]]:11: warning: 'rill::sync::mpsc::unbounded_channel' creates an unbounded channel
  // NOLINTEND(rill-blocking-call)
  sleep(2);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: blocking sleep 'sleep' in coroutine 'suppressed'
  // NOLINTBEGIN
  sleep(3);
  int b = rill::sync::mpsc::unbounded_channel<int>();
  // NOLINTEND
  (void)a;
  (void)b;
  co_return;
}

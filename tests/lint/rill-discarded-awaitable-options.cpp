// Fixture for rill-discarded-awaitable's options: IgnoredTypes (a type whose construction starts
// the work) and IgnoredFunctions (a function whose awaitable result may be dropped). Everything
// else stays reported.
// FIXTURE-ARGS: '--config={CheckOptions: {rill-discarded-awaitable.IgnoredTypes: "app::Started", rill-discarded-awaitable.IgnoredFunctions: "app::Client::notify;app::prefetch"}}'
#include <coroutine>

namespace app {
struct Awaiter {
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<>) noexcept {}
  void await_resume() {}
};
// Starts its operation in the constructor; awaiting it only waits for the result.
struct Started {
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<>) noexcept {}
  void await_resume() {}
};
struct Client {
  Awaiter notify(int) { return {}; }  // fire-and-forget by design (IgnoredFunctions)
  Awaiter send(int) { return {}; }
  Started start_upload() { return {}; }
};
Awaiter prefetch(int) { return {}; }
Awaiter fetch(int) { return {}; }

struct Task {
  struct promise_type {
    Task get_return_object() { return {}; }
    std::suspend_always initial_suspend() noexcept { return {}; }
    std::suspend_always final_suspend() noexcept { return {}; }
    void return_void() {}
    void unhandled_exception() {}
  };
};

Task handler(Client& c) {
  c.notify(1);        // ok: IgnoredFunctions
  prefetch(2);        // ok: IgnoredFunctions
  c.start_upload();   // ok: IgnoredTypes
  c.send(3);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: the result of 'app::Client::send' is an awaitable of type 'app::Awaiter' that is discarded without co_await; the operation never runs
  fetch(4);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: the result of 'app::fetch' is an awaitable of type 'app::Awaiter'
  co_await c.send(5);
}
}  // namespace app

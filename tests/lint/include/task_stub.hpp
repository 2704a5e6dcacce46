// A stand-in for rill::Task<void> shared by the lint fixtures that need only "some coroutine
// type": it suspends at its start and end, and awaiting it completes at once. The checks see a
// coroutine through its promise type, so this is all they need; fixtures that test the checks'
// view of rill's own headers compile against runtime/include instead.
#pragma once

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
  bool await_ready() const noexcept { return true; }
  void await_suspend(std::coroutine_handle<>) noexcept {}
  void await_resume() {}
};
}  // namespace rill

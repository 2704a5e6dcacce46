// Fixture for rill-spawn-dangling-reference's options, set for a runtime that is not rill: the
// spawn functions (SpawnFunctions replaces the default list), a view type without reference or
// pointer members (ViewTypes), the join method of its handle (JoinMethods) and an executor that
// destroys its tasks with it (TaskOwners).
// FIXTURE-ARGS: '--config={CheckOptions: {rill-spawn-dangling-reference.SpawnFunctions: "app::detach;app::Executor::submit", rill-spawn-dangling-reference.ViewTypes: "app::BytesRef", rill-spawn-dangling-reference.JoinMethods: "drain", rill-spawn-dangling-reference.TaskOwners: "app::Executor"}}'
#include <coroutine>
#include <cstdint>
#include <string>

namespace app {
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
struct Handle {
  Task drain() { return {}; }  // waits for the task (JoinMethods)
  Task join() { return {}; }   // not a join method under this configuration
};
Handle detach(Task) { return {}; }
struct Executor {
  Handle submit(Task) { return {}; }
};
// Refers to bytes it does not own through an address kept as an integer: a view only because
// the option says so.
struct BytesRef {
  explicit BytesRef(const std::string& s) : addr(reinterpret_cast<std::uintptr_t>(s.data())) {}
  std::uintptr_t addr;
};
// A spawn function of another library that is not in the configured list.
Handle spawn(Task) { return {}; }

Task upload(BytesRef bytes) { co_return; }
Task log_line(const std::string& line) { co_return; }

// ============================== must flag ===================================================

Task configured_spawn_and_view() {
  std::string body = "payload";
  detach(upload(BytesRef(body)));
  // CHECK-MESSAGES: :[[@LINE-1]]:17: warning: 'app::detach' starts a task that can outlive 'app::configured_spawn_and_view' but refers to its local 'body' through parameter 'bytes' of 'app::upload' (BytesRef)
  co_return;
}

Task joined_with_unlisted_method() {
  std::string line = "x";
  Handle h = detach(log_line(line));
  // CHECK-MESSAGES: :[[@LINE-1]]:30: warning: 'app::detach' starts a task that can outlive 'app::joined_with_unlisted_method' but refers to its local 'line'
  co_await h.join();
}

void executor_outlives_referent() {
  Executor ex;
  std::string line = "x";
  ex.submit(log_line(line));
  // CHECK-MESSAGES: :[[@LINE-1]]:22: warning: 'app::Executor::submit' starts a task that can outlive 'app::executor_outlives_referent' but refers to its local 'line'
}

// ============================== must NOT flag ================================================

Task joined_with_configured_method() {
  std::string line = "x";
  Handle h = detach(log_line(line));
  co_await h.drain();
}

void executor_destroyed_first() {
  std::string line = "x";
  Executor ex;  // declared after the referent: destroyed first, with its tasks
  ex.submit(log_line(line));
}

Task not_a_configured_spawn() {
  std::string line = "x";
  spawn(log_line(line));
  co_return;
}
}  // namespace app

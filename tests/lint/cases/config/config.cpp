// Configuration from .clang-tidy (Checks + CheckOptions), with no --checks on the command line.
// FIXTURE-CHECKS: none
#include <coroutine>
#include <mutex>

struct Task {
  struct promise_type {
    Task get_return_object() { return {}; }
    std::suspend_never initial_suspend() noexcept { return {}; }
    std::suspend_never final_suspend() noexcept { return {}; }
    void return_void() {}
    void unhandled_exception() {}
  };
};
namespace rill {
inline int spawn(int) { return 0; }
}  // namespace rill
namespace legacy {
int fetch_config(const char*);
}  // namespace legacy

Task configured(std::mutex& m) {
  // MaxConstantTripCount: 2 -> three iterations are too many, two are fine.
  for (int i = 0; i < 3; ++i) rill::spawn(i);
  // CHECK-MESSAGES: :[[@LINE-1]]:31: warning: 'rill::spawn' in a loop without a small constant trip count
  for (int i = 0; i < 2; ++i) rill::spawn(i);
  // Strict: true -> std::mutex::lock is reported.
  m.lock();
  // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: blocking mutex acquisition 'std::mutex::lock' in coroutine 'configured'
  m.unlock();
  // rill.RulesFiles adds the team's own blocking function.
  legacy::fetch_config("db");
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: blocking legacy synchronous RPC 'legacy::fetch_config' in coroutine 'configured'; use legacy::fetch_config_async [rill-blocking-call]
  co_return;
}

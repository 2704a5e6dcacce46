// `--rules FILE` extends (and overrides) the built-in rules.
// FIXTURE-CHECKS: -*,rill-blocking-call,rill-unbounded-fanout
// FIXTURE-ARGS: --rules=rules-ext/extra.yaml
#include <coroutine>
#include <unistd.h>
#include <vector>

struct Task {
  struct promise_type {
    Task get_return_object() { return {}; }
    std::suspend_never initial_suspend() noexcept { return {}; }
    std::suspend_never final_suspend() noexcept { return {}; }
    void return_void() {}
    void unhandled_exception() {}
  };
};
namespace mylib {
int fetch_sync(int);
struct Client {
  int query(const char*);
};
void go(int);
template <typename F>
void on_thread_pool(F f) { f(); }
}  // namespace mylib

Task extended(mylib::Client& c, std::vector<int> xs) {
  mylib::fetch_sync(1);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: blocking synchronous mylib call 'mylib::fetch_sync' in coroutine 'extended'; use mylib::fetch_async [rill-blocking-call]
  c.query("x");
  // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: blocking synchronous mylib call 'mylib::Client::query' in coroutine 'extended'
  sleep(1);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: blocking sleep (team rule) 'sleep' in coroutine 'extended'; use co_await rill::sleep; see TEAM.md [rill-blocking-call]
  usleep(1);  // excluded by exclude_blocking
  mylib::on_thread_pool([] { mylib::fetch_sync(2); });  // a user offload function
  for (int x : xs) mylib::go(x);
  // CHECK-MESSAGES: :[[@LINE-1]]:20: warning: 'mylib::go' in a loop without a small constant trip count
  co_return;
}

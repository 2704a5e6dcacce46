// Fixture for rill-blocking-call: when one call reaches several blocking calls, the most telling
// one is reported (the rules' `priority`: deadlocks, then thread joins and synchronous waits,
// sleeps, process control, network, file I/O, CPU-heavy work, Strict-only calls, console
// logging), whatever order they come in; equally telling ones: the first (direct calls before
// calls through helpers).
#include <condition_variable>
#include <coroutine>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>

#include <netdb.h>
#include <unistd.h>

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
struct Runtime {
  void block_on(Task t);
};
}  // namespace rill

rill::Task tick();

std::thread g_worker;
std::mutex g_mu;
std::condition_variable g_cv;
bool g_ready = false;

// File I/O first, then a thread join: the join is reported.
void save_and_join() {
  std::ofstream("state.txt") << 1;
  g_worker.join();
}
// A sleep, then a synchronous wait: the wait.
void nap_then_wait() {
  usleep(100);
  std::unique_lock<std::mutex> lk(g_mu);
  g_cv.wait(lk, [] { return g_ready; });
}
// The telling call one level further down than a less telling one.
void write_log_file() { std::ofstream("log.txt") << 1; }
void join_worker() { g_worker.join(); }
void shutdown() {
  write_log_file();
  join_worker();
}
// A runtime re-entry beats everything.
void run_nested(rill::Runtime& rt) {
  usleep(1);
  rt.block_on(tick());
}
// Equally telling (network): the first one.
void resolve_and_read(int fd, char* buf) {
  read(fd, buf, 1);
  addrinfo* res = nullptr;
  getaddrinfo("example.com", "80", nullptr, &res);
}
// A direct call wins a tie with a call through a helper.
void read_file() { std::ifstream("a.txt").get(); }
void direct_first() {
  std::ofstream("b.txt") << 1;
  read_file();
}

rill::Task run(rill::Runtime& rt, int fd, char* buf) {
  save_and_join();
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: blocking thread join 'std::thread::join' reached through call to 'save_and_join' in coroutine 'run'; co_await rill::spawn_blocking(...) instead of joining a thread [rill-blocking-call]
  nap_then_wait();
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: blocking synchronous wait 'std::condition_variable::wait' reached through call to 'nap_then_wait' in coroutine 'run'
  shutdown();
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: blocking thread join 'std::thread::join' reached through call to 'shutdown' in coroutine 'run'
  run_nested(rt);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: blocking runtime re-entry (deadlock) 'rill::Runtime::block_on' reached through call to 'run_nested' in coroutine 'run'
  resolve_and_read(fd, buf);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: blocking socket/fd I/O 'read' reached through call to 'resolve_and_read' in coroutine 'run'
  direct_first();
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: blocking file I/O 'std::ofstream::operator<<' reached through call to 'direct_first' in coroutine 'run'
  co_await tick();
}

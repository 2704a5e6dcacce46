// Fixture for rill-blocking-call: blocking that is not a direct call in the coroutine body.
// Destructors that wait (a discarded std::async future, a std::jthread going out of scope, a
// user class whose destructor joins), calls through a function pointer or std::function given a
// blocking callee in the same function, and virtual calls whose dynamic type is known.
#include <chrono>
#include <coroutine>
#include <functional>
#include <future>
#include <memory>
#include <thread>

#include <unistd.h>

#include "include/task_stub.hpp"

rill::Task flush();
void work() {}

// ============================== must flag ===================================================

rill::Task discarded_async() {
  std::async(std::launch::async, work);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: blocking thread join 'std::future::~future (discarded std::async result)' in coroutine 'discarded_async'; a std::async future waits for its thread when destroyed; use co_await rill::spawn_blocking(...) instead [rill-blocking-call]
  (void)std::async(work);
  // CHECK-MESSAGES: :[[@LINE-1]]:9: warning: blocking thread join 'std::future::~future (discarded std::async result)' in coroutine 'discarded_async'
  co_await flush();
}

rill::Task jthread_scope() {
  {
    std::jthread t(work);
    // CHECK-MESSAGES: :[[@LINE-1]]:18: warning: blocking thread join 'std::jthread::~jthread' in coroutine 'jthread_scope'; a std::jthread joins its thread when it goes out of scope; use co_await rill::spawn_blocking(...) instead [rill-blocking-call]
  }
  co_await flush();
}

class Worker {
 public:
  Worker() : t_(work) {}
  ~Worker() {
    if (t_.joinable()) t_.join();
  }

 private:
  std::thread t_;
};
rill::Task joins_in_destructor() {
  Worker w;
  // CHECK-MESSAGES: :[[@LINE-1]]:10: warning: blocking thread join 'std::thread::join' reached through call to 'Worker::~Worker' in coroutine 'joins_in_destructor'
  // CHECK-NOTES: :[[@LINE-9]]:27: note: 'Worker::~Worker' calls blocking thread join 'std::thread::join' here
  co_await flush();
}

rill::Task function_pointer() {
  auto f = &::sleep;
  f(1);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: blocking sleep 'sleep' in coroutine 'function_pointer'
  unsigned (*g)(unsigned) = ::sleep;
  g(1);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: blocking sleep 'sleep' in coroutine 'function_pointer'
  int (*h)(unsigned) = nullptr;
  h = &::usleep;  // assigned after its declaration
  h(5);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: blocking sleep 'usleep' in coroutine 'function_pointer'
  co_await flush();
}

rill::Task std_function() {
  using namespace std::chrono_literals;
  std::function<void()> g = [] { std::this_thread::sleep_for(1s); };
  g();
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: blocking sleep 'std::this_thread::sleep_for' reached through call to 'lambda at rill-blocking-call-indirect.cpp:70' in coroutine 'std_function'
  // CHECK-NOTES: :[[@LINE-3]]:34: note: 'lambda at rill-blocking-call-indirect.cpp:70' calls blocking sleep 'std::this_thread::sleep_for' here
  std::function<void()> later;
  later = [] { ::usleep(1); };
  // CHECK-NOTES: :[[@LINE-1]]:16: note: 'lambda at rill-blocking-call-indirect.cpp:75' calls blocking sleep 'usleep' here
  later();
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: blocking sleep 'usleep' reached through call to 'lambda at rill-blocking-call-indirect.cpp:75' in coroutine 'std_function'
  co_await flush();
}

struct Job {
  virtual ~Job() = default;
  virtual void run() = 0;
};
struct SleepyJob final : Job {
  void run() override { ::usleep(100); }
};
struct QuickJob final : Job {
  void run() override {}
};
rill::Task devirtualised() {
  std::unique_ptr<Job> p = std::make_unique<SleepyJob>();
  p->run();
  // CHECK-MESSAGES: :[[@LINE-1]]:6: warning: blocking sleep 'usleep' reached through call to 'SleepyJob::run' in coroutine 'devirtualised'
  // CHECK-NOTES: :[[@LINE-9]]:25: note: 'SleepyJob::run' calls blocking sleep 'usleep' here
  SleepyJob local;
  Job& ref = local;
  ref.run();
  // CHECK-MESSAGES: :[[@LINE-1]]:7: warning: blocking sleep 'usleep' reached through call to 'SleepyJob::run' in coroutine 'devirtualised'
  // CHECK-NOTES: :[[@LINE-14]]:25: note: 'SleepyJob::run' calls blocking sleep 'usleep' here
  co_await flush();
}

// ============================== must NOT flag ================================================

rill::Task async_kept_or_deferred() {
  auto fut = std::async(std::launch::deferred, work);  // runs on get(); nothing waits here
  std::async(std::launch::deferred, work);             // deferred: the destructor does not wait
  (void)fut;
  co_await flush();
}

rill::Task jthread_detached_or_moved(std::jthread& keep) {
  std::jthread a(work);
  a.detach();
  std::jthread b(work);
  keep = std::move(b);
  std::jthread idle;  // no thread
  co_await flush();
}

struct Quiet {
  ~Quiet() { counter = 0; }
  int counter = 1;
};
rill::Task harmless_destructor() {
  Quiet q;
  co_await flush();
}

rill::Task harmless_pointers() {
  auto f = &::getpid;
  f();
  std::function<int()> g = [] { return 1; };
  g();
  co_await flush();
}
// A callable given a blocking target but never called here.
rill::Task stores_callable(std::function<void()>& out) {
  std::function<void()> cb = [] { ::usleep(1); };
  out = cb;
  co_await flush();
}

rill::Task virtual_unknown_or_quick(Job& unknown) {
  unknown.run();  // dynamic type unknown here: not followed
  std::unique_ptr<Job> p = std::make_unique<QuickJob>();
  p->run();
  co_await flush();
}

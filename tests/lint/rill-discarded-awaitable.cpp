// Fixture for rill-discarded-awaitable: awaitables and lazy tasks created and thrown away without
// co_await (the operation never runs), next to the forms that are fine.
#include <chrono>
#include <coroutine>
#include <utility>
#include <vector>

namespace rill {
template <typename T = void>
struct Task {
  struct promise_type {
    Task get_return_object() { return {}; }
    std::suspend_always initial_suspend() noexcept { return {}; }  // lazy
    std::suspend_always final_suspend() noexcept { return {}; }
    void return_void() {}
    void unhandled_exception() {}
  };
  bool await_ready() const noexcept { return true; }
  void await_suspend(std::coroutine_handle<>) noexcept {}
  void await_resume() {}
};
struct Sleep {  // a plain awaiter
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<>) noexcept {}
  void await_resume() {}
};
Sleep sleep(std::chrono::milliseconds d);
template <typename T>
struct JoinHandle {
  bool await_ready() const noexcept { return true; }
  void await_suspend(std::coroutine_handle<>) noexcept {}
  void await_resume() {}
};
template <typename T>
JoinHandle<T> spawn(Task<T>) { return {}; }
namespace sync::mpsc {
struct SendFuture {  // awaitable through a member operator co_await
  Sleep operator co_await() { return {}; }
};
template <typename T>
struct Sender {
  SendFuture send(T) { return {}; }
  bool try_send(T) { return true; }
};
}  // namespace sync::mpsc
namespace net {
struct TcpStream {
  Task<> write_all(const char* buf) { return {}; }  // a lazy task
};
}  // namespace net
}  // namespace rill

// Another library's awaiter: recognised by its shape (await_ready/await_suspend/await_resume).
namespace other {
struct WriteOp {
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<>) noexcept {}
  int await_resume() { return 0; }
};
struct Stream {
  WriteOp write_all(const char* buf) { return {}; }
  int write_some_now(const char* buf) { return 0; }  // synchronous: not an awaitable
};
}  // namespace other

// An eager fire-and-forget coroutine type: discarding it is fine (it already runs).
struct Detached {
  struct promise_type {
    Detached get_return_object() { return {}; }
    std::suspend_never initial_suspend() noexcept { return {}; }
    std::suspend_never final_suspend() noexcept { return {}; }
    void return_void() {}
    void unhandled_exception() {}
  };
};

using namespace std::chrono_literals;
rill::Task<> flush_cache() { co_return; }
Detached fire_and_forget() { co_return; }

// A generator: a lazy coroutine type that is a range (iterated with begin/end), not an awaitable.
struct Ints {
  struct promise_type {
    int value = 0;
    Ints get_return_object() { return {}; }
    std::suspend_always initial_suspend() noexcept { return {}; }
    std::suspend_always final_suspend() noexcept { return {}; }
    std::suspend_always yield_value(int v) noexcept { value = v; return {}; }
    void return_void() {}
    void unhandled_exception() {}
  };
  struct iterator {
    int operator*() const { return 0; }
    iterator& operator++() { return *this; }
    bool operator!=(const iterator&) const { return false; }
  };
  iterator begin() { return {}; }
  iterator end() { return {}; }
};
Ints count_to(int n) {
  for (int i = 0; i < n; ++i) co_yield i;
}

// ============================== must flag ===================================================

rill::Task<> handler(rill::sync::mpsc::Sender<int>& tx, bool retry) {
  rill::sleep(5ms);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: the result of 'rill::sleep' is an awaitable of type 'rill::Sleep' that is discarded without co_await; the operation never runs (co_await it, or spawn it to run detached) [rill-discarded-awaitable]
  tx.send(1);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: the result of 'rill::sync::mpsc::Sender<int>::send' is an awaitable of type 'rill::sync::mpsc::SendFuture'
  flush_cache();
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: the result of 'flush_cache' is an awaitable of type 'rill::Task<>'
  if (retry) rill::sleep(1ms);
  // CHECK-MESSAGES: :[[@LINE-1]]:14: warning: the result of 'rill::sleep' is an awaitable
  co_return;
}

rill::Task<> writer(rill::net::TcpStream& s, other::Stream& o, const char* buf) {
  s.write_all(buf);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: the result of 'rill::net::TcpStream::write_all' is an awaitable of type 'rill::Task<>'
  o.write_all(buf);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: the result of 'other::Stream::write_all' is an awaitable of type 'other::WriteOp'
  co_await s.write_all(buf);       // fine
  int n = co_await o.write_all(buf);  // fine
  o.write_some_now(buf);           // fine: not an awaitable
  (void)n;
}

// Not only in coroutines: a plain function that "starts" a lazy task does nothing either.
void on_timer() {
  flush_cache();
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: the result of 'flush_cache' is an awaitable of type 'rill::Task<>'
}

// A discarded generator never runs either; it is iterated, not awaited.
void count() {
  count_to(3);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: the result of 'count_to' is a generator of type 'Ints' that is discarded without being iterated; its body never runs (iterate it, or drop the call) [rill-discarded-awaitable]
}

// ============================== must NOT flag ================================================

rill::Task<> fine(rill::sync::mpsc::Sender<int>& tx) {
  co_await rill::sleep(5ms);
  co_await tx.send(1);
  tx.try_send(2);              // not an awaitable
  rill::spawn(flush_cache());  // spawn: the handle may be dropped (detached task)
  fire_and_forget();           // eager coroutine type
  (void)rill::sleep(1ms);      // explicit discard
  auto later = flush_cache();  // kept for later
  co_await std::move(later);
  std::vector<rill::Task<>> tasks;
  tasks.emplace_back(flush_cache());  // stored: emplace_back returns a reference
  co_await std::move(tasks.back());
  for (int i : count_to(3)) (void)i;  // a generator iterated
  auto gen = count_to(2);             // kept for later
  for (int i : gen) (void)i;
}

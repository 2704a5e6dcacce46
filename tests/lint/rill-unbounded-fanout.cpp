// Fixture for rill-unbounded-fanout. Expectations are inline in clang-tidy style;
// tests/lint/check_fixture.py fails on any missing or unexpected diagnostic.
#include <algorithm>
#include <array>
#include <coroutine>
#include <cstddef>
#include <future>
#include <iterator>
#include <optional>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

// ---- Minimal fake rill API -----------------------------------------------------------------
namespace rill {
template <typename T = void>
struct Task;
namespace detail {
struct PromiseBase {
  std::suspend_always initial_suspend() noexcept { return {}; }
  std::suspend_always final_suspend() noexcept { return {}; }
  void unhandled_exception() {}
};
template <typename T>
struct Promise : PromiseBase {
  Task<T> get_return_object();
  void return_value(T) {}
};
template <>
struct Promise<void> : PromiseBase {
  Task<void> get_return_object();
  void return_void() {}
};
}  // namespace detail
template <typename T>
struct Task {
  using promise_type = detail::Promise<T>;
  bool await_ready() const noexcept { return true; }
  void await_suspend(std::coroutine_handle<>) noexcept {}
  T await_resume() {
    if constexpr (!std::is_void_v<T>) return T();
  }
};
template <typename T>
Task<T> detail::Promise<T>::get_return_object() { return {}; }
inline Task<void> detail::Promise<void>::get_return_object() { return {}; }

template <typename T>
struct JoinHandle {
  void abort() {}
  bool await_ready() const noexcept { return true; }
  void await_suspend(std::coroutine_handle<>) noexcept {}
  void await_resume() {}
};
template <typename T>
JoinHandle<T> spawn(Task<T>) { return {}; }
struct Runtime {
  template <typename T>
  JoinHandle<T> spawn(Task<T>) { return {}; }
};
template <typename T>
struct JoinSet {
  // Like the runtime's: one constructor, 0 = unbounded.
  explicit JoinSet(std::size_t max_in_flight = 0) : limit(max_in_flight) {}
  void spawn(Task<T>) {}
  Task<std::optional<int>> join_next() { return {}; }
  std::size_t limit = 0;
};
template <typename T>
Task<std::vector<int>> join_all(std::vector<Task<T>>) { return {}; }
struct Handle {};
namespace task {
// Like the runtime's: configures, then spawns (returns the task's JoinHandle).
class Builder {
 public:
  Builder& name(const char*) { return *this; }
  template <typename T>
  JoinHandle<T> spawn(Task<T>) const { return {}; }
  template <typename T>
  JoinHandle<T> spawn_on(Task<T>, const Handle&) const { return {}; }
};
}  // namespace task
template <typename Range, typename F>
Task<> for_each_concurrent(Range&&, std::size_t limit, F) { return {}; }
namespace sync {
struct SemaphorePermit {};
struct OwnedSemaphorePermit {};
struct Semaphore {
  explicit Semaphore(std::size_t n) {}
  Task<SemaphorePermit> acquire() { return {}; }
  Task<OwnedSemaphorePermit> acquire_owned() { return {}; }
};
namespace mpsc {
template <typename T>
struct Sender {};
template <typename T>
struct Receiver {};
template <typename T>
std::pair<Sender<T>, Receiver<T>> channel(std::size_t capacity) { return {}; }
template <typename T>
std::pair<Sender<T>, Receiver<T>> unbounded_channel() { return {}; }
}  // namespace mpsc
}  // namespace sync
}  // namespace rill

using rill::Task;
struct Conn {
  int fd = 0;
};
Task<> handle(Conn c) { co_return; }
Task<> handle_with_permit(Conn c, rill::sync::OwnedSemaphorePermit p) { co_return; }
Task<Conn> accept_one() { co_return Conn{}; }
Task<int> fetch(std::string url) { co_return 1; }
void worker() {}

// ============================== must flag ===================================================

Task<> spawn_per_connection(std::vector<Conn> conns) {
  for (const Conn& c : conns) {
    rill::spawn(handle(c));
    // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: 'rill::spawn' in a loop without a small constant trip count spawns unbounded concurrent work in 'spawn_per_connection'; bound it with a rill::sync::Semaphore permit moved into each task, a rill::JoinSet constructed with a limit, or rill::for_each_concurrent(range, limit, f) [rill-unbounded-fanout]
    // CHECK-NOTES: :[[@LINE-3]]:3: note: loop without a constant bound is here
  }
  co_return;
}

Task<> accept_loop() {
  while (true) {
    Conn c = co_await accept_one();
    rill::spawn(handle(c));
    // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: 'rill::spawn' in a loop without a small constant trip count spawns unbounded concurrent work in 'accept_loop'
    // CHECK-NOTES: :[[@LINE-4]]:3: note: loop without a constant bound is here
  }
}

Task<> runtime_sized(int n) {
  for (int i = 0; i < n; ++i) rill::spawn(handle(Conn{i}));
  // CHECK-MESSAGES: :[[@LINE-1]]:31: warning: 'rill::spawn' in a loop without a small constant trip count
  // CHECK-NOTES: :[[@LINE-2]]:3: note: loop without a constant bound is here
  co_return;
}

Task<> large_constant() {
  for (int i = 0; i < 1000; ++i) rill::spawn(handle(Conn{i}));
  // CHECK-MESSAGES: :[[@LINE-1]]:34: warning: 'rill::spawn' in a loop without a small constant trip count
  // CHECK-NOTES: :[[@LINE-2]]:3: note: loop without a constant bound is here
  co_return;
}

Task<> off_by_one_above_limit() {
  for (int i = 0; i <= 16; ++i) rill::spawn(handle(Conn{i}));
  // CHECK-MESSAGES: :[[@LINE-1]]:33: warning: 'rill::spawn' in a loop without a small constant trip count
  // CHECK-NOTES: :[[@LINE-2]]:3: note: loop without a constant bound is here
  co_return;
}

void threads_per_item(const std::vector<int>& items) {
  for (int item : items) {
    std::thread t(worker);
    // CHECK-MESSAGES: :[[@LINE-1]]:17: warning: 'std::thread' in a loop without a small constant trip count spawns unbounded concurrent work in 'threads_per_item'
    // CHECK-NOTES: :[[@LINE-3]]:3: note: loop without a constant bound is here
    t.detach();
    auto f = std::async(std::launch::async, worker);
    // CHECK-MESSAGES: :[[@LINE-1]]:14: warning: 'std::async' in a loop without a small constant trip count
    // CHECK-NOTES: :[[@LINE-7]]:3: note: loop without a constant bound is here
  }
}

Task<> unlimited_joinset(std::vector<Conn> conns) {
  rill::JoinSet<void> set;
  for (const Conn& c : conns) set.spawn(handle(c));
  // CHECK-MESSAGES: :[[@LINE-1]]:35: warning: 'rill::JoinSet::spawn' in a loop without a small constant trip count
  // CHECK-NOTES: :[[@LINE-2]]:3: note: loop without a constant bound is here
  co_return;
}

Task<> zero_limit_joinset(std::vector<Conn> conns) {
  rill::JoinSet<void> set(0);  // 0 means unbounded
  for (const Conn& c : conns) set.spawn(handle(c));
  // CHECK-MESSAGES: :[[@LINE-1]]:35: warning: 'rill::JoinSet::spawn' in a loop without a small constant trip count
  // CHECK-NOTES: :[[@LINE-2]]:3: note: loop without a constant bound is here
  co_return;
}

Task<> runtime_spawn(rill::Runtime& rt, int n) {
  int i = 0;
  do {
    rt.spawn(handle(Conn{i}));
    // CHECK-MESSAGES: :[[@LINE-1]]:8: warning: 'rill::Runtime::spawn' in a loop without a small constant trip count
    // CHECK-NOTES: :[[@LINE-3]]:3: note: loop without a constant bound is here
  } while (++i < n);
  co_return;
}

// The permit is dropped at the end of each iteration, so it bounds nothing.
Task<> permit_not_moved(std::vector<Conn> conns, rill::sync::Semaphore& sem) {
  for (const Conn& c : conns) {
    auto permit = co_await sem.acquire();
    rill::spawn(handle(c));
    // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: 'rill::spawn' in a loop without a small constant trip count
    // CHECK-NOTES: :[[@LINE-4]]:3: note: loop without a constant bound is here
    (void)permit;
  }
}

Task<> join_all_filled_in_loop(std::vector<std::string> urls) {
  std::vector<Task<int>> tasks;
  for (const std::string& u : urls) tasks.push_back(fetch(u));
  co_await rill::join_all(std::move(tasks));
  // CHECK-MESSAGES: :[[@LINE-1]]:12: warning: 'rill::join_all' awaits every task in 'tasks' at once, and 'tasks' is filled in a loop without a small constant trip count in 'join_all_filled_in_loop'; use rill::for_each_concurrent(range, limit, f) or a rill::JoinSet constructed with a limit [rill-unbounded-fanout]
  // CHECK-NOTES: :[[@LINE-3]]:43: note: 'tasks' is filled here
}

void make_unbounded_channel() {
  auto [tx, rx] = rill::sync::mpsc::unbounded_channel<int>();
  // CHECK-MESSAGES: :[[@LINE-1]]:19: warning: 'rill::sync::mpsc::unbounded_channel' creates an unbounded channel with no backpressure in 'make_unbounded_channel'; use a bounded channel such as rill::sync::mpsc::channel<T>(capacity) [rill-unbounded-fanout]
}

// Nested loops: reported once, for the unbounded outer loop.
Task<> nested(std::vector<std::vector<Conn>> groups) {
  for (auto& g : groups) {
    for (int i = 0; i < 2; ++i) {
      rill::spawn(handle(g[i]));
      // CHECK-MESSAGES: :[[@LINE-1]]:7: warning: 'rill::spawn' in a loop without a small constant trip count
      // CHECK-NOTES: :[[@LINE-4]]:3: note: loop without a constant bound is here
    }
  }
  co_return;
}

// Templates: reported once though instantiated twice.
template <typename T>
Task<> spawn_all(std::vector<T> xs) {
  for (auto& x : xs) rill::spawn(handle(Conn{static_cast<int>(x)}));
  // CHECK-MESSAGES: :[[@LINE-1]]:22: warning: 'rill::spawn' in a loop without a small constant trip count
  // CHECK-NOTES: :[[@LINE-2]]:3: note: loop without a constant bound is here
  co_return;
}
template Task<> spawn_all<int>(std::vector<int>);
template Task<> spawn_all<long>(std::vector<long>);

// A loop inside a lambda.
auto spawner = [](std::vector<Conn> cs) {
  for (auto& c : cs) rill::spawn(handle(c));
  // CHECK-MESSAGES: :[[@LINE-1]]:22: warning: 'rill::spawn' in a loop without a small constant trip count spawns unbounded concurrent work in 'lambda at rill-unbounded-fanout.cpp:245'
  // CHECK-NOTES: :[[@LINE-2]]:3: note: loop without a constant bound is here
};

// ============================== must NOT flag ================================================

constexpr int kWorkers = 8;

Task<> small_constant_loops() {
  for (int i = 0; i < 4; ++i) rill::spawn(handle(Conn{i}));
  for (int i = 0; i < kWorkers; ++i) rill::spawn(handle(Conn{i}));
  for (int i = 0; i <= 15; ++i) rill::spawn(handle(Conn{i}));
  std::array<int, 4> shards{1, 2, 3, 4};
  for (int s : shards) rill::spawn(handle(Conn{s}));
  for (int port : {80, 443, 8080}) rill::spawn(handle(Conn{port}));
  int fixed[3] = {1, 2, 3};
  for (int f : fixed) rill::spawn(handle(Conn{f}));
  while (false) rill::spawn(handle(Conn{}));
  co_return;
}

Task<> permit_moved_into_task(std::vector<Conn> conns, rill::sync::Semaphore& sem) {
  for (const Conn& c : conns) {
    auto permit = co_await sem.acquire_owned();
    rill::spawn(handle_with_permit(c, std::move(permit)));
  }
}

Task<> permit_captured(std::vector<Conn> conns, rill::sync::Semaphore& sem) {
  for (const Conn& c : conns) {
    rill::sync::OwnedSemaphorePermit permit = co_await sem.acquire_owned();
    rill::spawn([p = std::move(permit), c]() -> Task<> {
      co_await handle(c);
    }());
  }
}

Task<> limited_joinset(std::vector<Conn> conns) {
  rill::JoinSet<void> set(8);
  for (const Conn& c : conns) set.spawn(handle(c));
  co_return;
}

// A JoinSet drained inside the loop keeps a bounded number of tasks in flight.
Task<> drained_joinset(std::vector<Conn> conns) {
  rill::JoinSet<void> set;
  for (const Conn& c : conns) {
    if (set.limit >= 8) co_await set.join_next();
    set.spawn(handle(c));
  }
}

struct Pool {
  Pool() : set(16) {}
  rill::JoinSet<void> set;
  void run(std::vector<Conn> conns) {
    for (const Conn& c : conns) set.spawn(handle(c));
  }
};

Task<> concurrent_algorithm(std::vector<Conn> conns) {
  co_await rill::for_each_concurrent(conns, 8, [](Conn c) { return handle(c); });
}

Task<> no_loop(Conn c) {
  rill::spawn(handle(c));
  std::thread t(worker);
  t.join();
  co_return;
}

Task<> join_all_small(std::string a, std::string b) {
  std::vector<Task<int>> tasks;
  tasks.push_back(fetch(a));
  tasks.push_back(fetch(b));
  for (int i = 0; i < 3; ++i) tasks.push_back(fetch(a));
  co_await rill::join_all(std::move(tasks));
}

void bounded_channel() {
  auto [tx, rx] = rill::sync::mpsc::channel<int>(64);
}

void default_thread_objects(int n) {
  for (int i = 0; i < n; ++i) {
    std::thread idle;  // no thread is started
    (void)idle;
  }
}

// Work finished within the same iteration (concurrency 1) is not fan-out: a spawn awaited
// directly or through its handle, a thread joined, a future waited for in the same body.
Task<> spawn_and_await_each(std::vector<Conn> conns) {
  for (Conn& c : conns) co_await rill::spawn(handle(c));
  for (Conn& c : conns) {
    auto h = rill::spawn(handle(c));
    co_await h;
  }
}
void thread_joined_each(const std::vector<int>& items) {
  for (int item : items) {
    std::thread t(worker);
    t.join();
    auto f = std::async(std::launch::async, worker);
    f.get();
  }
}
// ... but a handle awaited only after the loop is fan-out.
Task<> spawn_then_await_later(std::vector<Conn> conns) {
  rill::JoinHandle<void> last;
  for (Conn& c : conns) last = rill::spawn(handle(c));
  // CHECK-MESSAGES: :[[@LINE-1]]:32: warning: 'rill::spawn' in a loop without a small constant trip count spawns unbounded concurrent work in 'spawn_then_await_later'
  // CHECK-NOTES: :[[@LINE-2]]:3: note: loop without a constant bound is here
  co_await last;
}

// ---- Fan-out that is not a spawn call written in a loop ----------------------------------------

// for_each_concurrent's limit 0 means "no limit": every element's work starts at once.
Task<> for_each_concurrent_unlimited(std::vector<Conn> conns) {
  co_await rill::for_each_concurrent(conns, 0, [](Conn c) { return handle(c); });
  // CHECK-MESSAGES: :[[@LINE-1]]:45: warning: 'rill::for_each_concurrent' with a limit of 0 runs the work for every element at once in 'for_each_concurrent_unlimited' (0 means no limit); pass a positive limit [rill-unbounded-fanout]
}
Task<> for_each_concurrent_limited(std::vector<Conn> conns, std::size_t limit) {
  co_await rill::for_each_concurrent(conns, 16, [](Conn c) { return handle(c); });
  co_await rill::for_each_concurrent(conns, limit, [](Conn c) { return handle(c); });
}

// rill::task::Builder spawns like rill::spawn.
Task<> builder_spawn_per_item(std::vector<Conn> conns, const rill::Handle& h) {
  for (const Conn& c : conns) rill::task::Builder().name("conn").spawn(handle(c));
  // CHECK-MESSAGES: :[[@LINE-1]]:66: warning: 'rill::task::Builder::spawn' in a loop without a small constant trip count spawns unbounded concurrent work in 'builder_spawn_per_item'
  // CHECK-NOTES: :[[@LINE-2]]:3: note: loop without a constant bound is here
  for (const Conn& c : conns) rill::task::Builder().spawn_on(handle(c), h);
  // CHECK-MESSAGES: :[[@LINE-1]]:53: warning: 'rill::task::Builder::spawn_on' in a loop without a small constant trip count
  // CHECK-NOTES: :[[@LINE-2]]:3: note: loop without a constant bound is here
  co_return;
}
// ... but awaiting each Builder spawn before the next is concurrency 1.
Task<> builder_spawn_awaited_each(std::vector<Conn> conns) {
  for (const Conn& c : conns) co_await rill::task::Builder().name("conn").spawn(handle(c));
  for (const Conn& c : conns) {
    auto h = rill::task::Builder().name("conn").spawn(handle(c));
    co_await h;
  }
}

// A std::thread per input item, constructed inside the container.
void thread_per_item_in_vector(const std::vector<int>& items) {
  std::vector<std::thread> threads;
  for (int item : items) threads.emplace_back(worker);
  // CHECK-MESSAGES: :[[@LINE-1]]:34: warning: 'std::thread' in a loop without a small constant trip count spawns unbounded concurrent work in 'thread_per_item_in_vector'
  // CHECK-NOTES: :[[@LINE-2]]:3: note: loop without a constant bound is here
  for (int item : items) threads.push_back(std::thread(worker));
  // CHECK-MESSAGES: :[[@LINE-1]]:44: warning: 'std::thread' in a loop without a small constant trip count
  // CHECK-NOTES: :[[@LINE-2]]:3: note: loop without a constant bound is here
  std::vector<std::jthread> workers;
  for (int item : items) workers.emplace_back([item] { (void)item; });
  // CHECK-MESSAGES: :[[@LINE-1]]:34: warning: 'std::jthread' in a loop without a small constant trip count
  // CHECK-NOTES: :[[@LINE-2]]:3: note: loop without a constant bound is here
  for (auto& t : threads) t.join();
}
void threads_bounded_or_moved(const std::vector<int>& items) {
  std::vector<std::thread> pool;
  for (int i = 0; i < kWorkers; ++i) pool.emplace_back(worker);
  std::vector<std::thread> moved;
  for (auto& t : pool) moved.emplace_back(std::move(t));  // moves running threads, starts none
  std::vector<int> copies;
  for (int item : items) copies.emplace_back(item);
  for (auto& t : moved) t.join();
}

// A thread pool starting its workers: the count is configured, not one per input element.
struct WorkerPool {
  explicit WorkerPool(std::size_t n) : size_(n) {
    for (std::size_t i = 0; i < size_; ++i) threads_.emplace_back(worker);
    for (unsigned i = 0; i < std::thread::hardware_concurrency(); ++i)
      threads_.push_back(std::thread(worker));
  }
  void grow(int extra) {
    for (int i = 0; i != extra; ++i) threads_.emplace_back(worker);
  }
  std::size_t size_;
  std::vector<std::thread> threads_;
};

// Counting up to a container's size is one thread per element, and so is a pool loop nested in
// a loop over items.
void threads_per_index(const std::vector<int>& items, int per_item) {
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < items.size(); ++i) threads.emplace_back(worker);
  // CHECK-MESSAGES: :[[@LINE-1]]:58: warning: 'std::thread' in a loop without a small constant trip count
  // CHECK-NOTES: :[[@LINE-2]]:3: note: loop without a constant bound is here
  for (int item : items)
    for (int k = 0; k < per_item; ++k) threads.emplace_back(worker);
  // CHECK-MESSAGES: :[[@LINE-1]]:48: warning: 'std::thread' in a loop without a small constant trip count
  // CHECK-NOTES: :[[@LINE-2]]:5: note: loop without a constant bound is here
  for (auto& t : threads) t.join();
}

// Spawning from a std::for_each / std::ranges::for_each lambda: once per element.
Task<> spawn_in_for_each(std::vector<Conn> conns) {
  std::for_each(conns.begin(), conns.end(), [](const Conn& c) { rill::spawn(handle(c)); });
  // CHECK-MESSAGES: :[[@LINE-1]]:65: warning: 'rill::spawn' in a loop without a small constant trip count spawns unbounded concurrent work in 'lambda at rill-unbounded-fanout.cpp:449'
  // CHECK-NOTES: :[[@LINE-2]]:3: note: 'std::for_each' runs it for every element of a range without a small constant size here
  std::ranges::for_each(conns, [](const Conn& c) { rill::spawn(handle(c)); });
  // CHECK-MESSAGES: :[[@LINE-1]]:52: warning: 'rill::spawn' in a loop without a small constant trip count
  // CHECK-NOTES: :[[@LINE-2]]:3: note: 'std::ranges::for_each' runs it for every element of a range without a small constant size here
  co_return;
}
Task<> for_each_bounded(std::vector<int> items) {
  std::array<Conn, 4> shards{};
  std::ranges::for_each(shards, [](const Conn& c) { rill::spawn(handle(c)); });
  std::for_each(std::begin(shards), std::end(shards), [](const Conn& c) { rill::spawn(handle(c)); });
  std::for_each(items.begin(), items.end(), [](int) {
    std::thread t(worker);
    t.join();
  });
  std::ranges::for_each(items, [](int i) { (void)i; });
  co_return;
}

// join_all over a vector filled by a transform of the input.
Task<> join_all_transformed(std::vector<std::string> urls) {
  std::vector<Task<int>> tasks;
  std::ranges::transform(urls, std::back_inserter(tasks), [](const std::string& u) { return fetch(u); });
  co_await rill::join_all(std::move(tasks));
  // CHECK-MESSAGES: :[[@LINE-1]]:12: warning: 'rill::join_all' awaits every task in 'tasks' at once, and 'tasks' is filled by 'std::ranges::transform' over a range without a small constant size in 'join_all_transformed'; use rill::for_each_concurrent(range, limit, f) or a rill::JoinSet constructed with a limit [rill-unbounded-fanout]
  // CHECK-NOTES: :[[@LINE-3]]:3: note: 'tasks' is filled here
  std::vector<Task<int>> more;
  std::transform(urls.begin(), urls.end(), std::back_inserter(more), fetch);
  co_await rill::join_all(std::move(more));
  // CHECK-MESSAGES: :[[@LINE-1]]:12: warning: 'rill::join_all' awaits every task in 'more' at once, and 'more' is filled by 'std::transform' over a range without a small constant size
  // CHECK-NOTES: :[[@LINE-3]]:3: note: 'more' is filled here
}
Task<> join_all_transformed_small(std::array<std::string, 3> mirrors, std::vector<std::string> urls) {
  std::vector<Task<int>> tasks;
  std::ranges::transform(mirrors, std::back_inserter(tasks), fetch);
  co_await rill::join_all(std::move(tasks));
  std::vector<std::size_t> sizes;  // not tasks: nothing is awaited at once
  std::ranges::transform(urls, std::back_inserter(sizes), [](const std::string& u) { return u.size(); });
}

// An unbounded channel created in a member initializer.
using IntChannel = std::pair<rill::sync::mpsc::Sender<int>, rill::sync::mpsc::Receiver<int>>;
struct Hub {
  Hub() : events(rill::sync::mpsc::unbounded_channel<int>()) {}
  // CHECK-MESSAGES: :[[@LINE-1]]:18: warning: 'rill::sync::mpsc::unbounded_channel' creates an unbounded channel with no backpressure in 'Hub::Hub'; use a bounded channel such as rill::sync::mpsc::channel<T>(capacity) [rill-unbounded-fanout]
  IntChannel events;
};
struct Bus {
  IntChannel ch = rill::sync::mpsc::unbounded_channel<int>();
  // CHECK-MESSAGES: :[[@LINE-1]]:19: warning: 'rill::sync::mpsc::unbounded_channel' creates an unbounded channel with no backpressure in 'Bus'
};
struct BoundedHub {
  BoundedHub() : events(rill::sync::mpsc::channel<int>(64)) {}
  IntChannel events;
  IntChannel more = rill::sync::mpsc::channel<int>(8);
};

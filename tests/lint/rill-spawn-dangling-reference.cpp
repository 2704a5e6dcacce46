// Fixture for rill-spawn-dangling-reference. Expectations are inline in clang-tidy style;
// tests/lint/check_fixture.py fails on any missing or unexpected diagnostic. Must-flag and
// must-not-flag cases sit side by side.
#include <array>
#include <atomic>
#include <coroutine>
#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

// ---- Minimal fake rill API (the same shapes as runtime/include/rill) ----------------------
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
  Task() = default;
  Task(Task&&) noexcept {}
  ~Task() {}
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
  JoinHandle() = default;
  JoinHandle(JoinHandle&&) noexcept {}
  ~JoinHandle() {}
  void abort() {}
  bool await_ready() const noexcept { return true; }
  void await_suspend(std::coroutine_handle<>) noexcept {}
  T await_resume() {
    if constexpr (!std::is_void_v<T>) return T();
  }
};
template <typename T>
JoinHandle<T> spawn(Task<T>) { return {}; }
template <typename F, typename R = std::invoke_result_t<std::decay_t<F>&>>
JoinHandle<R> spawn_blocking(F&&) { return {}; }
template <typename T>
Task<std::vector<T>> join_all(std::vector<JoinHandle<T>>) { co_return {}; }

struct Runtime {
  template <typename T>
  JoinHandle<T> spawn(Task<T>) { return {}; }
};
struct AbortHandle {};
template <typename T>
struct JoinSet {
  struct Spawn {
    bool await_ready() const noexcept { return true; }
    void await_suspend(std::coroutine_handle<>) noexcept {}
    AbortHandle await_resume() { return {}; }
  };
  Spawn spawn(Task<T>) { return {}; }
  Task<std::optional<T>> join_next() { co_return {}; }
  Task<void> shutdown() { co_return; }
};
struct TaskTracker {
  template <typename T>
  JoinHandle<T> spawn(Task<T>) { return {}; }
  void close() {}
  Task<void> wait() { co_return; }
};
namespace task {
struct Builder {
  Builder& name(std::string_view) { return *this; }
  template <typename T>
  JoinHandle<T> spawn(Task<T>) const { return {}; }
};
}  // namespace task
namespace net {
struct TcpStream {
  Task<std::size_t> read(std::span<char>) { co_return 0; }
  Task<void> write_all(std::string_view) { co_return; }
};
}  // namespace net
}  // namespace rill

using rill::Task;
using rill::net::TcpStream;

// ---- Service code under test --------------------------------------------------------------
struct Request {
  std::string method, path, body;
};
struct Config {
  int timeout_ms = 1000;
  std::string name;
};
struct Stats {
  std::atomic<long> served{0};
};
Task<void> handle(TcpStream conn, std::string_view payload) { co_return; }
Task<void> handle_request(TcpStream conn, const Request& req) { co_return; }
Task<void> handle_owned(TcpStream conn, Request req) { co_return; }
Task<void> count_into(Stats* stats) { co_return; }
Task<void> count_ref(Stats& stats) { co_return; }
Task<int> fetch(const std::string& url) { co_return 1; }
Task<int> fetch_owned(std::string url) { co_return 1; }
Task<void> checksum(std::span<const char> data) { co_return; }
Task<void> log_line(const std::string& line) { co_return; }
Task<void> shared_counter(std::shared_ptr<Stats> stats) { co_return; }
Task<TcpStream> accept_one() { co_return TcpStream{}; }
long crc(const char* p, std::size_t n) { return n; }

// A guard that reports into a counter of the spawner (the demo's shutdown bug).
struct ConnectionGuard {
  explicit ConnectionGuard(std::atomic<int>& active) : active(active) { ++active; }
  ConnectionGuard(ConnectionGuard&& o) noexcept : active(o.active) {}
  ~ConnectionGuard() { --active; }
  std::atomic<int>& active;
};
Task<void> serve_guarded(TcpStream conn, ConnectionGuard guard) { co_return; }

class Session {
 public:
  Task<void> run() { co_return; }
  Task<void> send(std::string_view text) { co_return; }
  void start_detached();
  Task<void> pump();
  void start_with_lambda();
 private:
  std::string greeting_ = "hi";
};

// ============================== must flag ==================================================

// A request handler that spawns the reply with a view of its own buffer.
Task<void> read_and_dispatch(TcpStream conn) {
  char buf[4096];
  std::size_t n = co_await conn.read(buf);
  rill::spawn(handle(std::move(conn), std::string_view(buf, n)));
  // CHECK-MESSAGES: :[[@LINE-1]]:39: warning: 'rill::spawn' starts a task that can outlive 'read_and_dispatch' but refers to its local 'buf' through parameter 'payload' of 'handle' (std::string_view); pass it by value (move it in), share it with std::shared_ptr, or co_await the task before 'buf' goes out of scope [rill-spawn-dangling-reference]
}

// The connection loop keeps one std::string per iteration; the task sees it by reference.
Task<void> connection_loop() {
  for (;;) {
    TcpStream conn = co_await accept_one();
    Request req;
    req.path = "/";
    rill::spawn(handle_request(std::move(conn), req));
    // CHECK-MESSAGES: :[[@LINE-1]]:49: warning: 'rill::spawn' starts a task that can outlive 'connection_loop' but refers to its local 'req' through parameter 'req' of 'handle_request' (const Request &)
  }
}

// std::string -> std::string_view conversion of a local.
Task<void> reply_with_local_string(TcpStream conn) {
  std::string body = "hello";
  rill::spawn(handle(std::move(conn), body));
  // CHECK-MESSAGES: :[[@LINE-1]]:39: warning: 'rill::spawn' starts a task that can outlive 'reply_with_local_string' but refers to its local 'body' through parameter 'payload' of 'handle' (std::string_view)
  co_return;
}

// Fan-out over a vector of strings, the handles are dropped (detached).
Task<void> fanout_detached() {
  std::vector<std::string> urls = {"a", "b"};
  for (const std::string& u : urls) rill::spawn(fetch(u));
  // CHECK-MESSAGES: :[[@LINE-1]]:55: warning: 'rill::spawn' starts a task that can outlive 'fanout_detached' but refers to its local 'urls' through parameter 'url' of 'fetch' (const std::string &)
  co_return;
}

// Fan-out where the handles are joined outside the scope of the per-iteration string.
Task<void> fanout_join_too_late(std::vector<std::string> hosts) {
  std::vector<rill::JoinHandle<int>> hs;
  for (const std::string& h : hosts) {
    std::string url = "http://" + h;
    hs.push_back(rill::spawn(fetch(url)));
    // CHECK-MESSAGES: :[[@LINE-1]]:36: warning: 'rill::spawn' starts a task that can outlive 'fanout_join_too_late' but refers to its local 'url' through parameter 'url' of 'fetch' (const std::string &)
  }
  co_await rill::join_all(std::move(hs));
}

// A temporary std::string bound to const std::string&.
Task<void> temporary_string() {
  rill::spawn(log_line("starting"));
  // CHECK-MESSAGES: :[[@LINE-1]]:24: warning: 'rill::spawn' starts a task that refers to a temporary destroyed at the end of the statement through parameter 'line' of 'log_line' (const std::string &); pass it by value
  co_return;
}

// A pointer and a reference to a stats block of the spawner.
Task<void> stats_by_pointer() {
  Stats stats;
  rill::spawn(count_into(&stats));
  // CHECK-MESSAGES: :[[@LINE-1]]:26: warning: 'rill::spawn' starts a task that can outlive 'stats_by_pointer' but refers to its local 'stats' through parameter 'stats' of 'count_into' (Stats *)
  rill::spawn(count_ref(stats));
  // CHECK-MESSAGES: :[[@LINE-1]]:25: warning: 'rill::spawn' starts a task that can outlive 'stats_by_pointer' but refers to its local 'stats' through parameter 'stats' of 'count_ref' (Stats &)
  co_return;
}

// std::span over a local vector.
Task<void> span_of_local() {
  std::vector<char> data(64);
  rill::spawn(checksum(data));
  // CHECK-MESSAGES: :[[@LINE-1]]:24: warning: 'rill::spawn' starts a task that can outlive 'span_of_local' but refers to its local 'data' through parameter 'data' of 'checksum' (std::span<const char>)
  co_return;
}

// A by-value parameter of the spawner lives in its frame.
Task<void> forward_body(std::string body) {
  rill::spawn(log_line(body));
  // CHECK-MESSAGES: :[[@LINE-1]]:24: warning: 'rill::spawn' starts a task that can outlive 'forward_body' but refers to its by-value parameter 'body' through parameter 'line' of 'log_line' (const std::string &)
  co_return;
}

// An element of a local container, through operator[].
Task<void> element_of_local(std::map<std::string, std::string> headers) {
  std::vector<std::string> lines = {"x"};
  rill::spawn(log_line(lines[0]));
  // CHECK-MESSAGES: :[[@LINE-1]]:24: warning: 'rill::spawn' starts a task that can outlive 'element_of_local' but refers to its local 'lines' through parameter 'line' of 'log_line' (const std::string &)
  co_return;
}

// A member of a local struct.
Task<void> member_of_local() {
  Config cfg;
  rill::spawn(log_line(cfg.name));
  // CHECK-MESSAGES: :[[@LINE-1]]:24: warning: 'rill::spawn' starts a task that can outlive 'member_of_local' but refers to its local 'cfg' through parameter 'line' of 'log_line' (const std::string &)
  co_return;
}

// The guard holds a reference to the spawner's counter.
Task<void> accept_with_guard() {
  std::atomic<int> active{0};
  for (;;) {
    TcpStream conn = co_await accept_one();
    rill::spawn(serve_guarded(std::move(conn), ConnectionGuard(active)));
    // CHECK-MESSAGES: :[[@LINE-1]]:48: warning: 'rill::spawn' starts a task that can outlive 'accept_with_guard' but refers to its local 'active' through parameter 'guard' of 'serve_guarded' (ConnectionGuard)
  }
}

// A member coroutine called on a local object: `this` dangles.
Task<void> session_on_the_stack() {
  Session s;
  rill::spawn(s.run());
  // CHECK-MESSAGES: :[[@LINE-1]]:15: warning: 'rill::spawn' starts a task that can outlive 'session_on_the_stack' but refers to its local 's' through 'this' of 'Session::run'
  co_return;
}

// A coroutine lambda capturing locals by reference.
Task<void> lambda_by_reference() {
  int retries = 3;
  std::string host = "db";
  rill::spawn([&]() -> Task<void> {
  // CHECK-MESSAGES: :[[@LINE-1]]:16: warning: 'rill::spawn' starts a task that can outlive 'lambda_by_reference' but refers to its local 'retries' through a capture by reference
    (void)retries;
    (void)host;
    co_return;
  }());
  rill::spawn([&host]() -> Task<void> { co_return; }());
  // CHECK-MESSAGES: :[[@LINE-1]]:17: warning: 'rill::spawn' starts a task that can outlive 'lambda_by_reference' but refers to its local 'host' through a capture by reference
  co_return;
}

// A capturing coroutine lambda called on its temporary closure: the copies die with it.
Task<void> lambda_by_copy_coroutine(std::shared_ptr<Stats> stats) {
  rill::spawn([stats]() -> Task<void> {
  // CHECK-MESSAGES: :[[@LINE-1]]:15: warning: 'rill::spawn' starts a coroutine lambda whose captures live in a temporary closure destroyed at the end of the statement; pass the values as parameters of a capture-less lambda
    ++stats->served;
    co_return;
  }());
  co_return;
}

// Capturing only `this` still reads `this` from the dead closure.
void Session::start_with_lambda() {
  rill::spawn([this]() -> Task<void> { co_await run(); }());
  // CHECK-MESSAGES: :[[@LINE-1]]:15: warning: 'rill::spawn' starts a coroutine lambda whose captures live in a temporary closure destroyed at the end of the statement
}

// spawn_blocking with a by-reference lambda.
Task<void> blocking_by_reference() {
  std::vector<char> file(1024);
  long sum = 0;
  rill::spawn_blocking([&] { sum = crc(file.data(), file.size()); });
  // CHECK-MESSAGES: :[[@LINE-1]]:25: warning: 'rill::spawn_blocking' starts a task that can outlive 'blocking_by_reference' but refers to its local 'sum' through a capture by reference
  co_return;
}

// spawn_blocking with a pointer captured by copy.
Task<void> blocking_pointer_copy() {
  std::vector<char> file(1024);
  const char* p = file.data();
  rill::spawn_blocking([p] { return crc(p, 1); });
  // CHECK-MESSAGES: :[[@LINE-1]]:25: warning: 'rill::spawn_blocking' starts a task that can outlive 'blocking_pointer_copy' but refers to its local 'file' through the captured 'p'
  co_return;
}

// JoinSet::spawn is an awaitable that starts the task: awaiting it does not join it.
Task<void> joinset_started_not_joined() {
  rill::JoinSet<int> set;
  std::string url = "u";
  co_await set.spawn(fetch(url));
  // CHECK-MESSAGES: :[[@LINE-1]]:28: warning: 'rill::JoinSet::spawn' starts a task that can outlive 'joinset_started_not_joined' but refers to its local 'url' through parameter 'url' of 'fetch' (const std::string &)
  co_return;
}

// TaskTracker and task::Builder spawns.
Task<void> tracker_and_builder(rill::TaskTracker& tracker) {
  std::string name = "conn";
  tracker.spawn(log_line(name));
  // CHECK-MESSAGES: :[[@LINE-1]]:26: warning: 'rill::TaskTracker::spawn' starts a task that can outlive 'tracker_and_builder' but refers to its local 'name' through parameter 'line' of 'log_line' (const std::string &)
  rill::task::Builder().name("logger").spawn(log_line(name));
  // CHECK-MESSAGES: :[[@LINE-1]]:55: warning: 'rill::task::Builder::spawn' starts a task that can outlive 'tracker_and_builder' but refers to its local 'name' through parameter 'line' of 'log_line' (const std::string &)
  co_return;
}

// The task is stored in a local first.
Task<void> task_in_local() {
  std::string line = "x";
  auto t = log_line(line);
  // CHECK-MESSAGES: :[[@LINE-1]]:21: warning: 'rill::spawn' starts a task that can outlive 'task_in_local' but refers to its local 'line' through parameter 'line' of 'log_line' (const std::string &)
  rill::spawn(std::move(t));
  co_return;
}

// A plain (non-coroutine) function that spawns also returns before the task runs.
void start_logger() {
  std::string prefix = "log: ";
  rill::spawn(log_line(prefix));
  // CHECK-MESSAGES: :[[@LINE-1]]:24: warning: 'rill::spawn' starts a task that can outlive 'start_logger' but refers to its local 'prefix' through parameter 'line' of 'log_line' (const std::string &)
}

// A view variable initialized from a local string, passed on.
Task<void> view_of_local_string(TcpStream conn) {
  std::string text = "payload";
  std::string_view view = text;
  rill::spawn(handle(std::move(conn), view));
  // CHECK-MESSAGES: :[[@LINE-1]]:39: warning: 'rill::spawn' starts a task that can outlive 'view_of_local_string' but refers to its local 'text' through parameter 'payload' of 'handle' (std::string_view)
  co_return;
}

// A view of a temporary string.
Task<void> view_of_temporary(TcpStream conn) {
  rill::spawn(handle(std::move(conn), std::string("tmp")));
  // CHECK-MESSAGES: :[[@LINE-1]]:39: warning: 'rill::spawn' starts a task that refers to a temporary destroyed at the end of the statement through parameter 'payload' of 'handle' (std::string_view); pass it by value
  co_return;
}

// A span over a local std::array, and a pointer from a local unique_ptr.
Task<void> array_and_unique_ptr() {
  std::array<char, 16> scratch{};
  rill::spawn(checksum(scratch));
  // CHECK-MESSAGES: :[[@LINE-1]]:24: warning: 'rill::spawn' starts a task that can outlive 'array_and_unique_ptr' but refers to its local 'scratch' through parameter 'data' of 'checksum' (std::span<const char>)
  auto stats = std::make_unique<Stats>();
  rill::spawn(count_into(stats.get()));
  // CHECK-MESSAGES: :[[@LINE-1]]:26: warning: 'rill::spawn' starts a task that can outlive 'array_and_unique_ptr' but refers to its local 'stats' through parameter 'stats' of 'count_into' (Stats *)
  co_return;
}

// A reference init-capture and a structured binding captured by reference.
Task<void> init_capture_by_reference() {
  std::vector<char> file(8);
  rill::spawn_blocking([&f = file] { return f.size(); });
  // CHECK-MESSAGES: :[[@LINE-1]]:26: warning: 'rill::spawn_blocking' starts a task that can outlive 'init_capture_by_reference' but refers to its local 'file' through a capture by reference
  auto [name, size] = std::pair<std::string, int>("n", 1);
  rill::spawn_blocking([&name] { return name.size(); });
  // CHECK-MESSAGES: :[[@LINE-1]]:26: warning: 'rill::spawn_blocking' starts a task that can outlive 'init_capture_by_reference' but refers to its local 'name' through a capture by reference
  co_return;
}

// A member coroutine of an element of a local vector.
Task<void> session_in_local_vector() {
  std::vector<Session> sessions(2);
  for (auto& s : sessions) rill::spawn(s.run());
  // CHECK-MESSAGES: :[[@LINE-1]]:40: warning: 'rill::spawn' starts a task that can outlive 'session_in_local_vector' but refers to its local 'sessions' through 'this' of 'Session::run'
  co_return;
}

// A runtime declared before the referent outlives it (and the task).
void runtime_outlives_referent() {
  rill::Runtime rt;
  Stats stats;
  rt.spawn(count_ref(stats));
  // CHECK-MESSAGES: :[[@LINE-1]]:22: warning: 'rill::Runtime::spawn' starts a task that can outlive 'runtime_outlives_referent' but refers to its local 'stats' through parameter 'stats' of 'count_ref' (Stats &)
}

// A plain (non-coroutine) lambda called in place, whose task refers to a capture by reference,
// and a spawn_blocking lambda that captures a pointer to a local object.
Task<void> plain_lambda_returns_task() {
  std::string name = "x";
  rill::spawn([&] { return log_line(name); }());
  // CHECK-MESSAGES: :[[@LINE-1]]:16: warning: 'rill::spawn' starts a task that can outlive 'plain_lambda_returns_task' but refers to its local 'name' through a capture by reference
  Stats stats;
  rill::spawn_blocking([ps = &stats] { return ps->served.load(); });
  // CHECK-MESSAGES: :[[@LINE-1]]:25: warning: 'rill::spawn_blocking' starts a task that can outlive 'plain_lambda_returns_task' but refers to its local 'stats' through the captured 'ps'
  co_return;
}

// A handle variable that is never awaited.
Task<void> handle_not_awaited() {
  std::string url = "u";
  auto h = rill::spawn(fetch(url));
  // CHECK-MESSAGES: :[[@LINE-1]]:30: warning: 'rill::spawn' starts a task that can outlive 'handle_not_awaited' but refers to its local 'url' through parameter 'url' of 'fetch' (const std::string &)
  h.abort();
  co_return;
}

// ============================== must not flag ==============================================

// Values moved into by-value parameters.
Task<void> moved_in(TcpStream conn) {
  Request req;
  std::string url = "u";
  rill::spawn(handle_owned(std::move(conn), std::move(req)));
  rill::spawn(fetch_owned(url));  // copied
  co_return;
}

// String literals and statics outlive everything.
static Stats g_stats;
Task<void> statics_and_literals(TcpStream conn) {
  static std::string banner = "rill";
  rill::spawn(handle(std::move(conn), "literal view"));
  rill::spawn(log_line(banner));
  rill::spawn(count_ref(g_stats));
  rill::spawn(count_into(&g_stats));
  co_return;
}

// A span over static storage.
static const char kBanner[] = "rill";
Task<void> span_of_static() {
  rill::spawn(checksum(kBanner));
  co_return;
}

// shared_ptr copies keep the object alive.
Task<void> shared_ownership() {
  auto stats = std::make_shared<Stats>();
  rill::spawn(shared_counter(stats));
  co_return;
}

// Reference parameters of the spawner: their referent belongs to the caller (the demo server
// passes `app` and the options that way).
Task<void> borrowed_from_caller(const Config& cfg, Stats& stats) {
  rill::spawn(log_line(cfg.name));
  rill::spawn(count_ref(stats));
  co_return;
}

// Spawn awaited directly.
Task<void> awaited_directly() {
  std::string url = "u";
  int n = co_await rill::spawn(fetch(url));
  (void)n;
}

// The handle is awaited in the same scope.
Task<void> awaited_handle() {
  std::string url = "u";
  auto h = rill::spawn(fetch(url));
  int n = co_await h;
  (void)n;
}

// Fan-out over a vector of strings, joined with join_all before the vector dies.
Task<void> fanout_joined(std::vector<std::string> urls) {
  std::vector<rill::JoinHandle<int>> hs;
  for (const std::string& u : urls) hs.push_back(rill::spawn(fetch(u)));
  co_await rill::join_all(std::move(hs));
}

// Fan-out joined by awaiting each handle.
Task<void> fanout_joined_one_by_one() {
  std::vector<std::string> urls = {"a", "b"};
  std::vector<rill::JoinHandle<int>> hs;
  for (const auto& u : urls) hs.push_back(rill::spawn(fetch(u)));
  for (auto& h : hs) co_await h;
}

// A JoinSet drained with join_next before the referents die.
Task<void> joinset_drained() {
  std::vector<std::string> urls = {"a", "b"};
  rill::JoinSet<int> set;
  for (const auto& u : urls) co_await set.spawn(fetch(u));
  while (co_await set.join_next()) {
  }
}

// A TaskTracker waited for in the same scope.
Task<void> tracker_waited() {
  Stats stats;
  rill::TaskTracker tracker;
  tracker.spawn(count_ref(stats));
  tracker.close();
  co_await tracker.wait();
}

// Capture-less coroutine lambdas with parameters (the runtime's own idiom).
Task<void> captureless_lambda(std::shared_ptr<Stats> stats) {
  rill::spawn([](std::shared_ptr<Stats> s) -> Task<void> {
    ++s->served;
    co_return;
  }(stats));
  co_return;
}

// spawn_blocking with values captured by copy or moved in.
Task<std::size_t> blocking_by_value(std::string password) {
  std::vector<char> file(16);
  co_await rill::spawn_blocking([pw = std::move(password), file] { return pw.size() + file.size(); });
  auto h = rill::spawn_blocking([&file] { return file.size(); });
  co_return co_await h;  // joined before `file` dies
}

// A member coroutine: `this` is not followed (the object's lifetime is unknown here).
void Session::start_detached() { rill::spawn(run()); }
Task<void> Session::pump() {
  rill::spawn(send(greeting_));
  co_return;
}

// A session owned by a shared_ptr.
Task<void> session_shared() {
  auto s = std::make_shared<Session>();
  rill::spawn(s->run());
  co_return;
}

// A view that was passed in: its referent belongs to the caller.
Task<void> view_param(TcpStream conn, std::string_view payload) {
  rill::spawn(handle(std::move(conn), payload));
  co_return;
}

// Elements of a vector the caller owns.
Task<void> fanout_over_callers_vector(const std::vector<std::string>& urls) {
  for (const std::string& u : urls) rill::spawn(fetch(u));
  co_return;
}

// A view of a string literal, through a local view variable.
Task<void> literal_view_variable(TcpStream conn) {
  std::string_view banner = "rill/1.0";
  rill::spawn(handle(std::move(conn), banner));
  co_return;
}

// A JoinSet shut down before the referent dies.
Task<void> joinset_shutdown() {
  std::string url = "u";
  rill::JoinSet<int> set;
  co_await set.spawn(fetch(url));
  co_await set.shutdown();
}

// A spawn in a lambda that runs inside the spawner: the lambda's own locals are checked, the
// enclosing function's are not the lambda's to judge.
Task<void> spawn_inside_callback(std::vector<std::string> names) {
  auto each = [](const std::vector<std::string>& v) {
    for (const auto& n : v) rill::spawn(fetch_owned(n));
  };
  each(names);
  co_return;
}

// A runtime declared after the referent is destroyed first, with its tasks.
void runtime_destroyed_first() {
  Stats stats;
  rill::Runtime rt;
  rt.spawn(count_ref(stats));
}

// Not a spawn function: a local helper of the same name in another namespace.
namespace other {
template <typename T>
void spawn(Task<T>) {}
}  // namespace other
Task<void> not_rill_spawn() {
  std::string line = "x";
  other::spawn(log_line(line));
  co_return;
}

// ============================== the spawner, found in macros and default arguments ===========

// Two lambdas and then the function itself spawn, all inside one macro expansion (so every
// location is the macro's): the function's spawn is judged in the function, not in the lambdas
// written before it.
#define DEFINE_STARTER(name, body) \
  void name() { body }
DEFINE_STARTER(start_from_macro,
               auto first = [] {
                 std::string a = "a";
                 rill::spawn(fetch_owned(a));
               };
               auto second = [] {
                 std::string b = "b";
                 rill::spawn(fetch_owned(b));
               };
               first(); second(); std::string c = "c";
               rill::spawn(log_line(c));)
// CHECK-MESSAGES: :[[@LINE-11]]:1: warning: 'rill::spawn' starts a task that can outlive 'start_from_macro' but refers to its local 'c'

// A spawn in a default argument (outside any function body).
void start_with_default(rill::JoinHandle<void> h = rill::spawn(log_line("default"))) {}
// CHECK-MESSAGES: :[[@LINE-1]]:73: warning: 'rill::spawn' starts a task that refers to a temporary destroyed at the end of the statement

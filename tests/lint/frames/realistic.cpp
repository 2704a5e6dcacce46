// Realistic coroutine corpus for rill-large-frame: service-style coroutines (request loops,
// parsers, caches, fan-in, retries) written the way users write them -- temporaries of ordinary
// statements inside suspending loops, nested scopes, arrays, std::string/std::vector locals,
// awaitables with big results, lambdas, Task<T> of a big T, co_await inside conditionals.
// tests/lint/frames/compare_frames.py compares the AST estimate of every frame with the exact
// size clang-19 lays out (--frame-report). Self-contained: a minimal lazy Task<T>.
#include <array>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace real {

template <class T = void>
class Task;

template <class T>
struct PromiseBase {
  std::coroutine_handle<> continuation;
  std::exception_ptr error;
  std::suspend_always initial_suspend() noexcept { return {}; }
  struct FinalAwaiter {
    bool await_ready() noexcept { return false; }
    template <class P>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<P> h) noexcept {
      auto c = h.promise().continuation;
      return c ? c : std::noop_coroutine();
    }
    void await_resume() noexcept {}
  };
  FinalAwaiter final_suspend() noexcept { return {}; }
  void unhandled_exception() { error = std::current_exception(); }
};

template <class T>
class Task {
 public:
  struct promise_type : PromiseBase<T> {
    std::optional<T> value;
    Task get_return_object() {
      return Task(std::coroutine_handle<promise_type>::from_promise(*this));
    }
    void return_value(T v) { value.emplace(std::move(v)); }
  };
  explicit Task(std::coroutine_handle<promise_type> h) : h_(h) {}
  Task(Task&& o) noexcept : h_(std::exchange(o.h_, {})) {}
  ~Task() {
    if (h_) h_.destroy();
  }
  bool await_ready() const noexcept { return false; }
  std::coroutine_handle<> await_suspend(std::coroutine_handle<> c) noexcept {
    h_.promise().continuation = c;
    return h_;
  }
  T await_resume() { return std::move(*h_.promise().value); }

 private:
  std::coroutine_handle<promise_type> h_;
};

template <>
class Task<void> {
 public:
  struct promise_type : PromiseBase<void> {
    Task get_return_object() {
      return Task(std::coroutine_handle<promise_type>::from_promise(*this));
    }
    void return_void() {}
  };
  explicit Task(std::coroutine_handle<promise_type> h) : h_(h) {}
  Task(Task&& o) noexcept : h_(std::exchange(o.h_, {})) {}
  ~Task() {
    if (h_) h_.destroy();
  }
  bool await_ready() const noexcept { return false; }
  std::coroutine_handle<> await_suspend(std::coroutine_handle<> c) noexcept {
    h_.promise().continuation = c;
    return h_;
  }
  void await_resume() {}

 private:
  std::coroutine_handle<promise_type> h_;
};

// --- I/O-like awaitables ------------------------------------------------------------------------

struct Sleep {
  std::uint64_t ms;
  bool await_ready() const noexcept { return ms == 0; }
  void await_suspend(std::coroutine_handle<>) noexcept {}
  void await_resume() noexcept {}
};
inline Sleep sleep_ms(std::uint64_t ms) { return Sleep{ms}; }

struct Message {
  std::uint64_t id;
  std::uint32_t kind;
  char topic[64];
  char body[1400];
};

// A receive whose result is a whole message (returned by value from await_resume).
struct Receive {
  int fd;
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<>) noexcept {}
  Message await_resume() noexcept { return Message{}; }
};

// A read with inline storage in the awaiter (like an io_uring request with a fixed buffer).
struct ReadFixed {
  int fd;
  char buffer[2048];
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<>) noexcept {}
  std::size_t await_resume() noexcept { return sizeof(buffer); }
};

// A read returning an owning buffer.
struct ReadSome {
  int fd;
  std::size_t max;
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<>) noexcept {}
  std::vector<char> await_resume() { return std::vector<char>(max); }
};

struct Write {
  int fd;
  std::string data;
  bool await_ready() const noexcept { return data.empty(); }
  void await_suspend(std::coroutine_handle<>) noexcept {}
  std::size_t await_resume() noexcept { return data.size(); }
};

struct Stats {
  std::array<std::uint64_t, 64> histogram;
  double mean;
  double p99;
};

struct Snapshot {
  std::array<char, 3000> blob;
  std::uint32_t version;
};

struct Frame512 {
  char bytes[512];
};
struct Record {
  char key[128];
  char value[896];
};

void log_line(const std::string& s);
void consume(const void* p, std::size_t n);
int parse_header(std::array<char, 1024> raw);
Frame512 encode(const Message& m);
void send_frame(const Frame512& f);
Record load_record(int i);
bool accept(const Record& r);
std::string format_reply(const Message& m, int status);
Stats compute_stats(const std::vector<int>& samples);
void publish(Stats s);
std::vector<int> sample_batch(int n);

Task<std::size_t> write_all(int fd, std::string data);
Task<Snapshot> fetch_snapshot(std::string key);
Task<Stats> remote_stats(int shard);
Task<std::optional<Message>> next_message(int fd);
Task<void> flush(int fd);

// --- Request loops with temporaries of non-suspending statements ---------------------------------

// Temporaries of statements that do not suspend, inside a loop that does: the loop carries the
// temporaries' lifetimes around a suspension point.
Task<void> serve_connection(int fd) {
  std::uint64_t served = 0;
  while (true) {
    Message m = co_await Receive{fd};
    if (m.kind == 0) break;
    send_frame(encode(m));
    log_line("served " + std::to_string(m.id) + " on " + std::string(m.topic));
    ++served;
    co_await sleep_ms(1);
  }
  log_line("closed after " + std::to_string(served));
}

// A big temporary passed by value inside a polling loop.
Task<int> poll_headers(int fd, int rounds) {
  int total = 0;
  for (int i = 0; i < rounds; ++i) {
    total += parse_header(std::array<char, 1024>{});
    std::size_t n = co_await ReadFixed{fd, {}};
    total += static_cast<int>(n);
  }
  co_return total;
}

// Non-suspending statements with class temporaries in a range-for over records.
Task<void> replicate(std::vector<int> ids, int fd) {
  for (int id : ids) {
    if (!accept(load_record(id))) continue;
    Record r = load_record(id);
    co_await write_all(fd, std::string(r.key, sizeof r.key));
  }
}

// --- Parsers and buffers -------------------------------------------------------------------------

Task<std::size_t> parse_stream(int fd) {
  char line[4096];
  std::size_t used = 0, lines = 0;
  while (true) {
    std::vector<char> chunk = co_await ReadSome{fd, 1024};
    if (chunk.empty()) break;
    for (char c : chunk) {
      if (c == '\n') {
        std::string text(line, used);
        log_line(text);
        used = 0;
        ++lines;
      } else if (used < sizeof line) {
        line[used++] = c;
      }
    }
  }
  co_return lines;
}

// Nested scopes: some buffers close before a suspension, others span one.
Task<void> nested_scopes(int fd, bool verbose) {
  {
    char banner[1500];
    std::memset(banner, '=', sizeof banner);
    consume(banner, sizeof banner);
  }
  {
    std::array<std::uint32_t, 512> crc_table{};
    for (std::size_t i = 0; i < crc_table.size(); ++i) crc_table[i] = static_cast<std::uint32_t>(i);
    co_await sleep_ms(5);
    consume(crc_table.data(), sizeof crc_table);
    {
      char scratch[700];
      scratch[0] = 'x';
      if (verbose) co_await flush(fd);
      consume(scratch, sizeof scratch);
    }
  }
  std::string tail = "done";
  co_await write_all(fd, tail);
}

// --- Awaitables with big await results ------------------------------------------------------------

Task<void> relay(int in, int out) {
  for (int i = 0; i < 16; ++i) {
    // The awaited message is a temporary of the suspending statement.
    send_frame(encode(co_await Receive{in}));
    co_await write_all(out, format_reply(co_await Receive{in}, 200));
  }
}

Task<std::size_t> read_fixed_twice(int fd) {
  std::size_t a = co_await ReadFixed{fd, {}};
  std::size_t b = co_await ReadFixed{fd, {}};
  co_return a + b;
}

// --- Task<T> of a big T ---------------------------------------------------------------------------

Task<Snapshot> build_snapshot(std::string key) {
  Snapshot s{};
  std::memcpy(s.blob.data(), key.data(), key.size() < s.blob.size() ? key.size() : s.blob.size());
  co_await sleep_ms(1);
  s.version = 7;
  co_return s;
}

Task<std::uint32_t> snapshot_versions(std::vector<std::string> keys) {
  std::uint32_t sum = 0;
  for (const std::string& k : keys) {
    Snapshot s = co_await fetch_snapshot(k);
    sum += s.version;
  }
  // A discarded big result: the temporary lives across the suspension of its statement.
  sum += (co_await fetch_snapshot("latest")).version;
  co_return sum;
}

Task<Stats> aggregate(int shards) {
  Stats total{};
  for (int s = 0; s < shards; ++s) {
    Stats part = co_await remote_stats(s);
    for (std::size_t i = 0; i < total.histogram.size(); ++i) total.histogram[i] += part.histogram[i];
    publish(compute_stats(sample_batch(s)));
  }
  co_return total;
}

// --- co_await inside conditionals -----------------------------------------------------------------

Task<int> maybe_refresh(int fd, bool stale, std::string key) {
  int status = 0;
  if (stale) {
    Snapshot fresh = co_await fetch_snapshot(key);
    status = static_cast<int>(fresh.version);
  } else if (key.empty()) {
    char msg[300];
    std::memset(msg, 0, sizeof msg);
    consume(msg, sizeof msg);
    co_return -1;
  }
  std::optional<Message> m = stale ? co_await next_message(fd) : std::nullopt;
  if (m) status += static_cast<int>(m->id);
  co_return status;
}

Task<int> retry_with_backoff(int fd, int attempts) {
  std::string last_error;
  for (int i = 0; i < attempts; ++i) {
    std::optional<Message> m = co_await next_message(fd);
    if (m && m->kind == 1) co_return static_cast<int>(m->id);
    last_error = "attempt " + std::to_string(i) + " failed";
    if (i + 1 < attempts) co_await sleep_ms(10u << i);
  }
  log_line(last_error);
  co_return -1;
}

// --- Lambdas --------------------------------------------------------------------------------------

Task<void> lambda_helpers(int fd, std::vector<std::string> names) {
  std::map<std::string, int> counts;
  auto bump = [&counts](const std::string& n) { return ++counts[n]; };
  for (const auto& n : names) {
    bump(n);
    co_await write_all(fd, n + "\n");
  }
  auto handler = [fd](std::string req) -> Task<std::size_t> {
    char reply[2500];
    std::memset(reply, 0, sizeof reply);
    std::size_t n = co_await write_all(fd, std::move(req));
    consume(reply, sizeof reply);
    co_return n;
  };
  std::size_t written = co_await handler("bye");
  consume(&written, sizeof written);
}

// --- Members --------------------------------------------------------------------------------------

class Session {
 public:
  Task<void> run() {
    while (open_) {
      Message m = co_await Receive{fd_};
      std::string reply = format_reply(m, 200);
      history_.push_back(reply);
      co_await write_all(fd_, std::move(reply));
      if (history_.size() > 100) {
        std::vector<std::string> old(history_.begin(), history_.begin() + 50);
        history_.erase(history_.begin(), history_.begin() + 50);
        log_line("trimmed " + std::to_string(old.size()));
      }
    }
  }

  Task<Stats> stats_loop(int rounds) {
    Stats last{};
    for (int i = 0; i < rounds; ++i) {
      last = compute_stats(sample_batch(i));
      std::array<double, 128> window{};
      window[0] = last.mean;
      co_await sleep_ms(100);
      consume(window.data(), sizeof window);
    }
    co_return last;
  }

 private:
  int fd_ = 0;
  bool open_ = true;
  std::vector<std::string> history_;
};

// --- Arrays of records and fan-in -----------------------------------------------------------------

Task<std::size_t> batch_writer(int fd, std::vector<Message> batch) {
  std::array<Frame512, 4> pending{};
  std::size_t n = 0, written = 0;
  for (const Message& m : batch) {
    pending[n++] = encode(m);
    if (n == pending.size()) {
      for (const Frame512& f : pending) written += co_await write_all(fd, std::string(f.bytes, 16));
      n = 0;
    }
  }
  co_return written;
}

template <std::size_t N>
Task<std::size_t> ring_drain(int fd) {
  std::array<Message, N> ring{};
  std::size_t head = 0;
  for (int i = 0; i < 8; ++i) {
    ring[head++ % N] = co_await Receive{fd};
    log_line(std::string(ring[(head - 1) % N].topic));
  }
  co_return head;
}

void instantiate() {
  (void)ring_drain<2>(0);
  (void)ring_drain<4>(0);
  Session s;
  (void)s.run();
  (void)s.stats_loop(1);
}

}  // namespace real

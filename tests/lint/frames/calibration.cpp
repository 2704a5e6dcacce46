// Calibration corpus for rill-large-frame: coroutines of many shapes whose exact frame size
// (clang-19 -O0, LLVM CoroSplit's frame_size remark) is compared with the AST estimate by
// tests/lint/frames/compare_frames.py. Self-contained (no rill headers): a minimal Task type.
#include <array>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

namespace cal {

struct Task {
  struct promise_type {
    Task get_return_object() { return {}; }
    std::suspend_always initial_suspend() noexcept { return {}; }
    std::suspend_always final_suspend() noexcept { return {}; }
    void return_void() {}
    void unhandled_exception() {}
    std::suspend_always yield_value(int) { return {}; }
  };
};

template <class T>
struct ValueTask {
  struct promise_type {
    T value{};
    ValueTask get_return_object() { return {}; }
    std::suspend_always initial_suspend() noexcept { return {}; }
    std::suspend_always final_suspend() noexcept { return {}; }
    void return_value(T v) { value = v; }
    void unhandled_exception() {}
  };
};

struct Tick {
  bool await_ready() { return false; }
  void await_suspend(std::coroutine_handle<>) {}
  int await_resume() { return 1; }
};

// An awaiter that carries a large buffer (e.g. a read request with inline storage).
struct BigAwaiter {
  char storage[4096];
  bool await_ready() { return false; }
  void await_suspend(std::coroutine_handle<>) {}
  std::size_t await_resume() { return sizeof(storage); }
};

struct Header {
  std::uint64_t id;
  std::uint32_t len;
  char name[52];
};

void consume(const void* p, std::size_t n);

Task small_locals(int x) {
  int a = x;
  co_await Tick{};
  consume(&a, sizeof a);
}

Task one_big_buffer(int x) {
  char buf[65536];
  buf[0] = static_cast<char>(x);
  co_await Tick{};
  consume(buf, sizeof buf);
}

Task buffer_before_suspend(int x) {
  char buf[2048];
  std::memset(buf, x, sizeof buf);
  consume(buf, sizeof buf);
  co_await Tick{};
}

Task two_scopes(int x) {
  {
    char a[3000];
    a[0] = static_cast<char>(x);
    co_await Tick{};
    consume(a, sizeof a);
  }
  {
    char b[5000];
    b[0] = static_cast<char>(x);
    co_await Tick{};
    consume(b, sizeof b);
  }
}

Task aligned_locals() {
  alignas(64) char line[1024];
  double d[100];
  char c = 'x';
  line[0] = c;
  d[0] = 1.0;
  co_await Tick{};
  consume(line, sizeof line);
  consume(d, sizeof d);
}

Task std_array(int n) {
  std::array<std::uint32_t, 1024> table{};
  for (int i = 0; i < n; ++i) {
    table[i % 1024] += static_cast<std::uint32_t>(i);
    co_await Tick{};
  }
  consume(table.data(), sizeof table);
}

Task by_value_param(Header h, std::array<char, 1500> payload) {
  co_await Tick{};
  consume(&h, sizeof h);
  consume(payload.data(), payload.size());
}

Task big_awaiter() {
  std::size_t n = co_await BigAwaiter{};
  consume(&n, sizeof n);
}

Task range_loop(std::vector<int> v) {
  for (int x : v) {
    char scratch[1200];
    scratch[0] = static_cast<char>(x);
    co_await Tick{};
    consume(scratch, sizeof scratch);
  }
}

Task strings_and_vectors(std::string name) {
  std::string greeting = "hello " + name;
  std::vector<std::string> parts;
  parts.push_back(greeting);
  std::array<Header, 40> headers{};
  co_await Tick{};
  consume(headers.data(), sizeof headers);
  consume(parts.data(), parts.size());
}

ValueTask<std::array<char, 2000>> big_promise() {
  co_await Tick{};
  co_return std::array<char, 2000>{};
}

Task generator_like(int n) {
  char window[4000];
  for (int i = 0; i < n; ++i) {
    window[i % 4000] = static_cast<char>(i);
    co_yield i;
  }
  consume(window, sizeof window);
}

struct Service {
  char state[512];
  Task handle(int x) {
    char reply[8192];
    reply[0] = state[0] + static_cast<char>(x);
    co_await Tick{};
    consume(reply, sizeof reply);
  }
};

template <std::size_t N>
Task templated() {
  char buf[N];
  buf[0] = 1;
  co_await Tick{};
  consume(buf, N);
}

Task many_small(int x) {
  int a = x, b = x + 1, c = x + 2, d = x + 3;
  double e = a * 1.5, f = b * 2.5;
  std::uint64_t g[32] = {};
  short h = static_cast<short>(c);
  co_await Tick{};
  consume(&a, sizeof a);
  consume(&e, sizeof e);
  consume(&f, sizeof f);
  consume(g, sizeof g);
  consume(&h, sizeof h);
  consume(&d, sizeof d);
}

Task nested_lambda(int x) {
  char big[20000];
  big[0] = static_cast<char>(x);
  auto helper = [&](int y) { big[1] = static_cast<char>(y); };
  helper(x);
  co_await Tick{};
  consume(big, sizeof big);
}

Task unique_ptr_buffer() {
  auto buf = std::make_unique<char[]>(1 << 20);
  co_await Tick{};
  consume(buf.get(), 1 << 20);
}

// Only used after the last co_await: LLVM keeps it out of the frame.
Task buffer_after_last_suspend(int x) {
  co_await Tick{};
  char tail[3000];
  tail[0] = static_cast<char>(x);
  consume(tail, sizeof tail);
}

// Used between two suspension points: in the frame.
Task buffer_between_suspends(int x) {
  co_await Tick{};
  char mid[3000];
  mid[0] = static_cast<char>(x);
  consume(mid, sizeof mid);
  co_await Tick{};
}

// A block that closes before the co_await: its buffer is not in the frame.
Task block_closed_before_suspend(int x) {
  {
    char early[5000];
    early[0] = static_cast<char>(x);
    consume(early, sizeof early);
  }
  co_await Tick{};
}

// A loop that finishes before the co_await: not in the frame.
Task loop_before_suspend(int n) {
  for (int i = 0; i < n; ++i) {
    char row[5000];
    row[0] = static_cast<char>(i);
    consume(row, sizeof row);
  }
  co_await Tick{};
}

// Declared after the co_await in a loop body: the next iteration suspends, so it is in the frame.
Task loop_body_after_suspend(int n) {
  for (int i = 0; i < n; ++i) {
    co_await Tick{};
    char row[5000];
    row[0] = static_cast<char>(i);
    consume(row, sizeof row);
  }
}

// A temporary whose full-expression contains the co_await is in the frame; others are not.
struct Blob {
  char bytes[3000];
};
Blob make_blob();
int take_blob(const Blob& b, int x);
Task temporaries_and_suspension() {
  int a = take_blob(make_blob(), 1);
  int b = take_blob(make_blob(), co_await Tick{});
  consume(&a, sizeof a);
  consume(&b, sizeof b);
}

void instantiate() {
  templated<1024>();
  templated<30000>();
  Service s{};
  s.handle(1);
  auto lam = [](int n) -> Task {
    char local[6000];
    local[0] = static_cast<char>(n);
    co_await Tick{};
    consume(local, sizeof local);
  };
  lam(3);
}

}  // namespace cal

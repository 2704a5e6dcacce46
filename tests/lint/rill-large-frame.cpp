// Fixture for rill-large-frame (default FrameSizeThreshold: 16384 bytes). Run by
// tests/lint/check_fixture.py: every CHECK-MESSAGES / CHECK-NOTES line must match and nothing
// else may be reported. Each case starts with "// case flag:" or "// case ok:". The estimates
// in the messages are checked against clang-19's exact sizes by tests/lint/frames/
// compare_frames.py (within 10% for frames >= 1 KiB).
#include <array>
#include <coroutine>
#include <cstddef>
#include <memory>
#include <vector>

namespace rill {
template <class T = void>
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
  // CHECK-NOTES: :[[@LINE-1]]:10: note: promise of type 'rill::ValueTask<std::array<char, 20000>>::promise_type' contributes 20000 bytes to the frame of 'flag_big_promise'
    T value{};
    ValueTask get_return_object() { return {}; }
    std::suspend_always initial_suspend() noexcept { return {}; }
    std::suspend_always final_suspend() noexcept { return {}; }
    void return_value(const T& v) { value = v; }
    void unhandled_exception() {}
  };
};
struct Sleep {
  bool await_ready() { return false; }
  void await_suspend(std::coroutine_handle<>) {}
  int await_resume() { return 0; }
};
inline Sleep sleep_ms(int) { return {}; }
// An awaitable read with inline storage (like an io_uring request carrying its buffer).
struct InlineRead {
  char storage[32768];
  bool await_ready() { return false; }
  void await_suspend(std::coroutine_handle<>) {}
  std::size_t await_resume() { return sizeof(storage); }
};
}  // namespace rill

using rill::Task;
void consume(const void* data, std::size_t size);

struct Record {
  long id;
  char payload[248];
};

// ---------------------------------------------------------------------------------------------
// Flagged cases
// ---------------------------------------------------------------------------------------------

// case flag: one large buffer live across a suspension point
Task<> flag_big_buffer(int fd) {
// CHECK-MESSAGES: :[[@LINE-1]]:8: warning: coroutine 'flag_big_buffer' has an estimated frame size of 65568 bytes, above the threshold of 16384 bytes (largest: 'buf', 65536 bytes)
  char buf[65536];
  // CHECK-NOTES: :[[@LINE-1]]:8: note: 'buf' contributes 65536 bytes to the frame of 'flag_big_buffer'
  buf[0] = static_cast<char>(fd);
  co_await rill::sleep_ms(1);
  consume(buf, sizeof buf);
}

// case flag: a buffer only used before the first suspension still lives in the frame at -O0
Task<> flag_buffer_before_suspend(int fd) {
// CHECK-MESSAGES: :[[@LINE-1]]:8: warning: coroutine 'flag_buffer_before_suspend' has an estimated frame size of 20032 bytes, above the threshold of 16384 bytes (largest: 'scratch', 20000 bytes)
  char scratch[20000];
  // CHECK-NOTES: :[[@LINE-1]]:8: note: 'scratch' contributes 20000 bytes to the frame of 'flag_buffer_before_suspend'
  scratch[0] = static_cast<char>(fd);
  consume(scratch, sizeof scratch);
  co_await rill::sleep_ms(1);
}

// case flag: two scopes, each below the threshold, do not share storage
Task<> flag_two_scopes() {
// CHECK-MESSAGES: :[[@LINE-1]]:8: warning: coroutine 'flag_two_scopes' has an estimated frame size of 20032 bytes, above the threshold of 16384 bytes (largest: 'a', 10000 bytes)
  {
    char a[10000];
    // CHECK-NOTES: :[[@LINE-1]]:10: note: 'a' contributes 10000 bytes to the frame of 'flag_two_scopes'
    a[0] = 1;
    co_await rill::sleep_ms(1);
    consume(a, sizeof a);
  }
  {
    char b[10000];
    // CHECK-NOTES: :[[@LINE-1]]:10: note: 'b' contributes 10000 bytes to the frame of 'flag_two_scopes'
    b[0] = 2;
    co_await rill::sleep_ms(2);
    consume(b, sizeof b);
  }
}

// case flag: a large by-value parameter is copied into the frame
Task<> flag_by_value_param(std::array<char, 20000> packet) {
// CHECK-MESSAGES: :[[@LINE-1]]:8: warning: coroutine 'flag_by_value_param' has an estimated frame size of 20024 bytes, above the threshold of 16384 bytes (largest: parameter 'packet', 20000 bytes)
// CHECK-NOTES: :[[@LINE-2]]:52: note: parameter 'packet' contributes 20000 bytes to the frame of 'flag_by_value_param'
  co_await rill::sleep_ms(1);
  consume(packet.data(), packet.size());
}

// case flag: the awaiter temporary carries a large buffer
Task<> flag_big_awaiter() {
// CHECK-MESSAGES: :[[@LINE-1]]:8: warning: coroutine 'flag_big_awaiter' has an estimated frame size of 32800 bytes, above the threshold of 16384 bytes (largest: awaiter of 'co_await' (type 'rill::InlineRead'), 32768 bytes)
  std::size_t n = co_await rill::InlineRead{};
  // CHECK-NOTES: :[[@LINE-1]]:19: note: awaiter of 'co_await' (type 'rill::InlineRead') contributes 32768 bytes to the frame of 'flag_big_awaiter'
  consume(&n, sizeof n);
}

// case flag: the promise stores a large result
rill::ValueTask<std::array<char, 20000>> flag_big_promise() {
// CHECK-MESSAGES: :[[@LINE-1]]:42: warning: coroutine 'flag_big_promise' has an estimated frame size of 20024 bytes, above the threshold of 16384 bytes (largest: promise of type 'rill::ValueTask<std::array<char, 20000>>::promise_type', 20000 bytes)
  co_await rill::sleep_ms(1);
  std::array<char, 20000> result{};
  co_return result;
}

// case flag: member coroutine
struct Connection {
  int fd = 0;
  Task<> flag_member_read() {
  // CHECK-MESSAGES: :[[@LINE-1]]:10: warning: coroutine 'Connection::flag_member_read' has an estimated frame size of 24608 bytes, above the threshold of 16384 bytes (largest: 'frame', 24576 bytes)
    char frame[24576];
    // CHECK-NOTES: :[[@LINE-1]]:10: note: 'frame' contributes 24576 bytes to the frame of 'Connection::flag_member_read'
    frame[0] = static_cast<char>(fd);
    co_await rill::sleep_ms(1);
    consume(frame, sizeof frame);
  }
};

// case flag: coroutine lambda
auto flag_lambda = [](int n) -> Task<> {
// CHECK-MESSAGES: :[[@LINE-1]]:20: warning: coroutine 'lambda' has an estimated frame size of 40032 bytes, above the threshold of 16384 bytes (largest: 'local', 40000 bytes)
  char local[40000];
  // CHECK-NOTES: :[[@LINE-1]]:8: note: 'local' contributes 40000 bytes to the frame of 'lambda'
  local[0] = static_cast<char>(n);
  co_await rill::sleep_ms(n);
  consume(local, sizeof local);
};

// case flag: template instantiation above the threshold (templated<100> is below)
template <std::size_t N>
Task<> flag_templated() {
// CHECK-MESSAGES: :[[@LINE-1]]:8: warning: coroutine 'flag_templated<50000UL>' has an estimated frame size of 50032 bytes, above the threshold of 16384 bytes (largest: 'buf', 50000 bytes)
  char buf[N];
  // CHECK-NOTES: :[[@LINE-1]]:8: note: 'buf' contributes 50000 bytes to the frame of 'flag_templated<50000UL>'
  buf[0] = 1;
  co_await rill::sleep_ms(1);
  consume(buf, N);
}

// case flag: many medium locals adding up
Task<> flag_many_locals() {
// CHECK-MESSAGES: :[[@LINE-1]]:8: warning: coroutine 'flag_many_locals' has an estimated frame size of 20032 bytes, above the threshold of 16384 bytes (largest: 'a', 4000 bytes)
  char a[4000], b[4000], c[4000], d[4000], e[4000];
  // CHECK-NOTES: :[[@LINE-1]]:8: note: 'a' contributes 4000 bytes to the frame of 'flag_many_locals'
  // CHECK-NOTES: :[[@LINE-2]]:17: note: 'b' contributes 4000 bytes to the frame of 'flag_many_locals'
  // CHECK-NOTES: :[[@LINE-3]]:26: note: 'c' contributes 4000 bytes to the frame of 'flag_many_locals'
  a[0] = b[0] = c[0] = d[0] = e[0] = 0;
  co_await rill::sleep_ms(1);
  consume(a, 4000);
  consume(b, 4000);
  consume(c, 4000);
  consume(d, 4000);
  consume(e, 4000);
}

// case flag: std::array of records
Task<> flag_record_array() {
// CHECK-MESSAGES: :[[@LINE-1]]:8: warning: coroutine 'flag_record_array' has an estimated frame size of 25624 bytes, above the threshold of 16384 bytes (largest: 'records', 25600 bytes)
  std::array<Record, 100> records{};
  // CHECK-NOTES: :[[@LINE-1]]:27: note: 'records' contributes 25600 bytes to the frame of 'flag_record_array'
  co_await rill::sleep_ms(1);
  consume(records.data(), sizeof records);
}

// case flag: generator-style coroutine with a large window
Task<> flag_generator(int n) {
// CHECK-MESSAGES: :[[@LINE-1]]:8: warning: coroutine 'flag_generator' has an estimated frame size of 17040 bytes, above the threshold of 16384 bytes (largest: 'window', 17000 bytes)
  char window[17000];
  // CHECK-NOTES: :[[@LINE-1]]:8: note: 'window' contributes 17000 bytes to the frame of 'flag_generator'
  for (int i = 0; i < n; ++i) {
    window[i % 17000] = static_cast<char>(i);
    co_yield i;
  }
  consume(window, sizeof window);
}

// ---------------------------------------------------------------------------------------------
// Must-not-flag cases
// ---------------------------------------------------------------------------------------------

// case ok: small coroutine
Task<> ok_small(int x) {
  int local = x;
  co_await rill::sleep_ms(1);
  consume(&local, sizeof local);
}

// case ok: large buffer on the heap (unique_ptr): the frame holds a pointer
Task<> ok_heap_unique_ptr() {
  auto buf = std::make_unique<char[]>(1 << 20);
  co_await rill::sleep_ms(1);
  consume(buf.get(), 1 << 20);
}

// case ok: large buffer in a std::vector
Task<> ok_heap_vector() {
  std::vector<char> buf(1 << 20);
  co_await rill::sleep_ms(1);
  consume(buf.data(), buf.size());
}

// case ok: not a coroutine (its buffer is on the thread's stack, not in a heap frame)
void ok_plain_function() {
  char buf[65536];
  buf[0] = 1;
  consume(buf, sizeof buf);
}

// case ok: just below the threshold
Task<> ok_below_threshold() {
  char buf[15000];
  buf[0] = 1;
  co_await rill::sleep_ms(1);
  consume(buf, sizeof buf);
}

// case ok: the large buffer lives in a nested non-coroutine lambda's own stack frame
Task<> ok_buffer_in_nested_lambda() {
  auto fill = [] {
    char tmp[65536];
    tmp[0] = 1;
    consume(tmp, sizeof tmp);
  };
  fill();
  co_await rill::sleep_ms(1);
}

// case ok: the large buffer lives in a helper called by the coroutine
void helper_with_buffer() {
  char tmp[65536];
  tmp[0] = 1;
  consume(tmp, sizeof tmp);
}
Task<> ok_buffer_in_helper() {
  helper_with_buffer();
  co_await rill::sleep_ms(1);
}

// case ok: a static local is not in the frame
Task<> ok_static_local() {
  static char table[65536];
  table[0] = 1;
  co_await rill::sleep_ms(1);
  consume(table, sizeof table);
}

// case ok: a global buffer is not in the frame
char g_buffer[65536];
Task<> ok_global_buffer() {
  g_buffer[0] = 1;
  co_await rill::sleep_ms(1);
  consume(g_buffer, sizeof g_buffer);
}

// case ok: a reference parameter to a large object costs a pointer
Task<> ok_reference_param(const std::array<char, 65536>& big) {
  co_await rill::sleep_ms(1);
  consume(big.data(), big.size());
}

// case ok: a pointer parameter to a large object costs a pointer
Task<> ok_pointer_param(std::array<Record, 1000>* records) {
  co_await rill::sleep_ms(1);
  consume(records, sizeof *records);
}

// case ok: a large buffer captured by reference into a nested lambda stays outside the frame
Task<> ok_lambda_capture_by_ref() {
  static std::array<char, 65536> shared{};
  auto touch = [&] { shared[0] = 1; };
  touch();
  co_await rill::sleep_ms(1);
}

// case ok: a buffer used only after the last suspension point stays on the resume stack
Task<> ok_buffer_after_last_await(int fd) {
  co_await rill::sleep_ms(1);
  char tail[30000];
  tail[0] = static_cast<char>(fd);
  consume(tail, sizeof tail);
}

// case ok: a buffer in a block that closes before the co_await is not in the frame
Task<> ok_block_closed_before_await() {
  {
    char staging[30000];
    staging[0] = 1;
    consume(staging, sizeof staging);
  }
  co_await rill::sleep_ms(1);
}

// case flag: declared after the co_await in a loop body: the next iteration suspends with it
Task<> flag_loop_body_after_await(int n) {
// CHECK-MESSAGES: :[[@LINE-1]]:8: warning: coroutine 'flag_loop_body_after_await' has an estimated frame size of 20048 bytes, above the threshold of 16384 bytes (largest: 'row', 20000 bytes)
  for (int i = 0; i < n; ++i) {
    co_await rill::sleep_ms(i);
    char row[20000];
    // CHECK-NOTES: :[[@LINE-1]]:10: note: 'row' contributes 20000 bytes to the frame of 'flag_loop_body_after_await'
    row[0] = static_cast<char>(i);
    consume(row, sizeof row);
  }
}

// case ok: the instantiation below the threshold
void instantiate() {
  flag_templated<100>();
  flag_templated<50000>();
  Connection c;
  c.flag_member_read();
  flag_lambda(1);
}

// Fixture for rill-large-frame's options: FrameSizeThreshold lowered to 2048 bytes and
// MaxContributors to 1 (one note, for the largest contributor).
// FIXTURE-ARGS: '--config={CheckOptions: {rill-large-frame.FrameSizeThreshold: 2048, rill-large-frame.MaxContributors: 1}}'
#include <coroutine>
#include <cstddef>

namespace rill {
struct Task {
  struct promise_type {
    Task get_return_object() { return {}; }
    std::suspend_always initial_suspend() noexcept { return {}; }
    std::suspend_always final_suspend() noexcept { return {}; }
    void return_void() {}
    void unhandled_exception() {}
  };
};
struct Sleep {
  bool await_ready() { return false; }
  void await_suspend(std::coroutine_handle<>) {}
  void await_resume() {}
};
}  // namespace rill

void consume(const void* data, std::size_t size);

// case flag: above the lowered threshold
rill::Task flag_above_custom_threshold() {
// CHECK-MESSAGES: :[[@LINE-1]]:12: warning: coroutine 'flag_above_custom_threshold' has an estimated frame size of 4128 bytes, above the threshold of 2048 bytes (largest: 'buf', 4096 bytes)
  char buf[4096];
  // CHECK-NOTES: :[[@LINE-1]]:8: note: 'buf' contributes 4096 bytes to the frame of 'flag_above_custom_threshold'
  buf[0] = 1;
  co_await rill::Sleep{};
  consume(buf, sizeof buf);
}

// case flag: two contributors, only the largest gets a note (MaxContributors: 1)
rill::Task flag_one_note_only() {
// CHECK-MESSAGES: :[[@LINE-1]]:12: warning: coroutine 'flag_one_note_only' has an estimated frame size of 4544 bytes, above the threshold of 2048 bytes (largest: 'big', 3000 bytes)
  char big[3000];
  // CHECK-NOTES: :[[@LINE-1]]:8: note: 'big' contributes 3000 bytes to the frame of 'flag_one_note_only'
  char small[1500];
  big[0] = small[0] = 1;
  co_await rill::Sleep{};
  consume(big, sizeof big);
  consume(small, sizeof small);
}

// case ok: below the lowered threshold
rill::Task ok_below_custom_threshold() {
  char buf[1500];
  buf[0] = 1;
  co_await rill::Sleep{};
  consume(buf, sizeof buf);
}

// case ok: just below the lowered threshold (frame of 2032 bytes)
rill::Task ok_just_below() {
  char buf[2000];
  buf[0] = 1;
  co_await rill::Sleep{};
  consume(buf, sizeof buf);
}

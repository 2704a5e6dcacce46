// Port of tokio-1.24.2/tests/time_sleep.rs. Tokio pauses the clock (time::pause) and its
// assert_elapsed!(start, d) checks d <= elapsed < d + 1ms; rill has no test clock, so these tests
// run on the real clock with the same (short) durations and check only the lower bound (an upper
// bound is not reliable on a loaded machine). Where a test checks that a sleep is still pending,
// its durations are (at least) three times Tokio's, so a stalled machine cannot flip the check.
// Left out: greater_than_max, multi_long_sleeps, long_sleeps, exactly_max,
// no_out_of_bounds_close_to_max (years of sleep: need the paused clock), drop_from_wake (custom
// waker).
#include "harness.hpp"

using namespace conformance;
using rill::Instant;
using Clock = std::chrono::steady_clock;

#define ASSERT_ELAPSED(start, d) EXPECT_GE(Clock::now() - (start), (d))

TEST(time_sleep, immediate_sleep) {
  block_on([]() -> rill::Task<void> {
    auto now = Clock::now();
    co_await rill::sleep_until(now);
    ASSERT_ELAPSED(now, 0ms);
  }());
}

TEST(time_sleep, is_elapsed) {
  block_on([]() -> rill::Task<void> {
    auto sleep = rill::sleep(300ms);
    EXPECT_FALSE(sleep.is_elapsed());
    EXPECT_FALSE(co_await poll_once(await_sleep(&sleep)));
    EXPECT_FALSE(sleep.is_elapsed());
    co_await sleep;
    EXPECT_TRUE(sleep.is_elapsed());
  }());
}

TEST(time_sleep, delayed_sleep_level_0) {
  block_on([]() -> rill::Task<void> {
    for (int i : {1, 10, 60}) {
      auto now = Clock::now();
      auto dur = std::chrono::milliseconds(i);
      co_await rill::sleep_until(now + dur);
      ASSERT_ELAPSED(now, dur);
    }
  }());
}

TEST(time_sleep, sub_ms_delayed_sleep) {
  block_on([]() -> rill::Task<void> {
    for (int i = 0; i < 5; ++i) {
      auto now = Clock::now();
      auto deadline = now + 1ms + 1ns;
      co_await rill::sleep_until(deadline);
      ASSERT_ELAPSED(now, 1ms);
    }
  }());
}

TEST(time_sleep, delayed_sleep_wrapping_level_0) {
  block_on([]() -> rill::Task<void> {
    co_await rill::sleep(5ms);
    auto now = Clock::now();
    co_await rill::sleep_until(now + 60ms);
    ASSERT_ELAPSED(now, 60ms);
  }());
}

TEST(time_sleep, reset_future_sleep_before_fire) {
  block_on([]() -> rill::Task<void> {
    auto now = Clock::now();
    auto sleep = rill::sleep_until(now + 300ms);
    EXPECT_FALSE(co_await poll_once(await_sleep(&sleep)));
    sleep.reset(Clock::now() + 600ms);
    co_await sleep;
    ASSERT_ELAPSED(now, 600ms);
  }());
}

TEST(time_sleep, reset_past_sleep_before_turn) {
  block_on([]() -> rill::Task<void> {
    auto now = Clock::now();
    auto sleep = rill::sleep_until(now + 300ms);
    EXPECT_FALSE(co_await poll_once(await_sleep(&sleep)));
    sleep.reset(now + 240ms);
    co_await sleep;
    ASSERT_ELAPSED(now, 240ms);
  }());
}

TEST(time_sleep, reset_past_sleep_before_fire) {
  block_on([]() -> rill::Task<void> {
    auto now = Clock::now();
    auto sleep = rill::sleep_until(now + 300ms);
    EXPECT_FALSE(co_await poll_once(await_sleep(&sleep)));
    co_await rill::sleep(30ms);
    sleep.reset(now + 240ms);
    co_await sleep;
    ASSERT_ELAPSED(now, 240ms);
  }());
}

TEST(time_sleep, reset_future_sleep_after_fire) {
  block_on([]() -> rill::Task<void> {
    auto now = Clock::now();
    auto sleep = rill::sleep_until(now + 300ms);
    co_await sleep;
    ASSERT_ELAPSED(now, 300ms);
    sleep.reset(now + 330ms);
    co_await sleep;
    ASSERT_ELAPSED(now, 330ms);
  }());
}

TEST(time_sleep, reset_sleep_to_past) {
  block_on([]() -> rill::Task<void> {
    auto now = Clock::now();
    auto sleep = rill::sleep_until(now + 300ms);
    EXPECT_FALSE(co_await poll_once(await_sleep(&sleep)));
    co_await rill::sleep(150ms);
    sleep.reset(now + 120ms);
    EXPECT_TRUE(co_await poll_once(await_sleep(&sleep)));
  }());
}

TEST(time_sleep, creating_sleep_outside_of_context) {
  // Tokio panics at creation; rill throws RuntimeError at creation.
  auto now = Clock::now();
  EXPECT_THROW({ auto fut = rill::sleep_until(now + 500ms); }, rill::RuntimeError);
}

TEST(time_sleep, short_sleeps) {
  block_on([]() -> rill::Task<void> {
    for (int i = 0; i < 10000; ++i)
      co_await rill::sleep(0ms);
  }());
}

TEST(time_sleep, reset_after_firing) {
  block_on([]() -> rill::Task<void> {
    auto timer = rill::sleep(1ms);
    auto deadline = timer.deadline();
    co_await timer;
    EXPECT_TRUE(co_await poll_once(await_sleep(&timer)));
    timer.reset(Clock::now() + 600s);
    EXPECT_NE(deadline, timer.deadline());
    EXPECT_FALSE(co_await poll_once(await_sleep(&timer)));
    EXPECT_FALSE(co_await poll_once(await_sleep(&timer)));
  }());
}

TEST(time_sleep, drop_after_reschedule_at_new_scheduled_time) {
  block_on([]() -> rill::Task<void> {
    auto start = Clock::now();
    auto a = rill::sleep(5ms);
    std::optional<rill::Sleep> b;
    b.emplace(Clock::now() + 5ms);
    auto c = rill::sleep(10ms);
    (void)co_await poll_once(await_sleep(&a));
    (void)co_await poll_once(await_sleep(&*b));
    (void)co_await poll_once(await_sleep(&c));
    b->reset(start + 10ms);
    co_await a;
    b.reset();
  }());
}

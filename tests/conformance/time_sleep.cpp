// Port of tokio-1.24.2/tests/time_sleep.rs. As in Tokio, the tests that call time::pause() run on
// the paused clock (rill::time::pause), so sleeps take no real time and assert_elapsed!(start, d)
// checks d <= elapsed <= d + 1ms. Left out: drop_from_wake (custom waker).
#include "harness.hpp"

using namespace conformance;
using rill::Instant;
using rill::time::now;

/// tokio_test's assert_elapsed!: d <= elapsed <= d + 1ms (timers round up to the millisecond).
#define ASSERT_ELAPSED(start, d)     \
  do {                               \
    auto elapsed_ = now() - (start); \
    EXPECT_GE(elapsed_, (d));        \
    EXPECT_LE(elapsed_, (d) + 1ms);  \
  } while (0)

namespace {
std::chrono::milliseconds ms(long long n) {
  return std::chrono::milliseconds(n);
}
}  // namespace

TEST(time_sleep, immediate_sleep) {
  block_on([]() -> rill::Task<void> {
    rill::time::pause();
    auto start = now();
    // Ready!
    co_await rill::sleep_until(start);
    // Tokio: 1 ms (its timer rounds a deadline that has passed up to the next tick); rill
    // completes a sleep whose deadline has passed at once.
    ASSERT_ELAPSED(start, 0ms);
  }());
}

TEST(time_sleep, is_elapsed) {
  block_on([]() -> rill::Task<void> {
    rill::time::pause();
    auto sleep = rill::sleep(10ms);
    EXPECT_FALSE(sleep.is_elapsed());
    EXPECT_FALSE(co_await poll_once(await_sleep(&sleep)));
    EXPECT_FALSE(sleep.is_elapsed());
    co_await sleep;
    EXPECT_TRUE(sleep.is_elapsed());
  }());
}

TEST(time_sleep, delayed_sleep_level_0) {
  block_on([]() -> rill::Task<void> {
    rill::time::pause();
    for (int i : {1, 10, 60}) {
      auto start = now();
      auto dur = ms(i);
      co_await rill::sleep_until(start + dur);
      ASSERT_ELAPSED(start, dur);
    }
  }());
}

TEST(time_sleep, sub_ms_delayed_sleep) {
  block_on([]() -> rill::Task<void> {
    rill::time::pause();
    for (int i = 0; i < 5; ++i) {
      auto start = now();
      auto deadline = start + ms(1) + 1ns;
      co_await rill::sleep_until(deadline);
      ASSERT_ELAPSED(start, ms(1));
    }
  }());
}

TEST(time_sleep, delayed_sleep_wrapping_level_0) {
  block_on([]() -> rill::Task<void> {
    rill::time::pause();
    co_await rill::sleep(ms(5));
    auto start = now();
    co_await rill::sleep_until(start + ms(60));
    ASSERT_ELAPSED(start, ms(60));
  }());
}

TEST(time_sleep, reset_future_sleep_before_fire) {
  block_on([]() -> rill::Task<void> {
    rill::time::pause();
    auto start = now();
    auto sleep = rill::sleep_until(start + ms(100));
    EXPECT_FALSE(co_await poll_once(await_sleep(&sleep)));
    sleep.reset(now() + ms(200));
    co_await sleep;
    ASSERT_ELAPSED(start, ms(200));
  }());
}

TEST(time_sleep, reset_past_sleep_before_turn) {
  block_on([]() -> rill::Task<void> {
    rill::time::pause();
    auto start = now();
    auto sleep = rill::sleep_until(start + ms(100));
    EXPECT_FALSE(co_await poll_once(await_sleep(&sleep)));
    sleep.reset(start + ms(80));
    co_await sleep;
    ASSERT_ELAPSED(start, ms(80));
  }());
}

TEST(time_sleep, reset_past_sleep_before_fire) {
  block_on([]() -> rill::Task<void> {
    rill::time::pause();
    auto start = now();
    auto sleep = rill::sleep_until(start + ms(100));
    EXPECT_FALSE(co_await poll_once(await_sleep(&sleep)));
    co_await rill::sleep(ms(10));
    sleep.reset(start + ms(80));
    co_await sleep;
    ASSERT_ELAPSED(start, ms(80));
  }());
}

TEST(time_sleep, reset_future_sleep_after_fire) {
  block_on([]() -> rill::Task<void> {
    rill::time::pause();
    auto start = now();
    auto sleep = rill::sleep_until(start + ms(100));
    co_await sleep;
    ASSERT_ELAPSED(start, ms(100));
    sleep.reset(start + ms(110));
    co_await sleep;
    ASSERT_ELAPSED(start, ms(110));
  }());
}

TEST(time_sleep, reset_sleep_to_past) {
  block_on([]() -> rill::Task<void> {
    rill::time::pause();
    auto start = now();
    auto sleep = rill::sleep_until(start + ms(100));
    EXPECT_FALSE(co_await poll_once(await_sleep(&sleep)));
    co_await rill::sleep(ms(50));
    sleep.reset(start + ms(40));
    EXPECT_TRUE(co_await poll_once(await_sleep(&sleep)));
  }());
}

TEST(time_sleep, creating_sleep_outside_of_context) {
  // Tokio panics at creation; rill throws RuntimeError at creation.
  auto start = now();
  EXPECT_THROW({ auto fut = rill::sleep_until(start + 500ms); }, rill::RuntimeError);
}

TEST(time_sleep, greater_than_max) {
  block_on([]() -> rill::Task<void> {
    constexpr long long YR_5 = 5LL * 365 * 24 * 60 * 60 * 1000;
    rill::time::pause();
    co_await rill::sleep_until(now() + ms(YR_5));
  }());
}

TEST(time_sleep, short_sleeps) {
  block_on([]() -> rill::Task<void> {
    for (int i = 0; i < 10000; ++i)
      co_await rill::sleep(0ms);
  }());
}

TEST(time_sleep, multi_long_sleeps) {
  block_on([]() -> rill::Task<void> {
    rill::time::pause();
    for (int i = 0; i < 5; ++i)
      co_await rill::sleep(std::chrono::seconds(365LL * 24 * 3600));       // about a year
    auto deadline = now() + std::chrono::seconds(10LL * 365 * 24 * 3600);  // about 10 years
    co_await rill::sleep_until(deadline);
    EXPECT_GE(now(), deadline);
  }());
}

TEST(time_sleep, long_sleeps) {
  block_on([]() -> rill::Task<void> {
    rill::time::pause();
    auto deadline = now() + std::chrono::seconds(10LL * 365 * 24 * 3600);  // about 10 years
    co_await rill::sleep_until(deadline);
    EXPECT_GE(now(), deadline);
    EXPECT_LE(now(), deadline + ms(1));
  }());
}

TEST(time_sleep, reset_after_firing) {
  block_on([]() -> rill::Task<void> {
    auto timer = rill::sleep(1ms);
    auto deadline = timer.deadline();
    co_await timer;
    EXPECT_TRUE(co_await poll_once(await_sleep(&timer)));
    timer.reset(now() + 600s);
    EXPECT_NE(deadline, timer.deadline());
    EXPECT_FALSE(co_await poll_once(await_sleep(&timer)));
    EXPECT_FALSE(co_await poll_once(await_sleep(&timer)));
  }());
}

namespace {
constexpr int NUM_LEVELS = 6;
constexpr long long MAX_DURATION = (1LL << (6 * NUM_LEVELS)) - 1;
}  // namespace

TEST(time_sleep, exactly_max) {
  block_on([]() -> rill::Task<void> {
    rill::time::pause();
    co_await rill::sleep(ms(MAX_DURATION));
  }());
}

TEST(time_sleep, no_out_of_bounds_close_to_max) {
  block_on([]() -> rill::Task<void> {
    rill::time::pause();
    co_await rill::sleep(ms(MAX_DURATION - 1));
  }());
}

TEST(time_sleep, drop_after_reschedule_at_new_scheduled_time) {
  block_on([]() -> rill::Task<void> {
    rill::time::pause();
    auto start = now();
    auto a = rill::sleep(5ms);
    std::optional<rill::Sleep> b;
    b.emplace(now() + 5ms);
    auto c = rill::sleep(10ms);
    (void)co_await poll_once(await_sleep(&a));
    (void)co_await poll_once(await_sleep(&*b));
    (void)co_await poll_once(await_sleep(&c));
    b->reset(start + 10ms);
    co_await a;
    b.reset();
  }());
}

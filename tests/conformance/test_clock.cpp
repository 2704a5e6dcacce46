// Port of tokio-1.24.2/tests/test_clock.rs. Tokio's should_panic tests expect rill's
// RuntimeError (thrown by pause/resume, and by advance when awaited).
#include "harness.hpp"

using namespace conformance;
using rill::time::now;

TEST(test_clock, resume_lets_time_move_forward_instead_of_resetting_it) {
  block_on([]() -> rill::Task<void> {
    auto start = now();
    rill::time::pause();
    co_await rill::time::advance(10s);
    auto advanced_by_ten_secs = now();
    EXPECT_GT(advanced_by_ten_secs - start, 10s);
    EXPECT_LT(advanced_by_ten_secs - start, 11s);
    rill::time::resume();
    EXPECT_LT(advanced_by_ten_secs, now());
    EXPECT_LT(now() - advanced_by_ten_secs, 1s);
  }());
}

TEST(test_clock, can_pause_after_resume) {
  block_on([]() -> rill::Task<void> {
    auto start = now();
    rill::time::pause();
    co_await rill::time::advance(10s);
    rill::time::resume();
    rill::time::pause();
    co_await rill::time::advance(10s);
    EXPECT_GT(now() - start, 20s);
    EXPECT_LT(now() - start, 21s);
  }());
}

TEST(test_clock, freezing_time_while_frozen_panics) {
  block_on([]() -> rill::Task<void> {
    rill::time::pause();
    EXPECT_THROW(rill::time::pause(), rill::RuntimeError);
    co_return;
  }());
}

TEST(test_clock, advancing_time_when_time_is_not_frozen_panics) {
  block_on([]() -> rill::Task<void> {
    bool threw = false;
    try {
      co_await rill::time::advance(1s);
    } catch (const rill::RuntimeError&) {
      threw = true;
    }
    EXPECT_TRUE(threw);
  }());
}

TEST(test_clock, resuming_time_when_not_frozen_panics) {
  block_on([]() -> rill::Task<void> {
    rill::time::pause();
    rill::time::resume();
    EXPECT_THROW(rill::time::resume(), rill::RuntimeError);
    co_return;
  }());
}

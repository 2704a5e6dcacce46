// Port of tokio-1.24.2/tests/time_interval.rs. The tests run on a paused clock
// (Builder::start_paused), as Tokio's; poll_next polls one tick once (Ready: the tick's
// scheduled instant; Pending: nothing, and the interval is unchanged).
#include "harness.hpp"

#include <initializer_list>
#include <stdexcept>

using namespace conformance;
using rill::Instant;
using rill::MissedTickBehavior;

namespace {
std::chrono::milliseconds ms(long n) {
  return std::chrono::milliseconds(n);
}

/// interval.poll_tick(cx): the tick's instant when it is due now, nullopt when pending.
rill::Task<std::optional<Instant>> poll_next(rill::Interval* i) {
  auto r = co_await rill::timeout_at(Instant::min(), [](rill::Interval* i) -> rill::Task<Instant> {
    co_return co_await i->tick();
  }(i));
  if (!r) co_return std::nullopt;
  co_return *r;
}

/// check_interval_poll!: for each delta, the next tick is ready at start + delta; then the
/// interval is pending.
rill::Task<void> check_interval_poll(rill::Interval* i, Instant start,
                                     std::initializer_list<long> deltas) {
  for (long d : deltas) {
    auto t = co_await poll_next(i);
    EXPECT_EQ(t, std::optional<Instant>(start + ms(d))) << "delta " << d;
  }
  EXPECT_EQ(co_await poll_next(i), std::nullopt);
}
}  // namespace

TEST(time_interval, interval_zero_duration) {
  // Tokio panics; rill throws std::invalid_argument.
  block_on([]() -> rill::Task<void> {
    EXPECT_THROW((void)rill::interval_at(rill::time::now(), 0ms), std::invalid_argument);
    co_return;
  }());
}

// Expected ticks: |     1     |     2     |     3     |     4     |     5     |     6     |
// Actual ticks:   | work -----|          delay          | work | work | work -| work -----|
TEST(time_interval, burst) {
  block_on_paused([]() -> rill::Task<void> {
    auto start = rill::time::now();
    // Tokio's timer needs the clock 1 ms ahead to resolve the ticks; kept for the same deltas.
    co_await rill::time::advance(ms(1));
    auto i = rill::interval_at(start, ms(300));
    co_await check_interval_poll(&i, start, {0});
    co_await rill::time::advance(ms(100));
    co_await check_interval_poll(&i, start, {});
    co_await rill::time::advance(ms(200));
    co_await check_interval_poll(&i, start, {300});
    co_await rill::time::advance(ms(650));
    co_await check_interval_poll(&i, start, {600, 900});
    co_await rill::time::advance(ms(200));
    co_await check_interval_poll(&i, start, {});
    co_await rill::time::advance(ms(100));
    co_await check_interval_poll(&i, start, {1200});
    co_await rill::time::advance(ms(250));
    co_await check_interval_poll(&i, start, {1500});
    co_await rill::time::advance(ms(300));
    co_await check_interval_poll(&i, start, {1800});
  }());
}

// Expected ticks: |     1     |     2     |     3     |     4     |     5     |     6     |
// Actual ticks:   | work -----|          delay          | work -----| work -----| work -----|
TEST(time_interval, delay) {
  block_on_paused([]() -> rill::Task<void> {
    auto start = rill::time::now();
    co_await rill::time::advance(ms(1));
    auto i = rill::interval_at(start, ms(300));
    i.set_missed_tick_behavior(MissedTickBehavior::Delay);
    co_await check_interval_poll(&i, start, {0});
    co_await rill::time::advance(ms(100));
    co_await check_interval_poll(&i, start, {});
    co_await rill::time::advance(ms(200));
    co_await check_interval_poll(&i, start, {300});
    co_await rill::time::advance(ms(650));
    co_await check_interval_poll(&i, start, {600});
    co_await rill::time::advance(ms(100));
    co_await check_interval_poll(&i, start, {});
    // Delay schedules the next tick one period after now (start + 951), so it is due at 1251.
    co_await rill::time::advance(ms(201));
    co_await check_interval_poll(&i, start, {1251});
    co_await rill::time::advance(ms(300));
    co_await check_interval_poll(&i, start, {1551});
    co_await rill::time::advance(ms(300));
    co_await check_interval_poll(&i, start, {1851});
  }());
}

// Expected ticks: |     1     |     2     |     3     |     4     |     5     |     6     |
// Actual ticks:   | work -----|          delay          | work ---| work -----| work -----|
TEST(time_interval, skip) {
  block_on_paused([]() -> rill::Task<void> {
    auto start = rill::time::now();
    co_await rill::time::advance(ms(1));
    auto i = rill::interval_at(start, ms(300));
    i.set_missed_tick_behavior(MissedTickBehavior::Skip);
    co_await check_interval_poll(&i, start, {0});
    co_await rill::time::advance(ms(100));
    co_await check_interval_poll(&i, start, {});
    co_await rill::time::advance(ms(200));
    co_await check_interval_poll(&i, start, {300});
    co_await rill::time::advance(ms(650));
    co_await check_interval_poll(&i, start, {600});
    co_await rill::time::advance(ms(250));
    co_await check_interval_poll(&i, start, {1200});
    co_await rill::time::advance(ms(300));
    co_await check_interval_poll(&i, start, {1500});
    co_await rill::time::advance(ms(300));
    co_await check_interval_poll(&i, start, {1800});
  }());
}

TEST(time_interval, reset) {
  block_on_paused([]() -> rill::Task<void> {
    auto start = rill::time::now();
    co_await rill::time::advance(ms(1));
    auto i = rill::interval_at(start, ms(300));
    co_await check_interval_poll(&i, start, {0});
    co_await rill::time::advance(ms(100));
    co_await check_interval_poll(&i, start, {});
    co_await rill::time::advance(ms(200));
    co_await check_interval_poll(&i, start, {300});
    co_await rill::time::advance(ms(100));
    co_await check_interval_poll(&i, start, {});
    i.reset();
    co_await rill::time::advance(ms(250));
    co_await check_interval_poll(&i, start, {});
    co_await rill::time::advance(ms(50));
    // reset() schedules the next tick one period after now (start + 401)
    co_await check_interval_poll(&i, start, {701});
    co_await rill::time::advance(ms(300));
    co_await check_interval_poll(&i, start, {1001});
  }());
}

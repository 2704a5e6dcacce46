// Port of tokio-1.24.2/tests/time_interval.rs. Left out: burst, delay, skip, reset (each checks
// which ticks are ready after exact time::advance steps of the paused clock; rill has no test
// clock, and real sleeps cannot make those checks reliable).
#include "harness.hpp"

#include <stdexcept>

using namespace conformance;

TEST(time_interval, interval_zero_duration) {
  // Tokio panics; rill throws std::invalid_argument.
  block_on([]() -> rill::Task<void> {
    EXPECT_THROW((void)rill::interval_at(std::chrono::steady_clock::now(), 0ms),
                 std::invalid_argument);
    co_return;
  }());
}

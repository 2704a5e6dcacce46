// BusyClock: the clock of the workers' busy time. Once the TSC rate is calibrated (a reading
// 20 ms after the process's first one), runs are timed with the TSC on CPUs that have an
// invariant one, and must agree with steady_clock.
#include "scheduler/busy_clock.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

namespace {

using namespace std::chrono_literals;
using rill::detail::BusyClock;
using steady = std::chrono::steady_clock;

std::uint64_t ns(steady::duration d) {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(d).count());
}

TEST(BusyClock, ARunTimedAfterCalibrationAgreesWithSteadyClock) {
  // The anchor, then a reading more than 20 ms later: the rate is known from here on.
  (void)BusyClock::elapsed_ns(BusyClock::now());
  std::this_thread::sleep_for(30ms);
  (void)BusyClock::elapsed_ns(BusyClock::now());

  for (int i = 0; i < 3; ++i) {
    const auto outer0 = steady::now();
    const BusyClock::Stamp start = BusyClock::now();
    EXPECT_EQ(start.tsc, BusyClock::tsc_available());
    const auto inner0 = steady::now();
    std::this_thread::sleep_for(40ms);
    const auto inner1 = steady::now();
    const std::uint64_t took = BusyClock::elapsed_ns(start);
    const auto outer1 = steady::now();
    // Between the steady-clock window inside the run and the one around it, give or take the
    // calibration's error (under 1e-5; 1e-3 allowed).
    EXPECT_GE(took, ns(inner1 - inner0) * 999 / 1000) << "round " << i;
    EXPECT_LE(took, ns(outer1 - outer0) * 1001 / 1000) << "round " << i;
  }
}

TEST(BusyClock, ANegativeSpanIsZero) {
  BusyClock::Stamp late = BusyClock::now();
  late.value += 1'000'000'000'000ull;  // a start "in the future" (another CPU's clock, say)
  EXPECT_EQ(BusyClock::elapsed_ns(late), 0u);
}

}  // namespace

// time/clock.hpp: a runtime's clock, which tests can pause, advance and resume (Tokio's
// test-util clock, tokio/src/time/clock.rs).
//
// Running, it reads steady_clock plus an offset (the time the clock was advanced while paused,
// so time never goes backwards on resume). Paused, it is frozen at one instant that only
// advance() (or the scheduler's auto-advance) moves. The running/paused state and the frozen
// instant share one atomic word, so now() takes no lock; pause/resume/advance take a mutex.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <limits>
#include <mutex>

namespace rill::detail {

class Clock {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  /// The clock's current instant. Thread-safe, lock-free.
  TimePoint now() const noexcept {
    const std::int64_t f = frozen_.load(std::memory_order_acquire);
    if (f != kRunning) return TimePoint(std::chrono::nanoseconds(f));
    return std::chrono::steady_clock::now() +
           std::chrono::nanoseconds(offset_.load(std::memory_order_relaxed));
  }
  bool paused() const noexcept { return frozen_.load(std::memory_order_acquire) != kRunning; }
  /// Freezes the clock at now(), rounded up to a whole tick (millisecond) after `origin`, the
  /// timers' tick origin: then `sleep(5s)` followed by `advance(5s)` lands exactly on the
  /// sleep's tick, as in Tokio. False when it was already paused.
  bool pause(TimePoint origin) noexcept {
    std::lock_guard lk(mu_);
    if (paused()) return false;
    const std::int64_t ms = 1'000'000;
    const std::int64_t o = origin.time_since_epoch().count();
    std::int64_t t = now().time_since_epoch().count();
    if (t > o) t = o + (t - o + ms - 1) / ms * ms;
    frozen_.store(t, std::memory_order_release);
    return true;
  }
  /// Lets the clock run again from the frozen instant; false when it was not paused.
  bool resume() noexcept {
    std::lock_guard lk(mu_);
    const std::int64_t f = frozen_.load(std::memory_order_relaxed);
    if (f == kRunning) return false;
    const std::int64_t real = std::chrono::steady_clock::now().time_since_epoch().count();
    offset_.store(f - real, std::memory_order_relaxed);
    frozen_.store(kRunning, std::memory_order_release);
    return true;
  }
  /// Moves a paused clock forward by `d` (>= 0); false when it is not paused.
  bool advance(std::chrono::nanoseconds d) noexcept {
    std::lock_guard lk(mu_);
    const std::int64_t f = frozen_.load(std::memory_order_relaxed);
    if (f == kRunning) return false;
    frozen_.store(f + d.count(), std::memory_order_release);
    return true;
  }
  /// Moves a paused clock forward to `t` if `t` is later (auto-advance to the next timer).
  void advance_to(TimePoint t) noexcept {
    std::lock_guard lk(mu_);
    const std::int64_t f = frozen_.load(std::memory_order_relaxed);
    const std::int64_t target = t.time_since_epoch().count();
    if (f != kRunning && target > f) frozen_.store(target, std::memory_order_release);
  }

 private:
  static constexpr std::int64_t kRunning = std::numeric_limits<std::int64_t>::min();
  std::mutex mu_;
  std::atomic<std::int64_t> frozen_{kRunning};  ///< ns since the steady_clock epoch, or kRunning
  std::atomic<std::int64_t> offset_{0};         ///< added to steady_clock while running
};

}  // namespace rill::detail

// scheduler/busy_clock.hpp: the clock that times a worker's runs of polls (busy time, mean poll
// time) at every park cycle.
//
// steady_clock::now() is a vDSO call (26 ns in a loop on a kvm-clock guest, more right after a
// kernel entry, when its pages are cold), and a busy I/O worker parks thousands of times a
// second. Where the CPU has an invariant TSC (constant rate, running in every C-state: CPUID
// 0x80000007 EDX bit 8), runs are timed with RDTSC instead, which touches no memory, and
// converted to nanoseconds with a rate measured against steady_clock: from the first reading
// of the process (the anchor) to one at least kCalibrationNs later. Until then, and on CPUs
// without an invariant TSC, runs are timed with steady_clock as before.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

#if defined(__x86_64__)
#include <cpuid.h>
#include <x86intrin.h>
#endif

namespace rill::detail {

class BusyClock {
 public:
  /// A point in time: TSC ticks when `tsc`, else steady_clock nanoseconds.
  struct Stamp {
    std::uint64_t value = 0;
    bool tsc = false;
  };

  /// Reads the clock: RDTSC once the rate is known, else steady_clock. Any thread.
  static Stamp now() noexcept {
    if (rate_known()) return {ticks(), true};
    return {steady_ns(), false};
  }

  /// Nanoseconds from `start` to now (0 if the clock went backwards, e.g. TSCs of two CPUs that
  /// disagree by a few ticks). May establish the TSC rate. Any thread.
  static std::uint64_t elapsed_ns(Stamp start) noexcept {
    if (start.tsc) {
      const std::uint64_t t = ticks();
      if (t <= start.value) return 0;
      return static_cast<std::uint64_t>(static_cast<double>(t - start.value) *
                                        ns_per_tick_.load(std::memory_order_relaxed));
    }
    const std::uint64_t n = steady_ns();
    calibrate(n);
    return n > start.value ? n - start.value : 0;
  }

  /// True when this CPU's TSC is invariant, so runs are timed with RDTSC once calibrated.
  static bool tsc_available() noexcept { return invariant_tsc(); }

 private:
  static constexpr std::uint64_t kCalibrationNs = 20'000'000;  // 20 ms between the two readings

  static std::uint64_t steady_ns() noexcept {
    return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                          std::chrono::steady_clock::now().time_since_epoch())
                                          .count());
  }
  static std::uint64_t ticks() noexcept {
#if defined(__x86_64__)
    return __rdtsc();
#else
    return 0;
#endif
  }
  static bool invariant_tsc() noexcept {
#if defined(__x86_64__)
    static const bool invariant = [] {
      unsigned a = 0, b = 0, c = 0, d = 0;
      if (__get_cpuid_max(0x80000000u, nullptr) < 0x80000007u) return false;
      __cpuid(0x80000007u, a, b, c, d);
      return (d & (1u << 8)) != 0;
    }();
    return invariant;
#else
    return false;
#endif
  }
  static bool rate_known() noexcept { return ns_per_tick_.load(std::memory_order_relaxed) > 0.0; }

  // The process's first reading (steady ns and TSC, taken together) and, once a reading
  // kCalibrationNs later has been seen, the rate between them.
  struct Anchor {
    std::uint64_t ns, tsc;
  };
  static const Anchor& anchor() noexcept {
    static const Anchor a{steady_ns(), ticks()};
    return a;
  }
  static void calibrate(std::uint64_t now_ns) noexcept {
    if (!invariant_tsc()) return;
    const Anchor& a = anchor();
    if (now_ns < a.ns + kCalibrationNs) return;
    const std::uint64_t t = ticks();
    if (t <= a.tsc) return;
    // Any thread may store: every estimate spans at least kCalibrationNs (error under 1e-5).
    ns_per_tick_.store(static_cast<double>(now_ns - a.ns) / static_cast<double>(t - a.tsc),
                       std::memory_order_relaxed);
  }

  static inline std::atomic<double> ns_per_tick_{0.0};
};

}  // namespace rill::detail

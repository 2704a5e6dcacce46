// Tests for rill::sleep, sleep_until, timeout, interval, and timer cancellation races.
#include <gtest/gtest.h>
#include <rill/rill.hpp>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {
class TimeFlavors : public ::testing::TestWithParam<bool> {
 protected:
  rill::Runtime rt = GetParam() ? rill::Builder::new_multi_thread().worker_threads(2).build()
                                : rill::Builder::new_current_thread().build();
};
INSTANTIATE_TEST_SUITE_P(Time, TimeFlavors, ::testing::Values(true, false),
                         [](const auto& i) { return i.param ? "multi_thread" : "current_thread"; });

rill::Task<int> slow(std::chrono::milliseconds d, int v) {
  co_await rill::sleep(d);
  co_return v;
}
}  // namespace

TEST_P(TimeFlavors, SleepNeverWakesEarly) {
  auto elapsed = rt.block_on([]() -> rill::Task<Clock::duration> {
    auto t0 = Clock::now();
    co_await rill::sleep(20ms);
    co_return Clock::now() - t0;
  }());
  EXPECT_GE(elapsed, 20ms);
  EXPECT_LT(elapsed, 2s);  // generous: the box is shared
}

TEST_P(TimeFlavors, SleepUntilPastDeadlineCompletesAtOnce) {
  auto elapsed = rt.block_on([]() -> rill::Task<Clock::duration> {
    auto t0 = Clock::now();
    co_await rill::sleep_until(t0 - 1s);
    co_await rill::sleep(0ms);
    co_return Clock::now() - t0;
  }());
  EXPECT_LT(elapsed, 100ms);
}

TEST_P(TimeFlavors, ManySleepersWakeAfterTheirDeadlines) {
  // Each sleeper records when it woke. None may wake early. On current_thread they must also
  // wake in deadline order (one thread fires one wheel); across workers the order of wake-ups
  // 15 ms apart is not guaranteed on a loaded machine, as in Tokio.
  struct Woke {
    int i;
    Clock::duration late;
  };
  auto woke = rt.block_on([]() -> rill::Task<std::vector<Woke>> {
    auto out = std::make_shared<std::vector<Woke>>();
    auto mu = std::make_shared<std::mutex>();
    std::vector<rill::JoinHandle<void>> hs;
    for (int i = 5; i >= 1; --i)
      hs.push_back(rill::spawn([](int i, auto out, auto mu) -> rill::Task<void> {
        const auto deadline = Clock::now() + std::chrono::milliseconds(i * 15);
        co_await rill::sleep_until(deadline);
        const auto late = Clock::now() - deadline;
        std::lock_guard lk(*mu);
        out->push_back({i, late});
      }(i, out, mu)));
    for (auto& h : hs)
      co_await h;
    co_return *out;
  }());
  ASSERT_EQ(woke.size(), 5u);
  for (const auto& w : woke)
    EXPECT_GE(w.late, Clock::duration::zero()) << "sleeper " << w.i;
  if (!GetParam()) {
    for (int k = 0; k < 5; ++k)
      EXPECT_EQ(woke[k].i, k + 1);
  }
}

TEST_P(TimeFlavors, TimeoutOkAndElapsed) {
  auto [ok, late] = rt.block_on([]() -> rill::Task<std::pair<int, bool>> {
    auto a = co_await rill::timeout(1s, slow(1ms, 7));
    auto b = co_await rill::timeout(10ms, slow(10s, 8));
    co_return std::pair{a.value(), !b.has_value()};
  }());
  EXPECT_EQ(ok, 7);
  EXPECT_TRUE(late);
}

TEST_P(TimeFlavors, TimeoutDestroysInnerTaskOnElapse) {
  struct Flag {
    bool* f;
    ~Flag() { *f = true; }
  };
  bool destroyed = false;
  bool elapsed = rt.block_on([](bool* d) -> rill::Task<bool> {
    auto r = co_await rill::timeout(5ms, [](bool* d) -> rill::Task<void> {
      Flag f{d};
      co_await rill::sleep(1h);
    }(d));
    co_return !r.has_value();
  }(&destroyed));
  EXPECT_TRUE(elapsed);
  EXPECT_TRUE(destroyed);
}

TEST_P(TimeFlavors, NestedTimeoutsInnerFiresFirst) {
  auto r = rt.block_on([]() -> rill::Task<int> {
    auto outer = co_await rill::timeout(5s, []() -> rill::Task<int> {
      auto inner = co_await rill::timeout(5ms, slow(1h, 1));
      co_return inner ? 1 : 2;
    }());
    co_return outer.value();
  }());
  EXPECT_EQ(r, 2);
}

TEST_P(TimeFlavors, TimeoutPropagatesException) {
  EXPECT_THROW(rt.block_on([]() -> rill::Task<void> {
    (void)co_await rill::timeout(1s, []() -> rill::Task<int> {
      co_await rill::sleep(1ms);
      throw std::runtime_error("inner");
    }());
  }()),
               std::runtime_error);
}

TEST_P(TimeFlavors, TimeoutAroundReadyTaskRegistersNoTimer) {
  // 100k ready tasks under timeout finish quickly (no timer work at all).
  auto n = rt.block_on([]() -> rill::Task<int> {
    int ok = 0;
    for (int i = 0; i < 100000; ++i)
      if (co_await rill::timeout(5s, [](int i) -> rill::Task<int> { co_return i; }(i))) ++ok;
    co_return ok;
  }());
  EXPECT_EQ(n, 100000);
}

TEST_P(TimeFlavors, IntervalFirstTickImmediateThenPeriodic) {
  auto ticks = rt.block_on([]() -> rill::Task<std::vector<Clock::duration>> {
    auto iv = rill::interval(10ms);
    auto t0 = Clock::now();
    std::vector<Clock::duration> out;
    for (int i = 0; i < 4; ++i) {
      co_await iv.tick();
      out.push_back(Clock::now() - t0);
    }
    co_return out;
  }());
  ASSERT_EQ(ticks.size(), 4u);
  EXPECT_LT(ticks[0], 5ms);
  EXPECT_GE(ticks[3], 30ms);
}

TEST(Interval, MissedTickBehaviors) {
  auto rt = rill::Builder::new_current_thread().build();
  for (auto b : {rill::MissedTickBehavior::Burst, rill::MissedTickBehavior::Delay,
                 rill::MissedTickBehavior::Skip}) {
    auto scheduled =
        rt.block_on([](rill::MissedTickBehavior b) -> rill::Task<std::vector<rill::Instant>> {
          auto iv = rill::interval(10ms);
          iv.set_missed_tick_behavior(b);
          std::vector<rill::Instant> s;
          s.push_back(co_await iv.tick());
          std::this_thread::sleep_for(35ms);  // miss three ticks
          s.push_back(co_await iv.tick());
          s.push_back(co_await iv.tick());
          co_return s;
        }(b));
    const auto step = scheduled[2] - scheduled[1];
    if (b == rill::MissedTickBehavior::Burst) {
      EXPECT_EQ(scheduled[1] - scheduled[0], 10ms);  // late tick keeps its schedule
      EXPECT_EQ(step, 10ms);
    } else if (b == rill::MissedTickBehavior::Delay) {
      EXPECT_GE(step, 10ms);
      EXPECT_GT(scheduled[2] - scheduled[0], 40ms);  // restarted from the late tick
    } else {
      EXPECT_EQ((scheduled[2] - scheduled[0]) % 10ms, 0ms);  // stays on the grid
      EXPECT_GE(scheduled[2] - scheduled[0], 40ms);
    }
  }
  EXPECT_THROW(rill::interval(0ms), std::invalid_argument);
}

TEST(TimerStress, CancelledWhileFiring) {
  // Timeouts whose deadline races with their inner task's completion, on two workers, so
  // cancellation (from the completing side) and firing (on the owning core) collide.
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
  constexpr int kTasks = 300;
#else
  constexpr int kTasks = 2000;
#endif
  auto rt = rill::Builder::new_multi_thread().worker_threads(2).build();
  std::atomic<int> ok{0}, elapsed{0};
  rt.block_on([](std::atomic<int>* ok, std::atomic<int>* el) -> rill::Task<void> {
    std::vector<rill::JoinHandle<void>> hs;
    for (int i = 0; i < kTasks; ++i)
      hs.push_back(
          rill::spawn([](int i, std::atomic<int>* ok, std::atomic<int>* el) -> rill::Task<void> {
            auto r = co_await rill::timeout(std::chrono::milliseconds(1 + i % 3),
                                            slow(std::chrono::milliseconds(1 + (i / 3) % 3), i));
            (r ? ok : el)->fetch_add(1);
          }(i, ok, el)));
    for (auto& h : hs)
      co_await h;
  }(&ok, &elapsed));
  EXPECT_EQ(ok.load() + elapsed.load(), kTasks);
}

TEST(TimerStress, TaskCreatedOutsideRuntimeSleepsInside) {
  // Tasks are lazy: one created outside a runtime registers its timer once block_on drives it.
  auto t = []() -> rill::Task<void> { co_await rill::sleep(1ms); }();
  (void)t;
  auto rt = rill::Builder::new_current_thread().build();
  EXPECT_NO_THROW(rt.block_on(std::move(t)));
}

// Durations too long to represent saturate instead of overflowing into the past: a sleep or a
// timeout of Duration::max() (or hours::max()) never fires first.
TEST_P(TimeFlavors, MaxDurationsSaturateInsteadOfFiringAtOnce) {
  rt.block_on([]() -> rill::Task<void> {
    auto r = co_await rill::select(
        []() -> rill::Task<void> { co_await rill::sleep(rill::Duration::max()); }(),
        []() -> rill::Task<void> { co_await rill::sleep(std::chrono::hours::max()); }(),
        []() -> rill::Task<void> { co_await rill::sleep(std::chrono::seconds::max()); }(),
        []() -> rill::Task<void> { co_await rill::sleep(20ms); }());
    EXPECT_EQ(r.index(), 3u);
    auto t = co_await rill::timeout(rill::Duration::max(), []() -> rill::Task<int> {
      co_await rill::sleep(20ms);
      co_return 7;
    }());
    EXPECT_TRUE(t.has_value());
    auto t2 = co_await rill::timeout(std::chrono::hours::max(), []() -> rill::Task<int> {
      co_await rill::sleep(20ms);
      co_return 8;
    }());
    EXPECT_TRUE(t2.has_value());
    rill::Sleep s = rill::sleep(rill::Duration::max());
    EXPECT_GT(s.deadline(), std::chrono::steady_clock::now() + std::chrono::hours(24 * 365));
  }());
}

// Like Tokio (which panics), creating a Sleep outside a runtime is an error at once, not when
// it is first awaited.
TEST(Sleep, CreatedOutsideRuntimeThrowsAtOnce) {
  EXPECT_THROW((void)rill::sleep(10ms), rill::RuntimeError);
  EXPECT_THROW((void)rill::sleep_until(std::chrono::steady_clock::now()), rill::RuntimeError);
}

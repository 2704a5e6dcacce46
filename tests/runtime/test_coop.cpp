// Tests for the cooperative budget: consume_budget, yield_now, unconstrained, and resources
// that complete without suspending.
#include <gtest/gtest.h>
#include <rill/rill.hpp>

#include <atomic>
#include <chrono>

using namespace std::chrono_literals;

namespace {
// Runs `hog(progress)` beside a probe task on a current_thread runtime. The hog bumps *progress
// as it works; the probe (which spends budget in a loop, so it also gets preempted) counts how
// many times it found that the hog had progressed, i.e. how often the hog was preempted.
template <class Hog>
int preemptions(Hog hog) {
  auto rt = rill::Builder::new_current_thread().build();
  return rt.block_on([](Hog hog) -> rill::Task<int> {
    auto progress = std::make_shared<int>(0);
    auto stop = std::make_shared<bool>(false);
    auto episodes = std::make_shared<int>(0);
    auto probe = rill::spawn([](auto progress, auto stop, auto episodes) -> rill::Task<void> {
      int last = 0;
      while (!*stop) {
        if (*progress != last) {
          ++*episodes;
          last = *progress;
        }
        co_await rill::consume_budget();
      }
    }(progress, stop, episodes));
    co_await hog(progress.get());
    *stop = true;
    co_await probe;
    co_return *episodes;
  }(hog));
}
}  // namespace

TEST(Coop, ConsumeBudgetYieldsEvery128Units) {
  int n = preemptions([](int* p) -> rill::Task<void> {
    for (int i = 0; i < 128 * 20; ++i) {
      ++*p;
      co_await rill::consume_budget();
    }
  });
  EXPECT_GE(n, 18);  // 20 forced yields
  EXPECT_LE(n, 22);
}

TEST(Coop, UnconstrainedNeverYields) {
  int n = preemptions([](int* p) -> rill::Task<void> {
    co_await rill::unconstrained([](int* p) -> rill::Task<void> {
      for (int i = 0; i < 128 * 20; ++i) {
        ++*p;
        co_await rill::consume_budget();
      }
    }(p));
  });
  EXPECT_EQ(n, 0);
}

TEST(Coop, ReadyChannelReceivesSpendBudget) {
  int n = preemptions([](int* p) -> rill::Task<void> {
    auto [tx, rx] = rill::sync::mpsc::unbounded_channel<int>();
    for (int i = 0; i < 128 * 10; ++i) (void)tx.send(i);
    for (int i = 0; i < 128 * 10; ++i) {
      ++*p;
      EXPECT_EQ(*co_await rx.recv(), i);
    }
  });
  EXPECT_GE(n, 8);  // a ready receive costs one unit: ~10 forced yields
  EXPECT_LE(n, 11);
}

TEST(Coop, YieldNowLetsOthersRun) {
  int n = preemptions([](int* p) -> rill::Task<void> {
    for (int i = 0; i < 50; ++i) {
      ++*p;
      co_await rill::yield_now();
    }
  });
  EXPECT_GE(n, 45);
}

TEST(Coop, OutsideATaskNothingYields) {
  // consume_budget / yield_now awaited by a coroutine driven outside any runtime complete at once.
  auto t = []() -> rill::Task<int> {
    co_await rill::consume_budget();
    co_await rill::yield_now();
    co_return 1;
  }();
  auto rt = rill::Builder::new_current_thread().build();
  EXPECT_EQ(rt.block_on(std::move(t)), 1);
}

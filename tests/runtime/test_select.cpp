// Tests for rill/select.hpp: select / when_any (first wins, losers destroyed at their suspension
// point with their destructors run and their resources deregistered), join / join_all,
// try_join, and for_each_concurrent (limit respected).
#include <gtest/gtest.h>
#include <rill/rill.hpp>
#include <rill/select.hpp>
#include <rill/sync/mpsc.hpp>
#include <rill/sync/semaphore.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <ranges>
#include <stdexcept>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using rill::Task;

namespace {
/// Counts destructor runs (a loser's RAII cleanup).
struct Probe {
  std::atomic<int>* n;
  ~Probe() { n->fetch_add(1); }
};

Task<int> after(std::chrono::milliseconds d, int v, std::atomic<int>* dropped) {
  Probe p{dropped};
  co_await rill::sleep(d);
  co_return v;
}

rill::Runtime mt() {
  return rill::Builder::new_multi_thread().worker_threads(2).build();
}
rill::Runtime ct() {
  return rill::Builder::new_current_thread().build();
}
}  // namespace

TEST(Select, FirstWinsAndLosersAreDestroyed) {
  auto rt = mt();
  rt.block_on([]() -> Task<void> {
    std::atomic<int> dropped{0};
    const auto t0 = std::chrono::steady_clock::now();
    auto r = co_await rill::select(after(1000ms, 1, &dropped), after(2ms, 2, &dropped),
                                   [](std::atomic<int>* d) -> Task<void> {
                                     Probe p{d};
                                     co_await rill::sleep(1000ms);
                                   }(&dropped));
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 500ms);  // losers' timers did not hold us
    EXPECT_EQ(r.index(), 1u);
    EXPECT_EQ(std::get<1>(r), 2);
    EXPECT_EQ(dropped.load(), 3);  // the winner finished, both losers were destroyed
  }());
}

TEST(Select, ReadyChildWinsWithoutStartingLaterOnes) {
  auto rt = ct();
  rt.block_on([]() -> Task<void> {
    std::atomic<int> started{0};
    auto r = co_await rill::select([]() -> Task<std::string> { co_return "now"; }(),
                                   [](std::atomic<int>* s) -> Task<int> {
                                     s->fetch_add(1);
                                     co_return 1;
                                   }(&started));
    EXPECT_EQ(r.index(), 0u);
    EXPECT_EQ(std::get<0>(r), "now");
    EXPECT_EQ(started.load(), 0);
  }());
}

TEST(Select, WinnerExceptionPropagates) {
  auto rt = ct();
  rt.block_on([]() -> Task<void> {
    std::atomic<int> dropped{0};
    bool caught = false;
    try {
      (void)co_await rill::select(after(1000ms, 1, &dropped), []() -> Task<int> {
        co_await rill::sleep(1ms);
        throw std::runtime_error("child failed");
      }());
    } catch (const std::runtime_error& e) {
      caught = std::string(e.what()) == "child failed";
    }
    EXPECT_TRUE(caught);
    EXPECT_EQ(dropped.load(), 1);
  }());
}

TEST(Select, LoserChannelReceiveIsCancelSafe) {
  auto rt = mt();
  rt.block_on([]() -> Task<void> {
    auto [tx, rx] = rill::sync::mpsc::channel<int>(4);
    // The receive loses to a timer: nothing is consumed, the channel's waker is deregistered.
    auto r = co_await rill::select(
        [](rill::sync::mpsc::Receiver<int>* rx) -> Task<int> {
          co_return *(co_await rx->recv());
        }(&rx),
        []() -> Task<void> { co_await rill::sleep(2ms); }());
    EXPECT_EQ(r.index(), 1u);
    (void)co_await tx.send(5);
    auto v = co_await rx.recv();
    EXPECT_EQ(v, std::optional<int>(5));
  }());
}

TEST(Select, LoserSemaphoreWaiterLeavesTheQueue) {
  auto rt = ct();
  rt.block_on([]() -> Task<void> {
    rill::sync::Semaphore s(0);
    auto r = co_await rill::select(
        [](rill::sync::Semaphore* s) -> Task<void> { auto p = co_await s->acquire(); }(&s),
        []() -> Task<void> { co_await rill::sleep(1ms); }());
    EXPECT_EQ(r.index(), 1u);
    s.add_permits(1);
    EXPECT_EQ(s.available_permits(), 1u);  // not assigned to the destroyed waiter
  }());
}

TEST(Select, NestedSelectAndManyRounds) {
  auto rt = mt();
  rt.block_on([]() -> Task<void> {
    std::atomic<int> dropped{0};
    int wins = 0;
    for (int i = 0; i < 50; ++i) {
      auto inner = [](std::atomic<int>* d) -> Task<int> {
        auto r = co_await rill::select(after(1000ms, 1, d), after(1ms, 2, d));
        co_return std::get<1>(r);
      };
      auto r = co_await rill::select(inner(&dropped), after(1000ms, 3, &dropped));
      if (r.index() == 0 && std::get<0>(r) == 2) ++wins;
    }
    EXPECT_EQ(wins, 50);
    EXPECT_EQ(dropped.load(), 150);
  }());
}

TEST(WhenAny, VectorOfTasks) {
  auto rt = mt();
  rt.block_on([]() -> Task<void> {
    std::atomic<int> dropped{0};
    std::vector<Task<int>> ts;
    ts.push_back(after(1000ms, 10, &dropped));
    ts.push_back(after(1000ms, 11, &dropped));
    ts.push_back(after(3ms, 12, &dropped));
    auto r = co_await rill::when_any(std::move(ts));
    EXPECT_EQ(r.index, 2u);
    EXPECT_EQ(r.value, 12);
    EXPECT_EQ(dropped.load(), 3);
    bool threw = false;
    try {
      (void)co_await rill::when_any(std::vector<Task<int>>{});
    } catch (const std::invalid_argument&) {
      threw = true;
    }
    EXPECT_TRUE(threw);
  }());
}

TEST(Join, AllValuesConcurrently) {
  auto rt = mt();
  rt.block_on([]() -> Task<void> {
    std::atomic<int> dropped{0};
    const auto t0 = std::chrono::steady_clock::now();
    auto [a, b, c] = co_await rill::join(after(100ms, 1, &dropped), after(100ms, 2, &dropped),
                                         []() -> Task<void> { co_await rill::sleep(100ms); }());
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 250ms);  // concurrently, not 300 ms
    EXPECT_EQ(a + b, 3);
    (void)c;
    std::vector<Task<int>> ts;
    for (int i = 0; i < 10; ++i)
      ts.push_back(after(std::chrono::milliseconds(10 - i), i, &dropped));
    auto all = co_await rill::join_all(std::move(ts));
    EXPECT_EQ(all.size(), 10u);
    for (int i = 0; i < 10 && i < static_cast<int>(all.size()); ++i)
      EXPECT_EQ(all[i], i);  // input order, not completion order
  }());
}

TEST(Join, ExceptionCancelsTheRest) {
  auto rt = ct();
  rt.block_on([]() -> Task<void> {
    std::atomic<int> dropped{0};
    std::vector<Task<int>> ts;
    ts.push_back(after(1000ms, 1, &dropped));
    ts.push_back([]() -> Task<int> {
      co_await rill::sleep(1ms);
      throw std::logic_error("bad");
    }());
    ts.push_back(after(1000ms, 3, &dropped));
    bool caught = false;
    try {
      (void)co_await rill::join_all(std::move(ts));
    } catch (const std::logic_error&) {
      caught = true;
    }
    EXPECT_TRUE(caught);
    EXPECT_EQ(dropped.load(), 2);
  }());
}

TEST(TryJoin, FirstErrorCancelsOthers) {
  auto rt = ct();
  rt.block_on([]() -> Task<void> {
    std::atomic<int> dropped{0};
    auto ok = [](int v, std::chrono::milliseconds d,
                 std::atomic<int>* dr) -> Task<rill::Result<int, std::string>> {
      Probe p{dr};
      co_await rill::sleep(d);
      co_return v;
    };
    auto fail = [](std::chrono::milliseconds d) -> Task<rill::Result<void, std::string>> {
      co_await rill::sleep(d);
      co_return rill::Unexpected{std::string("nope")};
    };
    auto good = co_await rill::try_join(ok(1, 1ms, &dropped), ok(2, 2ms, &dropped));
    EXPECT_TRUE(good.has_value());
    if (good) {
      EXPECT_EQ(std::get<0>(*good), 1);
      EXPECT_EQ(std::get<1>(*good), 2);
    }
    const auto t0 = std::chrono::steady_clock::now();
    auto bad = co_await rill::try_join(ok(1, 1000ms, &dropped), fail(2ms));
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 500ms);
    EXPECT_FALSE(bad.has_value());
    if (!bad) EXPECT_EQ(bad.error(), "nope");
    EXPECT_EQ(dropped.load(), 3);
  }());
}

TEST(ForEachConcurrent, RespectsLimitAndVisitsAll) {
  auto rt = mt();
  rt.block_on([]() -> Task<void> {
    auto in = std::make_shared<std::atomic<int>>(0);
    auto max = std::make_shared<std::atomic<int>>(0);
    auto sum = std::make_shared<std::atomic<int>>(0);
    co_await rill::for_each_concurrent(std::views::iota(1, 41), 4, [=](int i) -> Task<void> {
      int now = in->fetch_add(1) + 1;
      int m = max->load();
      while (now > m && !max->compare_exchange_weak(m, now)) {
      }
      co_await rill::sleep(std::chrono::milliseconds(i % 3));
      sum->fetch_add(i);
      in->fetch_sub(1);
    });
    EXPECT_EQ(sum->load(), 40 * 41 / 2);
    EXPECT_EQ(max->load(), 4);
    // limit 0: all at once.
    max->store(0);
    std::vector<int> items(10, 1);
    co_await rill::for_each_concurrent(items, 0, [=](int) -> Task<void> {
      int now = in->fetch_add(1) + 1;
      int m = max->load();
      while (now > m && !max->compare_exchange_weak(m, now)) {
      }
      co_await rill::sleep(2ms);
      in->fetch_sub(1);
    });
    EXPECT_EQ(max->load(), 10);
  }());
}

TEST(ForEachConcurrent, ExceptionStopsAndPropagates) {
  auto rt = ct();
  rt.block_on([]() -> Task<void> {
    auto started = std::make_shared<int>(0);
    auto dropped = std::make_shared<std::atomic<int>>(0);
    bool caught = false;
    try {
      co_await rill::for_each_concurrent(std::views::iota(0, 100), 3, [=](int i) -> Task<void> {
        ++*started;
        Probe p{dropped.get()};
        if (i == 4) throw std::runtime_error("item 4");
        co_await rill::sleep(std::chrono::milliseconds(1 + i % 2));
      });
    } catch (const std::runtime_error&) {
      caught = true;
    }
    EXPECT_TRUE(caught);
    EXPECT_LT(*started, 10);               // stopped early
    EXPECT_EQ(dropped->load(), *started);  // every started call was finished or destroyed
  }());
}

// Tests for rill::JoinSet: completion order, errors as JoinError, abort_all, drop aborts all,
// max_in_flight makes spawn wait, detach_all, and a cross-thread stress.
#include <gtest/gtest.h>
#include <rill/join_set.hpp>
#include <rill/rill.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <set>
#include <stdexcept>
#include <vector>

using namespace std::chrono_literals;
using rill::Task;

namespace {
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
constexpr int kStress = 1000;
#else
constexpr int kStress = 10000;
#endif

struct Probe {
  std::shared_ptr<std::atomic<int>> n;
  ~Probe() {
    if (n) n->fetch_add(1);
  }
};

Task<int> after(std::chrono::milliseconds d, int v) {
  co_await rill::sleep(d);
  co_return v;
}

rill::Runtime mt() {
  return rill::Builder::new_multi_thread().worker_threads(2).build();
}
}  // namespace

TEST(JoinSet, ResultsInCompletionOrder) {
  auto rt = mt();
  auto got = rt.block_on([]() -> Task<std::vector<int>> {
    rill::JoinSet<int> set;
    (void)co_await set.spawn(after(30ms, 3));
    (void)co_await set.spawn(after(1ms, 1));
    (void)co_await set.spawn(after(15ms, 2));
    EXPECT_EQ(set.len(), 3u);
    std::vector<int> out;
    while (auto r = co_await set.join_next())
      out.push_back(r->value());
    EXPECT_TRUE(set.is_empty());
    EXPECT_FALSE((co_await set.join_next()).has_value());  // empty: nullopt at once
    co_return out;
  }());
  EXPECT_EQ(got, (std::vector<int>{1, 2, 3}));
}

TEST(JoinSet, ExceptionAndAbortBecomeJoinError) {
  auto rt = mt();
  rt.block_on([]() -> Task<void> {
    rill::JoinSet<int> set;
    (void)co_await set.spawn([]() -> Task<int> {
      co_await rill::sleep(1ms);
      throw std::runtime_error("boom");
    }());
    auto r = co_await set.join_next();
    EXPECT_TRUE(r.has_value());
    if (r) {
      EXPECT_FALSE(r->has_value());
      if (!r->has_value()) {
        EXPECT_TRUE(r->error().is_panic());
        EXPECT_THROW(r->error().resume_panic(), std::runtime_error);
      }
    }
    auto dropped = std::make_shared<std::atomic<int>>(0);
    for (int i = 0; i < 4; ++i)
      (void)co_await set.spawn([](std::shared_ptr<std::atomic<int>> d) -> Task<int> {
        Probe p{d};
        co_await rill::sleep(10s);
        co_return 0;
      }(dropped));
    auto ah = co_await set.spawn(after(0ms, 5));
    EXPECT_NE(ah.id(), 0u);
    co_await rill::sleep(2ms);
    set.abort_all();
    int cancelled = 0, ok = 0;
    while (auto r2 = co_await set.join_next()) {
      if (r2->has_value())
        ++ok;
      else if (r2->error().is_cancelled())
        ++cancelled;
    }
    EXPECT_EQ(cancelled, 4);
    EXPECT_EQ(ok, 1);
    EXPECT_EQ(dropped->load(), 4);
  }());
}

TEST(JoinSet, DropAbortsAllAndDetachAllDoesNot) {
  auto rt = mt();
  rt.block_on([]() -> Task<void> {
    auto dropped = std::make_shared<std::atomic<int>>(0);
    auto finished = std::make_shared<std::atomic<int>>(0);
    {
      rill::JoinSet<void> set;
      for (int i = 0; i < 5; ++i)
        (void)co_await set.spawn([](auto d) -> Task<void> {
          Probe p{d};
          co_await rill::sleep(10s);
        }(dropped));
      co_await rill::sleep(2ms);
    }
    for (int i = 0; i < 200 && dropped->load() < 5; ++i)
      co_await rill::sleep(1ms);
    EXPECT_EQ(dropped->load(), 5);
    {
      rill::JoinSet<void> set;
      for (int i = 0; i < 3; ++i)
        (void)co_await set.spawn([](auto f) -> Task<void> {
          co_await rill::sleep(3ms);
          f->fetch_add(1);
        }(finished));
      set.detach_all();
      EXPECT_TRUE(set.is_empty());
    }
    for (int i = 0; i < 500 && finished->load() < 3; ++i)
      co_await rill::sleep(1ms);
    EXPECT_EQ(finished->load(), 3);
  }());
}

TEST(JoinSet, MaxInFlightMakesSpawnWait) {
  auto rt = mt();
  rt.block_on([]() -> Task<void> {
    auto in = std::make_shared<std::atomic<int>>(0);
    auto max = std::make_shared<std::atomic<int>>(0);
    rill::JoinSet<int> set(3);
    EXPECT_EQ(set.max_in_flight(), 3u);
    long sum = 0;
    for (int i = 0; i < 30; ++i) {
      (void)co_await set.spawn([](auto in, auto max, int i) -> Task<int> {
        int now = in->fetch_add(1) + 1;
        int m = max->load();
        while (now > m && !max->compare_exchange_weak(m, now)) {
        }
        co_await rill::sleep(std::chrono::milliseconds(1 + i % 2));
        in->fetch_sub(1);
        co_return i;
      }(in, max, i));
      while (auto r = set.try_join_next())
        sum += r->value();
    }
    while (auto r = co_await set.join_next())
      sum += r->value();
    EXPECT_EQ(sum, 29 * 30 / 2);
    EXPECT_LE(max->load(), 3);
    EXPECT_GE(max->load(), 2);
  }());
}

TEST(JoinSet, JoinAllAndShutdown) {
  auto rt = mt();
  rt.block_on([]() -> Task<void> {
    rill::JoinSet<int> set;
    for (int i = 0; i < 5; ++i)
      (void)co_await set.spawn(after(std::chrono::milliseconds(i), i));
    auto all = co_await set.join_all();
    std::multiset<int> s(all.begin(), all.end());
    EXPECT_EQ(s, (std::multiset<int>{0, 1, 2, 3, 4}));
    for (int i = 0; i < 3; ++i)
      (void)co_await set.spawn(after(10s, i));
    co_await set.shutdown();
    EXPECT_TRUE(set.is_empty());
  }());
}

TEST(JoinSet, CrossThreadStress) {
  auto rt = mt();
  long sum = rt.block_on([]() -> Task<long> {
    rill::JoinSet<int> set(64);
    long s = 0;
    for (int i = 0; i < kStress; ++i) {
      (void)co_await set.spawn([](int i) -> Task<int> {
        if (i % 3 == 0) co_await rill::yield_now();
        co_return i;
      }(i));
      if (i % 7 == 0)
        while (auto r = set.try_join_next())
          s += r->value();
    }
    while (auto r = co_await set.join_next())
      s += r->value();
    co_return s;
  }());
  EXPECT_EQ(sum, static_cast<long>(kStress) * (kStress - 1) / 2);
}

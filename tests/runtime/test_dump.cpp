// Tests for Handle::dump(): every live task with id, name, spawn location, state, counters and
// the suspended async stack, taken without stopping the workers.
#include <gtest/gtest.h>
#include <rill/rill.hpp>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using rill::diagnostics::RuntimeDump;
using rill::diagnostics::TaskDump;
using rill::diagnostics::TaskState;

namespace {

#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
constexpr int kRounds = 30;
#else
constexpr int kRounds = 200;
#endif

// Polls are timed (for each task's busy time) only with the poll-time histogram.
rill::Runtime make_rt(bool multi) {
  auto b = multi ? rill::Builder::new_multi_thread().worker_threads(2)
                 : rill::Builder::new_current_thread();
  return b.enable_metrics_poll_time_histogram().build();
}

class Dump : public ::testing::TestWithParam<bool> {};
INSTANTIATE_TEST_SUITE_P(Diagnostics, Dump, ::testing::Values(true, false),
                         [](const auto& i) { return i.param ? "multi_thread" : "current_thread"; });

rill::Task<void> dump_leaf() {
  co_await rill::sleep(1h);
}
rill::Task<void> dump_middle() {
  co_await dump_leaf();
}
rill::Task<void> dump_root(std::atomic<bool>* started) {
  started->store(true);
  co_await dump_middle();
}
// Suspended inside combinators: a timeout around a select whose waiting child sleeps.
rill::Task<void> dump_in_combinators(std::atomic<bool>* started) {
  started->store(true);
  auto r = co_await rill::timeout(
      1h, []() -> rill::Task<void> { co_await rill::select(dump_middle(), dump_middle()); }());
  (void)r;
}

const TaskDump* by_name(const RuntimeDump& d, const std::string& name) {
  for (const auto& t : d.tasks)
    if (t.name == name) return &t;
  return nullptr;
}

}  // namespace

TEST_P(Dump, ShowsSuspendedAsyncStackAndRunningTask) {
  auto rt = make_rt(GetParam());
  rt.block_on([]() -> rill::Task<void> {
    std::atomic<bool> started{false};
    const unsigned line = std::source_location::current().line() + 1;
    auto h = rill::task::Builder().name("sleeper").spawn(dump_root(&started));
    while (!started.load())
      co_await rill::yield_now();
    co_await rill::yield_now();  // let it reach its sleep

    RuntimeDump d = rill::Handle::current().dump();
    const TaskDump* t = by_name(d, "sleeper");
    EXPECT_NE(t, nullptr) << d.to_string();
    if (t) {
      EXPECT_EQ(t->id, h.id());
      EXPECT_EQ(t->state, TaskState::Idle) << d.to_string();
      EXPECT_EQ(t->spawn_location.line(), line);
      EXPECT_GE(t->polls, 1u);
      EXPECT_GT(t->busy.count(), 0);
      // Innermost (the coroutine waiting on the sleep) first, then who awaits it.
      EXPECT_EQ(t->async_stack.size(), 3u) << d.to_string();
      if (t->async_stack.size() == 3) {
        EXPECT_NE(t->async_stack[0].function.find("dump_leaf"), std::string::npos);
        EXPECT_NE(t->async_stack[1].function.find("dump_middle"), std::string::npos);
        EXPECT_NE(t->async_stack[2].function.find("dump_root"), std::string::npos);
      }
    }
    // The task calling dump() is being polled: listed as running, without a stack.
    bool saw_running = false;
    for (const auto& x : d.tasks)
      if (x.state == TaskState::Running) {
        saw_running = true;
        EXPECT_TRUE(x.async_stack.empty());
        EXPECT_LT(x.worker, rill::Handle::current().num_workers());
      }
    EXPECT_TRUE(saw_running);
    const std::string text = d.to_string();
    EXPECT_NE(text.find("\"sleeper\" [idle]"), std::string::npos) << text;
    EXPECT_NE(text.find("dump_middle"), std::string::npos) << text;

    // Dumping did not disturb the task: it can still be aborted and joined.
    h.abort();
    bool cancelled = false;
    try {
      co_await h;
    } catch (const rill::JoinError& e) {
      cancelled = e.is_cancelled();
    }
    EXPECT_TRUE(cancelled);
  }());
  EXPECT_EQ(rt.metrics().num_alive_tasks(), 0u);
}

// The async stack crosses combinators: from the leaf inside the select inside the timeout up
// to the task's root (it used to stop at the root alone).
TEST_P(Dump, AsyncStackCrossesCombinators) {
  auto rt = make_rt(GetParam());
  rt.block_on([]() -> rill::Task<void> {
    std::atomic<bool> started{false};
    auto h = rill::task::Builder().name("nested").spawn(dump_in_combinators(&started));
    while (!started.load())
      co_await rill::yield_now();
    co_await rill::yield_now();
    RuntimeDump d = rill::Handle::current().dump();
    const TaskDump* t = by_name(d, "nested");
    EXPECT_NE(t, nullptr) << d.to_string();
    if (t) {
      std::vector<std::string> names;
      for (const auto& f : t->async_stack)
        names.push_back(f.function);
      // leaf, middle, the lambda inside the timeout, the root.
      EXPECT_EQ(names.size(), 4u) << d.to_string();
      if (names.size() == 4) {
        EXPECT_NE(names[0].find("dump_leaf"), std::string::npos);
        EXPECT_NE(names[1].find("dump_middle"), std::string::npos);
        EXPECT_NE(names[3].find("dump_in_combinators"), std::string::npos);
      }
    }
    h.abort();
    try {
      co_await h;
    } catch (const rill::JoinError&) {
    }
  }());
}

TEST(DumpMultiThread, ConcurrentDumpsLoseNoWakeUps) {
  // Tasks wake each other constantly while another thread dumps: a wake-up that arrives while
  // a task is claimed by the dump must re-queue it, or the tasks would never finish.
  auto rt = rill::Builder::new_multi_thread().worker_threads(2).build();
  std::atomic<bool> done{false};
  std::thread dumper([&] {
    auto h = rt.handle();
    while (!done.load()) {
      auto d = h.dump();
      for (const auto& t : d.tasks)
        ASSERT_NE(t.id, 0u);
    }
  });
  const int total = rt.block_on([]() -> rill::Task<int> {
    std::vector<rill::JoinHandle<int>> hs;
    for (int i = 0; i < 4; ++i)
      hs.push_back(rill::task::Builder().name("pinger").spawn([]() -> rill::Task<int> {
        int n = 0;
        for (int r = 0; r < kRounds; ++r) {
          co_await rill::sleep(0ms);
          co_await rill::yield_now();
          ++n;
        }
        co_return n;
      }()));
    int sum = 0;
    for (auto& h : hs)
      sum += co_await h;
    co_return sum;
  }());
  done.store(true);
  dumper.join();
  EXPECT_EQ(total, 4 * kRounds);
}

TEST(DumpMultiThread, AbortWhileClaimedCancels) {
  auto rt = rill::Builder::new_multi_thread().worker_threads(2).build();
  std::vector<rill::JoinHandle<void>> hs;
  std::atomic<bool> started{false};
  for (int i = 0; i < 20; ++i)
    hs.push_back(rt.spawn(dump_root(&started)));
  while (!started.load())
    std::this_thread::yield();
  std::thread dumper([&] {
    for (int i = 0; i < 20; ++i)
      (void)rt.handle().dump();
  });
  for (auto& h : hs)
    h.abort();
  dumper.join();
  const int cancelled = rt.block_on([](std::vector<rill::JoinHandle<void>> hs) -> rill::Task<int> {
    int n = 0;
    for (auto& h : hs) {
      try {
        co_await h;
      } catch (const rill::JoinError& e) {
        n += e.is_cancelled();
      }
    }
    co_return n;
  }(std::move(hs)));
  EXPECT_EQ(cancelled, 20);
  EXPECT_EQ(rt.metrics().num_alive_tasks(), 0u);
  EXPECT_TRUE(rt.handle().dump().tasks.empty());
}

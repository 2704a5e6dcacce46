// Tests for the long-poll (blocking) detector: it catches a task that blocks its worker, names
// the blocking function on the native stack and the awaiting coroutines on the async stack,
// reports once per long poll with a final duration, and stays silent for tasks that yield.
#include <gtest/gtest.h>
#include <rill/rill.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <ctime>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using rill::diagnostics::LongPollPhase;
using rill::diagnostics::LongPollReport;

namespace {

/// Set when a Detected report arrives (see blocking_sleep_for_50ms).
std::atomic<bool> g_detected{false};

struct Collector {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<LongPollReport> reports;

  Collector() { g_detected.store(false); }

  rill::diagnostics::LongPollCallback callback() {
    return [this](const LongPollReport& r) {
      {
        std::lock_guard lk(mu);
        reports.push_back(r);
      }
      if (r.phase == LongPollPhase::Detected) g_detected.store(true);
      cv.notify_all();
    };
  }
  /// Waits until `n` reports arrived (or 5 s) and returns a copy.
  std::vector<LongPollReport> wait_for(std::size_t n) {
    std::unique_lock lk(mu);
    cv.wait_for(lk, 5s, [&] { return reports.size() >= n; });
    return reports;
  }
};

rill::Builder builder(bool multi) {
  return multi ? rill::Builder::new_multi_thread().worker_threads(2)
               : rill::Builder::new_current_thread();
}

class LongPoll : public ::testing::TestWithParam<bool> {};
INSTANTIATE_TEST_SUITE_P(Diagnostics, LongPoll, ::testing::Values(true, false),
                         [](const auto& i) { return i.param ? "multi_thread" : "current_thread"; });

// The blocker: a plain function that sleeps, called from the innermost of three coroutines.
// It blocks for 50 ms, and on a loaded machine (where the watchdog thread may not get a CPU in
// time to sample the poll twice) on until the detector has reported it, at most 5 s.
[[gnu::noinline]] void blocking_sleep_for_50ms() {
  std::this_thread::sleep_for(50ms);
  for (int i = 0; i < 500 && !g_detected.load(); ++i)
    std::this_thread::sleep_for(10ms);
  asm volatile("" ::: "memory");  // keep the call (and this frame) from being folded away
}
rill::Task<int> leaf_that_blocks() {
  blocking_sleep_for_50ms();
  co_return 7;
}
rill::Task<int> middle_awaiter() {
  const int v = co_await leaf_that_blocks();
  co_return v + 1;
}
rill::Task<int> root_awaiter() {
  co_await rill::yield_now();  // the long poll is not the task's first poll
  const int v = co_await middle_awaiter();
  co_return v + 1;
}
// The same blocker run inside a timeout (a combinator: the child's continuation is null).
rill::Task<int> timeout_awaiter() {
  co_await rill::yield_now();
  auto r = co_await rill::timeout(10s, middle_awaiter());
  co_return r ? *r + 1 : -1;
}
rill::Task<int> timeout_root() {
  co_return co_await timeout_awaiter();
}

bool stack_names(const LongPollReport& r, const std::string& fn) {
  for (const auto& f : r.stack)
    if (f.function.find(fn) != std::string::npos) return true;
  return false;
}

}  // namespace

TEST_P(LongPoll, CatchesSleepNamesTheBlockerAndTheAwaitingCoroutines) {
  Collector col;
  auto rt = builder(GetParam()).long_poll_threshold(10ms).on_long_poll(col.callback()).build();
  unsigned spawn_line = 0;
  const int v = rt.block_on([](unsigned* line) -> rill::Task<int> {
    *line = std::source_location::current().line() + 1;
    auto h = rill::spawn(root_awaiter(), rill::TaskOptions{.name = "blocker"});
    co_return co_await h;
  }(&spawn_line));
  EXPECT_EQ(v, 9);

  const auto reports = col.wait_for(2);
  ASSERT_EQ(reports.size(), 2u) << "expected one Detected and one Finished report";
  const LongPollReport& d = reports[0];
  const LongPollReport& f = reports[1];
  SCOPED_TRACE(d.to_string());
  EXPECT_EQ(d.phase, LongPollPhase::Detected);
  EXPECT_EQ(f.phase, LongPollPhase::Finished);
  EXPECT_TRUE(d.captured);
  EXPECT_EQ(d.task_name, "blocker");
  EXPECT_NE(d.task_id, 0u);
  EXPECT_EQ(f.task_id, d.task_id);
  EXPECT_EQ(d.spawn_location.line(), spawn_line);
  EXPECT_NE(std::string(d.spawn_location.file_name()).find("test_long_poll.cpp"),
            std::string::npos);
  EXPECT_GE(d.duration, 10ms);
  EXPECT_LT(d.duration, f.duration);
  EXPECT_GE(f.duration, 50ms);
  EXPECT_EQ(d.threshold, 10ms);
  if (!GetParam()) EXPECT_EQ(d.worker, 0u);

  // Native stack: the function that slept, and the coroutine that called it.
  EXPECT_TRUE(stack_names(d, "blocking_sleep_for_50ms"));
  EXPECT_TRUE(stack_names(d, "leaf_that_blocks"));
  // Async stack: the coroutine running, then the ones awaiting it, up to the task's root.
  ASSERT_GE(d.async_stack.size(), 3u);
  EXPECT_NE(d.async_stack[0].function.find("leaf_that_blocks"), std::string::npos);
  EXPECT_NE(d.async_stack[1].function.find("middle_awaiter"), std::string::npos);
  EXPECT_NE(d.async_stack[2].function.find("root_awaiter"), std::string::npos);
  EXPECT_EQ(d.async_stack.size(), 3u);
  // The final report repeats the stacks.
  EXPECT_EQ(f.async_stack.size(), d.async_stack.size());

  // Rendering names all of it.
  const std::string text = d.to_string();
  EXPECT_NE(text.find("task " + std::to_string(d.task_id) + " \"blocker\""), std::string::npos);
  EXPECT_NE(text.find("blocking_sleep_for_50ms"), std::string::npos);
  EXPECT_NE(text.find("middle_awaiter"), std::string::npos);

  auto m = rt.metrics();
  std::uint64_t long_polls = 0;
  for (std::size_t w = 0; w < m.num_workers(); ++w)
    long_polls += m.worker_long_poll_count(w);
  EXPECT_EQ(long_polls, 1u);
}

// Through a combinator: the async stack crosses the timeout to the coroutine awaiting it.
TEST_P(LongPoll, AsyncStackCrossesATimeout) {
  Collector col;
  auto rt = builder(GetParam()).long_poll_threshold(10ms).on_long_poll(col.callback()).build();
  const int v =
      rt.block_on([]() -> rill::Task<int> { co_return co_await rill::spawn(timeout_root()); }());
  EXPECT_EQ(v, 9);
  const auto reports = col.wait_for(2);
  ASSERT_GE(reports.size(), 1u);
  const LongPollReport& d = reports[0];
  SCOPED_TRACE(d.to_string());
  ASSERT_EQ(d.async_stack.size(), 4u);
  EXPECT_NE(d.async_stack[0].function.find("leaf_that_blocks"), std::string::npos);
  EXPECT_NE(d.async_stack[1].function.find("middle_awaiter"), std::string::npos);
  EXPECT_NE(d.async_stack[2].function.find("timeout_awaiter"), std::string::npos);
  EXPECT_NE(d.async_stack[3].function.find("timeout_root"), std::string::npos);
}

TEST_P(LongPoll, SilentForATaskThatYieldsEveryMillisecond) {
  Collector col;
  // Time a worker spends preempted by the OS is discounted (schedstat), so the default 10 ms
  // threshold holds even on a loaded box.
  auto rt = builder(GetParam()).long_poll_threshold(10ms).on_long_poll(col.callback()).build();
  const int polls = rt.block_on([]() -> rill::Task<int> {
    int n = 0;
    const auto end = std::chrono::steady_clock::now() + 200ms;
    while (std::chrono::steady_clock::now() < end) {
      const auto spin_until = std::chrono::steady_clock::now() + 1ms;
      while (std::chrono::steady_clock::now() < spin_until) {
      }
      co_await rill::yield_now();
      ++n;
    }
    co_return n;
  }());
  EXPECT_GT(polls, 10);               // it ran and yielded (few polls on a loaded box)
  std::this_thread::sleep_for(60ms);  // a report would have been emitted by now
  std::lock_guard lk(col.mu);
  for (const auto& r : col.reports)
    ADD_FAILURE() << r.to_string();
}

TEST(LongPollConfig, ZeroThresholdDisablesAndNegativeIsRejected) {
  Collector col;
  auto rt = rill::Builder::new_current_thread()
                .long_poll_threshold(0ms)
                .on_long_poll(col.callback())
                .build();
  rt.block_on([]() -> rill::Task<void> {
    std::this_thread::sleep_for(30ms);
    co_return;
  }());
  std::this_thread::sleep_for(20ms);
  EXPECT_EQ(rt.metrics().long_poll_threshold(), 0ns);
  EXPECT_EQ(rt.metrics().worker_long_poll_count(0), 0u);
  {
    std::lock_guard lk(col.mu);
    EXPECT_TRUE(col.reports.empty());
  }
  EXPECT_THROW(rill::Builder::new_current_thread().long_poll_threshold(-1ms).build(),
               rill::RuntimeError);
}

TEST(LongPollConfig, DefaultThresholdIsTenMilliseconds) {
  auto rt = rill::Builder::new_current_thread().build();
  EXPECT_EQ(rt.metrics().long_poll_threshold(), 10ms);
}

TEST(Symbolize, NamesStaticFunctionsAndCoroutines) {
  // A coroutine's resume function is a local symbol: dladdr() cannot name it, we must.
  auto h = leaf_that_blocks().release();
  const std::string co = rill::diagnostics::coroutine_name(*static_cast<void**>(h.address()));
  h.destroy();
  EXPECT_NE(co.find("leaf_that_blocks()"), std::string::npos) << co;
  EXPECT_EQ(co.find("clone"), std::string::npos) << co;
  auto f = rill::diagnostics::symbolize(reinterpret_cast<std::uintptr_t>(&blocking_sleep_for_50ms));
  EXPECT_NE(f.function.find("blocking_sleep_for_50ms"), std::string::npos) << f.function;
  EXPECT_EQ(f.offset, 0u);
  EXPECT_EQ(rill::diagnostics::symbolize(0).function, "");
}

TEST(LongPollConfig, EnvironmentOverridesOnlyTheDefault) {
  ::setenv("RILL_LONG_POLL_THRESHOLD_MS", "25", 1);
  auto a = rill::Builder::new_current_thread().build();
  EXPECT_EQ(a.metrics().long_poll_threshold(), 25ms);
  auto b = rill::Builder::new_current_thread().long_poll_threshold(5ms).build();
  EXPECT_EQ(b.metrics().long_poll_threshold(), 5ms);  // an explicit setting wins
  ::setenv("RILL_LONG_POLL_THRESHOLD_MS", "0", 1);
  EXPECT_EQ(rill::Builder::new_current_thread().build().metrics().long_poll_threshold(), 0ns);
  ::setenv("RILL_LONG_POLL_THRESHOLD_MS", "10ms", 1);
  EXPECT_THROW(rill::Builder::new_current_thread().build(), rill::RuntimeError);
  ::unsetenv("RILL_LONG_POLL_THRESHOLD_MS");
}

namespace {
/// Burns `d` of this thread's CPU time (not wall-clock time, so a loaded box cannot shorten it).
[[gnu::noinline]] void burn_cpu_for(std::chrono::nanoseconds d) {
  auto cpu_now = [] {
    timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec);
  };
  const auto end = cpu_now() + d;
  while (cpu_now() < end) {
  }
}
rill::Task<void> cpu_hog() {
  burn_cpu_for(60ms);
  co_return;
}
}  // namespace

TEST(LongPollMultiThread, CatchesACpuHog) {
  Collector col;
  auto rt = rill::Builder::new_multi_thread()
                .worker_threads(2)
                .long_poll_threshold(10ms)
                .on_long_poll(col.callback())
                .build();
  rt.block_on(cpu_hog());
  const auto reports = col.wait_for(2);
  ASSERT_EQ(reports.size(), 2u);
  EXPECT_EQ(reports[0].phase, LongPollPhase::Detected);
  EXPECT_TRUE(stack_names(reports[0], "burn_cpu_for")) << reports[0].to_string();
  ASSERT_FALSE(reports[0].async_stack.empty());
  EXPECT_NE(reports[0].async_stack[0].function.find("cpu_hog"), std::string::npos);
  EXPECT_GE(reports[1].duration, 60ms);
}

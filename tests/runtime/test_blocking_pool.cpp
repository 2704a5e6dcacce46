// Tests for rill::detail::BlockingPool (runtime/src/blocking/pool.hpp).
#include "blocking/pool.hpp"

#include <gtest/gtest.h>
#include <pthread.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;
using rill::detail::BlockingJob;
using rill::detail::BlockingPool;
using rill::detail::BlockingPoolConfig;

// A heap job running a std::function; counts cancellations.
struct FnJob : BlockingJob {
  std::function<void()> fn;
  std::function<void()> on_cancel;

  static void run_fn(BlockingJob* j) noexcept {
    auto* self = static_cast<FnJob*>(j);
    self->fn();
    delete self;
  }
  static void cancel_fn(BlockingJob* j) noexcept {
    auto* self = static_cast<FnJob*>(j);
    if (self->on_cancel) self->on_cancel();
    delete self;
  }
  static FnJob* make(std::function<void()> fn, std::function<void()> on_cancel = {}) {
    auto* j = new FnJob;
    j->run = &run_fn;
    j->cancel = &cancel_fn;
    j->fn = std::move(fn);
    j->on_cancel = std::move(on_cancel);
    return j;
  }
};

// A one-shot gate jobs can block on.
struct Gate {
  std::mutex mu;
  std::condition_variable cv;
  bool open = false;
  void wait() {
    std::unique_lock lk(mu);
    cv.wait(lk, [&] { return open; });
  }
  void release() {
    std::lock_guard lk(mu);
    open = true;
    cv.notify_all();
  }
};

// Polls `pred` until true or `limit` elapses (generous bounds: sanitizers are slow).
template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds limit = 10s) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

BlockingPoolConfig config(std::size_t max_threads, std::chrono::nanoseconds keep_alive = 10s) {
  BlockingPoolConfig c;
  c.max_threads = max_threads;
  c.keep_alive = keep_alive;
  return c;
}

TEST(BlockingPool, FifoOrderWithOneThread) {
  BlockingPool pool(config(1));
  Gate gate;
  std::mutex mu;
  std::vector<int> order;
  std::atomic<int> done{0};
  ASSERT_TRUE(pool.spawn(FnJob::make([&] { gate.wait(); })));
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(pool.spawn(FnJob::make([&, i] {
      std::lock_guard lk(mu);
      order.push_back(i);
      done.fetch_add(1);
    })));
  }
  EXPECT_EQ(pool.num_threads(), 1u);
  ASSERT_TRUE(eventually([&] { return pool.queue_depth() == 100u; }));  // blocker picked up
  gate.release();
  ASSERT_TRUE(eventually([&] { return done.load() == 100; }));
  std::lock_guard lk(mu);
  for (int i = 0; i < 100; ++i)
    ASSERT_EQ(order[i], i);
}

TEST(BlockingPool, MaxThreadsHonouredUnderBurst) {
  constexpr std::size_t kMax = 3;
  BlockingPool pool(config(kMax));
  Gate gate;
  std::atomic<int> running{0}, peak{0}, done{0};
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(pool.spawn(FnJob::make([&] {
      const int now = running.fetch_add(1) + 1;
      int p = peak.load();
      while (now > p && !peak.compare_exchange_weak(p, now)) {
      }
      gate.wait();
      running.fetch_sub(1);
      done.fetch_add(1);
    })));
  }
  ASSERT_TRUE(eventually([&] { return running.load() == static_cast<int>(kMax); }));
  EXPECT_EQ(pool.num_threads(), kMax);
  std::this_thread::sleep_for(20ms);  // give a (buggy) extra thread the chance to show up
  EXPECT_EQ(running.load(), static_cast<int>(kMax));
  EXPECT_EQ(pool.queue_depth(), 20 - kMax);
  gate.release();
  ASSERT_TRUE(eventually([&] { return done.load() == 20; }));
  EXPECT_EQ(peak.load(), static_cast<int>(kMax));
  EXPECT_LE(pool.num_threads(), kMax);
}

TEST(BlockingPool, IdleThreadIsReused) {
  BlockingPool pool(config(8));
  std::atomic<int> done{0};
  ASSERT_TRUE(pool.spawn(FnJob::make([&] { done.fetch_add(1); })));
  ASSERT_TRUE(eventually([&] { return pool.num_idle_threads() == 1; }));
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(pool.spawn(FnJob::make([&] { done.fetch_add(1); })));
    ASSERT_TRUE(eventually([&] { return done.load() == i + 2 && pool.num_idle_threads() == 1; }));
  }
  EXPECT_EQ(pool.num_threads(), 1u);  // sequential jobs never needed a second thread
}

// Two jobs spawned back to back while one thread is idle get two threads (the first spawn
// claims the idle one; it finds the second job queued and starts another), so two jobs that wait
// for each other both run. Repeated so that the spawns meet the idle thread in every state
// (awake, going to sleep, asleep).
TEST(BlockingPool, BackToBackJobsGetOneThreadEach) {
  BlockingPool pool(config(8));
  for (int round = 0; round < 200; ++round) {
    std::atomic<int> warm{0};
    ASSERT_TRUE(pool.spawn(FnJob::make([&] { warm.fetch_add(1); })));
    while (warm.load() == 0) {
    }
    // Rendezvous: each job waits (bounded) for the other to have started.
    std::atomic<int> arrived{0}, met{0};
    auto job = [&] {
      arrived.fetch_add(1);
      const auto end = std::chrono::steady_clock::now() + 10s;
      while (arrived.load() < 2 && std::chrono::steady_clock::now() < end)
        std::this_thread::yield();
      if (arrived.load() == 2) met.fetch_add(1);
    };
    ASSERT_TRUE(pool.spawn(FnJob::make(job)));
    ASSERT_TRUE(pool.spawn(FnJob::make(job)));
    ASSERT_TRUE(eventually([&] { return met.load() == 2; }, 20s)) << "round " << round;
    // Nothing is queued or running once both are done and their threads are idle again.
    ASSERT_TRUE(eventually([&] { return pool.queue_depth() == 0 && !pool.is_busy(); }));
  }
  EXPECT_LE(pool.num_threads(), 8u);
}

// A burst of jobs that all wait for each other: the spawning thread wakes or starts at most the
// first thread, and the pool brings the rest from its own threads as they find jobs queued, so
// every job still gets a thread. Run twice: first with no thread at all (every thread is new),
// then with the threads of the first burst idle (every thread is woken).
TEST(BlockingPool, BurstOfJobsThatWaitForEachOtherGetsAThreadEach) {
  constexpr int kJobs = 24;
  struct Burst {
    std::atomic<int> arrived{0}, met{0};
  } bursts[2];
  std::atomic<bool> give_up{false};  // lets the jobs finish at once when the test fails
  BlockingPool pool(config(64));
  for (Burst& b : bursts) {
    for (int i = 0; i < kJobs; ++i)
      ASSERT_TRUE(pool.spawn(FnJob::make([&] {
        b.arrived.fetch_add(1);
        while (b.arrived.load() < kJobs && !give_up.load()) std::this_thread::sleep_for(1ms);
        if (b.arrived.load() == kJobs) b.met.fetch_add(1);
      })));
    const bool all_met = eventually([&] { return b.met.load() == kJobs; }, 10s);
    if (!all_met) give_up = true;
    ASSERT_TRUE(all_met) << "burst " << (&b - bursts) << ": only " << b.arrived.load() << " of "
                         << kJobs << " jobs got a thread";
    ASSERT_TRUE(eventually([&] { return !pool.is_busy(); }));
    EXPECT_GE(pool.num_threads(), static_cast<std::size_t>(kJobs));
  }
}

TEST(BlockingPool, IdleThreadsExitAfterKeepAlive) {
  std::atomic<int> starts{0}, stops{0};
  BlockingPoolConfig c = config(4, 50ms);
  c.on_thread_start = [&] { starts.fetch_add(1); };
  c.on_thread_stop = [&] { stops.fetch_add(1); };
  BlockingPool pool(std::move(c));
  Gate gate;
  std::atomic<int> done{0};
  for (int i = 0; i < 4; ++i)
    ASSERT_TRUE(pool.spawn(FnJob::make([&] {
      gate.wait();
      done.fetch_add(1);
    })));
  ASSERT_TRUE(eventually([&] { return starts.load() == 4; }));
  EXPECT_EQ(pool.num_threads(), 4u);
  gate.release();
  ASSERT_TRUE(eventually([&] { return done.load() == 4; }));
  // All four go idle, then leave ~50 ms later; allow a generous bound.
  ASSERT_TRUE(eventually([&] { return pool.num_threads() == 0; }, 10s));
  ASSERT_TRUE(eventually([&] { return stops.load() == 4; }));
  EXPECT_EQ(pool.num_idle_threads(), 0u);
  // The pool still works afterwards: a new thread is started on demand.
  ASSERT_TRUE(pool.spawn(FnJob::make([&] { done.fetch_add(1); })));
  ASSERT_TRUE(eventually([&] { return done.load() == 5; }));
  EXPECT_EQ(starts.load(), 5);
}

TEST(BlockingPool, ShutdownCancelsQueuedJobsExactlyOnce) {
  constexpr int kQueued = 10;
  BlockingPool pool(config(1));
  Gate gate;
  std::atomic<int> ran_blocker{0};
  std::vector<std::atomic<int>> ran(kQueued), cancelled(kQueued);
  ASSERT_TRUE(pool.spawn(FnJob::make([&] {
    gate.wait();
    ran_blocker.fetch_add(1);
  })));
  for (int i = 0; i < kQueued; ++i)
    ASSERT_TRUE(pool.spawn(
        FnJob::make([&, i] { ran[i].fetch_add(1); }, [&, i] { cancelled[i].fetch_add(1); })));
  ASSERT_TRUE(eventually([&] { return pool.queue_depth() == static_cast<std::size_t>(kQueued); }));
  std::thread releaser([&] {
    // Release the running job only once shutdown has already cancelled the queue.
    eventually([&] {
      for (auto& c : cancelled)
        if (c.load() == 0) return false;
      return true;
    });
    gate.release();
  });
  pool.shutdown(std::nullopt);  // waits for the running job
  releaser.join();
  EXPECT_EQ(ran_blocker.load(), 1);
  for (int i = 0; i < kQueued; ++i) {
    EXPECT_EQ(cancelled[i].load(), 1) << i;
    EXPECT_EQ(ran[i].load(), 0) << i;
  }
  EXPECT_EQ(pool.num_threads(), 0u);
  EXPECT_EQ(pool.queue_depth(), 0u);
  pool.shutdown(std::nullopt);  // idempotent
  for (int i = 0; i < kQueued; ++i)
    EXPECT_EQ(cancelled[i].load(), 1) << i;
}

TEST(BlockingPool, ShutdownTimeoutReturnsWhileJobBlocked) {
  // The job's state is shared so that nothing it touches dies before it finishes.
  struct State {
    Gate gate;
    std::atomic<bool> started{false}, finished{false};
  };
  auto st = std::make_shared<State>();
  auto pool = std::make_unique<BlockingPool>(config(2));
  ASSERT_TRUE(pool->spawn(FnJob::make([st] {
    st->started = true;
    st->gate.wait();
    st->finished = true;
  })));
  ASSERT_TRUE(eventually([&] { return st->started.load(); }));
  const auto t0 = std::chrono::steady_clock::now();
  pool->shutdown(50ms);
  const auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_FALSE(st->finished.load());
  EXPECT_LT(took, 5s);
  EXPECT_GE(took, 40ms);
  pool.reset();  // destroying the pool must not wait for or break the detached thread
  st->gate.release();
  ASSERT_TRUE(eventually([&] { return st->finished.load(); }));
}

TEST(BlockingPool, SpawnAfterShutdownReturnsFalseWithoutTouchingJob) {
  BlockingPool pool(config(2));
  pool.shutdown(std::nullopt);
  std::atomic<int> calls{0};
  FnJob* job = FnJob::make([&] { calls.fetch_add(1); }, [&] { calls.fetch_add(100); });
  BlockingJob* sentinel = reinterpret_cast<BlockingJob*>(0x1);
  job->next = sentinel;
  EXPECT_FALSE(pool.spawn(job));
  EXPECT_EQ(job->next, sentinel);  // untouched
  EXPECT_EQ(calls.load(), 0);
  job->next = nullptr;
  delete job;  // still ours
}

TEST(BlockingPool, SpawnReturnsFalseWhenNoThreadCanBeCreated) {
  // A stack larger than the address space: every pthread_create fails.
  BlockingPoolConfig c = config(4);
  c.stack_size = std::size_t{1} << 47;
  BlockingPool pool(std::move(c));
  std::atomic<int> calls{0};
  for (int i = 0; i < 3; ++i) {
    FnJob* job = FnJob::make([&] { calls.fetch_add(1); }, [&] { calls.fetch_add(100); });
    EXPECT_FALSE(pool.spawn(job));
    delete job;  // still ours
  }
  EXPECT_EQ(calls.load(), 0);  // neither run nor cancelled
  EXPECT_EQ(pool.num_threads(), 0u);
  EXPECT_EQ(pool.queue_depth(), 0u);
  EXPECT_FALSE(pool.is_busy());
}

TEST(BlockingPool, HooksNameAndStackSize) {
  std::atomic<int> starts{0}, stops{0};
  std::mutex mu;
  std::vector<std::string> names;
  std::vector<std::size_t> stacks;
  BlockingPoolConfig c = config(2);
  c.thread_name = "rill-blocking-test-long-name";
  c.stack_size = 1 << 20;
  c.on_thread_start = [&] {
    starts.fetch_add(1);
    char buf[32] = {};
    pthread_getname_np(pthread_self(), buf, sizeof buf);
    std::lock_guard lk(mu);
    names.emplace_back(buf);
  };
  c.on_thread_stop = [&] { stops.fetch_add(1); };
  {
    BlockingPool pool(std::move(c));
    Gate gate;
    std::atomic<int> done{0};
    for (int i = 0; i < 2; ++i)
      ASSERT_TRUE(pool.spawn(FnJob::make([&] {
        pthread_attr_t attr;
        std::size_t size = 0;
        if (pthread_getattr_np(pthread_self(), &attr) == 0) {
          pthread_attr_getstacksize(&attr, &size);
          pthread_attr_destroy(&attr);
        }
        {
          std::lock_guard lk(mu);
          stacks.push_back(size);
        }
        gate.wait();
        done.fetch_add(1);
      })));
    ASSERT_TRUE(eventually([&] { return starts.load() == 2; }));
    gate.release();
    ASSERT_TRUE(eventually([&] { return done.load() == 2; }));
  }  // destructor joins: every stop hook has run
  EXPECT_EQ(starts.load(), 2);
  EXPECT_EQ(stops.load(), 2);
  ASSERT_EQ(names.size(), 2u);
  for (auto& n : names)
    EXPECT_EQ(n, "rill-blocking-t");  // truncated to 15 chars
  ASSERT_EQ(stacks.size(), 2u);
  for (auto s : stacks)
    EXPECT_GE(s, std::size_t{1} << 20);
}

TEST(BlockingPool, InvalidInputIsRejected) {
  EXPECT_THROW(BlockingPool(config(0)), std::invalid_argument);
  BlockingPool pool(config(1));
  EXPECT_THROW(pool.spawn(nullptr), std::invalid_argument);
  BlockingJob no_cancel;
  no_cancel.run = [](BlockingJob*) noexcept {};
  EXPECT_THROW(pool.spawn(&no_cancel), std::invalid_argument);
  EXPECT_EQ(pool.num_threads(), 0u);
  EXPECT_EQ(pool.queue_depth(), 0u);
}

TEST(BlockingPool, ConcurrentSpawnersEveryJobRunsOnce) {
  constexpr int kSpawners = 4, kPer = 2000;
  BlockingPool pool(config(6, 20ms));
  std::vector<std::atomic<int>> ran(kSpawners * kPer);
  std::atomic<int> done{0};
  std::vector<std::thread> spawners;
  for (int t = 0; t < kSpawners; ++t) {
    spawners.emplace_back([&, t] {
      for (int i = 0; i < kPer; ++i) {
        const int id = t * kPer + i;
        ASSERT_TRUE(pool.spawn(FnJob::make([&, id] {
          ran[id].fetch_add(1);
          done.fetch_add(1);
        })));
        if (i % 97 == 0) std::this_thread::sleep_for(std::chrono::microseconds(200));
      }
    });
  }
  for (auto& th : spawners)
    th.join();
  ASSERT_TRUE(eventually([&] { return done.load() == kSpawners * kPer; }, 30s));
  EXPECT_LE(pool.num_threads(), 6u);
  for (auto& r : ran)
    ASSERT_EQ(r.load(), 1);
}

}  // namespace

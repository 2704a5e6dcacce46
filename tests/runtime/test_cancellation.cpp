// Tests for rill::sync::CancellationToken and rill::TaskTracker: tokio-util's documented
// semantics (tree cancellation, close-then-wait), cancel safety of both awaitables (a waiter
// destroyed while queued leaves the list: nothing accumulates), untracking of aborted tasks and
// of tasks destroyed by runtime shutdown, and cross-thread stress (run under TSan by .ci/test).
#include <gtest/gtest.h>
#include <rill/rill.hpp>
#include <rill/sync/cancellation_token.hpp>
#include <rill/task_tracker.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using rill::Task;
using rill::TaskTracker;
using rill::sync::CancellationToken;

namespace {
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
constexpr int kStress = 2000;
#else
constexpr int kStress = 20000;
#endif

rill::Runtime mt() {
  return rill::Builder::new_multi_thread().worker_threads(2).build();
}
rill::Runtime ct() {
  return rill::Builder::new_current_thread().build();
}

Task<void> wait_cancelled(CancellationToken t) {
  co_await t.cancelled();
}
Task<void> wait_tracker(TaskTracker t) {
  co_await t.wait();
}
Task<void> yield_once() {
  co_await rill::yield_now();
}
Task<void> settle() {
  for (int i = 0; i < 20; ++i)
    co_await rill::yield_now();
}
}  // namespace

// ---- CancellationToken
// ---------------------------------------------------------------------------

TEST(CancellationToken, CancelIsOneWayAndShared) {
  CancellationToken a;
  CancellationToken b = a;  // a copy shares the state
  EXPECT_FALSE(a.is_cancelled());
  EXPECT_TRUE(a == b);
  b.cancel();
  EXPECT_TRUE(a.is_cancelled());
  a.cancel();  // idempotent
  EXPECT_TRUE(b.is_cancelled());
  EXPECT_FALSE(a == CancellationToken());
}

TEST(CancellationToken, CancelledCompletesAtOnceWhenAlreadyCancelled) {
  auto rt = ct();
  CancellationToken t;
  t.cancel();
  rt.block_on([](CancellationToken t) -> Task<void> { co_await t.cancelled(); }(t));
}

TEST(CancellationToken, CancelWakesEveryWaiter) {
  auto rt = mt();
  CancellationToken t;
  std::atomic<int> woken{0};
  std::vector<rill::JoinHandle<void>> hs;
  for (int i = 0; i < 50; ++i)
    hs.push_back(rt.spawn([](CancellationToken t, std::atomic<int>& w) -> Task<void> {
      co_await t.cancelled();
      w.fetch_add(1);
    }(t, woken)));
  // Cancel from a plain thread (not a runtime thread).
  std::thread([t] {
    std::this_thread::sleep_for(10ms);
    t.cancel();
  }).join();
  rt.block_on([](std::vector<rill::JoinHandle<void>>& hs) -> Task<void> {
    for (auto& h : hs)
      co_await h;
  }(hs));
  EXPECT_EQ(woken.load(), 50);
  EXPECT_EQ(rill::sync::detail::cancel_counts(t).waiters, 0u);
}

TEST(CancellationToken, ChildTokensFollowTheirParentOnly) {
  CancellationToken root;
  auto child = root.child_token();
  auto grandchild = child.child_token();
  auto sibling = root.child_token();
  EXPECT_EQ(rill::sync::detail::cancel_counts(root).children, 2u);

  child.cancel();  // cancels the subtree, not the parent or the sibling
  EXPECT_TRUE(child.is_cancelled());
  EXPECT_TRUE(grandchild.is_cancelled());
  EXPECT_FALSE(root.is_cancelled());
  EXPECT_FALSE(sibling.is_cancelled());

  root.cancel();
  EXPECT_TRUE(sibling.is_cancelled());
  EXPECT_EQ(rill::sync::detail::cancel_counts(root).children, 0u);
  // A child of a cancelled token starts cancelled.
  EXPECT_TRUE(root.child_token().is_cancelled());
  EXPECT_TRUE(grandchild.child_token().child_token().is_cancelled());
}

TEST(CancellationToken, ParentCancelWakesWaitersOfDescendants) {
  auto rt = ct();
  CancellationToken root;
  auto leaf = root.child_token().child_token();  // the middle token is dropped at once
  rt.block_on([](CancellationToken root, CancellationToken leaf) -> Task<void> {
    auto waiter = rill::spawn(wait_cancelled(leaf));
    co_await settle();
    EXPECT_FALSE(waiter.is_finished());
    root.cancel();
    co_await waiter;
    EXPECT_TRUE(leaf.is_cancelled());
  }(root, leaf));
}

TEST(CancellationToken, DroppedChildrenLeaveTheParent) {
  CancellationToken root;
  for (int i = 0; i < kStress; ++i) {
    auto c = root.child_token();
    auto g = c.child_token();
    (void)g;
  }
  EXPECT_EQ(rill::sync::detail::cancel_counts(root).children, 0u);
  root.cancel();
}

TEST(CancellationToken, DeepChainCancelsWithoutRecursion) {
  CancellationToken root;
  std::vector<CancellationToken> chain{root};
  for (int i = 0; i < 100000; ++i)
    chain.push_back(chain.back().child_token());
  root.cancel();
  EXPECT_TRUE(chain.back().is_cancelled());
  while (!chain.empty())  // the destructors do not recurse either: drop from the leaf up
    chain.pop_back();
}

TEST(CancellationToken, LosingWaitersDeregister) {
  // A cancelled() that loses a race (timeout, select) leaves the waiter list at once.
  auto rt = ct();
  CancellationToken t;
  rt.block_on([](CancellationToken t) -> Task<void> {
    for (int i = 0; i < kStress; ++i) {
      auto r = co_await rill::select(wait_cancelled(t), yield_once());
      EXPECT_EQ(r.index(), 1u);
      EXPECT_EQ(rill::sync::detail::cancel_counts(t).waiters, 0u);
    }
    auto r = co_await rill::timeout(1ms, wait_cancelled(t));
    EXPECT_FALSE(r);
  }(t));
  EXPECT_EQ(rill::sync::detail::cancel_counts(t).waiters, 0u);
  t.cancel();  // would touch freed awaiters (ASan) if any were still queued
}

TEST(CancellationToken, DropGuardCancelsUnlessDisarmed) {
  CancellationToken a, b;
  { auto g = a.drop_guard(); }
  EXPECT_TRUE(a.is_cancelled());
  {
    auto g = b.drop_guard();
    CancellationToken back = g.disarm();
    EXPECT_TRUE(back == b);
  }
  EXPECT_FALSE(b.is_cancelled());
}

TEST(CancellationToken, CancelRacesWaitersAcrossThreads) {
  auto rt = mt();
  for (int round = 0; round < kStress / 20; ++round) {
    CancellationToken root;
    auto child = root.child_token();
    auto h1 = rt.spawn(wait_cancelled(child));
    auto h2 = rt.spawn(wait_cancelled(root));
    std::thread other([root] { root.cancel(); });
    rt.block_on([](rill::JoinHandle<void> a, rill::JoinHandle<void> b) -> Task<void> {
      co_await a;
      co_await b;
    }(std::move(h1), std::move(h2)));
    other.join();
  }
}

// ---- TaskTracker -------------------------------------------------------------------------------

TEST(TaskTracker, WaitNeedsClosedAndEmpty) {
  auto rt = ct();
  TaskTracker tr;
  EXPECT_FALSE(tr.is_closed());
  EXPECT_TRUE(tr.is_empty());
  rt.block_on([](TaskTracker tr) -> Task<void> {
    auto r = co_await rill::timeout(1ms, wait_tracker(tr));  // open: does not complete
    EXPECT_FALSE(r);
    EXPECT_TRUE(tr.close());
    EXPECT_FALSE(tr.close());
    co_await tr.wait();  // closed and empty: at once
    EXPECT_TRUE(tr.reopen());
    EXPECT_FALSE(tr.is_closed());
  }(tr));
}

TEST(TaskTracker, WaitCompletesWhenTheLastTaskEnds) {
  auto rt = mt();
  TaskTracker tr;
  CancellationToken stop;
  std::atomic<int> ended{0};
  rt.block_on([](TaskTracker tr, CancellationToken stop, std::atomic<int>& ended) -> Task<void> {
    for (int i = 0; i < 20; ++i)
      (void)tr.spawn([](CancellationToken stop, std::atomic<int>& e) -> Task<void> {
        co_await stop.cancelled();
        e.fetch_add(1);
      }(stop, ended));
    EXPECT_EQ(tr.len(), 20u);
    tr.close();
    auto early = co_await rill::timeout(5ms, wait_tracker(tr));
    EXPECT_FALSE(early);
    stop.cancel();
    co_await tr.wait();
    EXPECT_EQ(ended.load(), 20);
    EXPECT_TRUE(tr.is_empty());
  }(tr, stop, ended));
}

TEST(TaskTracker, SpawnReturnsTheOutput) {
  auto rt = ct();
  TaskTracker tr;
  int v = rt.block_on([](TaskTracker tr) -> Task<int> {
    auto h = tr.spawn([]() -> Task<int> { co_return 42; }());
    co_return co_await h;
  }(tr));
  EXPECT_EQ(v, 42);
  EXPECT_TRUE(tr.is_empty());
}

TEST(TaskTracker, AbortedAndThrowingTasksAreUntracked) {
  auto rt = mt();
  TaskTracker tr;
  rt.block_on([](TaskTracker tr) -> Task<void> {
    auto forever = tr.spawn([]() -> Task<void> { co_await rill::sleep(1h); }());
    auto thrower = tr.spawn([]() -> Task<void> {
      co_await rill::yield_now();
      throw std::runtime_error("boom");
    }());
    EXPECT_EQ(tr.len(), 2u);
    forever.abort();
    bool threw = false;
    try {
      co_await thrower;
    } catch (const std::runtime_error&) {
      threw = true;
    }
    EXPECT_TRUE(threw);
    tr.close();
    co_await tr.wait();
    EXPECT_EQ(tr.len(), 0u);
  }(tr));
}

TEST(TaskTracker, RuntimeShutdownUntracksEveryTask) {
  // Tasks destroyed by the runtime's shutdown (running or never started) leave the tracker,
  // which outlives the runtime.
  TaskTracker tr;
  {
    auto rt = mt();
    CancellationToken never;
    rt.block_on([](TaskTracker tr, CancellationToken never) -> Task<void> {
      for (int i = 0; i < 10; ++i)
        (void)tr.spawn(wait_cancelled(never));
      co_return;
    }(tr, never));
    for (int i = 0; i < 10; ++i)  // spawned from outside: may never start
      (void)tr.spawn_on(wait_cancelled(never), rt.handle());
    EXPECT_EQ(tr.len(), 20u);
  }
  EXPECT_EQ(tr.len(), 0u);
}

TEST(TaskTracker, TokensCountWorkOutsideTasks) {
  TaskTracker tr;
  {
    auto t1 = tr.token();
    auto t2 = std::move(t1);
    EXPECT_EQ(tr.len(), 1u);
  }
  EXPECT_TRUE(tr.is_empty());
  auto rt = ct();
  auto tok = std::make_unique<rill::TaskTrackerToken>(tr.token());
  tr.close();
  rt.block_on([](TaskTracker tr, std::unique_ptr<rill::TaskTrackerToken>& tok) -> Task<void> {
    auto w = rill::spawn(wait_tracker(tr));
    co_await settle();
    EXPECT_FALSE(w.is_finished());
    tok.reset();
    co_await w;
  }(tr, tok));
}

TEST(TaskTracker, LosingWaitersDeregister) {
  auto rt = ct();
  TaskTracker tr;
  auto tok = tr.token();
  tr.close();
  rt.block_on([](TaskTracker tr) -> Task<void> {
    for (int i = 0; i < kStress; ++i) {
      auto r = co_await rill::select(wait_tracker(tr), yield_once());
      EXPECT_EQ(r.index(), 1u);
    }
  }(tr));
  { auto drop = std::move(tok); }  // closed and empty now: wakes nobody stale (ASan)
  EXPECT_TRUE(tr.is_empty());
}

TEST(TaskTracker, ConcurrentSpawnersAndWaiters) {
  auto rt = mt();
  TaskTracker tr;
  std::atomic<int> done{0};
  rt.block_on([](TaskTracker tr, std::atomic<int>& done) -> Task<void> {
    auto w1 = rill::spawn(wait_tracker(tr));
    auto w2 = rill::spawn(wait_tracker(tr));
    std::vector<rill::JoinHandle<void>> spawners;
    for (int s = 0; s < 4; ++s)
      spawners.push_back(rill::spawn([](TaskTracker tr, std::atomic<int>& done) -> Task<void> {
        for (int i = 0; i < kStress / 8; ++i)
          (void)tr.spawn([](std::atomic<int>& d) -> Task<void> {
            co_await rill::yield_now();
            d.fetch_add(1);
          }(done));
        co_return;
      }(tr, done)));
    for (auto& s : spawners)
      co_await s;
    tr.close();
    co_await w1;
    co_await w2;
    EXPECT_EQ(done.load(), 4 * (kStress / 8));
    EXPECT_TRUE(tr.is_empty());
  }(tr, done));
}

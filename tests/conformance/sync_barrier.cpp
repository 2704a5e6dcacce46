// Port of tokio-1.24.2/tests/sync_barrier.rs. Left out: barrier_future_is_send (no C++
// counterpart). A wait that must stay pending runs in a task of its own (harness.hpp).
#include "harness.hpp"

#include <vector>

using namespace conformance;
using rill::sync::Barrier;
using rill::sync::BarrierWaitResult;

namespace {
Polled<BarrierWaitResult> wait(Barrier* b) {
  return poll([](Barrier* b) -> rill::Task<BarrierWaitResult> { co_return co_await b->wait(); }(b));
}
}  // namespace

TEST(sync_barrier, zero_does_not_block) {
  block_on([]() -> rill::Task<void> {
    Barrier b(0);
    for (int i = 0; i < 2; ++i) {
      auto w = wait(&b);
      CONF_ASSERT_READY(w);
      EXPECT_TRUE((co_await w.take()).is_leader());
    }
  }());
}

TEST(sync_barrier, single) {
  block_on([]() -> rill::Task<void> {
    Barrier b(1);
    for (int i = 0; i < 3; ++i) {
      auto w = wait(&b);
      CONF_ASSERT_READY(w);
      EXPECT_TRUE((co_await w.take()).is_leader());
    }
  }());
}

TEST(sync_barrier, tango) {
  block_on([]() -> rill::Task<void> {
    Barrier b(2);
    auto w1 = wait(&b);
    CONF_ASSERT_PENDING(w1);
    auto w2 = wait(&b);
    CONF_ASSERT_READY(w2);
    CONF_ASSERT_READY(w1);
    auto wr2 = co_await w2.take();
    auto wr1 = co_await w1.take();
    EXPECT_TRUE(wr1.is_leader() || wr2.is_leader());
    EXPECT_FALSE(wr1.is_leader() && wr2.is_leader());
  }());
}

TEST(sync_barrier, lots) {
  block_on([]() -> rill::Task<void> {
    Barrier b(100);
    for (int round = 0; round < 10; ++round) {
      std::vector<Polled<BarrierWaitResult>> waits;
      for (int i = 0; i < 99; ++i) {
        waits.push_back(wait(&b));
        CONF_ASSERT_PENDING(waits.back());
      }
      for (auto& w : waits)
        EXPECT_FALSE(w.is_ready());
      // pass the barrier
      auto w = wait(&b);
      CONF_ASSERT_READY(w);
      bool found_leader = (co_await w.take()).is_leader();
      for (auto& wi : waits) {
        CONF_ASSERT_READY(wi);
        if ((co_await wi.take()).is_leader()) {
          EXPECT_FALSE(found_leader);
          found_leader = true;
        }
      }
      EXPECT_TRUE(found_leader);
    }
  }());
}

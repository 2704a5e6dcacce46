// Port of tokio-1.24.2/tests/task_join_set.rs. test_with_sleep, abort_tasks and abort_all run on
// a paused clock (Builder::start_paused) with sleeps of seconds, as Tokio's.
// Left out: runtime_gone (JoinSet::spawn_on is not in rill), join_set_coop (needs now_or_never).
#include "harness.hpp"

#include <array>

using namespace conformance;
using rill::JoinSet;

namespace {
rill::Task<std::size_t> value(std::size_t i) {
  co_return i;
}
rill::Task<std::size_t> sleep_then(std::size_t i) {
  co_await rill::sleep(std::chrono::seconds(i));
  co_return i;
}
}  // namespace

TEST(task_join_set, test_with_sleep) {
  block_on_paused([]() -> rill::Task<void> {
    JoinSet<std::size_t> set;
    for (std::size_t i = 0; i < 10; ++i) {
      (void)co_await set.spawn(value(i));
      EXPECT_EQ(set.len(), 1 + i);
    }
    set.detach_all();
    EXPECT_EQ(set.len(), 0u);
    EXPECT_FALSE((co_await set.join_next()).has_value());
    for (std::size_t i = 0; i < 10; ++i) {
      (void)co_await set.spawn(sleep_then(i));
      EXPECT_EQ(set.len(), 1 + i);
    }
    for (int round = 0; round < 2; ++round) {
      std::array<bool, 10> seen{};
      while (auto res = co_await set.join_next())
        seen.at(res->value()) = true;
      for (bool was_seen : seen)
        EXPECT_TRUE(was_seen);
      EXPECT_FALSE((co_await set.join_next()).has_value());
      if (round == 0)
        for (std::size_t i = 0; i < 10; ++i)
          (void)co_await set.spawn(sleep_then(i));
    }
  }());
}

TEST(task_join_set, test_abort_on_drop) {
  block_on([]() -> rill::Task<void> {
    std::vector<rill::sync::oneshot::Receiver<int>> recvs;
    {
      JoinSet<void> set;
      for (int i = 0; i < 16; ++i) {
        auto [send, recv] = rill::sync::oneshot::channel<int>();
        recvs.push_back(std::move(recv));
        (void)co_await set.spawn([](rill::sync::oneshot::Sender<int> send) -> rill::Task<void> {
          co_await pending_forever();
          { auto drop = std::move(send); }
        }(std::move(send)));
      }
    }
    for (auto& recv : recvs)
      EXPECT_FALSE(co_await recv);
  }());
}

TEST(task_join_set, alternating) {
  block_on([]() -> rill::Task<void> {
    JoinSet<void> set;
    auto noop = []() -> rill::Task<void> { co_return; };
    EXPECT_EQ(set.len(), 0u);
    (void)co_await set.spawn(noop());
    EXPECT_EQ(set.len(), 1u);
    (void)co_await set.spawn(noop());
    EXPECT_EQ(set.len(), 2u);
    for (int i = 0; i < 16; ++i) {
      auto r = co_await set.join_next();
      CO_ASSERT_TRUE(r.has_value());
      EXPECT_TRUE(*r);
      EXPECT_EQ(set.len(), 1u);
      (void)co_await set.spawn(noop());
      EXPECT_EQ(set.len(), 2u);
    }
  }());
}

TEST(task_join_set, abort_tasks) {
  block_on_paused([]() -> rill::Task<void> {
    JoinSet<std::size_t> set;
    int num_canceled = 0;
    int num_completed = 0;
    for (std::size_t i = 0; i < 16; ++i) {
      auto abort = co_await set.spawn(sleep_then(i));
      if (i % 2 != 0) abort.abort();
    }
    while (auto r = co_await set.join_next()) {
      if (*r) {
        ++num_completed;
        EXPECT_EQ(**r % 2, 0u);
      } else {
        EXPECT_TRUE(r->error().is_cancelled());
        ++num_canceled;
      }
    }
    EXPECT_EQ(num_canceled, 8);
    EXPECT_EQ(num_completed, 8);
  }());
}

TEST(task_join_set, abort_all) {
  block_on_paused([]() -> rill::Task<void> {
    JoinSet<void> set;
    for (int i = 0; i < 5; ++i)
      (void)co_await set.spawn(pending_forever());
    for (int i = 0; i < 5; ++i)
      (void)co_await set.spawn([]() -> rill::Task<void> { co_await rill::sleep(1s); }());
    // The join set will now have 5 pending tasks and 5 ready tasks.
    co_await rill::sleep(2s);
    set.abort_all();
    EXPECT_EQ(set.len(), 10u);
    int count = 0;
    while (auto res = co_await set.join_next()) {
      if (!*res) EXPECT_TRUE(res->error().is_cancelled());
      ++count;
    }
    EXPECT_EQ(count, 10);
    EXPECT_EQ(set.len(), 0u);
  }());
}

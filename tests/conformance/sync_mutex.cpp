// Port of tokio-1.24.2/tests/sync_mutex.rs. Left out: debug_format and mutex_debug (Rust's Debug
// formatting has no C++ counterpart).
#include "harness.hpp"

#include <memory>

using namespace conformance;
using rill::sync::Mutex;
using rill::sync::MutexGuard;

TEST(sync_mutex, straight_execution) {
  block_on([]() -> rill::Task<void> {
    Mutex<int> l(100);
    {
      auto g = co_await l.lock();
      EXPECT_EQ(*g, 100);
      *g = 99;
    }
    {
      auto g = co_await l.lock();
      EXPECT_EQ(*g, 99);
      *g = 98;
    }
    {
      auto g = co_await l.lock();
      EXPECT_EQ(*g, 98);
    }
  }());
}

TEST(sync_mutex, readiness) {
  block_on([]() -> rill::Task<void> {
    Mutex<int> l(100);
    auto lock = [](Mutex<int>* l) -> rill::Task<void> { auto g = co_await l->lock(); };
    std::optional<MutexGuard<int>> g;
    g.emplace(co_await l.lock());
    auto t2 = poll(lock(&l));
    CONF_ASSERT_PENDING(t2);
    g.reset();
    CONF_ASSERT_READY(t2);
  }());
}

namespace {
rill::Task<void> hold_and_tick(std::shared_ptr<Mutex<std::size_t>> m2) {
  auto iv = rill::interval(1000ms);
  auto g = co_await m2->lock();
  co_await iv.tick();
  co_await iv.tick();
}
rill::Task<void> lock_once(std::shared_ptr<Mutex<std::size_t>> m) {
  auto g = co_await m->lock();
}
}  // namespace

TEST(sync_mutex, aborted_future_1) {
  block_on([]() -> rill::Task<void> {
    auto m1 = std::make_shared<Mutex<std::size_t>>(0);
    EXPECT_FALSE(co_await rill::timeout(1ms, hold_and_tick(m1)));
    EXPECT_TRUE(co_await rill::timeout(1ms, lock_once(m1))) << "Mutex is locked";
  }());
}

TEST(sync_mutex, aborted_future_2) {
  block_on([]() -> rill::Task<void> {
    auto m1 = std::make_shared<Mutex<std::size_t>>(0);
    {
      auto lock = co_await m1->lock();
      EXPECT_FALSE(co_await rill::timeout(1ms, lock_once(m1)));
    }
    EXPECT_TRUE(co_await rill::timeout(1ms, lock_once(m1))) << "Mutex is locked";
  }());
}

TEST(sync_mutex, try_lock) {
  Mutex<std::size_t> m(0);
  {
    auto g1 = m.try_lock();
    EXPECT_TRUE(g1);
    auto g2 = m.try_lock();
    EXPECT_FALSE(g2);
  }
  auto g3 = m.try_lock();
  EXPECT_TRUE(g3);
}

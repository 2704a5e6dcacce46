// Port of tokio-1.24.2/tests/sync_mutex_owned.rs (Arc<Mutex<T>> is std::shared_ptr; lock_owned
// is the static Mutex::lock_owned). Left out: debug_format (Rust's Debug formatting).
#include "harness.hpp"

#include <memory>

using namespace conformance;
using rill::sync::Mutex;
using M = std::shared_ptr<Mutex<int>>;

TEST(sync_mutex_owned, straight_execution) {
  block_on([]() -> rill::Task<void> {
    auto l = std::make_shared<Mutex<int>>(100);
    {
      auto g = co_await Mutex<int>::lock_owned(l);
      EXPECT_EQ(*g, 100);
      *g = 99;
    }
    {
      auto g = co_await Mutex<int>::lock_owned(l);
      EXPECT_EQ(*g, 99);
      *g = 98;
    }
    {
      auto g = co_await Mutex<int>::lock_owned(l);
      EXPECT_EQ(*g, 98);
    }
  }());
}

TEST(sync_mutex_owned, readiness) {
  block_on([]() -> rill::Task<void> {
    auto l = std::make_shared<Mutex<int>>(100);
    std::optional<rill::sync::OwnedMutexGuard<int>> g(co_await Mutex<int>::lock_owned(l));
    auto t2 = poll([](M l) -> rill::Task<void> { auto g = co_await Mutex<int>::lock_owned(l); }(l));
    CONF_ASSERT_PENDING(t2);
    g.reset();
    CONF_ASSERT_READY(t2);
  }());
}

namespace {
rill::Task<void> hold_and_tick(std::shared_ptr<Mutex<std::size_t>> m2) {
  auto iv = rill::interval(1000ms);
  auto g = co_await Mutex<std::size_t>::lock_owned(m2);
  co_await iv.tick();
  co_await iv.tick();
}
rill::Task<void> lock_once(std::shared_ptr<Mutex<std::size_t>> m) {
  auto g = co_await Mutex<std::size_t>::lock_owned(m);
}
}  // namespace

TEST(sync_mutex_owned, aborted_future_1) {
  block_on([]() -> rill::Task<void> {
    auto m1 = std::make_shared<Mutex<std::size_t>>(0);
    EXPECT_FALSE(co_await rill::timeout(1ms, hold_and_tick(m1)));
    EXPECT_TRUE(co_await rill::timeout(1ms, lock_once(m1))) << "Mutex is locked";
  }());
}

TEST(sync_mutex_owned, aborted_future_2) {
  block_on([]() -> rill::Task<void> {
    auto m1 = std::make_shared<Mutex<std::size_t>>(0);
    {
      auto lock = co_await Mutex<std::size_t>::lock_owned(m1);
      EXPECT_FALSE(co_await rill::timeout(1ms, lock_once(m1)));
    }
    EXPECT_TRUE(co_await rill::timeout(1ms, lock_once(m1))) << "Mutex is locked";
  }());
}

TEST(sync_mutex_owned, try_lock_owned) {
  auto m = std::make_shared<Mutex<std::size_t>>(0);
  {
    auto g1 = Mutex<std::size_t>::try_lock_owned(m);
    EXPECT_TRUE(g1);
    auto g2 = Mutex<std::size_t>::try_lock_owned(m);
    EXPECT_FALSE(g2);
  }
  auto g3 = Mutex<std::size_t>::try_lock_owned(m);
  EXPECT_TRUE(g3);
}

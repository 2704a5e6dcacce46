// Port of tokio-1.24.2/tests/sync_rwlock.rs. A lock that Tokio polls by hand and that must stay
// pending runs in a task of its own (harness.hpp); "assert_ready!(spawn(lock.read()).poll())"
// with the guard kept is a direct co_await. Left out: into_inner (RwLock::into_inner is not in
// rill).
#include "harness.hpp"

#include <memory>
#include <vector>

using namespace conformance;
using rill::sync::RwLock;
using L = RwLock<int>;

namespace {
Polled<void> read(L* l) {
  return poll([](L* l) -> rill::Task<void> { auto g = co_await l->read(); }(l));
}
Polled<void> write(L* l) {
  return poll([](L* l) -> rill::Task<void> { auto g = co_await l->write(); }(l));
}
}  // namespace

TEST(sync_rwlock, read_shared) {
  block_on([]() -> rill::Task<void> {
    L rwlock(100);
    auto g1 = co_await rwlock.read();
    auto t2 = read(&rwlock);
    CONF_ASSERT_READY(t2);
  }());
}

TEST(sync_rwlock, write_shared_pending) {
  block_on([]() -> rill::Task<void> {
    L rwlock(100);
    auto g1 = co_await rwlock.read();
    auto t2 = write(&rwlock);
    CONF_ASSERT_PENDING(t2);
    co_await drop_pending(t2);
  }());
}

TEST(sync_rwlock, read_exclusive_pending) {
  block_on([]() -> rill::Task<void> {
    L rwlock(100);
    auto g1 = co_await rwlock.write();
    auto t2 = read(&rwlock);
    CONF_ASSERT_PENDING(t2);
    co_await drop_pending(t2);
  }());
}

TEST(sync_rwlock, exhaust_reading) {
  block_on([]() -> rill::Task<void> {
    L rwlock(1024, 100);
    std::vector<rill::sync::RwLockReadGuard<int>> reads;
    for (;;) {
      auto g = rwlock.try_read();  // the poll-once of Tokio's loop
      if (!g) break;
      reads.push_back(std::move(*g));
    }
    EXPECT_EQ(reads.size(), 1024u);
    auto t1 = read(&rwlock);
    CONF_ASSERT_PENDING(t1);
    reads.pop_back();
    CONF_ASSERT_READY(t1);
  }());
}

TEST(sync_rwlock, write_exclusive_pending) {
  block_on([]() -> rill::Task<void> {
    L rwlock(100);
    auto g1 = co_await rwlock.write();
    auto t2 = write(&rwlock);
    CONF_ASSERT_PENDING(t2);
    co_await drop_pending(t2);
  }());
}

TEST(sync_rwlock, write_shared_drop) {
  block_on([]() -> rill::Task<void> {
    L rwlock(100);
    std::optional<rill::sync::RwLockReadGuard<int>> g1(co_await rwlock.read());
    auto t2 = write(&rwlock);
    CONF_ASSERT_PENDING(t2);
    g1.reset();
    CONF_ASSERT_READY(t2);
  }());
}

TEST(sync_rwlock, write_read_shared_pending) {
  block_on([]() -> rill::Task<void> {
    L rwlock(100);
    auto g1 = co_await rwlock.read();
    auto g2 = co_await rwlock.read();
    auto t3 = write(&rwlock);
    CONF_ASSERT_PENDING(t3);
    auto t4 = read(&rwlock);
    CONF_ASSERT_PENDING(t4);
    co_await drop_pending(t3, t4);
  }());
}

TEST(sync_rwlock, write_read_shared_drop_pending) {
  block_on([]() -> rill::Task<void> {
    L rwlock(100);
    auto g1 = co_await rwlock.read();
    std::optional<Polled<void>> t2(write(&rwlock));
    CONF_ASSERT_PENDING(*t2);
    auto t3 = read(&rwlock);
    CONF_ASSERT_PENDING(t3);
    t2.reset();
    CONF_ASSERT_READY(t3);
  }());
}

TEST(sync_rwlock, read_uncontested) {
  block_on([]() -> rill::Task<void> {
    L rwlock(100);
    auto result = *co_await rwlock.read();
    EXPECT_EQ(result, 100);
  }());
}

TEST(sync_rwlock, write_uncontested) {
  block_on([]() -> rill::Task<void> {
    L rwlock(100);
    auto result = co_await rwlock.write();
    *result += 50;
    EXPECT_EQ(*result, 150);
  }());
}

TEST(sync_rwlock, write_order) {
  block_on([]() -> rill::Task<void> {
    RwLock<std::vector<std::uint32_t>> rwlock;
    auto fut2 = rwlock.write();
    auto fut1 = rwlock.write();
    { (*co_await fut1).push_back(1); }
    { (*co_await fut2).push_back(2); }
    auto g = co_await rwlock.read();
    EXPECT_EQ(*g, (std::vector<std::uint32_t>{1, 2}));
  }());
}

TEST(sync_rwlock, multithreaded) {
  auto rt = rill::Builder::new_multi_thread().worker_threads(8).build();
  rt.block_on([]() -> rill::Task<void> {
    auto barrier = std::make_shared<rill::sync::Barrier>(5);
    auto rwlock = std::make_shared<RwLock<std::uint32_t>>(0);
    for (std::uint32_t add : {2u, 3u, 5u, 7u})
      (void)rill::spawn([](std::shared_ptr<RwLock<std::uint32_t>> rwlock,
                           std::shared_ptr<rill::sync::Barrier> b,
                           std::uint32_t add) -> rill::Task<void> {
        for (int i = 0; i < 1000; ++i) {
          auto guard = co_await rwlock->write();
          *guard += add;
        }
        (void)co_await b->wait();
      }(rwlock, barrier, add));
    (void)co_await barrier->wait();
    auto g = co_await rwlock->read();
    EXPECT_EQ(*g, 17000u);
  }());
}

TEST(sync_rwlock, try_write) {
  block_on([]() -> rill::Task<void> {
    L lock(0);
    std::optional<rill::sync::RwLockReadGuard<int>> read_guard(co_await lock.read());
    EXPECT_FALSE(lock.try_write());
    read_guard.reset();
    EXPECT_TRUE(lock.try_write());
  }());
}

TEST(sync_rwlock, try_read_try_write) {
  RwLock<std::size_t> lock(15);
  {
    auto rg1 = lock.try_read();
    ASSERT_TRUE(rg1);
    EXPECT_EQ(**rg1, 15u);
    EXPECT_FALSE(lock.try_write());
    auto rg2 = lock.try_read();
    ASSERT_TRUE(rg2);
    EXPECT_EQ(**rg2, 15u);
  }
  {
    auto wg = lock.try_write();
    ASSERT_TRUE(wg);
    **wg = 1515;
    EXPECT_FALSE(lock.try_read());
  }
  EXPECT_EQ(**lock.try_read(), 1515u);
}

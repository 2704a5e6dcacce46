// Port of tokio-1.24.2/tests/sync_semaphore_owned.rs. Left out: merge and
// merge_unrelated_permits (OwnedSemaphorePermit::merge is not in rill).
#include "harness.hpp"

#include <memory>
#include <vector>

using namespace conformance;
using rill::sync::Semaphore;
using Sem = std::shared_ptr<Semaphore>;

TEST(sync_semaphore_owned, try_acquire) {
  auto sem = std::make_shared<Semaphore>(1);
  {
    auto p1 = Semaphore::try_acquire_owned(sem);
    EXPECT_TRUE(p1);
    auto p2 = Semaphore::try_acquire_owned(sem);
    EXPECT_FALSE(p2);
  }
  auto p3 = Semaphore::try_acquire_owned(sem);
  EXPECT_TRUE(p3);
}

TEST(sync_semaphore_owned, try_acquire_many) {
  auto sem = std::make_shared<Semaphore>(42);
  {
    auto p1 = Semaphore::try_acquire_owned(sem, 42);
    EXPECT_TRUE(p1);
    auto p2 = Semaphore::try_acquire_owned(sem);
    EXPECT_FALSE(p2);
  }
  auto p3 = Semaphore::try_acquire_owned(sem, 32);
  EXPECT_TRUE(p3);
  auto p4 = Semaphore::try_acquire_owned(sem, 10);
  EXPECT_TRUE(p4);
  EXPECT_FALSE(Semaphore::try_acquire_owned(sem));
}

TEST(sync_semaphore_owned, acquire) {
  block_on([]() -> rill::Task<void> {
    auto sem = std::make_shared<Semaphore>(1);
    std::optional<rill::sync::OwnedSemaphorePermit> p1(
        std::move(Semaphore::try_acquire_owned(sem).value()));
    auto j = rill::spawn([](Sem s) -> rill::Task<void> {
      auto p2 = co_await Semaphore::acquire_owned(s);
      EXPECT_TRUE(p2);
    }(sem));
    p1.reset();
    co_await j;
  }());
}

TEST(sync_semaphore_owned, acquire_many) {
  block_on([]() -> rill::Task<void> {
    auto semaphore = std::make_shared<Semaphore>(42);
    std::optional<rill::sync::OwnedSemaphorePermit> permit32(
        std::move(Semaphore::try_acquire_owned(semaphore, 32).value()));
    auto [sender, receiver] = rill::sync::oneshot::channel<int>();
    auto join_handle =
        rill::spawn([](Sem semaphore, rill::sync::oneshot::Sender<int> sender) -> rill::Task<void> {
          auto permit10 = co_await Semaphore::acquire_owned(semaphore, 10);
          EXPECT_TRUE(permit10);
          EXPECT_TRUE(std::move(sender).send(1));
          auto permit32 = co_await Semaphore::acquire_owned(semaphore, 32);
          EXPECT_TRUE(permit32);
        }(semaphore, std::move(sender)));
    EXPECT_TRUE(co_await receiver);
    permit32.reset();
    co_await join_handle;
  }());
}

TEST(sync_semaphore_owned, add_permits) {
  block_on([]() -> rill::Task<void> {
    auto sem = std::make_shared<Semaphore>(0);
    auto j = rill::spawn([](Sem s) -> rill::Task<void> {
      auto p2 = co_await Semaphore::acquire_owned(s);
      EXPECT_TRUE(p2);
    }(sem));
    sem->add_permits(1);
    co_await j;
  }());
}

TEST(sync_semaphore_owned, forget) {
  auto sem = std::make_shared<Semaphore>(1);
  {
    auto p = Semaphore::try_acquire_owned(sem);
    ASSERT_TRUE(p);
    EXPECT_EQ(sem->available_permits(), 0u);
    p->forget();
    EXPECT_EQ(sem->available_permits(), 0u);
  }
  EXPECT_EQ(sem->available_permits(), 0u);
  EXPECT_FALSE(Semaphore::try_acquire_owned(sem));
}

TEST(sync_semaphore_owned, stress_test) {
  block_on([]() -> rill::Task<void> {
    auto sem = std::make_shared<Semaphore>(5);
    std::vector<rill::JoinHandle<void>> join_handles;
    for (int i = 0; i < 1000; ++i)
      join_handles.push_back(rill::spawn(
          [](Sem s) -> rill::Task<void> { auto p = co_await Semaphore::acquire_owned(s); }(sem)));
    for (auto& j : join_handles)
      co_await j;
    auto p1 = Semaphore::try_acquire_owned(sem);
    auto p2 = Semaphore::try_acquire_owned(sem);
    auto p3 = Semaphore::try_acquire_owned(sem);
    auto p4 = Semaphore::try_acquire_owned(sem);
    auto p5 = Semaphore::try_acquire_owned(sem);
    EXPECT_TRUE(p1 && p2 && p3 && p4 && p5);
    EXPECT_FALSE(Semaphore::try_acquire_owned(sem));
  }());
}

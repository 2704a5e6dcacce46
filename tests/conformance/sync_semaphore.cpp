// Port of tokio-1.24.2/tests/sync_semaphore.rs. Tokio's should_panic tests expect rill's
// std::invalid_argument.
#include "harness.hpp"

#include <memory>
#include <stdexcept>
#include <vector>

using namespace conformance;
using rill::sync::Semaphore;

TEST(sync_semaphore, no_permits) {
  Semaphore s(0);
}

TEST(sync_semaphore, try_acquire) {
  Semaphore sem(1);
  {
    auto p1 = sem.try_acquire();
    EXPECT_TRUE(p1);
    auto p2 = sem.try_acquire();
    EXPECT_FALSE(p2);
  }
  auto p3 = sem.try_acquire();
  EXPECT_TRUE(p3);
}

TEST(sync_semaphore, acquire) {
  block_on([]() -> rill::Task<void> {
    auto sem = std::make_shared<Semaphore>(1);
    std::optional<rill::sync::SemaphorePermit> p1(std::move(sem->try_acquire().value()));
    auto j = rill::spawn([](std::shared_ptr<Semaphore> s) -> rill::Task<void> {
      auto p2 = co_await s->acquire();
      EXPECT_TRUE(p2);
    }(sem));
    p1.reset();
    co_await j;
  }());
}

TEST(sync_semaphore, add_permits) {
  block_on([]() -> rill::Task<void> {
    auto sem = std::make_shared<Semaphore>(0);
    auto j = rill::spawn([](std::shared_ptr<Semaphore> s) -> rill::Task<void> {
      auto p2 = co_await s->acquire();
      EXPECT_TRUE(p2);
    }(sem));
    sem->add_permits(1);
    co_await j;
  }());
}

TEST(sync_semaphore, forget) {
  auto sem = std::make_shared<Semaphore>(1);
  {
    auto p = sem->try_acquire();
    ASSERT_TRUE(p);
    EXPECT_EQ(sem->available_permits(), 0u);
    p->forget();
    EXPECT_EQ(sem->available_permits(), 0u);
  }
  EXPECT_EQ(sem->available_permits(), 0u);
  EXPECT_FALSE(sem->try_acquire());
}

TEST(sync_semaphore, merge) {
  auto sem = std::make_shared<Semaphore>(3);
  {
    auto p1 = sem->try_acquire();
    ASSERT_TRUE(p1);
    EXPECT_EQ(sem->available_permits(), 2u);
    auto p2 = sem->try_acquire(2);
    ASSERT_TRUE(p2);
    EXPECT_EQ(sem->available_permits(), 0u);
    p1->merge(std::move(*p2));
    EXPECT_EQ(sem->available_permits(), 0u);
  }
  EXPECT_EQ(sem->available_permits(), 3u);
}

TEST(sync_semaphore, merge_unrelated_permits) {
  auto sem1 = std::make_shared<Semaphore>(3);
  auto sem2 = std::make_shared<Semaphore>(3);
  auto p1 = sem1->try_acquire();
  auto p2 = sem2->try_acquire();
  EXPECT_THROW(p1->merge(std::move(*p2)), std::invalid_argument);
}

TEST(sync_semaphore, stress_test) {
  block_on([]() -> rill::Task<void> {
    auto sem = std::make_shared<Semaphore>(5);
    std::vector<rill::JoinHandle<void>> join_handles;
    for (int i = 0; i < 1000; ++i)
      join_handles.push_back(rill::spawn([](std::shared_ptr<Semaphore> s) -> rill::Task<void> {
        auto p = co_await s->acquire();
      }(sem)));
    for (auto& j : join_handles)
      co_await j;
    auto p1 = sem->try_acquire();
    auto p2 = sem->try_acquire();
    auto p3 = sem->try_acquire();
    auto p4 = sem->try_acquire();
    auto p5 = sem->try_acquire();
    EXPECT_TRUE(p1 && p2 && p3 && p4 && p5);
    EXPECT_FALSE(sem->try_acquire());
  }());
}

TEST(sync_semaphore, add_max_amount_permits) {
  Semaphore s(0);
  s.add_permits(Semaphore::MAX_PERMITS);
  EXPECT_EQ(s.available_permits(), Semaphore::MAX_PERMITS);
}

TEST(sync_semaphore, add_more_than_max_amount_permits1) {
  Semaphore s(1);
  EXPECT_THROW(s.add_permits(Semaphore::MAX_PERMITS), std::invalid_argument);
}

TEST(sync_semaphore, add_more_than_max_amount_permits2) {
  Semaphore s(Semaphore::MAX_PERMITS - 1);
  s.add_permits(1);
  EXPECT_THROW(s.add_permits(1), std::invalid_argument);
}

TEST(sync_semaphore, panic_when_exceeds_maxpermits) {
  EXPECT_THROW(Semaphore(Semaphore::MAX_PERMITS + 1), std::invalid_argument);
}

TEST(sync_semaphore, no_panic_at_maxpermits) {
  Semaphore a(Semaphore::MAX_PERMITS);
  Semaphore s(Semaphore::MAX_PERMITS - 1);
  s.add_permits(1);
}

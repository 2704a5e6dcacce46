// Tests for rill::sync::oneshot and rill::sync::mpsc (bounded and unbounded).
#include <gtest/gtest.h>
#include <rill/rill.hpp>

#include <atomic>
#include <chrono>
#include <thread>

using namespace std::chrono_literals;
namespace mpsc = rill::sync::mpsc;
namespace oneshot = rill::sync::oneshot;

TEST(Oneshot, SendRecvAndClosed) {
  auto rt = rill::Builder::new_multi_thread().worker_threads(2).build();
  auto v = rt.block_on([]() -> rill::Task<int> {
    auto [tx, rx] = oneshot::channel<int>();
    (void)rill::spawn([](oneshot::Sender<int> tx) -> rill::Task<void> {
      co_await rill::sleep(2ms);
      (void)std::move(tx).send(41);
    }(std::move(tx)));
    co_return (co_await rx).value() + 1;
  }());
  EXPECT_EQ(v, 42);
  bool closed = rt.block_on([]() -> rill::Task<bool> {
    auto [tx, rx] = oneshot::channel<int>();
    { auto drop = std::move(tx); }
    co_return !(co_await rx).has_value();
  }());
  EXPECT_TRUE(closed);
  auto [tx, rx] = oneshot::channel<int>();
  { auto drop = std::move(rx); }
  auto r = std::move(tx).send(5);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error(), 5);
}

TEST(Mpsc, BoundedBackpressureAndOrder) {
  auto rt = rill::Builder::new_multi_thread().worker_threads(2).build();
  auto got = rt.block_on([]() -> rill::Task<std::vector<int>> {
    auto [tx, rx] = mpsc::channel<int>(2);
    auto producer = rill::spawn([](mpsc::Sender<int> tx) -> rill::Task<void> {
      for (int i = 0; i < 100; ++i) (co_await tx.send(i)).value();
    }(std::move(tx)));
    std::vector<int> out;
    while (auto v = co_await rx.recv()) out.push_back(*v);
    co_await producer;
    co_return out;
  }());
  ASSERT_EQ(got.size(), 100u);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(got[i], i);
}

TEST(Mpsc, TrySendFullAndClosed) {
  auto [tx, rx] = mpsc::channel<int>(1);
  EXPECT_TRUE(tx.try_send(1).has_value());
  auto full = tx.try_send(2);
  ASSERT_FALSE(full.has_value());
  EXPECT_EQ(full.error().kind, mpsc::TrySendError<int>::Kind::Full);
  EXPECT_EQ(full.error().value, 2);
  EXPECT_EQ(*rx.try_recv(), 1);
  EXPECT_EQ(rx.try_recv().error(), mpsc::TryRecvError::Empty);
  { auto r = std::move(rx); }
  auto closed = tx.try_send(3);
  ASSERT_FALSE(closed.has_value());
  EXPECT_EQ(closed.error().kind, mpsc::TrySendError<int>::Kind::Closed);
}

TEST(Mpsc, ReceiverDropFailsWaitingSenders) {
  auto rt = rill::Builder::new_multi_thread().worker_threads(2).build();
  bool failed = rt.block_on([]() -> rill::Task<bool> {
    auto [tx, rx] = mpsc::channel<int>(1);
    (co_await tx.send(1)).value();
    auto blocked = rill::spawn([](mpsc::Sender<int> tx) -> rill::Task<bool> {
      auto r = co_await tx.send(2);  // full: waits
      co_return !r.has_value() && r.error().value == 2;
    }(tx.clone()));
    co_await rill::sleep(5ms);
    { auto drop = std::move(rx); }
    co_return co_await blocked;
  }());
  EXPECT_TRUE(failed);
}

TEST(Mpsc, CancelledSendSendsNothing) {
  auto rt = rill::Builder::new_current_thread().build();
  auto got = rt.block_on([]() -> rill::Task<std::vector<int>> {
    auto [tx, rx] = mpsc::channel<int>(1);
    (co_await tx.send(1)).value();
    auto r = co_await rill::timeout(5ms, [](mpsc::Sender<int> tx) -> rill::Task<void> {
      (co_await tx.send(2)).value();
    }(tx.clone()));
    EXPECT_FALSE(r.has_value());
    { auto drop = std::move(tx); }
    std::vector<int> out;
    while (auto v = co_await rx.recv()) out.push_back(*v);
    co_return out;
  }());
  EXPECT_EQ(got, std::vector<int>{1});
}

TEST(Mpsc, ManyProducersFromThreads) {
  auto rt = rill::Builder::new_multi_thread().worker_threads(2).build();
  auto [tx, rx] = mpsc::unbounded_channel<int>();
  std::vector<std::thread> ths;
  for (int t = 0; t < 4; ++t)
    ths.emplace_back([tx = tx.clone(), t]() mutable {
      for (int i = 0; i < 5000; ++i) (void)tx.send(t * 5000 + i);
    });
  { auto drop = std::move(tx); }
  long sum = rt.block_on([](mpsc::Receiver<int> rx) -> rill::Task<long> {
    long s = 0;
    while (auto v = co_await rx.recv()) s += *v;
    co_return s;
  }(std::move(rx)));
  for (auto& th : ths) th.join();
  EXPECT_EQ(sum, 20000L * 19999 / 2);
}

TEST(Mpsc, BoundedSendersNeverStrandedByADrainingReceiver) {
  // Regression: a sender that saw a full channel in await_ready and queued itself in
  // await_suspend after the receiver had drained the queue was never admitted (hang).
  auto rt = rill::Builder::new_multi_thread().worker_threads(2).build();
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
  constexpr int kPer = 2000;
#else
  constexpr int kPer = 20000;
#endif
  for (std::size_t cap : {1u, 2u, 16u}) {
    auto n = rt.block_on([](std::size_t cap) -> rill::Task<long> {
      auto [tx, rx] = mpsc::channel<int>(cap);
      for (int p = 0; p < 4; ++p)
        (void)rill::spawn([](mpsc::Sender<int> tx) -> rill::Task<void> {
          for (int i = 0; i < kPer; ++i) (co_await tx.send(i)).value();
        }(tx.clone()));
      { auto drop = std::move(tx); }
      long n = 0;
      while ((co_await rx.recv()).has_value()) ++n;
      co_return n;
    }(cap));
    EXPECT_EQ(n, 4L * kPer) << "capacity " << cap;
  }
}

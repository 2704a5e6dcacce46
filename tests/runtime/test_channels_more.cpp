// Channels, the rest of Tokio's surface: Sender::closed() (mpsc, oneshot, watch), mpsc's
// send_timeout, capacity / max_capacity, blocking_send / blocking_recv from plain threads, and
// the close-on-last-drop ownership model.
#include <gtest/gtest.h>
#include <rill/rill.hpp>
#include <rill/sync/mpsc.hpp>
#include <rill/sync/oneshot.hpp>
#include <rill/sync/watch.hpp>

#include <chrono>
#include <thread>

using namespace std::chrono_literals;
using rill::Task;
namespace mpsc = rill::sync::mpsc;

TEST(MpscMore, CapacityAndSendTimeout) {
  auto rt = rill::Builder::new_current_thread().start_paused(true).build();
  rt.block_on([]() -> Task<void> {
    auto [tx, rx] = mpsc::channel<int>(2);
    EXPECT_EQ(tx.max_capacity(), 2u);
    EXPECT_EQ(tx.capacity(), 2u);
    EXPECT_TRUE((co_await tx.send(1)).has_value());
    EXPECT_EQ(tx.capacity(), 1u);
    EXPECT_TRUE((co_await tx.send_timeout(2, 1s)).has_value());
    EXPECT_EQ(tx.capacity(), 0u);
    auto full = co_await tx.send_timeout(3, 1s);  // nobody receives: times out (paused clock)
    EXPECT_FALSE(full.has_value());
    EXPECT_EQ(full.error().kind, mpsc::SendTimeoutError<int>::Kind::Timeout);
    EXPECT_EQ(full.error().value, 3);  // the value comes back
    EXPECT_EQ(*co_await rx.recv(), 1);
    EXPECT_EQ(*co_await rx.recv(), 2);
    auto none = rx.try_recv();
    EXPECT_FALSE(none.has_value());  // 3 was not sent
    rx.close();
    auto closed = co_await tx.send_timeout(4, 1s);
    EXPECT_FALSE(closed.has_value());
    EXPECT_EQ(closed.error().kind, mpsc::SendTimeoutError<int>::Kind::Closed);
    EXPECT_EQ(closed.error().value, 4);
  }());
}

TEST(MpscMore, ClosedCompletesWhenTheReceiverGoes) {
  auto rt = rill::Builder::new_multi_thread().worker_threads(2).build();
  rt.block_on([]() -> Task<void> {
    auto [tx, rx] = mpsc::channel<int>(1);
    auto watcher = rill::spawn([](mpsc::Sender<int> tx) -> Task<bool> {
      co_await tx.closed();
      co_return tx.is_closed();
    }(tx.clone()));
    auto early = co_await rill::timeout(10ms, tx.closed());
    EXPECT_FALSE(early.has_value());  // the receiver is alive
    {
      auto gone = std::move(rx);
    }
    EXPECT_TRUE(co_await watcher);
    co_await tx.closed();  // already closed: completes at once
    auto [utx, urx] = mpsc::unbounded_channel<int>();
    urx.close();
    co_await utx.closed();
  }());
}

TEST(MpscMore, BlockingSendAndRecvFromPlainThreads) {
  auto rt = rill::Builder::new_multi_thread().worker_threads(2).build();
  auto [tx, rx] = mpsc::channel<int>(1);  // capacity 1: the producer blocks often
  std::thread producer([tx = std::move(tx)]() mutable {
    for (int i = 0; i < 200; ++i) EXPECT_TRUE(tx.blocking_send(i).has_value());
  });  // the thread's Sender is the last one: the channel closes when it ends
  const long sum = rt.block_on([](mpsc::Receiver<int> rx) -> Task<long> {
    long s = 0;
    while (auto v = co_await rx.recv()) s += *v;
    co_return s;
  }(std::move(rx)));
  producer.join();
  EXPECT_EQ(sum, 199L * 200 / 2);

  auto [tx2, rx2] = mpsc::channel<int>(4);
  auto h = rt.spawn([](mpsc::Sender<int> tx) -> Task<void> {
    for (int i = 0; i < 50; ++i) (void)co_await tx.send(i);
  }(std::move(tx2)));
  long s2 = 0;
  while (auto v = rx2.blocking_recv()) s2 += *v;  // nullopt once the task's Sender is dropped
  EXPECT_EQ(s2, 49L * 50 / 2);
  rt.block_on([](rill::JoinHandle<void> h) -> Task<void> { co_await h; }(std::move(h)));

  // On a runtime thread they refuse to block the worker.
  auto [tx3, rx3] = mpsc::channel<int>(1);
  rt.block_on([](mpsc::Sender<int>& tx, mpsc::Receiver<int>& rx) -> Task<void> {
    EXPECT_THROW((void)tx.blocking_send(1), rill::RuntimeError);
    EXPECT_THROW((void)rx.blocking_recv(), rill::RuntimeError);
    co_return;
  }(tx3, rx3));
}

TEST(ChannelsMore, OneshotAndWatchSenderClosed) {
  auto rt = rill::Builder::new_multi_thread().worker_threads(2).build();
  rt.block_on([]() -> Task<void> {
    auto [otx, orx] = rill::sync::oneshot::channel<int>();
    auto early = co_await rill::timeout(10ms, otx.closed());
    EXPECT_FALSE(early.has_value());  // the receiver is alive
    auto waiter = rill::spawn([](rill::sync::oneshot::Sender<int> tx) -> Task<bool> {
      co_await tx.closed();
      co_return tx.is_closed();
    }(std::move(otx)));
    {
      auto gone = std::move(orx);
    }
    EXPECT_TRUE(co_await waiter);

    auto [wtx, wrx] = rill::sync::watch::channel<int>(0);
    auto wrx2 = wrx;
    auto wearly = co_await rill::timeout(10ms, wtx.closed());
    EXPECT_FALSE(wearly.has_value());
    auto wwaiter = rill::spawn([](rill::sync::watch::Sender<int>* tx) -> Task<void> {
      co_await tx->closed();
    }(&wtx));
    {
      auto g1 = std::move(wrx);
    }
    co_await rill::sleep(5ms);
    EXPECT_FALSE(wwaiter.is_finished());  // one receiver is left
    {
      auto g2 = std::move(wrx2);
    }
    co_await wwaiter;
    co_await wtx.closed();  // no receiver: at once
  }());
}

TEST(ChannelsMore, ReserveHoldsASlotUntilThePermitSendsOrIsDropped) {
  auto rt = rill::Builder::new_current_thread().start_paused(true).build();
  rt.block_on([]() -> Task<void> {
    auto [tx, rx] = mpsc::channel<int>(1);
    auto p1 = co_await tx.reserve();
    EXPECT_TRUE(p1.has_value());
    EXPECT_EQ(tx.capacity(), 0u);
    EXPECT_FALSE(tx.try_send(9).has_value());  // the reserved slot is not free
    auto waiting = co_await rill::timeout(1s, tx.reserve());
    EXPECT_FALSE(waiting.has_value());  // cancelled while queued: nothing is held
    {
      auto drop = std::move(*p1);  // an unused permit gives its slot back
    }
    EXPECT_EQ(tx.capacity(), 1u);
    auto p2 = co_await tx.reserve();
    EXPECT_TRUE(p2.has_value());
    // A send queued behind the permit gets the slot after the permit's value is received.
    auto sender = rill::spawn([](mpsc::Sender<int> tx) -> Task<bool> {
      co_return (co_await tx.send(2)).has_value();
    }(tx.clone()));
    co_await rill::yield_now();
    std::move(*p2).send(1);
    EXPECT_EQ(*co_await rx.recv(), 1);
    EXPECT_EQ(*co_await rx.recv(), 2);
    EXPECT_TRUE(co_await sender);
    rx.close();
    auto after = co_await tx.reserve();
    EXPECT_FALSE(after.has_value());  // ReserveError: the receiver is gone
  }());
}

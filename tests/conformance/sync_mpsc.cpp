// Port of tokio-1.24.2/tests/sync_mpsc.rs. Left out (listed in docs/runtime.md, "Differences from
// Tokio"): try_reserve_fails and the try_reserve half of dropping_rx_closes_channel_for_try (no
// Sender::try_reserve in rill), recv_timeout_panic (send_timeout is a lazy Task: there is no
// polling it outside a runtime), the Stream adapters, and the Send/Debug-bound checks (no C++
// counterpart). Tokio's `is_woken()` after an action is read as "ready after the runtime ran"
// (harness.hpp); a dropped tokio_test::task::Spawn is an aborted task.
#include "harness.hpp"

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>

using namespace conformance;
namespace mpsc = rill::sync::mpsc;

namespace {
using Reserved = rill::Result<mpsc::Permit<int>, mpsc::ReserveError>;
/// tokio_test::task::spawn(tx.reserve()): the reservation waits in a task of its own. The task
/// holds a clone of the Sender, so the channel outlives an aborted task that is destroyed late.
Polled<Reserved> reserve(mpsc::Sender<int>* tx) {
  return poll([](mpsc::Sender<int> tx) -> rill::Task<Reserved> {
    co_return co_await tx.reserve();
  }(tx->clone()));
}
}  // namespace

TEST(sync_mpsc, send_recv_with_buffer) {
  block_on([]() -> rill::Task<void> {
    auto [tx, rx] = mpsc::channel<int>(16);
    // Using reserve / try_send
    auto permit = co_await tx.reserve();
    CO_ASSERT_TRUE(permit);
    std::move(*permit).send(1);
    // Without reserve
    EXPECT_TRUE(tx.try_send(2));
    { auto drop = std::move(tx); }
    EXPECT_EQ(co_await rx.recv(), std::optional<int>(1));
    EXPECT_EQ(co_await rx.recv(), std::optional<int>(2));
    EXPECT_FALSE((co_await rx.recv()).has_value());
  }());
}

TEST(sync_mpsc, reserve_disarm) {
  block_on([]() -> rill::Task<void> {
    auto [tx, rx] = mpsc::channel<int>(2);
    auto tx1 = tx.clone();
    auto tx2 = tx.clone();
    auto tx3 = tx.clone();
    auto tx4 = std::move(tx);
    // Two handles reserve without waiting
    auto permit1 = co_await tx1.reserve();
    CO_ASSERT_TRUE(permit1);
    auto permit2 = co_await tx2.reserve();
    CO_ASSERT_TRUE(permit2);
    // But a third is not ready
    auto r3 = reserve(&tx3);
    CONF_ASSERT_PENDING(r3);
    auto r4 = reserve(&tx4);
    CONF_ASSERT_PENDING(r4);
    // Using one of the reserved slots lets a new handle become ready...
    std::move(*permit1).send(1);
    // ...once the value is received
    CONF_ASSERT_PENDING(r3);
    EXPECT_TRUE((co_await rx.recv()).has_value());
    CONF_ASSERT_READY(r3);
    EXPECT_FALSE(r4.is_ready());
    // Dropping a permit also opens a slot
    { auto drop = std::move(*permit2); }
    CONF_ASSERT_READY(r4);
    auto r1 = reserve(&tx1);
    CONF_ASSERT_PENDING(r1);
  }());
}

TEST(sync_mpsc, start_send_past_cap) {
  block_on([]() -> rill::Task<void> {
    auto [tx1, rx] = mpsc::channel<int>(1);
    auto tx2 = tx1.clone();
    EXPECT_TRUE(tx1.try_send(0));
    std::optional<Polled<Reserved>> r1(reserve(&tx1));
    CONF_ASSERT_PENDING(*r1);
    {
      auto r2 = reserve(&tx2);
      CONF_ASSERT_PENDING(r2);
      r1.reset();  // drops the waiting reservation
      co_await settle();
      EXPECT_TRUE((co_await rx.recv()).has_value());
      CONF_ASSERT_READY(r2);
    }
    { auto drop = std::move(tx1); }
    { auto drop = std::move(tx2); }
    EXPECT_FALSE((co_await rx.recv()).has_value());
  }());
}

TEST(sync_mpsc, async_send_recv_with_buffer) {
  block_on([]() -> rill::Task<void> {
    auto [tx, rx] = mpsc::channel<int>(16);
    auto h = rill::spawn([](mpsc::Sender<int> tx) -> rill::Task<void> {
      EXPECT_TRUE(co_await tx.send(1));
      EXPECT_TRUE(co_await tx.send(2));
    }(std::move(tx)));
    EXPECT_EQ(std::optional<int>(1), co_await rx.recv());
    EXPECT_EQ(std::optional<int>(2), co_await rx.recv());
    EXPECT_EQ(std::nullopt, co_await rx.recv());
    co_await h;
  }());
}

TEST(sync_mpsc, buffer_gteq_one) {
  // Tokio panics; rill throws std::invalid_argument.
  EXPECT_THROW((void)mpsc::channel<int>(0), std::invalid_argument);
}

TEST(sync_mpsc, send_recv_unbounded) {
  block_on([]() -> rill::Task<void> {
    auto [tx, rx] = mpsc::unbounded_channel<int>();
    EXPECT_TRUE(tx.send(1));
    EXPECT_TRUE(tx.send(2));
    EXPECT_EQ(co_await rx.recv(), std::optional<int>(1));
    EXPECT_EQ(co_await rx.recv(), std::optional<int>(2));
    { auto drop = std::move(tx); }
    EXPECT_FALSE((co_await rx.recv()).has_value());
  }());
}

TEST(sync_mpsc, async_send_recv_unbounded) {
  block_on([]() -> rill::Task<void> {
    auto [tx, rx] = mpsc::unbounded_channel<int>();
    auto h = rill::spawn([](mpsc::UnboundedSender<int> tx) -> rill::Task<void> {
      EXPECT_TRUE(tx.send(1));
      EXPECT_TRUE(tx.send(2));
      co_return;
    }(std::move(tx)));
    EXPECT_EQ(std::optional<int>(1), co_await rx.recv());
    EXPECT_EQ(std::optional<int>(2), co_await rx.recv());
    EXPECT_EQ(std::nullopt, co_await rx.recv());
    co_await h;
  }());
}

namespace {
struct NoImpls {
  NoImpls() = default;
  NoImpls(NoImpls&&) = default;
  NoImpls& operator=(NoImpls&&) = default;
};
}  // namespace

TEST(sync_mpsc, no_t_bounds_buffer) {
  block_on([]() -> rill::Task<void> {
    auto [tx, rx] = mpsc::channel<NoImpls>(100);
    // The sender is copyable even though T is not.
    EXPECT_TRUE(tx.clone().try_send(NoImpls{}));
    EXPECT_TRUE((co_await rx.recv()).has_value());
  }());
}

TEST(sync_mpsc, no_t_bounds_unbounded) {
  block_on([]() -> rill::Task<void> {
    auto [tx, rx] = mpsc::unbounded_channel<NoImpls>();
    EXPECT_TRUE(tx.clone().send(NoImpls{}));
    EXPECT_TRUE((co_await rx.recv()).has_value());
  }());
}

TEST(sync_mpsc, send_recv_buffer_limited) {
  block_on([]() -> rill::Task<void> {
    auto [tx, rx] = mpsc::channel<int>(1);
    // Reserve capacity
    auto p1 = co_await tx.reserve();
    CO_ASSERT_TRUE(p1);
    // Send first message
    std::move(*p1).send(1);
    // Not ready
    auto p2 = reserve(&tx);
    CONF_ASSERT_PENDING(p2);
    // Take the value
    EXPECT_TRUE((co_await rx.recv()).has_value());
    // Notified
    CONF_ASSERT_READY(p2);
    // Trying to send fails
    EXPECT_FALSE(tx.try_send(1337));
    // Send second
    auto permit = co_await p2.take();
    CO_ASSERT_TRUE(permit);
    std::move(*permit).send(2);
    EXPECT_TRUE((co_await rx.recv()).has_value());
  }());
}

TEST(sync_mpsc, recv_close_gets_none_idle) {
  block_on([]() -> rill::Task<void> {
    auto [tx, rx] = mpsc::channel<int>(10);
    rx.close();
    EXPECT_FALSE((co_await rx.recv()).has_value());
    EXPECT_FALSE(co_await tx.send(1));
  }());
}

TEST(sync_mpsc, recv_close_gets_none_reserved) {
  block_on([]() -> rill::Task<void> {
    auto [tx1, rx] = mpsc::channel<int>(1);
    auto tx2 = tx1.clone();
    auto permit1 = co_await tx1.reserve();
    CO_ASSERT_TRUE(permit1);
    auto permit2 = reserve(&tx2);
    CONF_ASSERT_PENDING(permit2);
    rx.close();
    CONF_ASSERT_READY(permit2);
    EXPECT_FALSE(co_await permit2.take());
    {
      auto recv = poll([](mpsc::Receiver<int>* rx) -> rill::Task<std::optional<int>> {
        co_return co_await rx->recv();
      }(&rx));
      CONF_ASSERT_PENDING(recv);
      std::move(*permit1).send(123);
      CONF_ASSERT_READY(recv);
      EXPECT_EQ(co_await recv.take(), std::optional<int>(123));
    }
    EXPECT_FALSE((co_await rx.recv()).has_value());
  }());
}

TEST(sync_mpsc, tx_close_gets_none) {
  block_on([]() -> rill::Task<void> {
    auto rx = mpsc::channel<int>(10).second;
    EXPECT_FALSE((co_await rx.recv()).has_value());
  }());
}

TEST(sync_mpsc, try_send_fail) {
  block_on([]() -> rill::Task<void> {
    auto [tx, rx] = mpsc::channel<std::string>(1);
    EXPECT_TRUE(tx.try_send("hello"));
    auto r = tx.try_send("fail");
    EXPECT_FALSE(r);
    EXPECT_EQ(r.error().kind, mpsc::TrySendError<std::string>::Kind::Full);
    EXPECT_EQ(co_await rx.recv(), std::optional<std::string>("hello"));
    EXPECT_TRUE(tx.try_send("goodbye"));
    { auto drop = std::move(tx); }
    EXPECT_EQ(co_await rx.recv(), std::optional<std::string>("goodbye"));
    EXPECT_FALSE((co_await rx.recv()).has_value());
  }());
}

TEST(sync_mpsc, try_send_fail_with_try_recv) {
  block_on([]() -> rill::Task<void> {
    auto [tx, rx] = mpsc::channel<std::string>(1);
    EXPECT_TRUE(tx.try_send("hello"));
    auto r = tx.try_send("fail");
    EXPECT_FALSE(r);
    EXPECT_EQ(r.error().kind, mpsc::TrySendError<std::string>::Kind::Full);
    EXPECT_EQ(rx.try_recv().value(), "hello");
    EXPECT_TRUE(tx.try_send("goodbye"));
    { auto drop = std::move(tx); }
    EXPECT_EQ(rx.try_recv().value(), "goodbye");
    auto e = rx.try_recv();
    EXPECT_FALSE(e);
    EXPECT_EQ(e.error(), mpsc::TryRecvError::Disconnected);
    co_return;
  }());
}

TEST(sync_mpsc, drop_permit_releases_permit) {
  block_on([]() -> rill::Task<void> {
    // reserve() holds capacity; it is released when the Permit is dropped without sending.
    auto [tx1, rx] = mpsc::channel<int>(1);
    auto tx2 = tx1.clone();
    std::optional<Reserved> permit(co_await tx1.reserve());
    CO_ASSERT_TRUE(*permit);
    auto reserve2 = reserve(&tx2);
    CONF_ASSERT_PENDING(reserve2);
    permit.reset();
    CONF_ASSERT_READY(reserve2);
    EXPECT_TRUE(co_await reserve2.take());
  }());
}

TEST(sync_mpsc, dropping_rx_closes_channel) {
  block_on([]() -> rill::Task<void> {
    auto [tx, rx] = mpsc::channel<std::shared_ptr<int>>(100);
    auto msg = std::make_shared<int>();
    EXPECT_TRUE(tx.try_send(msg));
    { auto drop = std::move(rx); }
    EXPECT_FALSE(co_await tx.reserve());
    EXPECT_EQ(1, msg.use_count());
  }());
}

TEST(sync_mpsc, dropping_rx_closes_channel_for_try) {
  auto [tx, rx] = mpsc::channel<std::shared_ptr<int>>(100);
  auto msg = std::make_shared<int>();
  EXPECT_TRUE(tx.try_send(msg));
  { auto drop = std::move(rx); }
  auto r = tx.try_send(msg);
  EXPECT_FALSE(r);
  EXPECT_EQ(r.error().kind, mpsc::TrySendError<std::shared_ptr<int>>::Kind::Closed);
  r = rill::Result<void, mpsc::TrySendError<std::shared_ptr<int>>>();  // drops the returned clone
  EXPECT_EQ(1, msg.use_count());
}

TEST(sync_mpsc, unconsumed_messages_are_dropped) {
  auto msg = std::make_shared<int>();
  {
    auto [tx, rx] = mpsc::channel<std::shared_ptr<int>>(100);
    EXPECT_TRUE(tx.try_send(msg));
    EXPECT_EQ(2, msg.use_count());
  }
  EXPECT_EQ(1, msg.use_count());
}

TEST(sync_mpsc, blocking_recv) {
  auto [tx, rx] = mpsc::channel<std::uint8_t>(1);
  std::thread sync_code([rx = std::move(rx)]() mutable {
    EXPECT_EQ(std::optional<std::uint8_t>(10), rx.blocking_recv());
  });
  rill::Builder::new_multi_thread().build().block_on(
      [](mpsc::Sender<std::uint8_t> tx) -> rill::Task<void> {
        (void)co_await tx.send(10);
      }(std::move(tx)));
  sync_code.join();
}

TEST(sync_mpsc, blocking_recv_async) {
  // Tokio panics; rill throws RuntimeError.
  block_on([]() -> rill::Task<void> {
    auto [tx, rx] = mpsc::channel<int>(1);
    EXPECT_THROW((void)rx.blocking_recv(), rill::RuntimeError);
    co_return;
  }());
}

TEST(sync_mpsc, blocking_send) {
  auto [tx, rx] = mpsc::channel<std::uint8_t>(1);
  std::thread sync_code([tx = std::move(tx)]() mutable { EXPECT_TRUE(tx.blocking_send(10)); });
  rill::Builder::new_multi_thread().build().block_on(
      [](mpsc::Receiver<std::uint8_t>* rx) -> rill::Task<void> {
        EXPECT_EQ(std::optional<std::uint8_t>(10), co_await rx->recv());
      }(&rx));
  sync_code.join();
}

TEST(sync_mpsc, blocking_send_async) {
  // Tokio panics; rill throws RuntimeError.
  block_on([]() -> rill::Task<void> {
    auto [tx, rx] = mpsc::channel<int>(1);
    EXPECT_THROW((void)tx.blocking_send(0), rill::RuntimeError);
    co_return;
  }());
}

TEST(sync_mpsc, ready_close_cancel_bounded) {
  block_on([]() -> rill::Task<void> {
    auto [tx, rx] = mpsc::channel<int>(100);
    auto tx2 = tx.clone();
    std::optional<Reserved> permit(co_await tx.reserve());
    CO_ASSERT_TRUE(*permit);
    rx.close();
    auto recv = poll([](mpsc::Receiver<int>* rx) -> rill::Task<std::optional<int>> {
      co_return co_await rx->recv();
    }(&rx));
    CONF_ASSERT_PENDING(recv);
    permit.reset();
    CONF_ASSERT_READY(recv);
    EXPECT_FALSE((co_await recv.take()).has_value());
  }());
}

TEST(sync_mpsc, permit_available_not_acquired_close) {
  block_on([]() -> rill::Task<void> {
    auto [tx1, rx] = mpsc::channel<int>(1);
    auto tx2 = tx1.clone();
    std::optional<Reserved> permit1(co_await tx1.reserve());
    CO_ASSERT_TRUE(*permit1);
    std::optional<Polled<Reserved>> permit2(reserve(&tx2));
    CONF_ASSERT_PENDING(*permit2);
    rx.close();
    permit1.reset();
    CONF_ASSERT_READY(*permit2);
    permit2.reset();
    EXPECT_FALSE((co_await rx.recv()).has_value());
  }());
}

TEST(sync_mpsc, try_recv_bounded) {
  auto [tx, rx] = mpsc::channel<std::string>(5);
  auto ok = [&](int n) {
    for (int i = 0; i < n; ++i)
      EXPECT_TRUE(tx.try_send("hello"));
  };
  auto recv_ok = [&](int n) {
    for (int i = 0; i < n; ++i) {
      auto r = rx.try_recv();
      ASSERT_TRUE(r);
      EXPECT_EQ(*r, "hello");
    }
  };
  auto recv_err = [&](mpsc::TryRecvError want) {
    auto r = rx.try_recv();
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), want);
  };
  ok(5);
  EXPECT_FALSE(tx.try_send("hello"));
  recv_ok(5);
  recv_err(mpsc::TryRecvError::Empty);
  ok(4);
  recv_ok(1);
  ok(2);
  EXPECT_FALSE(tx.try_send("hello"));
  recv_ok(5);
  recv_err(mpsc::TryRecvError::Empty);
  ok(3);
  { auto drop = std::move(tx); }
  recv_ok(3);
  recv_err(mpsc::TryRecvError::Disconnected);
}

TEST(sync_mpsc, try_recv_unbounded) {
  for (int num = 0; num < 100; ++num) {
    auto [tx, rx] = mpsc::unbounded_channel<int>();
    for (int i = 0; i < num; ++i)
      EXPECT_TRUE(tx.send(i));
    for (int i = 0; i < num; ++i) {
      auto r = rx.try_recv();
      ASSERT_TRUE(r);
      EXPECT_EQ(*r, i);
    }
    auto e = rx.try_recv();
    ASSERT_FALSE(e);
    EXPECT_EQ(e.error(), mpsc::TryRecvError::Empty);
    { auto drop = std::move(tx); }
    e = rx.try_recv();
    ASSERT_FALSE(e);
    EXPECT_EQ(e.error(), mpsc::TryRecvError::Disconnected);
  }
}

TEST(sync_mpsc, try_recv_close_while_empty_bounded) {
  auto [tx, rx] = mpsc::channel<int>(5);
  auto e = rx.try_recv();
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error(), mpsc::TryRecvError::Empty);
  { auto drop = std::move(tx); }
  e = rx.try_recv();
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error(), mpsc::TryRecvError::Disconnected);
}

TEST(sync_mpsc, try_recv_close_while_empty_unbounded) {
  auto [tx, rx] = mpsc::unbounded_channel<int>();
  auto e = rx.try_recv();
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error(), mpsc::TryRecvError::Empty);
  { auto drop = std::move(tx); }
  e = rx.try_recv();
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error(), mpsc::TryRecvError::Disconnected);
}

TEST(sync_mpsc, recv_timeout) {
  block_on_paused([]() -> rill::Task<void> {
    using Kind = mpsc::SendTimeoutError<int>::Kind;
    auto [tx, rx] = mpsc::channel<int>(5);
    for (int v : {10, 20, 30, 40, 50})
      EXPECT_TRUE(co_await tx.send_timeout(v, 1s));
    auto r = co_await tx.send_timeout(60, 1s);
    CO_ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind, Kind::Timeout);
    EXPECT_EQ(r.error().value, 60);
    { auto drop = std::move(rx); }
    r = co_await tx.send_timeout(70, 1s);
    CO_ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind, Kind::Closed);
    EXPECT_EQ(r.error().value, 70);
  }());
}

// Tests that channel `capacity` changes and `max_capacity` stays the same
TEST(sync_mpsc, test_tx_capacity) {
  block_on([]() -> rill::Task<void> {
    auto [tx, rx] = mpsc::channel<int>(10);
    // both capacities are same before
    EXPECT_EQ(tx.capacity(), 10u);
    EXPECT_EQ(tx.max_capacity(), 10u);
    auto permit = co_await tx.reserve();
    CO_ASSERT_TRUE(permit);
    // after reserve, only capacity should drop by one
    EXPECT_EQ(tx.capacity(), 9u);
    EXPECT_EQ(tx.max_capacity(), 10u);
    EXPECT_TRUE(co_await tx.send(0));
    // after send, capacity should drop by one again
    EXPECT_EQ(tx.capacity(), 8u);
    EXPECT_EQ(tx.max_capacity(), 10u);
  }());
}

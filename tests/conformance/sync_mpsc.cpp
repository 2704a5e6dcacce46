// Port of tokio-1.24.2/tests/sync_mpsc.rs. Left out (listed in docs/runtime.md, "Differences from
// Tokio"): the tests that use Sender::reserve/try_reserve/Permit, send_timeout, capacity,
// blocking_send/blocking_recv (not in rill's mpsc yet), the Stream adapters, and the
// Send/Debug-bound checks (no C++ counterpart).
#include "harness.hpp"

#include <memory>
#include <stdexcept>
#include <string>

using namespace conformance;
namespace mpsc = rill::sync::mpsc;

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

TEST(sync_mpsc, recv_close_gets_none_idle) {
  block_on([]() -> rill::Task<void> {
    auto [tx, rx] = mpsc::channel<int>(10);
    rx.close();
    EXPECT_FALSE((co_await rx.recv()).has_value());
    EXPECT_FALSE(co_await tx.send(1));
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

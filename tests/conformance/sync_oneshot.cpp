// Port of tokio-1.24.2/tests/sync_oneshot.rs. Tokio's poll_closed is rill's Sender::closed()
// awaited in a task of its own. Left out: explicit_close_poll, explicit_close_try_recv,
// close_try_recv_poll, close_after_recv (Receiver::close() is not in rill),
// try_recv_after_completion and try_recv_after_completion_await (rill's try_recv yields an
// optional: no Empty/Closed distinction), drops_tasks, receiver_changes_task,
// sender_changes_task (waker reference counts).
#include "harness.hpp"

using namespace conformance;
namespace oneshot = rill::sync::oneshot;
using Out = rill::Result<int, oneshot::RecvError>;

namespace {
Polled<Out> recv(oneshot::Receiver<int> rx) {
  return poll(
      [](oneshot::Receiver<int> rx) -> rill::Task<Out> { co_return co_await rx; }(std::move(rx)));
}
}  // namespace

TEST(sync_oneshot, send_recv) {
  block_on([]() -> rill::Task<void> {
    auto [tx, rx] = oneshot::channel<int>();
    auto r = recv(std::move(rx));
    CONF_ASSERT_PENDING(r);
    EXPECT_TRUE(std::move(tx).send(1));
    CONF_ASSERT_READY(r);
    auto val = co_await r.take();
    CO_ASSERT_TRUE(val);
    EXPECT_EQ(*val, 1);
  }());
}

TEST(sync_oneshot, async_send_recv) {
  block_on([]() -> rill::Task<void> {
    auto [tx, rx] = oneshot::channel<int>();
    EXPECT_TRUE(std::move(tx).send(1));
    auto v = co_await rx;
    CO_ASSERT_TRUE(v);
    EXPECT_EQ(1, *v);
  }());
}

TEST(sync_oneshot, close_tx) {
  block_on([]() -> rill::Task<void> {
    auto [tx, rx] = oneshot::channel<int>();
    auto r = recv(std::move(rx));
    CONF_ASSERT_PENDING(r);
    { auto drop = std::move(tx); }
    CONF_ASSERT_READY(r);
    EXPECT_FALSE(co_await r.take());
  }());
}

TEST(sync_oneshot, close_rx) {
  // First, without checking poll_closed()
  auto tx = oneshot::channel<int>().first;
  EXPECT_FALSE(std::move(tx).send(1));

  // Second, via closed()
  block_on([]() -> rill::Task<void> {
    auto [tx, rx] = oneshot::channel<int>();
    std::optional<oneshot::Receiver<int>> rx_slot(std::move(rx));
    auto closed =
        poll([](oneshot::Sender<int>* tx) -> rill::Task<void> { co_await tx->closed(); }(&tx));
    CONF_ASSERT_PENDING(closed);
    rx_slot.reset();
    CONF_ASSERT_READY(closed);
    EXPECT_TRUE(tx.is_closed());
    EXPECT_FALSE(std::move(tx).send(1));
  }());
}

TEST(sync_oneshot, async_rx_closed) {
  block_on([]() -> rill::Task<void> {
    auto [tx, rx] = oneshot::channel<int>();
    auto h = rill::spawn([](oneshot::Receiver<int> rx) -> rill::Task<void> {
      { auto drop = std::move(rx); }
      co_return;
    }(std::move(rx)));
    co_await tx.closed();
    co_await h;
  }());
}

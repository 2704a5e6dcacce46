// Port of tokio-1.24.2/tests/sync_broadcast.rs. Tokio polls `rx.recv()` by hand; here each recv
// runs in its own task (harness.hpp). Left out: change_tasks (one future polled from two tasks
// has no C++ counterpart), the Send/Sync checks.
#include "harness.hpp"

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>

using namespace conformance;
namespace broadcast = rill::sync::broadcast;
using Str = std::string;
using Rx = broadcast::Receiver<Str>;
using RecvResult = rill::Result<Str, broadcast::RecvError>;

#define ASSERT_RECV(rx, want)     \
  do {                            \
    auto r_ = (rx).try_recv();    \
    EXPECT_TRUE(r_);              \
    if (r_) EXPECT_EQ(*r_, want); \
  } while (0)
#define ASSERT_EMPTY(rx)                                                       \
  do {                                                                         \
    auto r_ = (rx).try_recv();                                                 \
    EXPECT_FALSE(r_);                                                          \
    if (!r_) EXPECT_EQ(r_.error().kind, broadcast::TryRecvError::Kind::Empty); \
  } while (0)
#define ASSERT_LAGGED(rx, n)                                                    \
  do {                                                                          \
    auto r_ = (rx).try_recv();                                                  \
    EXPECT_FALSE(r_);                                                           \
    if (!r_) EXPECT_EQ(r_.error().kind, broadcast::TryRecvError::Kind::Lagged); \
    if (!r_) EXPECT_EQ(r_.error().skipped, static_cast<std::uint64_t>(n));      \
  } while (0)
#define ASSERT_CLOSED(rx)                                                       \
  do {                                                                          \
    auto r_ = (rx).try_recv();                                                  \
    EXPECT_FALSE(r_);                                                           \
    if (!r_) EXPECT_EQ(r_.error().kind, broadcast::TryRecvError::Kind::Closed); \
  } while (0)

namespace {
Polled<RecvResult> recv(Rx* rx) {
  return poll([](Rx* rx) -> rill::Task<RecvResult> { co_return co_await rx->recv(); }(rx));
}
}  // namespace

TEST(sync_broadcast, send_try_recv_bounded) {
  auto [tx, rx] = broadcast::channel<Str>(16);
  ASSERT_EMPTY(rx);
  auto n = tx.send("hello");
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, 1u);
  ASSERT_RECV(rx, "hello");
  ASSERT_EMPTY(rx);
}

TEST(sync_broadcast, send_two_recv) {
  auto [tx, rx1] = broadcast::channel<Str>(16);
  auto rx2 = tx.subscribe();
  ASSERT_EMPTY(rx1);
  ASSERT_EMPTY(rx2);
  auto n = tx.send("hello");
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, 2u);
  ASSERT_RECV(rx1, "hello");
  ASSERT_RECV(rx2, "hello");
  ASSERT_EMPTY(rx1);
  ASSERT_EMPTY(rx2);
}

TEST(sync_broadcast, send_recv_bounded) {
  block_on([]() -> rill::Task<void> {
    auto [tx, rx] = broadcast::channel<Str>(16);
    auto r = recv(&rx);
    CONF_ASSERT_PENDING(r);
    EXPECT_TRUE(tx.send("hello"));
    CONF_ASSERT_READY(r);
    EXPECT_EQ((co_await r.take()).value(), "hello");
  }());
}

TEST(sync_broadcast, send_two_recv_bounded) {
  block_on([]() -> rill::Task<void> {
    auto [tx, rx1] = broadcast::channel<Str>(16);
    auto rx2 = tx.subscribe();
    {
      auto recv1 = recv(&rx1);
      auto recv2 = recv(&rx2);
      CONF_ASSERT_PENDING(recv1);
      CONF_ASSERT_PENDING(recv2);
      EXPECT_TRUE(tx.send("hello"));
      CONF_ASSERT_READY(recv1);
      CONF_ASSERT_READY(recv2);
      EXPECT_EQ((co_await recv1.take()).value(), "hello");
      EXPECT_EQ((co_await recv2.take()).value(), "hello");
    }
    auto recv1 = recv(&rx1);
    auto recv2 = recv(&rx2);
    CONF_ASSERT_PENDING(recv1);
    EXPECT_TRUE(tx.send("world"));
    CONF_ASSERT_READY(recv1);
    CONF_ASSERT_READY(recv2);
    EXPECT_EQ((co_await recv1.take()).value(), "world");
    EXPECT_EQ((co_await recv2.take()).value(), "world");
  }());
}

TEST(sync_broadcast, send_slow_rx) {
  block_on([]() -> rill::Task<void> {
    auto [tx, rx1] = broadcast::channel<Str>(16);
    auto rx2 = tx.subscribe();
    {
      auto recv2 = recv(&rx2);
      {
        auto recv1 = recv(&rx1);
        CONF_ASSERT_PENDING(recv1);
        CONF_ASSERT_PENDING(recv2);
        EXPECT_TRUE(tx.send("one"));
        EXPECT_TRUE(tx.send("two"));
        CONF_ASSERT_READY(recv1);
        EXPECT_EQ((co_await recv1.take()).value(), "one");
      }
      {
        auto r = recv(&rx1);
        CONF_ASSERT_READY(r);
        EXPECT_EQ((co_await r.take()).value(), "two");
      }
      auto recv1 = recv(&rx1);
      CONF_ASSERT_PENDING(recv1);
      EXPECT_TRUE(tx.send("three"));
      CONF_ASSERT_READY(recv1);
      EXPECT_EQ((co_await recv1.take()).value(), "three");
      CONF_ASSERT_READY(recv2);
      EXPECT_EQ((co_await recv2.take()).value(), "one");
    }
    ASSERT_RECV(rx2, "two");
    ASSERT_RECV(rx2, "three");
  }());
}

TEST(sync_broadcast, drop_rx_while_values_remain) {
  auto [tx, rx1] = broadcast::channel<Str>(16);
  auto rx2 = tx.subscribe();
  EXPECT_TRUE(tx.send("one"));
  EXPECT_TRUE(tx.send("two"));
  EXPECT_TRUE(rx1.try_recv());
  EXPECT_TRUE(rx2.try_recv());
  { auto drop = std::move(rx2); }
  { auto drop = std::move(rx1); }
}

TEST(sync_broadcast, lagging_rx) {
  auto [tx, rx1] = broadcast::channel<Str>(2);
  auto rx2 = tx.subscribe();
  EXPECT_TRUE(tx.send("one"));
  EXPECT_TRUE(tx.send("two"));
  ASSERT_RECV(rx1, "one");
  EXPECT_TRUE(tx.send("three"));
  ASSERT_LAGGED(rx2, 1);
  ASSERT_RECV(rx2, "two");
  ASSERT_RECV(rx1, "two");
  ASSERT_RECV(rx1, "three");
  EXPECT_TRUE(tx.send("four"));
  EXPECT_TRUE(tx.send("five"));
  ASSERT_LAGGED(rx2, 1);
  EXPECT_TRUE(tx.send("six"));
  ASSERT_LAGGED(rx2, 1);
}

TEST(sync_broadcast, send_no_rx) {
  auto tx = broadcast::channel<Str>(16).first;
  EXPECT_FALSE(tx.send("hello"));
  auto rx = tx.subscribe();
  EXPECT_TRUE(tx.send("world"));
  ASSERT_RECV(rx, "world");
}

TEST(sync_broadcast, zero_capacity) {
  // Tokio panics; rill throws std::invalid_argument.
  EXPECT_THROW((void)broadcast::channel<int>(0), std::invalid_argument);
}

TEST(sync_broadcast, capacity_too_big) {
  EXPECT_THROW((void)broadcast::channel<int>(1 + (SIZE_MAX >> 1)), std::invalid_argument);
}

namespace {
struct MyVal {
  std::size_t v;
  explicit MyVal(std::size_t x) : v(x) {}
  MyVal(const MyVal& o) : v(o.v) {
    if (o.v == 0) throw std::runtime_error("clone of MyVal(0)");
  }
  MyVal(MyVal&&) = default;
  MyVal& operator=(const MyVal&) = default;
  MyVal& operator=(MyVal&&) = default;
};
}  // namespace

TEST(sync_broadcast, panic_in_clone) {
  auto [tx, rx] = broadcast::channel<MyVal>(16);
  EXPECT_TRUE(tx.send(MyVal(0)));
  EXPECT_TRUE(tx.send(MyVal(1)));
  EXPECT_ANY_THROW((void)rx.try_recv());
  auto r = rx.try_recv();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->v, 1u);
}

TEST(sync_broadcast, dropping_tx_notifies_rx) {
  block_on([]() -> rill::Task<void> {
    auto [tx, rx1] = broadcast::channel<Str>(16);
    auto rx2 = tx.subscribe();
    auto tx2 = tx;
    auto recv1 = recv(&rx1);
    auto recv2 = recv(&rx2);
    CONF_ASSERT_PENDING(recv1);
    CONF_ASSERT_PENDING(recv2);
    { auto drop = std::move(tx); }
    CONF_ASSERT_PENDING(recv1);
    CONF_ASSERT_PENDING(recv2);
    { auto drop = std::move(tx2); }
    CONF_ASSERT_READY(recv1);
    CONF_ASSERT_READY(recv2);
    auto e1 = co_await recv1.take();
    CO_ASSERT_FALSE(e1);
    EXPECT_TRUE(e1.error().is_closed());
    auto e2 = co_await recv2.take();
    CO_ASSERT_FALSE(e2);
    EXPECT_TRUE(e2.error().is_closed());
  }());
}

TEST(sync_broadcast, unconsumed_messages_are_dropped) {
  auto msg = std::make_shared<int>();
  auto [tx, rx] = broadcast::channel<std::shared_ptr<int>>(16);
  EXPECT_TRUE(tx.send(msg));
  EXPECT_EQ(2, msg.use_count());
  { auto drop = std::move(rx); }
  EXPECT_EQ(1, msg.use_count());
}

TEST(sync_broadcast, single_capacity_recvs) {
  auto [tx, rx] = broadcast::channel<int>(1);
  EXPECT_TRUE(tx.send(1));
  ASSERT_RECV(rx, 1);
  ASSERT_EMPTY(rx);
}

TEST(sync_broadcast, single_capacity_recvs_after_drop_1) {
  auto [tx, rx] = broadcast::channel<int>(1);
  EXPECT_TRUE(tx.send(1));
  { auto drop = std::move(tx); }
  ASSERT_RECV(rx, 1);
  ASSERT_CLOSED(rx);
}

TEST(sync_broadcast, single_capacity_recvs_after_drop_2) {
  auto [tx, rx] = broadcast::channel<int>(1);
  EXPECT_TRUE(tx.send(1));
  EXPECT_TRUE(tx.send(2));
  { auto drop = std::move(tx); }
  ASSERT_LAGGED(rx, 1);
  ASSERT_RECV(rx, 2);
  ASSERT_CLOSED(rx);
}

TEST(sync_broadcast, dropping_sender_does_not_overwrite) {
  auto [tx, rx] = broadcast::channel<int>(2);
  EXPECT_TRUE(tx.send(1));
  EXPECT_TRUE(tx.send(2));
  { auto drop = std::move(tx); }
  ASSERT_RECV(rx, 1);
  ASSERT_RECV(rx, 2);
  ASSERT_CLOSED(rx);
}

TEST(sync_broadcast, lagging_receiver_recovers_after_wrap_closed_1) {
  auto [tx, rx] = broadcast::channel<int>(2);
  EXPECT_TRUE(tx.send(1));
  EXPECT_TRUE(tx.send(2));
  EXPECT_TRUE(tx.send(3));
  { auto drop = std::move(tx); }
  ASSERT_LAGGED(rx, 1);
  ASSERT_RECV(rx, 2);
  ASSERT_RECV(rx, 3);
  ASSERT_CLOSED(rx);
}

TEST(sync_broadcast, lagging_receiver_recovers_after_wrap_closed_2) {
  auto [tx, rx] = broadcast::channel<int>(2);
  EXPECT_TRUE(tx.send(1));
  EXPECT_TRUE(tx.send(2));
  EXPECT_TRUE(tx.send(3));
  EXPECT_TRUE(tx.send(4));
  { auto drop = std::move(tx); }
  ASSERT_LAGGED(rx, 2);
  ASSERT_RECV(rx, 3);
  ASSERT_RECV(rx, 4);
  ASSERT_CLOSED(rx);
}

TEST(sync_broadcast, lagging_receiver_recovers_after_wrap_open) {
  auto [tx, rx] = broadcast::channel<int>(2);
  EXPECT_TRUE(tx.send(1));
  EXPECT_TRUE(tx.send(2));
  EXPECT_TRUE(tx.send(3));
  ASSERT_LAGGED(rx, 1);
  ASSERT_RECV(rx, 2);
  ASSERT_RECV(rx, 3);
  ASSERT_EMPTY(rx);
}

TEST(sync_broadcast, receiver_len_with_lagged) {
  auto [tx, rx] = broadcast::channel<int>(3);
  EXPECT_TRUE(tx.send(10));
  EXPECT_TRUE(tx.send(20));
  EXPECT_TRUE(tx.send(30));
  EXPECT_TRUE(tx.send(40));
  EXPECT_EQ(rx.len(), 4u);
  ASSERT_RECV(rx, 10);
  EXPECT_TRUE(tx.send(50));
  EXPECT_TRUE(tx.send(60));
  EXPECT_EQ(rx.len(), 5u);
  ASSERT_LAGGED(rx, 1);
}

TEST(sync_broadcast, resubscribe_points_to_tail) {
  auto [tx, rx] = broadcast::channel<int>(3);
  EXPECT_TRUE(tx.send(1));
  auto rx_resub = rx.resubscribe();
  ASSERT_EMPTY(rx_resub);
  ASSERT_RECV(rx, 1);
  EXPECT_TRUE(tx.send(2));
  ASSERT_RECV(rx_resub, 2);
  EXPECT_TRUE(tx.send(3));
  ASSERT_RECV(rx, 2);
  ASSERT_RECV(rx, 3);
  ASSERT_EMPTY(rx);
  ASSERT_RECV(rx_resub, 3);
  ASSERT_EMPTY(rx_resub);
}

TEST(sync_broadcast, resubscribe_lagged) {
  auto [tx, rx] = broadcast::channel<int>(1);
  EXPECT_TRUE(tx.send(1));
  EXPECT_TRUE(tx.send(2));
  auto rx_resub = rx.resubscribe();
  ASSERT_LAGGED(rx, 1);
  ASSERT_EMPTY(rx_resub);
  ASSERT_RECV(rx, 2);
  ASSERT_EMPTY(rx);
  ASSERT_EMPTY(rx_resub);
}

TEST(sync_broadcast, resubscribe_to_closed_channel) {
  auto [tx, rx] = broadcast::channel<std::uint32_t>(2);
  { auto drop = std::move(tx); }
  auto rx_resub = rx.resubscribe();
  ASSERT_CLOSED(rx_resub);
}

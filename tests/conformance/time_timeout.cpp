// Port of tokio-1.24.2/tests/time_timeout.rs. Where Tokio pauses the clock and advances it by
// hand (time::pause/advance), so does the port (rill::time::pause/advance), with Tokio's
// durations.
#include "harness.hpp"

using namespace conformance;
namespace oneshot = rill::sync::oneshot;
using Rx = oneshot::Receiver<int>;
using RecvOut = rill::Result<int, oneshot::RecvError>;

namespace {
rill::Task<void> empty() {
  co_return;
}
rill::Task<RecvOut> recv(Rx rx) {
  co_return co_await rx;
}
}  // namespace

TEST(time_timeout, simultaneous_deadline_future_completion) {
  block_on([]() -> rill::Task<void> {
    auto fut = poll([]() -> rill::Task<bool> {
      co_return (co_await rill::timeout_at(std::chrono::steady_clock::now(), empty())).has_value();
    }());
    CONF_ASSERT_READY(fut);
    EXPECT_TRUE(co_await fut.take());
  }());
}

TEST(time_timeout, completed_future_past_deadline) {
  block_on([]() -> rill::Task<void> {
    auto fut = poll([]() -> rill::Task<bool> {
      co_return (co_await rill::timeout_at(std::chrono::steady_clock::now() - 1000ms, empty()))
          .has_value();
    }());
    CONF_ASSERT_READY(fut);
    EXPECT_TRUE(co_await fut.take());
  }());
}

TEST(time_timeout, future_and_deadline_in_future) {
  block_on([]() -> rill::Task<void> {
    rill::time::pause();
    auto [tx, rx] = oneshot::channel<int>();
    auto deadline = rill::time::now() + 100ms;
    auto fut =
        poll([](Rx rx, rill::Instant deadline) -> rill::Task<rill::Result<RecvOut, rill::Elapsed>> {
          co_return co_await rill::timeout_at(deadline, recv(std::move(rx)));
        }(std::move(rx), deadline));
    CONF_ASSERT_PENDING(fut);
    // Turn the timer, it runs for the elapsed time
    co_await rill::time::advance(90ms);
    CONF_ASSERT_PENDING(fut);
    EXPECT_TRUE(std::move(tx).send(1));
    CONF_ASSERT_READY(fut);
    auto r = co_await fut.take();
    CO_ASSERT_TRUE(r);
    EXPECT_TRUE(*r);
  }());
}

TEST(time_timeout, future_and_timeout_in_future) {
  block_on([]() -> rill::Task<void> {
    auto [tx, rx] = oneshot::channel<int>();
    rill::time::pause();
    auto fut = poll([](Rx rx) -> rill::Task<rill::Result<RecvOut, rill::Elapsed>> {
      co_return co_await rill::timeout(100ms, recv(std::move(rx)));
    }(std::move(rx)));
    CONF_ASSERT_PENDING(fut);
    // Turn the timer, it runs for the elapsed time
    co_await rill::time::advance(90ms);
    CONF_ASSERT_PENDING(fut);
    EXPECT_TRUE(std::move(tx).send(1));
    CONF_ASSERT_READY(fut);
    auto r = co_await fut.take();
    CO_ASSERT_TRUE(r);
    EXPECT_TRUE(*r);
  }());
}

TEST(time_timeout, very_large_timeout) {
  block_on([]() -> rill::Task<void> {
    auto [tx, rx] = oneshot::channel<int>();
    rill::time::pause();
    auto fut = poll([](Rx rx) -> rill::Task<rill::Result<RecvOut, rill::Elapsed>> {
      co_return co_await rill::timeout(rill::Duration::max(), recv(std::move(rx)));
    }(std::move(rx)));
    CONF_ASSERT_PENDING(fut);
    // Turn the timer, it runs for the elapsed time
    co_await rill::time::advance(std::chrono::seconds(86400LL * 365 * 10));
    CONF_ASSERT_PENDING(fut);
    EXPECT_TRUE(std::move(tx).send(1));
    CONF_ASSERT_READY(fut);
    auto r = co_await fut.take();
    CO_ASSERT_TRUE(r);
    EXPECT_TRUE(*r);
  }());
}

TEST(time_timeout, deadline_now_elapses) {
  block_on([]() -> rill::Task<void> {
    rill::time::pause();
    auto fut = poll([]() -> rill::Task<bool> {
      co_return (co_await rill::timeout_at(rill::time::now(), pending_forever())).has_value();
    }());
    co_await rill::time::advance(1ms);
    CONF_ASSERT_READY(fut);
    EXPECT_FALSE(co_await fut.take());
  }());
}

TEST(time_timeout, deadline_future_elapses) {
  block_on([]() -> rill::Task<void> {
    rill::time::pause();
    auto deadline = rill::time::now() + 300ms;
    auto fut = poll([](rill::Instant deadline) -> rill::Task<bool> {
      co_return (co_await rill::timeout_at(deadline, pending_forever())).has_value();
    }(deadline));
    CONF_ASSERT_PENDING(fut);
    co_await rill::time::advance(301ms);
    CONF_ASSERT_READY(fut);
    EXPECT_FALSE(co_await fut.take());
  }());
}

TEST(time_timeout, timeout_is_not_exhausted_by_future) {
  block_on([]() -> rill::Task<void> {
    // tokio::io::empty().read() is always ready and spends coop budget: rill's counterpart is
    // consume_budget().
    auto r = co_await rill::timeout(1ms, []() -> rill::Task<void> {
      for (;;)
        co_await rill::consume_budget();
    }());
    EXPECT_FALSE(r);
  }());
}

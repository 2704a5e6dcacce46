// Port of tokio-1.24.2/tests/time_timeout.rs. Tokio pauses the clock and advances it by hand
// (time::pause/advance); rill has no test clock, so these tests run on the real clock with
// deadlines far enough out that "still pending" cannot be flaky, and "advance(d)" becomes a real
// sleep only where the deadline must have passed.
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
    auto [tx, rx] = oneshot::channel<int>();
    auto fut = poll([](Rx rx) -> rill::Task<rill::Result<RecvOut, rill::Elapsed>> {
      co_return co_await rill::timeout_at(std::chrono::steady_clock::now() + 100s,
                                          recv(std::move(rx)));
    }(std::move(rx)));
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
    auto fut = poll([](Rx rx) -> rill::Task<rill::Result<RecvOut, rill::Elapsed>> {
      co_return co_await rill::timeout(100s, recv(std::move(rx)));
    }(std::move(rx)));
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
    auto fut = poll([](Rx rx) -> rill::Task<rill::Result<RecvOut, rill::Elapsed>> {
      co_return co_await rill::timeout(rill::Duration::max(), recv(std::move(rx)));
    }(std::move(rx)));
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
    auto fut = poll([]() -> rill::Task<bool> {
      co_return (co_await rill::timeout_at(std::chrono::steady_clock::now(), pending_forever()))
          .has_value();
    }());
    co_await rill::sleep(1ms);
    CONF_ASSERT_READY(fut);
    EXPECT_FALSE(co_await fut.take());
  }());
}

TEST(time_timeout, deadline_future_elapses) {
  block_on([]() -> rill::Task<void> {
    auto fut = poll([]() -> rill::Task<bool> {
      co_return (
          co_await rill::timeout_at(std::chrono::steady_clock::now() + 300ms, pending_forever()))
          .has_value();
    }());
    CONF_ASSERT_PENDING(fut);
    co_await rill::sleep(301ms);
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

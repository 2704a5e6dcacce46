// Port of tokio-1.24.2/tests/sync_notify.rs. Each `notify.notified().await` runs in its own task
// (harness.hpp). Left out: notify_in_drop_after_wake and test_waker_update (custom wakers),
// test_notify_one_after_enable, test_poll_after_enable, test_enable_after_poll,
// test_enable_consumes_permit (Notified::enable is not in rill).
#include "harness.hpp"

using namespace conformance;
using rill::sync::Notify;

namespace {
Polled<void> notified(Notify* n) {
  return poll([](Notify* n) -> rill::Task<void> { co_await n->notified(); }(n));
}
}  // namespace

TEST(sync_notify, notify_notified_one) {
  block_on([]() -> rill::Task<void> {
    Notify notify;
    auto n = notified(&notify);
    notify.notify_one();
    CONF_ASSERT_READY(n);
  }());
}

TEST(sync_notify, notified_one_notify) {
  block_on([]() -> rill::Task<void> {
    Notify notify;
    auto n = notified(&notify);
    CONF_ASSERT_PENDING(n);
    notify.notify_one();
    CONF_ASSERT_READY(n);
  }());
}

TEST(sync_notify, notified_multi_notify) {
  block_on([]() -> rill::Task<void> {
    Notify notify;
    auto n1 = notified(&notify);
    auto n2 = notified(&notify);
    CONF_ASSERT_PENDING(n1);
    CONF_ASSERT_PENDING(n2);
    notify.notify_one();
    CONF_ASSERT_READY(n1);
    CONF_ASSERT_PENDING(n2);
    co_await drop_pending(n2);
  }());
}

TEST(sync_notify, notify_notified_multi) {
  block_on([]() -> rill::Task<void> {
    Notify notify;
    notify.notify_one();
    auto n1 = notified(&notify);
    co_await settle();  // Tokio polls notified1 before notified2 exists
    auto n2 = notified(&notify);
    CONF_ASSERT_READY(n1);
    CONF_ASSERT_PENDING(n2);
    notify.notify_one();
    CONF_ASSERT_READY(n2);
  }());
}

TEST(sync_notify, notified_drop_notified_notify) {
  block_on([]() -> rill::Task<void> {
    Notify notify;
    auto n1 = notified(&notify);
    auto n2 = notified(&notify);
    CONF_ASSERT_PENDING(n1);
    { auto drop = std::move(n1); }
    CONF_ASSERT_PENDING(n2);
    notify.notify_one();
    CONF_ASSERT_READY(n2);
  }());
}

TEST(sync_notify, notified_multi_notify_drop_one) {
  block_on([]() -> rill::Task<void> {
    Notify notify;
    auto n1 = notified(&notify);
    auto n2 = notified(&notify);
    CONF_ASSERT_PENDING(n1);
    CONF_ASSERT_PENDING(n2);
    notify.notify_one();
    // notified1 is woken but has not run; dropping it passes the notification on.
    { auto drop = std::move(n1); }
    CONF_ASSERT_READY(n2);
  }());
}

TEST(sync_notify, notify_one_after_dropped_all) {
  block_on([]() -> rill::Task<void> {
    Notify notify;
    auto n1 = notified(&notify);
    CONF_ASSERT_PENDING(n1);
    notify.notify_waiters();
    notify.notify_one();
    { auto drop = std::move(n1); }
    auto n2 = notified(&notify);
    CONF_ASSERT_READY(n2);
  }());
}

TEST(sync_notify, test_notify_one_not_enabled) {
  block_on([]() -> rill::Task<void> {
    Notify notify;
    auto f = notified(&notify);
    notify.notify_one();
    CONF_ASSERT_READY(f);
  }());
}

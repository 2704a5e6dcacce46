// Port of tokio-1.24.2/tests/sync_watch.rs. Tokio polls `rx.changed()` by hand; here each
// `changed()` runs in its own task (harness.hpp) and "pending"/"ready" are observed after the
// current_thread runtime has run every runnable task.
#include "harness.hpp"

#include <stdexcept>
#include <string>

using namespace conformance;
namespace watch = rill::sync::watch;
using Rx = watch::Receiver<std::string>;
using Changed = rill::Result<void, watch::RecvError>;

namespace {
Polled<Changed> changed(Rx* rx) {
  return poll([](Rx* rx) -> rill::Task<Changed> { co_return co_await rx->changed(); }(rx));
}
}  // namespace

TEST(sync_watch, single_rx_recv) {
  block_on([]() -> rill::Task<void> {
    auto [tx, rx] = watch::channel<std::string>("one");
    {
      // Not initially notified
      auto t = changed(&rx);
      CONF_ASSERT_PENDING(t);
    }
    co_await settle();
    EXPECT_EQ(*rx.borrow(), "one");
    {
      auto t = changed(&rx);
      CONF_ASSERT_PENDING(t);
      EXPECT_TRUE(tx.send("two"));
      CONF_ASSERT_READY(t);
      EXPECT_TRUE(co_await t.take());
    }
    EXPECT_EQ(*rx.borrow(), "two");
    {
      auto t = changed(&rx);
      CONF_ASSERT_PENDING(t);
      { auto drop = std::move(tx); }
      CONF_ASSERT_READY(t);
      EXPECT_FALSE(co_await t.take());
    }
    EXPECT_EQ(*rx.borrow(), "two");
  }());
}

TEST(sync_watch, multi_rx) {
  block_on([]() -> rill::Task<void> {
    auto [tx, rx1] = watch::channel<std::string>("one");
    auto rx2 = rx1;
    {
      auto t1 = changed(&rx1);
      auto t2 = changed(&rx2);
      CONF_ASSERT_PENDING(t1);
      CONF_ASSERT_PENDING(t2);
    }
    co_await settle();
    EXPECT_EQ(*rx1.borrow(), "one");
    EXPECT_EQ(*rx2.borrow(), "one");
    auto t2 = changed(&rx2);
    {
      auto t1 = changed(&rx1);
      CONF_ASSERT_PENDING(t1);
      CONF_ASSERT_PENDING(t2);
      EXPECT_TRUE(tx.send("two"));
      CONF_ASSERT_READY(t1);
      CONF_ASSERT_READY(t2);
      EXPECT_TRUE(co_await t1.take());
    }
    EXPECT_EQ(*rx1.borrow(), "two");
    {
      auto t1 = changed(&rx1);
      CONF_ASSERT_PENDING(t1);
      EXPECT_TRUE(tx.send("three"));
      CONF_ASSERT_READY(t1);
      EXPECT_TRUE(co_await t1.take());
      // Tokio's t2 was woken by "two" and observes "three" when polled; here it completed on
      // "two" already (it ran when woken).
      EXPECT_TRUE(co_await t2.take());
    }
    EXPECT_EQ(*rx1.borrow(), "three");
    { auto drop = std::move(t2); }
    EXPECT_EQ(*rx2.borrow(), "three");
    {
      auto t1 = changed(&rx1);
      auto t2b = changed(&rx2);
      CONF_ASSERT_PENDING(t1);
      // Harness artefact: Tokio's t2 was polled once after "three" and so marked it seen; here
      // t2 ran when "two" woke it, so rx2 has not seen "three" and this changed() is ready.
      CONF_ASSERT_READY(t2b);
      EXPECT_TRUE(co_await t2b.take());
      t2b = changed(&rx2);
      CONF_ASSERT_PENDING(t2b);
      EXPECT_TRUE(tx.send("four"));
      CONF_ASSERT_READY(t1);
      CONF_ASSERT_READY(t2b);
      EXPECT_TRUE(co_await t1.take());
      EXPECT_TRUE(co_await t2b.take());
    }
    EXPECT_EQ(*rx1.borrow(), "four");
    EXPECT_EQ(*rx2.borrow(), "four");
  }());
}

TEST(sync_watch, rx_observes_final_value) {
  block_on([]() -> rill::Task<void> {
    {
      // Initial value
      auto [tx, rx] = watch::channel<std::string>("one");
      { auto drop = std::move(tx); }
      {
        auto t1 = changed(&rx);
        CONF_ASSERT_READY(t1);
        EXPECT_FALSE(co_await t1.take());
      }
      EXPECT_EQ(*rx.borrow(), "one");
    }
    // Sending a value
    auto [tx, rx] = watch::channel<std::string>("one");
    EXPECT_TRUE(tx.send("two"));
    {
      auto t1 = changed(&rx);
      CONF_ASSERT_READY(t1);
      EXPECT_TRUE(co_await t1.take());
    }
    EXPECT_EQ(*rx.borrow(), "two");
    {
      auto t1 = changed(&rx);
      CONF_ASSERT_PENDING(t1);
      EXPECT_TRUE(tx.send("three"));
      { auto drop = std::move(tx); }
      CONF_ASSERT_READY(t1);
      EXPECT_TRUE(co_await t1.take());
    }
    EXPECT_EQ(*rx.borrow(), "three");
    {
      auto t1 = changed(&rx);
      CONF_ASSERT_READY(t1);
      EXPECT_FALSE(co_await t1.take());
    }
    EXPECT_EQ(*rx.borrow(), "three");
  }());
}

TEST(sync_watch, poll_close) {
  block_on([]() -> rill::Task<void> {
    auto [tx, rx] = watch::channel<std::string>("one");
    {
      std::optional<watch::Receiver<std::string>> rx_slot(std::move(rx));
      auto t = poll(
          [](watch::Sender<std::string>* tx) -> rill::Task<void> { co_await tx->closed(); }(&tx));
      CONF_ASSERT_PENDING(t);
      rx_slot.reset();
      CONF_ASSERT_READY(t);
    }
    EXPECT_FALSE(tx.send("two"));
  }());
}

TEST(sync_watch, borrow_and_update) {
  block_on([]() -> rill::Task<void> {
    auto [tx, rx] = watch::channel<std::string>("one");
    EXPECT_FALSE(rx.has_changed().value());
    EXPECT_TRUE(tx.send("two"));
    EXPECT_TRUE(rx.has_changed().value());
    {
      auto t = changed(&rx);
      CONF_ASSERT_READY(t);
      EXPECT_TRUE(co_await t.take());
    }
    {
      auto t = changed(&rx);
      CONF_ASSERT_PENDING(t);
    }
    co_await settle();
    EXPECT_FALSE(rx.has_changed().value());
    EXPECT_TRUE(tx.send("three"));
    EXPECT_TRUE(rx.has_changed().value());
    EXPECT_EQ(*rx.borrow_and_update(), "three");
    {
      auto t = changed(&rx);
      CONF_ASSERT_PENDING(t);
    }
    co_await settle();
    EXPECT_FALSE(rx.has_changed().value());
    { auto drop = std::move(tx); }
    EXPECT_EQ(*rx.borrow_and_update(), "three");
    {
      auto t = changed(&rx);
      CONF_ASSERT_READY(t);
      EXPECT_FALSE(co_await t.take());
    }
    EXPECT_FALSE(rx.has_changed());
  }());
}

TEST(sync_watch, reopened_after_subscribe) {
  auto [tx, rx] = watch::channel<std::string>("one");
  EXPECT_FALSE(tx.is_closed());
  { auto drop = std::move(rx); }
  EXPECT_TRUE(tx.is_closed());
  {
    auto rx2 = tx.subscribe();
    EXPECT_FALSE(tx.is_closed());
  }
  EXPECT_TRUE(tx.is_closed());
}

TEST(sync_watch, send_modify_panic) {
  block_on([]() -> rill::Task<void> {
    auto [tx, rx] = watch::channel<std::string>("one");
    tx.send_modify([](std::string& old) { old = "two"; });
    EXPECT_EQ(*rx.borrow_and_update(), "two");
    auto rx2 = rx;
    EXPECT_EQ(*rx2.borrow_and_update(), "two");
    auto task = changed(&rx2);
    CONF_ASSERT_PENDING(task);
    EXPECT_THROW(tx.send_modify([](std::string& old) {
      old = "panicked";
      throw std::runtime_error("panic");
    }),
                 std::runtime_error);
    CONF_ASSERT_PENDING(task);
    EXPECT_EQ(*rx.borrow(), "panicked");
    tx.send_modify([](std::string& old) { old = "three"; });
    CONF_ASSERT_READY(task);
    EXPECT_TRUE(co_await task.take());
    EXPECT_EQ(*rx.borrow_and_update(), "three");
  }());
}

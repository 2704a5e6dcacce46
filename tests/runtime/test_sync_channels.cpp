// Tests for rill::sync::broadcast and rill::sync::watch (Tokio's documented semantics: fan-out,
// Lagged then continue from the oldest retained value, Closed after draining; latest value +
// version, changed() coalescing, closing).
#include <gtest/gtest.h>
#include <rill/rill.hpp>
#include <rill/sync/broadcast.hpp>
#include <rill/sync/watch.hpp>

#include <stdexcept>
#include <string>

#include <atomic>
#include <chrono>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using rill::Task;
namespace broadcast = rill::sync::broadcast;
namespace watch = rill::sync::watch;

namespace {
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
constexpr int kStress = 2000;
#else
constexpr int kStress = 20000;
#endif
}  // namespace

TEST(Broadcast, EveryReceiverSeesEveryValue) {
  auto rt = rill::Builder::new_multi_thread().worker_threads(2).build();
  rt.block_on([]() -> Task<void> {
    auto [tx, rx1] = broadcast::channel<std::string>(16);
    auto rx2 = tx.subscribe();
    EXPECT_EQ(tx.receiver_count(), 2u);
    auto reader = [](broadcast::Receiver<std::string> rx) -> Task<std::vector<std::string>> {
      std::vector<std::string> out;
      for (;;) {
        auto r = co_await rx.recv();
        if (!r) {
          EXPECT_TRUE(r.error().is_closed());
          co_return out;
        }
        out.push_back(*r);
      }
    };
    auto h1 = rill::spawn(reader(std::move(rx1)));
    auto h2 = rill::spawn(reader(std::move(rx2)));
    for (int i = 0; i < 5; ++i)
      EXPECT_EQ(*tx.send("v" + std::to_string(i)), 2u);
    { auto drop = std::move(tx); }
    const std::vector<std::string> want{"v0", "v1", "v2", "v3", "v4"};
    EXPECT_EQ(co_await h1, want);
    EXPECT_EQ(co_await h2, want);
  }());
}

TEST(Broadcast, LaggedThenContinuesFromOldest) {
  auto [tx, rx] = broadcast::channel<int>(2);  // already a power of two
  for (int i = 0; i < 5; ++i)
    (void)tx.send(i);
  auto r = rx.try_recv();
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().kind, broadcast::TryRecvError::Kind::Lagged);
  EXPECT_EQ(r.error().skipped, 3u);
  EXPECT_EQ(*rx.try_recv(), 3);
  EXPECT_EQ(*rx.try_recv(), 4);
  EXPECT_EQ(rx.try_recv().error().kind, broadcast::TryRecvError::Kind::Empty);
  // The async receive reports Lagged the same way.
  auto rt = rill::Builder::new_current_thread().build();
  rt.block_on([](broadcast::Sender<int>& tx, broadcast::Receiver<int>& rx) -> Task<void> {
    for (int i = 10; i < 13; ++i)
      (void)tx.send(i);
    auto l = co_await rx.recv();
    EXPECT_FALSE(l.has_value());
    EXPECT_TRUE(l.error().is_lagged());
    EXPECT_EQ(l.error().skipped, 1u);
    EXPECT_EQ(*(co_await rx.recv()), 11);
    EXPECT_EQ(*(co_await rx.recv()), 12);
  }(tx, rx));
}

TEST(Broadcast, NoReceiversAndSubscribeSeesOnlyNewValues) {
  auto [tx, rx] = broadcast::channel<int>(4);
  (void)tx.send(1);
  auto late = tx.subscribe();
  (void)tx.send(2);
  EXPECT_EQ(*late.try_recv(), 2);
  EXPECT_EQ(rx.len(), 2u);
  { auto drop = std::move(rx); }
  { auto drop = std::move(late); }
  auto r = tx.send(3);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().value, 3);
  EXPECT_THROW((void)broadcast::channel<int>(0), std::invalid_argument);
}

TEST(Broadcast, CancelledRecvLosesNothing) {
  auto rt = rill::Builder::new_current_thread().build();
  rt.block_on([]() -> Task<void> {
    auto [tx, rx] = broadcast::channel<int>(4);
    auto t = co_await rill::timeout(
        2ms, [](broadcast::Receiver<int>* rx) -> Task<void> { (void)co_await rx->recv(); }(&rx));
    EXPECT_FALSE(t.has_value());
    (void)tx.send(9);
    EXPECT_EQ(*(co_await rx.recv()), 9);
  }());
}

TEST(Broadcast, CrossThreadStress) {
  auto rt = rill::Builder::new_multi_thread().worker_threads(2).build();
  rt.block_on([]() -> Task<void> {
    auto [tx, rx] = broadcast::channel<int>(64);
    std::vector<rill::JoinHandle<long>> hs;
    for (int r = 0; r < 3; ++r)
      hs.push_back(rill::spawn([](broadcast::Receiver<int> rx) -> Task<long> {
        long sum = 0;
        int last = -1;
        for (;;) {
          auto v = co_await rx.recv();
          if (!v) {
            if (v.error().is_closed()) co_return sum;
            continue;  // lagged: skip ahead
          }
          EXPECT_GT(*v, last);  // in order
          last = *v;
          sum += 1;
        }
      }(r == 0 ? std::move(rx) : tx.subscribe())));
    auto prod = rill::spawn([](broadcast::Sender<int> tx) -> Task<void> {
      for (int i = 0; i < kStress; ++i) {
        (void)tx.send(i);
        if (i % 32 == 0) co_await rill::yield_now();
      }
    }(tx));
    { auto drop = std::move(tx); }
    co_await prod;
    for (auto& h : hs) {
      long n = co_await h;
      EXPECT_GT(n, 0);
      EXPECT_LE(n, kStress);
    }
  }());
}

TEST(Watch, ChangedBorrowAndClose) {
  auto rt = rill::Builder::new_multi_thread().worker_threads(2).build();
  rt.block_on([]() -> Task<void> {
    auto [tx, rx] = watch::channel<int>(0);
    EXPECT_EQ(*rx.borrow(), 0);
    EXPECT_FALSE(*rx.has_changed());
    auto h = rill::spawn([](watch::Receiver<int> rx) -> Task<std::vector<int>> {
      std::vector<int> seen;
      while ((co_await rx.changed()).has_value()) {
        int v = *rx.borrow_and_update();
        seen.push_back(v);
        if (v == 3) break;
      }
      co_return seen;
    }(rx));
    for (int i = 1; i <= 3; ++i) {
      EXPECT_TRUE(tx.send(i).has_value());
      co_await rill::sleep(2ms);
    }
    auto seen = co_await h;
    if (seen.empty()) {
      ADD_FAILURE() << "no change seen";
      co_return;
    }
    EXPECT_EQ(seen.back(), 3);
    for (std::size_t i = 1; i < seen.size(); ++i)
      EXPECT_LT(seen[i - 1], seen[i]);
    // Several sends before a changed() coalesce into one change: the latest value.
    tx.send_modify([](int& v) { v = 10; });
    (void)tx.send(11);
    EXPECT_TRUE(*rx.has_changed());
    EXPECT_TRUE((co_await rx.changed()).has_value());
    EXPECT_EQ(*rx.borrow(), 11);
    EXPECT_FALSE(*rx.has_changed());
    EXPECT_FALSE(tx.send_if_modified([](int&) { return false; }));
    EXPECT_FALSE(*rx.has_changed());
    rx.mark_changed();
    EXPECT_TRUE(*rx.has_changed());
    rx.mark_unchanged();
    // Closing: a pending change is still delivered, then RecvError.
    (void)tx.send(12);
    { auto drop = std::move(tx); }
    EXPECT_TRUE((co_await rx.changed()).has_value());
    EXPECT_EQ(*rx.borrow(), 12);
    EXPECT_FALSE((co_await rx.changed()).has_value());
    EXPECT_FALSE(rx.has_changed().has_value());
  }());
}

TEST(Watch, WaiterWokenByCloseAndSendFailsWithoutReceivers) {
  auto rt = rill::Builder::new_current_thread().build();
  rt.block_on([]() -> Task<void> {
    auto [tx, rx] = watch::channel<std::string>("a");
    auto h = rill::spawn([](watch::Receiver<std::string> rx) -> Task<bool> {
      co_return !(co_await rx.changed()).has_value();
    }(rx));
    for (int i = 0; i < 5; ++i)
      co_await rill::yield_now();
    EXPECT_EQ(tx.receiver_count(), 2u);
    { auto drop = std::move(tx); }
    EXPECT_TRUE(co_await h);
    auto [tx2, rx2] = watch::channel<int>(1);
    { auto drop = std::move(rx2); }
    EXPECT_TRUE(tx2.is_closed());
    auto r = tx2.send(5);
    EXPECT_FALSE(r.has_value());
    if (!r.has_value()) EXPECT_EQ(r.error().value, 5);
    EXPECT_EQ(tx2.send_replace(6), 1);  // send_replace stores even without receivers
    EXPECT_EQ(*tx2.borrow(), 6);
    auto rx3 = tx2.subscribe();
    EXPECT_FALSE(*rx3.has_changed());
  }());
}

TEST(Watch, CrossThreadLatestValueWins) {
  auto rt = rill::Builder::new_multi_thread().worker_threads(2).build();
  rt.block_on([]() -> Task<void> {
    auto [tx, rx] = watch::channel<int>(0);
    auto h = rill::spawn([](watch::Receiver<int> rx) -> Task<int> {
      int last = 0;
      while ((co_await rx.changed()).has_value()) {
        int v = *rx.borrow_and_update();
        EXPECT_GE(v, last);
        last = v;
      }
      co_return last;
    }(std::move(rx)));
    for (int i = 1; i <= kStress; ++i) {
      (void)tx.send(i);
      if (i % 64 == 0) co_await rill::yield_now();
    }
    { auto drop = std::move(tx); }
    EXPECT_EQ(co_await h, kStress);
  }());
}

// Tokio's mpsc close: after close(), recv() yields the buffered values, then "closed" (nullopt)
// even though a Sender is still alive; new sends fail.
TEST(Mpsc, CloseThenRecvYieldsBufferedThenClosedWithSendersAlive) {
  auto rt = rill::Builder::new_current_thread().build();
  rt.block_on([]() -> Task<void> {
    auto [tx, rx] = rill::sync::mpsc::channel<int>(4);
    EXPECT_TRUE((co_await tx.send(1)).has_value());
    EXPECT_TRUE((co_await tx.send(2)).has_value());
    rx.close();
    EXPECT_FALSE((co_await tx.send(3)).has_value());
    EXPECT_EQ(co_await rx.recv(), std::optional<int>(1));
    EXPECT_EQ(co_await rx.recv(), std::optional<int>(2));
    auto r = co_await rill::timeout(
        5s, [](rill::sync::mpsc::Receiver<int>* rx) -> Task<std::optional<int>> {
          co_return co_await rx->recv();
        }(&rx));
    EXPECT_TRUE(r.has_value()) << "recv() after close() waited instead of yielding closed";
    if (r) EXPECT_EQ(*r, std::nullopt);
    EXPECT_FALSE(rx.try_recv().has_value());
  }());
}

// A value whose copy throws: the failed receive changes nothing, so the same receiver can retry
// and every other receiver still reads the intact value.
struct ThrowingCopy {
  static inline bool fail_next = false;
  std::string s;
  explicit ThrowingCopy(std::string v) : s(std::move(v)) {}
  ThrowingCopy(const ThrowingCopy& o) : s(o.s) {
    if (std::exchange(fail_next, false)) throw std::runtime_error("copy failed");
  }
  ThrowingCopy(ThrowingCopy&&) noexcept = default;
  ThrowingCopy& operator=(const ThrowingCopy&) = default;
};

TEST(Broadcast, ThrowingCopyLeavesTheSlotIntactForEveryReceiver) {
  auto [tx, rx1] = rill::sync::broadcast::channel<ThrowingCopy>(4);
  auto rx2 = tx.subscribe();
  auto rx3 = tx.subscribe();
  ASSERT_TRUE(tx.send(ThrowingCopy(std::string(100, 'v'))).has_value());
  ThrowingCopy::fail_next = true;
  EXPECT_THROW((void)rx1.try_recv(), std::runtime_error);
  auto a = rx1.try_recv();  // the retry reads the same value
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->s, std::string(100, 'v'));
  auto b = rx2.try_recv();
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(b->s, std::string(100, 'v'));
  auto c = rx3.try_recv();  // the last reader: the value is moved out, still intact
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->s, std::string(100, 'v'));
  EXPECT_FALSE(rx1.try_recv().has_value());
}

// Receives until the channel reports closed; the number of values seen, or -1 when a recv()
// waited 10 s (the close was never seen).
static Task<int> count_until_closed(rill::sync::mpsc::Receiver<int>& rx) {
  int seen = 0;
  for (;;) {
    auto r = co_await rill::timeout(
        10s, [](rill::sync::mpsc::Receiver<int>* rx) -> Task<std::optional<int>> {
          co_return co_await rx->recv();
        }(&rx));
    if (!r) co_return -1;
    if (!*r) co_return seen;
    ++seen;
  }
}

// Sender handles are counted without the channel lock; only the last drop takes it, to wake the
// receiver. Tasks on both workers clone and drop senders while the receiver waits: it must see
// every value and then "closed" (a missed wake-up shows as a timeout, a count that reached zero
// early as a value after closed or a missing one).
TEST(Mpsc, SendersClonedAndDroppedAcrossWorkersCloseAtTheLastDrop) {
  auto rt = rill::Builder::new_multi_thread().worker_threads(2).build();
  rt.block_on([]() -> Task<void> {
    for (int round = 0; round < kStress / 200; ++round) {
      auto [tx, rx] = rill::sync::mpsc::unbounded_channel<int>();
      constexpr int kSenders = 64;
      for (int i = 0; i < kSenders; ++i)
        (void)rill::spawn([](rill::sync::mpsc::UnboundedSender<int> tx, int i) -> Task<void> {
          auto extra = tx.clone();  // a clone and a drop on whichever worker runs this
          if (i % 2 == 0) co_await rill::yield_now();
          (void)extra.send(i);
        }(tx.clone(), i));
      { auto last = std::move(tx); }
      EXPECT_EQ(co_await count_until_closed(rx), kSenders)
          << "round " << round << " (-1: recv() never saw the last sender drop)";
    }
  }());
}

TEST(Mpsc, BoundedSendersClonedAndDroppedAcrossWorkersCloseAtTheLastDrop) {
  auto rt = rill::Builder::new_multi_thread().worker_threads(2).build();
  rt.block_on([]() -> Task<void> {
    for (int round = 0; round < kStress / 200; ++round) {
      auto [tx, rx] = rill::sync::mpsc::channel<int>(4);
      constexpr int kSenders = 64;
      for (int i = 0; i < kSenders; ++i)
        (void)rill::spawn([](rill::sync::mpsc::Sender<int> tx, int i) -> Task<void> {
          auto extra = tx.clone();
          (void)co_await extra.send(i);
        }(tx.clone(), i));
      { auto last = std::move(tx); }
      EXPECT_EQ(co_await count_until_closed(rx), kSenders)
          << "round " << round << " (-1: recv() never saw the last sender drop)";
    }
  }());
}

TEST(Broadcast, SendersClonedAndDroppedAcrossWorkersCloseAtTheLastDrop) {
  auto rt = rill::Builder::new_multi_thread().worker_threads(2).build();
  rt.block_on([]() -> Task<void> {
    for (int round = 0; round < kStress / 200; ++round) {
      constexpr int kSenders = 64;
      auto [tx, rx] = broadcast::channel<int>(2 * kSenders);
      for (int i = 0; i < kSenders; ++i)
        (void)rill::spawn([](broadcast::Sender<int> tx, int i) -> Task<void> {
          broadcast::Sender<int> extra = tx;
          if (i % 2 == 0) co_await rill::yield_now();
          (void)extra.send(i);
        }(tx, i));
      { auto last = std::move(tx); }
      int seen = 0;
      for (;;) {
        auto r = co_await rill::timeout(
            10s, [](broadcast::Receiver<int>* rx) -> Task<rill::Result<int, broadcast::RecvError>> {
              co_return co_await rx->recv();
            }(&rx));
        if (!r) {
          ADD_FAILURE() << "round " << round << ": recv() never saw the last sender drop";
          co_return;
        }
        if (!*r) {
          EXPECT_TRUE(r->error().is_closed()) << "round " << round;
          break;
        }
        ++seen;
      }
      EXPECT_EQ(seen, kSenders) << "round " << round;
    }
  }());
}

// Every leaf awaiter deregisters when it is destroyed: each kind of wait loses a select 100k times
// (10k under sanitizers) and afterwards the resource holds no waiter and memory is flat.
#include <gtest/gtest.h>
#include <malloc.h>
#include <rill/net/tcp.hpp>
#include <rill/rill.hpp>
#include <rill/signal.hpp>
#include <rill/sync/broadcast.hpp>
#include <rill/sync/watch.hpp>

#include <csignal>
#include <functional>
#include <string>

using namespace std::chrono_literals;
using rill::Task;

namespace {

#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
constexpr int kIters = 10000;
constexpr bool kMeasureHeap = false;  // the sanitizer's allocator does not feed mallinfo2
#else
constexpr int kIters = 100000;
constexpr bool kMeasureHeap = true;
#endif

/// Bytes allocated: from the heap's arenas plus mmapped blocks (large allocations, e.g. a growing
/// vector, are mmapped and not counted in uordblks).
std::size_t heap_in_use() {
  const auto m = mallinfo2();
  return m.uordblks + m.hblkhd;
}

Task<void> loser() {
  co_await rill::yield_now();
}

/// Runs `wait()` (a Task that suspends on the resource) against a yield kIters times; the wait
/// loses every time. Returns the heap growth between iteration kIters/10 and the end.
Task<long> storm(std::function<Task<void>()> wait) {
  long base = 0;
  for (int i = 0; i < kIters; ++i) {
    if (i == kIters / 10) base = static_cast<long>(heap_in_use());
    auto r = co_await rill::select(wait(), loser());
    EXPECT_EQ(r.index(), 1u) << "the wait completed: it must block";
  }
  co_return static_cast<long>(heap_in_use()) - base;
}

class CancelledWaits : public ::testing::TestWithParam<const char*> {};
INSTANTIATE_TEST_SUITE_P(Leaf, CancelledWaits,
                         ::testing::Values("signal", "notify", "semaphore", "mutex", "mpsc_recv",
                                           "mpsc_send", "oneshot", "broadcast", "watch", "sleep",
                                           "tcp_read"),
                         [](const auto& i) { return std::string(i.param); });

TEST_P(CancelledWaits, LeaveNoWaiterAndFlatMemory) {
  const std::string kind = GetParam();
  auto rt = rill::Builder::new_current_thread().build();
  const long growth = rt.block_on([](std::string kind) -> Task<long> {
    if (kind == "signal") {
      rill::signal::Signal sig(SIGWINCH);
      long g = co_await storm([&sig]() -> Task<void> { co_await sig.recv(); });
      EXPECT_EQ(rill::signal::detail::waiter_count(SIGWINCH), 0u);
      co_return g;
    }
    if (kind == "notify") {
      rill::sync::Notify n;
      co_return co_await storm([&n]() -> Task<void> { co_await n.notified(); });
    }
    if (kind == "semaphore") {
      rill::sync::Semaphore s(0);
      long g = co_await storm([&s]() -> Task<void> { (void)co_await s.acquire(); });
      s.add_permits(1);  // a cancelled waiter left queued would take it
      EXPECT_TRUE(s.try_acquire().has_value());
      co_return g;
    }
    if (kind == "mutex") {
      rill::sync::Mutex<int> m(0);
      auto held = co_await m.lock();
      co_return co_await storm([&m]() -> Task<void> { (void)co_await m.lock(); });
    }
    if (kind == "mpsc_recv") {
      auto [tx, rx] = rill::sync::mpsc::channel<int>(1);
      co_return co_await storm([&rx]() -> Task<void> { (void)co_await rx.recv(); });
    }
    if (kind == "mpsc_send") {
      auto [tx, rx] = rill::sync::mpsc::channel<int>(1);
      EXPECT_TRUE((co_await tx.send(0)).has_value());
      long g = co_await storm([&tx]() -> Task<void> { (void)co_await tx.send(1); });
      EXPECT_EQ(rx.try_recv().value_or(-1), 0);
      EXPECT_FALSE(rx.try_recv().has_value());  // no cancelled send slipped its value in
      co_return g;
    }
    if (kind == "oneshot") {
      long total = 0;
      auto [tx, rx] = rill::sync::oneshot::channel<int>();
      total = co_await storm([&rx]() -> Task<void> { (void)co_await rx; });
      co_return total;
    }
    if (kind == "broadcast") {
      auto [tx, rx] = rill::sync::broadcast::channel<int>(4);
      co_return co_await storm([&rx]() -> Task<void> { (void)co_await rx.recv(); });
    }
    if (kind == "watch") {
      auto [tx, rx] = rill::sync::watch::channel<int>(0);
      co_return co_await storm([&rx]() -> Task<void> { (void)co_await rx.changed(); });
    }
    if (kind == "sleep") {
      co_return co_await storm([]() -> Task<void> { co_await rill::sleep(1h); });
    }
    if (kind == "tcp_read") {
      auto l = rill::net::TcpListener::bind("127.0.0.1:0");
      auto connecting = rill::spawn(rill::net::TcpStream::connect(*l->local_addr()));
      auto a = co_await l->accept();
      auto c = co_await connecting;
      auto* s = &a->first;
      long g = co_await storm([s]() -> Task<void> {
        char buf[64];
        (void)co_await s->read(std::span<char>(buf));
      });
      co_await rill::sleep(20ms);  // let the cancels complete
      EXPECT_EQ(rill::detail::io_orphaned_ops(), 0u);
      co_return g;
    }
    ADD_FAILURE() << "unknown kind " << kind;
    co_return 0;
  }(kind));
  if (kMeasureHeap) EXPECT_LT(growth, 64 * 1024) << kind << ": heap grew " << growth << " bytes";
  RecordProperty("heap_growth", static_cast<int>(growth));
}

}  // namespace

// Port of tokio-1.24.2/tests/rt_threaded.rs. Tokio's rt() is Runtime::new() (a multi-thread
// runtime with one worker per CPU); rill's default multi-thread Builder is the same. Left out:
// the metrics half of spawn_two (Tokio's remote/local schedule counts are a scheduler detail),
// many_multishot_futures (runs 50 x 50 x 200 x 5 oneshot chains: too slow for the sanitizer
// runs; many_oneshot_futures covers the same path), coop_and_block_in_place (observes
// poll-level Pending), wake_during_shutdown (a hand-written Future waking itself from Drop),
// test_block_in_place1..4 and test_disable_lifo_slot (tokio_unstable / should_panic variants of
// task_blocking's tests).
#include "harness.hpp"

#include <atomic>
#include <barrier>
#include <condition_variable>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

using namespace conformance;
namespace oneshot = rill::sync::oneshot;
using rill::net::TcpListener;
using rill::net::TcpStream;

namespace {
rill::Runtime rt() {
  return rill::Builder::new_multi_thread().build();
}

/// std::sync::mpsc::channel::<()>, enough for these tests: send() and blocking recv().
struct SyncChan {
  std::mutex mu;
  std::condition_variable cv;
  int n = 0;
  void send() {
    std::lock_guard lk(mu);
    ++n;
    cv.notify_all();
  }
  void recv() {
    std::unique_lock lk(mu);
    cv.wait(lk, [&] { return n > 0; });
    --n;
  }
  bool try_recv() {
    std::lock_guard lk(mu);
    if (n == 0) return false;
    --n;
    return true;
  }
};
}  // namespace

TEST(rt_threaded, single_thread) {
  // No panic when starting a runtime w/ a single thread
  auto rt = rill::Builder::new_multi_thread().worker_threads(1).build();
}

TEST(rt_threaded, many_oneshot_futures) {
  constexpr std::size_t NUM = 1000;
  for (int round = 0; round < 5; ++round) {
    auto chan = std::make_shared<SyncChan>();
    std::optional<rill::Runtime> r(rt());
    auto cnt = std::make_shared<std::atomic<std::size_t>>(0);
    for (std::size_t i = 0; i < NUM; ++i)
      (void)r->spawn([](std::shared_ptr<std::atomic<std::size_t>> cnt,
                        std::shared_ptr<SyncChan> tx) -> rill::Task<void> {
        if (cnt->fetch_add(1, std::memory_order_relaxed) + 1 == NUM) tx->send();
        co_return;
      }(cnt, chan));
    chan->recv();
    r.reset();  // Wait for the pool to shutdown
  }
}

TEST(rt_threaded, spawn_two) {
  auto r = rt();
  auto out = r.block_on([]() -> rill::Task<std::string> {
    auto [tx, rx] = oneshot::channel<std::string>();
    (void)rill::spawn([](oneshot::Sender<std::string> tx) -> rill::Task<void> {
      (void)rill::spawn([](oneshot::Sender<std::string> tx) -> rill::Task<void> {
        EXPECT_TRUE(std::move(tx).send("ZOMG"));
        co_return;
      }(std::move(tx)));
      co_return;
    }(std::move(tx)));
    auto v = co_await rx;
    co_return v ? *v : std::string();
  }());
  EXPECT_EQ(out, "ZOMG");
}

namespace {
rill::Task<void> client_server(std::shared_ptr<SyncChan> tx) {
  auto server = TcpListener::bind("127.0.0.1:0");
  CO_ASSERT_TRUE(server);
  auto addr = server->local_addr().value();
  (void)rill::spawn([](TcpListener server) -> rill::Task<void> {
    auto acc = co_await server.accept();
    CO_ASSERT_TRUE(acc);
    EXPECT_TRUE(co_await acc->first.write_all(std::span<const char>("hello", 5)));
  }(std::move(*server)));
  auto client = co_await TcpStream::connect(addr);
  CO_ASSERT_TRUE(client);
  std::string buf;
  std::array<char, 64> chunk{};
  for (;;) {
    auto n = co_await client->read(std::span<char>(chunk));
    CO_ASSERT_TRUE(n);
    if (*n == 0) break;
    buf.append(chunk.data(), *n);
  }
  EXPECT_EQ(buf, "hello");
  tx->send();
}
}  // namespace

TEST(rt_threaded, spawn_shutdown) {
  std::optional<rill::Runtime> r(rt());
  auto chan = std::make_shared<SyncChan>();
  r->block_on([](std::shared_ptr<SyncChan> tx) -> rill::Task<void> {
    (void)rill::spawn(client_server(std::move(tx)));
    co_return;
  }(chan));
  (void)r->spawn(client_server(chan));
  chan->recv();
  chan->recv();
  r.reset();
  EXPECT_FALSE(chan->try_recv());
}

TEST(rt_threaded, drop_threadpool_drops_futures) {
  for (int i = 0; i < 1000; ++i) {
    auto num_inc = std::make_shared<std::atomic<std::size_t>>(0);
    auto num_dec = std::make_shared<std::atomic<std::size_t>>(0);
    auto num_drop = std::make_shared<std::atomic<std::size_t>>(0);
    // Tokio's Never is a future built before spawn: here, an argument of the task's coroutine,
    // so it lives in the frame even if the task never starts.
    struct Never {
      std::shared_ptr<std::atomic<std::size_t>> n;
      explicit Never(std::shared_ptr<std::atomic<std::size_t>> c) : n(std::move(c)) {}
      Never(Never&& o) noexcept : n(std::move(o.n)) {}
      ~Never() {
        if (n) n->fetch_add(1);
      }
    };
    {
      auto r = rill::Builder::new_multi_thread()
                   .on_thread_start([a = num_inc] { a->fetch_add(1); })
                   .on_thread_stop([b = num_dec] { b->fetch_add(1); })
                   .build();
      (void)r.spawn(
          [](Never never) -> rill::Task<void> { co_await pending_forever(); }(Never(num_drop)));
    }
    auto a = num_inc->load();
    EXPECT_GE(a, 1u);
    EXPECT_EQ(a, num_dec->load());
    EXPECT_EQ(num_drop->load(), 1u);
  }
}

TEST(rt_threaded, start_stop_callbacks_called) {
  auto after_start = std::make_shared<std::atomic<std::size_t>>(0);
  auto before_stop = std::make_shared<std::atomic<std::size_t>>(0);
  {
    auto r = rill::Builder::new_multi_thread()
                 .on_thread_start([a = after_start] { a->fetch_add(1); })
                 .on_thread_stop([b = before_stop] { b->fetch_add(1); })
                 .build();
    auto [tx, rx] = oneshot::channel<int>();
    (void)r.spawn([](oneshot::Sender<int> tx) -> rill::Task<void> {
      EXPECT_TRUE(std::move(tx).send(1));
      co_return;
    }(std::move(tx)));
    EXPECT_TRUE(r.block_on([](oneshot::Receiver<int> rx) -> rill::Task<bool> {
      co_return (co_await rx).has_value();
    }(std::move(rx))));
  }
  EXPECT_GT(after_start->load(), 0u);
  EXPECT_GT(before_stop->load(), 0u);
}

TEST(rt_threaded, blocking) {
  constexpr std::size_t NUM = 1000;
  for (int round = 0; round < 10; ++round) {
    auto chan = std::make_shared<SyncChan>();
    auto r = rt();
    auto cnt = std::make_shared<std::atomic<std::size_t>>(0);
    auto block = std::make_shared<std::barrier<>>(5);
    for (int i = 0; i < 4; ++i)
      (void)r.spawn([](std::shared_ptr<std::barrier<>> block) -> rill::Task<void> {
        rill::block_in_place([&] {
          block->arrive_and_wait();
          block->arrive_and_wait();
        });
        co_return;
      }(block));
    block->arrive_and_wait();
    for (std::size_t i = 0; i < NUM; ++i)
      (void)r.spawn([](std::shared_ptr<std::atomic<std::size_t>> cnt,
                       std::shared_ptr<SyncChan> tx) -> rill::Task<void> {
        if (cnt->fetch_add(1, std::memory_order_relaxed) + 1 == NUM) tx->send();
        co_return;
      }(cnt, chan));
    chan->recv();
    block->arrive_and_wait();
  }
}

TEST(rt_threaded, multi_threadpool) {
  auto rt1 = rt();
  auto rt2 = rt();
  auto [tx, rx] = oneshot::channel<int>();
  auto done = std::make_shared<SyncChan>();
  (void)rt2.spawn(
      [](oneshot::Receiver<int> rx, std::shared_ptr<SyncChan> done) -> rill::Task<void> {
        EXPECT_TRUE(co_await rx);
        done->send();
      }(std::move(rx), done));
  (void)rt1.spawn([](oneshot::Sender<int> tx) -> rill::Task<void> {
    EXPECT_TRUE(std::move(tx).send(1));
    co_return;
  }(std::move(tx)));
  done->recv();
}

TEST(rt_threaded, yield_after_block_in_place) {
  auto r = rill::Builder::new_multi_thread().worker_threads(1).build();
  r.block_on([]() -> rill::Task<void> {
    co_await rill::spawn([]() -> rill::Task<void> {
      rill::block_in_place([] {
        auto inner = rill::Builder::new_current_thread().build();
        inner.block_on([]() -> rill::Task<void> { co_return; }());
      });
      co_await rill::yield_now();
    }());
  }());
}

TEST(rt_threaded, max_blocking_threads) {
  auto r = rill::Builder::new_multi_thread().max_blocking_threads(1).build();
}

TEST(rt_threaded, max_blocking_threads_set_to_zero) {
  // Tokio panics; rill's build() throws RuntimeError.
  EXPECT_THROW((void)rill::Builder::new_multi_thread().max_blocking_threads(0).build(),
               rill::RuntimeError);
}

TEST(rt_threaded, hang_on_shutdown) {
  auto r = rill::Builder::new_multi_thread().worker_threads(2).build();
  r.block_on([]() -> rill::Task<void> {
    auto sync = std::make_shared<std::promise<void>>();
    (void)rill::spawn([](std::shared_future<void> rx) -> rill::Task<void> {
      rill::block_in_place([&] { rx.wait(); });
      co_return;
    }(sync->get_future().share()));
    (void)rill::spawn([](std::shared_ptr<std::promise<void>> tx) -> rill::Task<void> {
      co_await rill::sleep(2s);
      tx->set_value();
    }(sync));
    co_await rill::sleep(1s);
  }());
}

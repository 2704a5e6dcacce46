// Port of tokio-1.24.2/tests/rt_common.rs: every test runs on Tokio's three runtime shapes,
// named as Tokio's modules: rt/rt_common.<test>/current_thread_scheduler,
// .../threaded_scheduler_4_threads and .../threaded_scheduler_1_thread.
// Left out: send_sync_bound (no C++ counterpart), enter_and_spawn (Runtime::enter is not in
// rill), local_set_block_on_socket and local_set_client_server_block_on (no LocalSet),
// yield_defers_until_park (asserts Tokio's scheduler detail that a yielded task is polled again
// only after the driver is polled, with a blocking std::sync::Barrier across workers), coop,
// coop_unconstrained and coop_consume_budget (observe poll-level Pending, which a coroutine
// cannot).
#include "harness.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

using namespace conformance;
namespace oneshot = rill::sync::oneshot;
namespace mpsc = rill::sync::mpsc;
using rill::net::TcpListener;
using rill::net::TcpStream;
using Clock = std::chrono::steady_clock;

enum class Shape { CurrentThread, Threaded4, Threaded1 };

class rt_common : public ::testing::TestWithParam<Shape> {
 public:
  rill::Runtime rt() const {
    switch (GetParam()) {
      case Shape::CurrentThread:
        return rill::Builder::new_current_thread().build();
      case Shape::Threaded4:
        return rill::Builder::new_multi_thread().worker_threads(4).build();
      case Shape::Threaded1:
        break;
    }
    return rill::Builder::new_multi_thread().worker_threads(1).build();
  }
};

INSTANTIATE_TEST_SUITE_P(rt, rt_common,
                         ::testing::Values(Shape::CurrentThread, Shape::Threaded4,
                                           Shape::Threaded1),
                         [](const auto& i) {
                           switch (i.param) {
                             case Shape::CurrentThread:
                               return "current_thread_scheduler";
                             case Shape::Threaded4:
                               return "threaded_scheduler_4_threads";
                             case Shape::Threaded1:
                               break;
                           }
                           return "threaded_scheduler_1_thread";
                         });

namespace {
/// Tokio's yield_once(): wakes itself and returns Pending once.
rill::Task<void> yield_once() {
  co_await rill::yield_now();
}
rill::Task<void> spin_forever() {
  for (;;)
    co_await yield_once();
}
using StrRx = oneshot::Receiver<std::string>;
using StrTx = oneshot::Sender<std::string>;
rill::Task<std::string> recv_str(StrRx rx) {
  auto r = co_await rx;
  EXPECT_TRUE(r);
  co_return r ? std::move(*r) : std::string();
}
rill::Task<void> recv_unit(oneshot::Receiver<int> rx) {
  EXPECT_TRUE(co_await rx);
}
}  // namespace

TEST_P(rt_common, block_on_sync) {
  auto rt = this->rt();
  bool win = false;
  rt.block_on([](bool* win) -> rill::Task<void> {
    *win = true;
    co_return;
  }(&win));
  EXPECT_TRUE(win);
}

TEST_P(rt_common, block_on_async) {
  auto rt = this->rt();
  auto out = rt.block_on([]() -> rill::Task<std::string> {
    auto [tx, rx] = oneshot::channel<std::string>();
    std::thread([tx = std::move(tx)]() mutable {
      std::this_thread::sleep_for(50ms);
      EXPECT_TRUE(std::move(tx).send("ZOMG"));
    }).detach();
    co_return co_await recv_str(std::move(rx));
  }());
  EXPECT_EQ(out, "ZOMG");
}

TEST_P(rt_common, spawn_one_bg) {
  auto rt = this->rt();
  auto out = rt.block_on([]() -> rill::Task<std::string> {
    auto [tx, rx] = oneshot::channel<std::string>();
    (void)rill::spawn([](StrTx tx) -> rill::Task<void> {
      EXPECT_TRUE(std::move(tx).send("ZOMG"));
      co_return;
    }(std::move(tx)));
    co_return co_await recv_str(std::move(rx));
  }());
  EXPECT_EQ(out, "ZOMG");
}

TEST_P(rt_common, spawn_one_join) {
  auto rt = this->rt();
  auto out = rt.block_on([]() -> rill::Task<std::string> {
    auto [tx, rx] = oneshot::channel<std::string>();
    auto handle = rill::spawn([](StrTx tx) -> rill::Task<std::string> {
      EXPECT_TRUE(std::move(tx).send("ZOMG"));
      co_return "DONE";
    }(std::move(tx)));
    auto msg = co_await recv_str(std::move(rx));
    auto out = co_await handle;
    EXPECT_EQ(out, "DONE");
    co_return msg;
  }());
  EXPECT_EQ(out, "ZOMG");
}

TEST_P(rt_common, spawn_two) {
  auto rt = this->rt();
  auto out = rt.block_on([]() -> rill::Task<std::string> {
    auto [tx1, rx1] = oneshot::channel<std::string>();
    auto [tx2, rx2] = oneshot::channel<std::string>();
    (void)rill::spawn([](StrTx tx1) -> rill::Task<void> {
      EXPECT_TRUE(std::move(tx1).send("ZOMG"));
      co_return;
    }(std::move(tx1)));
    (void)rill::spawn([](StrRx rx1, StrTx tx2) -> rill::Task<void> {
      auto msg = co_await recv_str(std::move(rx1));
      EXPECT_TRUE(std::move(tx2).send(msg));
    }(std::move(rx1), std::move(tx2)));
    co_return co_await recv_str(std::move(rx2));
  }());
  EXPECT_EQ(out, "ZOMG");
}

namespace {
rill::Task<std::vector<std::size_t>> spawn_many(std::size_t iter) {
  auto [done_tx, done_rx] = mpsc::unbounded_channel<std::size_t>();
  std::vector<oneshot::Sender<std::size_t>> txs;
  for (std::size_t i = 0; i < iter; ++i) {
    auto [tx, rx] = oneshot::channel<std::size_t>();
    (void)rill::spawn([](std::size_t i, oneshot::Receiver<std::size_t> rx,
                         mpsc::UnboundedSender<std::size_t> done_tx) -> rill::Task<void> {
      auto msg = co_await rx;
      EXPECT_TRUE(msg);
      if (!msg) co_return;
      EXPECT_EQ(i, *msg);
      EXPECT_TRUE(done_tx.send(*msg));
    }(i, std::move(rx), done_tx.clone()));
    txs.push_back(std::move(tx));
  }
  { auto drop = std::move(done_tx); }
  std::thread([txs = std::move(txs)]() mutable {
    for (std::size_t i = 0; i < txs.size(); ++i)
      EXPECT_TRUE(std::move(txs[i]).send(i));
  }).detach();
  std::vector<std::size_t> out;
  while (auto i = co_await done_rx.recv())
    out.push_back(*i);
  std::sort(out.begin(), out.end());
  co_return out;
}
}  // namespace

TEST_P(rt_common, spawn_many_from_block_on) {
  constexpr std::size_t ITER = 200;
  auto rt = this->rt();
  auto out = rt.block_on(spawn_many(ITER));
  ASSERT_EQ(ITER, out.size());
  for (std::size_t i = 0; i < ITER; ++i)
    EXPECT_EQ(i, out[i]);
}

TEST_P(rt_common, spawn_many_from_task) {
  constexpr std::size_t ITER = 500;
  auto rt = this->rt();
  auto out = rt.block_on([]() -> rill::Task<std::vector<std::size_t>> {
    co_return co_await rill::spawn(spawn_many(ITER));
  }());
  ASSERT_EQ(ITER, out.size());
  for (std::size_t i = 0; i < ITER; ++i)
    EXPECT_EQ(i, out[i]);
}

TEST_P(rt_common, spawn_one_from_block_on_called_on_handle) {
  auto rt = this->rt();
  auto [tx, rx] = oneshot::channel<std::string>();
  auto handle = rt.handle().block_on([](StrTx tx) -> rill::Task<rill::JoinHandle<std::string>> {
    co_return rill::spawn([](StrTx tx) -> rill::Task<std::string> {
      EXPECT_TRUE(std::move(tx).send("ZOMG"));
      co_return "DONE";
    }(std::move(tx)));
  }(std::move(tx)));
  auto out =
      rt.block_on([](StrRx rx, rill::JoinHandle<std::string> handle) -> rill::Task<std::string> {
        auto msg = co_await recv_str(std::move(rx));
        auto out = co_await handle;
        EXPECT_EQ(out, "DONE");
        co_return msg;
      }(std::move(rx), std::move(handle)));
  EXPECT_EQ(out, "ZOMG");
}

TEST_P(rt_common, spawn_await_chain) {
  auto rt = this->rt();
  auto out = rt.block_on([]() -> rill::Task<std::string> {
    co_return co_await rill::spawn([]() -> rill::Task<std::string> {
      co_return co_await rill::spawn([]() -> rill::Task<std::string> { co_return "hello"; }());
    }());
  }());
  EXPECT_EQ(out, "hello");
}

TEST_P(rt_common, outstanding_tasks_dropped) {
  std::optional<rill::Runtime> rt(this->rt());
  auto cnt = std::make_shared<int>();
  rt->block_on([](std::shared_ptr<int> cnt) -> rill::Task<void> {
    (void)rill::spawn([](std::shared_ptr<int> cnt) -> rill::Task<void> {
      EXPECT_EQ(2, cnt.use_count());
      co_await pending_forever();
    }(std::move(cnt)));
    co_return;
  }(cnt));
  EXPECT_EQ(2, cnt.use_count());
  rt.reset();
  EXPECT_EQ(1, cnt.use_count());
}

TEST_P(rt_common, nested_rt) {
  // Tokio panics; rill throws RuntimeError.
  auto rt1 = this->rt();
  auto rt2 = this->rt();
  EXPECT_THROW(rt1.block_on([](rill::Runtime* rt2) -> rill::Task<std::string> {
    co_return rt2->block_on([]() -> rill::Task<std::string> { co_return "hello"; }());
  }(&rt2)),
               rill::RuntimeError);
}

TEST_P(rt_common, create_rt_in_block_on) {
  auto rt1 = this->rt();
  auto rt2 = rt1.block_on(
      [](const rt_common* self) -> rill::Task<rill::Runtime> { co_return self->rt(); }(this));
  auto out = rt2.block_on([]() -> rill::Task<std::string> { co_return "ZOMG"; }());
  EXPECT_EQ(out, "ZOMG");
}

TEST_P(rt_common, complete_block_on_under_load) {
  auto rt = this->rt();
  rt.block_on([]() -> rill::Task<void> {
    auto [tx, rx] = oneshot::channel<int>();
    // Spin hard
    (void)rill::spawn(spin_forever());
    std::thread([tx = std::move(tx)]() mutable {
      std::this_thread::sleep_for(50ms);
      EXPECT_TRUE(std::move(tx).send(1));
    }).detach();
    co_await recv_unit(std::move(rx));
  }());
}

TEST_P(rt_common, complete_task_under_load) {
  auto rt = this->rt();
  rt.block_on([]() -> rill::Task<void> {
    auto [tx1, rx1] = oneshot::channel<int>();
    auto [tx2, rx2] = oneshot::channel<int>();
    (void)rill::spawn(spin_forever());
    std::thread([tx1 = std::move(tx1)]() mutable {
      std::this_thread::sleep_for(50ms);
      EXPECT_TRUE(std::move(tx1).send(1));
    }).detach();
    (void)rill::spawn([](oneshot::Receiver<int> rx1, oneshot::Sender<int> tx2) -> rill::Task<void> {
      co_await recv_unit(std::move(rx1));
      EXPECT_TRUE(std::move(tx2).send(1));
    }(std::move(rx1), std::move(tx2)));
    co_await recv_unit(std::move(rx2));
  }());
}

TEST_P(rt_common, spawn_from_other_thread_idle) {
  auto rt = this->rt();
  auto handle = rt.handle();
  auto [tx, rx] = oneshot::channel<int>();
  std::thread th([handle, tx = std::move(tx)]() mutable {
    std::this_thread::sleep_for(50ms);
    (void)handle.spawn([](oneshot::Sender<int> tx) -> rill::Task<void> {
      EXPECT_TRUE(std::move(tx).send(1));
      co_return;
    }(std::move(tx)));
  });
  rt.block_on(recv_unit(std::move(rx)));
  th.join();
}

TEST_P(rt_common, spawn_from_other_thread_under_load) {
  auto rt = this->rt();
  auto handle = rt.handle();
  auto [tx, rx] = oneshot::channel<int>();
  std::thread th([handle, tx = std::move(tx)]() mutable {
    (void)handle.spawn([](oneshot::Sender<int> tx) -> rill::Task<void> {
      EXPECT_TRUE(std::move(tx).send(1));
      co_return;
    }(std::move(tx)));
  });
  rt.block_on([](oneshot::Receiver<int> rx) -> rill::Task<void> {
    (void)rill::spawn(spin_forever());
    co_await recv_unit(std::move(rx));
  }(std::move(rx)));
  th.join();
}

TEST_P(rt_common, sleep_at_root) {
  auto rt = this->rt();
  auto now = Clock::now();
  auto dur = 50ms;
  rt.block_on([](rill::Duration dur) -> rill::Task<void> { co_await rill::sleep(dur); }(dur));
  EXPECT_GE(Clock::now() - now, dur);
}

TEST_P(rt_common, sleep_in_spawn) {
  auto rt = this->rt();
  auto now = Clock::now();
  auto dur = 50ms;
  rt.block_on([](rill::Duration dur) -> rill::Task<void> {
    auto [tx, rx] = oneshot::channel<int>();
    (void)rill::spawn([](rill::Duration dur, oneshot::Sender<int> tx) -> rill::Task<void> {
      co_await rill::sleep(dur);
      EXPECT_TRUE(std::move(tx).send(1));
    }(dur, std::move(tx)));
    co_await recv_unit(std::move(rx));
  }(dur));
  EXPECT_GE(Clock::now() - now, dur);
}

TEST_P(rt_common, block_on_socket) {
  auto rt = this->rt();
  rt.block_on([]() -> rill::Task<void> {
    auto [tx, rx] = oneshot::channel<int>();
    auto listener = TcpListener::bind("127.0.0.1:0");
    CO_ASSERT_TRUE(listener);
    auto addr = listener->local_addr().value();
    (void)rill::spawn([](TcpListener listener, oneshot::Sender<int> tx) -> rill::Task<void> {
      (void)co_await listener.accept();
      EXPECT_TRUE(std::move(tx).send(1));
    }(std::move(*listener), std::move(tx)));
    EXPECT_TRUE(co_await TcpStream::connect(addr));
    co_await recv_unit(std::move(rx));
  }());
}

TEST_P(rt_common, spawn_from_blocking) {
  auto rt = this->rt();
  auto out = rt.block_on([]() -> rill::Task<std::string> {
    auto inner = co_await rill::spawn_blocking(
        [] { return rill::spawn([]() -> rill::Task<std::string> { co_return "hello"; }()); });
    co_return co_await inner;
  }());
  EXPECT_EQ(out, "hello");
}

TEST_P(rt_common, spawn_blocking_from_blocking) {
  auto rt = this->rt();
  auto out = rt.block_on([]() -> rill::Task<std::string> {
    auto inner = co_await rill::spawn_blocking(
        [] { return rill::spawn_blocking([] { return std::string("hello"); }); });
    co_return co_await inner;
  }());
  EXPECT_EQ(out, "hello");
}

TEST_P(rt_common, sleep_from_blocking) {
  auto rt = this->rt();
  rt.block_on([]() -> rill::Task<void> {
    // futures::executor::block_on inside spawn_blocking: Handle::block_on from the blocking thread.
    auto h = rill::Handle::current();
    co_await rill::spawn_blocking([h]() mutable {
      auto now = Clock::now();
      auto dur = 1ms;
      h.block_on([](rill::Duration d) -> rill::Task<void> { co_await rill::sleep(d); }(dur));
      EXPECT_GE(Clock::now() - now, dur);
    });
  }());
}

TEST_P(rt_common, socket_from_blocking) {
  auto rt = this->rt();
  rt.block_on([]() -> rill::Task<void> {
    auto listener = TcpListener::bind("127.0.0.1:0");
    CO_ASSERT_TRUE(listener);
    auto addr = listener->local_addr().value();
    auto h = rill::Handle::current();
    auto peer = rill::spawn_blocking([h, addr]() mutable {
      h.block_on([](rill::net::SocketAddr addr) -> rill::Task<void> {
        EXPECT_TRUE(co_await TcpStream::connect(addr));
      }(addr));
    });
    EXPECT_TRUE(co_await listener->accept());
    co_await peer;
  }());
}

TEST_P(rt_common, always_active_parker) {
  auto rt = this->rt();
  auto [tx1, rx1] = oneshot::channel<int>();
  auto [tx2, rx2] = oneshot::channel<int>();
  std::thread jh1([&rt, rx2 = std::move(rx2), tx1 = std::move(tx1)]() mutable {
    rt.block_on([](oneshot::Receiver<int> rx2, oneshot::Sender<int> tx1) -> rill::Task<void> {
      co_await recv_unit(std::move(rx2));
      co_await rill::sleep(5ms);
      EXPECT_TRUE(std::move(tx1).send(1));
    }(std::move(rx2), std::move(tx1)));
  });
  std::thread jh2([&rt, tx2 = std::move(tx2), rx1 = std::move(rx1)]() mutable {
    rt.block_on([](oneshot::Sender<int> tx2, oneshot::Receiver<int> rx1) -> rill::Task<void> {
      EXPECT_TRUE(std::move(tx2).send(1));
      co_await rill::sleep(5ms);
      co_await recv_unit(std::move(rx1));
      co_await rill::sleep(5ms);
    }(std::move(tx2), std::move(rx1)));
  });
  jh1.join();
  jh2.join();
}

TEST_P(rt_common, io_driver_called_when_under_load) {
  auto rt = this->rt();
  for (int i = 0; i < 100; ++i)
    (void)rt.spawn([]() -> rill::Task<void> {
      for (;;)
        co_await rill::yield_now();  // poll_fn that wakes itself and returns Pending
    }());
  rt.block_on([]() -> rill::Task<void> {
    auto listener = TcpListener::bind("127.0.0.1:0");
    CO_ASSERT_TRUE(listener);
    auto addr = listener->local_addr().value();
    auto srv = rill::spawn([](TcpListener listener) -> rill::Task<void> {
      auto acc = co_await listener.accept();
      CO_ASSERT_TRUE(acc);
      EXPECT_TRUE(co_await acc->first.write_all(std::span<const char>("hello world", 11)));
    }(std::move(*listener)));
    auto cli = rill::spawn([](rill::net::SocketAddr addr) -> rill::Task<void> {
      auto stream = co_await TcpStream::connect(addr);
      CO_ASSERT_TRUE(stream);
      std::array<char, 11> dst{};
      EXPECT_TRUE(co_await stream->read_exact(std::span<char>(dst)));
      EXPECT_EQ(std::string(dst.data(), dst.size()), "hello world");
    }(addr));
    co_await srv;
    co_await cli;
  }());
}

namespace {
rill::Task<void> client_server(std::atomic<int>* sent) {
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
  std::string buf;  // read_to_end
  std::array<char, 64> chunk{};
  for (;;) {
    auto n = co_await client->read(std::span<char>(chunk));
    CO_ASSERT_TRUE(n);
    if (*n == 0) break;
    buf.append(chunk.data(), *n);
  }
  EXPECT_EQ(buf, "hello");
  sent->fetch_add(1);
}
}  // namespace

TEST_P(rt_common, client_server_block_on) {
  auto rt = this->rt();
  std::atomic<int> sent{0};
  rt.block_on(client_server(&sent));
  EXPECT_EQ(sent.load(), 1);  // rx.try_recv() is Ok once, then Err
}

TEST_P(rt_common, panic_in_task) {
  auto rt = this->rt();
  auto [tx, rx] = oneshot::channel<int>();
  struct Boom {
    std::optional<oneshot::Sender<int>> tx;
    ~Boom() { EXPECT_TRUE(std::move(*tx).send(1)); }
  };
  (void)rt.spawn([](oneshot::Sender<int> tx) -> rill::Task<void> {
    Boom boom{std::move(tx)};
    throw std::runtime_error("panic");
    co_return;
  }(std::move(tx)));
  EXPECT_TRUE(rt.block_on([](oneshot::Receiver<int> rx) -> rill::Task<bool> {
    co_return (co_await rx).has_value();
  }(std::move(rx))));
}

TEST_P(rt_common, panic_in_block_on) {
  auto rt = this->rt();
  EXPECT_THROW(rt.block_on([]() -> rill::Task<void> {
    throw std::runtime_error("panic");
    co_return;
  }()),
               std::runtime_error);
}

TEST_P(rt_common, eagerly_drops_futures_on_shutdown) {
  std::optional<rill::Runtime> rt(this->rt());
  std::atomic<int> dropped{0};
  struct Never {
    std::atomic<int>* dropped;
    ~Never() { dropped->fetch_add(1); }
  };
  rt->block_on([](std::atomic<int>* dropped) -> rill::Task<void> {
    auto [run_tx, run_rx] = oneshot::channel<int>();
    (void)rill::spawn(
        [](oneshot::Sender<int> run_tx, std::atomic<int>* dropped) -> rill::Task<void> {
          EXPECT_TRUE(std::move(run_tx).send(1));
          Never never{dropped};
          co_await pending_forever();
        }(std::move(run_tx), dropped));
    co_await recv_unit(std::move(run_rx));
  }(&dropped));
  rt.reset();
  EXPECT_EQ(dropped.load(), 1);
}

TEST_P(rt_common, wake_while_rt_is_dropping) {
  auto drop_triggered = std::make_shared<std::atomic<bool>>(false);
  auto [tx1, rx1] = oneshot::channel<int>();
  auto [tx2, rx2] = oneshot::channel<int>();
  auto [tx3, rx3] = oneshot::channel<int>();
  auto barrier = std::make_shared<rill::sync::Barrier>(4);
  std::optional<rill::Runtime> rt(this->rt());
  using B = std::shared_ptr<rill::sync::Barrier>;
  auto wait = [](B b) -> rill::Task<void> { (void)co_await b->wait(); };
  auto recv = [](oneshot::Receiver<int> rx) -> rill::Task<void> { (void)co_await rx; };
  (void)rt->spawn(
      [](rill::Task<void> a, rill::Task<void> b, oneshot::Sender<int> tx3) -> rill::Task<void> {
        (void)co_await rill::join(std::move(a), std::move(b));
        EXPECT_TRUE(std::move(tx3).send(1));
      }(recv(std::move(rx1)), wait(barrier), std::move(tx3)));
  struct OnDrop {
    rill::Handle h1;
    std::optional<oneshot::Sender<int>> tx1;
    std::shared_ptr<std::atomic<bool>> flag;
    ~OnDrop() {
      try {
        (void)h1.spawn([](oneshot::Sender<int> tx1) -> rill::Task<void> {
          (void)std::move(tx1).send(1);
          co_return;
        }(std::move(*tx1)));
      } catch (const rill::RuntimeError&) {
        // the runtime is shutting down: the spawned task is dropped (Tokio drops it too)
      }
      flag->store(true);
    }
  };
  (void)rt->spawn([](oneshot::Sender<int> tx1, std::shared_ptr<std::atomic<bool>> flag,
                     rill::Task<void> a, rill::Task<void> b) -> rill::Task<void> {
    OnDrop d{rill::Handle::current(), std::move(tx1), std::move(flag)};
    (void)co_await rill::join(std::move(a), std::move(b));
  }(std::move(tx1), drop_triggered, recv(std::move(rx2)), wait(barrier)));
  (void)rt->spawn(
      [](rill::Task<void> a, rill::Task<void> b, oneshot::Sender<int> tx2) -> rill::Task<void> {
        (void)co_await rill::join(std::move(a), std::move(b));
        EXPECT_TRUE(std::move(tx2).send(1));
      }(recv(std::move(rx3)), wait(barrier), std::move(tx2)));
  rt->block_on(wait(barrier));
  rt.reset();
  EXPECT_TRUE(drop_triggered->load());
}

TEST_P(rt_common, io_notify_while_shutting_down) {
  for (int i = 1; i < 10; ++i) {
    auto runtime = this->rt();
    runtime.block_on([]() -> rill::Task<void> {
      auto socket = rill::net::UdpSocket::bind("127.0.0.1:0");
      CO_ASSERT_TRUE(socket);
      auto addr = socket->local_addr().value();
      auto send_half = std::make_shared<rill::net::UdpSocket>(std::move(*socket));
      auto recv_half = send_half;
      (void)rill::spawn([](std::shared_ptr<rill::net::UdpSocket> s) -> rill::Task<void> {
        std::array<char, 1> buf{};
        for (;;) {
          EXPECT_TRUE(co_await s->recv_from(std::span<char>(buf)));
          std::this_thread::sleep_for(2ms);
        }
      }(std::move(recv_half)));
      (void)rill::spawn([](std::shared_ptr<rill::net::UdpSocket> s,
                           rill::net::SocketAddr addr) -> rill::Task<void> {
        std::array<char, 1> buf{};
        for (;;) {
          EXPECT_TRUE(co_await s->send_to(std::span<const char>(buf), addr));
          co_await rill::sleep(1ms);
        }
      }(std::move(send_half), addr));
      co_await rill::sleep(5ms);
    }());
  }
}

TEST_P(rt_common, shutdown_timeout) {
  auto [tx, rx] = oneshot::channel<int>();
  auto runtime = this->rt();
  runtime.block_on([](oneshot::Sender<int> tx, oneshot::Receiver<int> rx) -> rill::Task<void> {
    (void)rill::spawn_blocking([tx = std::move(tx)]() mutable {
      (void)std::move(tx).send(1);
      std::this_thread::sleep_for(10000s);
    });
    co_await recv_unit(std::move(rx));
  }(std::move(tx), std::move(rx)));
  std::move(runtime).shutdown_timeout(100ms);
}

TEST_P(rt_common, shutdown_timeout_0) {
  auto runtime = this->rt();
  runtime.block_on([]() -> rill::Task<void> {
    (void)rill::spawn_blocking([] { std::this_thread::sleep_for(10000s); });
    co_return;
  }());
  auto now = Clock::now();
  std::move(runtime).shutdown_timeout(0ns);
  EXPECT_LT(Clock::now() - now, 1s);
}

TEST_P(rt_common, shutdown_wakeup_time) {
  auto runtime = this->rt();
  runtime.block_on([]() -> rill::Task<void> { co_await rill::sleep(100ms); }());
  std::move(runtime).shutdown_timeout(10000s);
}

TEST_P(rt_common, runtime_in_thread_local) {
  static thread_local std::optional<rill::Runtime> R;
  std::thread([this] {
    R.emplace(this->rt());
    auto rt = this->rt();
  }).join();
}

TEST_P(rt_common, ping_pong_saturation) {
  constexpr std::size_t NUM = 100;
  auto rt = this->rt();
  auto running = std::make_shared<std::atomic<bool>>(true);
  rt.block_on([](std::shared_ptr<std::atomic<bool>> running) -> rill::Task<void> {
    auto [spawned_tx, spawned_rx] = mpsc::unbounded_channel<int>();
    std::vector<rill::JoinHandle<void>> tasks;
    for (std::size_t i = 0; i < NUM; ++i) {
      auto [tx1, rx1] = mpsc::unbounded_channel<int>();
      auto [tx2, rx2] = mpsc::unbounded_channel<int>();
      tasks.push_back(rill::spawn(
          [](mpsc::UnboundedSender<int> spawned_tx, std::shared_ptr<std::atomic<bool>> running,
             mpsc::UnboundedSender<int> tx1, mpsc::Receiver<int> rx2) -> rill::Task<void> {
            EXPECT_TRUE(spawned_tx.send(1));
            while (running->load(std::memory_order_relaxed)) {
              EXPECT_TRUE(tx1.send(1));
              EXPECT_TRUE((co_await rx2.recv()).has_value());
            }
            { auto drop = std::move(tx1); }
            EXPECT_FALSE((co_await rx2.recv()).has_value());
          }(spawned_tx.clone(), running, std::move(tx1), std::move(rx2))));
      tasks.push_back(rill::spawn(
          [](mpsc::Receiver<int> rx1, mpsc::UnboundedSender<int> tx2) -> rill::Task<void> {
            while ((co_await rx1.recv()).has_value())
              EXPECT_TRUE(tx2.send(1));
          }(std::move(rx1), std::move(tx2))));
    }
    for (std::size_t i = 0; i < NUM; ++i)
      EXPECT_TRUE((co_await spawned_rx.recv()).has_value());
    co_await rill::spawn([]() -> rill::Task<void> {
      for (int i = 0; i < 5; ++i)
        co_await rill::yield_now();
    }());
    running->store(false, std::memory_order_relaxed);
    for (auto& t : tasks)
      co_await t;
  }(running));
}

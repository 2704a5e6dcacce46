// Port of tokio-1.24.2/tests/task_blocking.rs. futures::executor::block_on inside
// block_in_place is a fresh current_thread runtime's block_on. Tokio's should_panic tests
// expect rill's RuntimeError; a "panicking" blocking task throws. The *_paused_runtime tests run
// on a paused clock (Builder::start_paused), as Tokio's.
#include "harness.hpp"

#include <stdexcept>
#include <string>
#include <thread>

using namespace conformance;

namespace {
rill::Runtime multi() {
  return rill::Builder::new_multi_thread().build();
}
}  // namespace

TEST(task_blocking, basic_blocking) {
  block_on([]() -> rill::Task<void> {
    for (int i = 0; i < 100; ++i) {
      auto out = co_await rill::spawn([]() -> rill::Task<std::string> {
        co_return co_await rill::spawn_blocking([] {
          std::this_thread::sleep_for(5ms);
          return std::string("hello");
        });
      }());
      EXPECT_EQ(out, "hello");
    }
  }());
}

TEST(task_blocking, block_in_blocking) {
  multi().block_on([]() -> rill::Task<void> {
    for (int i = 0; i < 100; ++i) {
      auto out = co_await rill::spawn([]() -> rill::Task<std::string> {
        co_return co_await rill::spawn_blocking([] {
          rill::block_in_place([] { std::this_thread::sleep_for(5ms); });
          return std::string("hello");
        });
      }());
      EXPECT_EQ(out, "hello");
    }
  }());
}

TEST(task_blocking, block_in_block) {
  multi().block_on([]() -> rill::Task<void> {
    for (int i = 0; i < 100; ++i) {
      auto out = co_await rill::spawn([]() -> rill::Task<std::string> {
        co_return rill::block_in_place([] {
          rill::block_in_place([] { std::this_thread::sleep_for(5ms); });
          return std::string("hello");
        });
      }());
      EXPECT_EQ(out, "hello");
    }
  }());
}

TEST(task_blocking, no_block_in_current_thread_scheduler) {
  block_on([]() -> rill::Task<void> {
    EXPECT_THROW(rill::block_in_place([] {}), rill::RuntimeError);
    co_return;
  }());
}

TEST(task_blocking, yes_block_in_threaded_block_on) {
  multi().block_on([]() -> rill::Task<void> {
    rill::block_in_place([] {});
    co_return;
  }());
}

TEST(task_blocking, no_block_in_current_thread_block_on) {
  auto rt = rill::Builder::new_current_thread().build();
  rt.block_on([]() -> rill::Task<void> {
    EXPECT_THROW(rill::block_in_place([] {}), rill::RuntimeError);
    co_return;
  }());
}

TEST(task_blocking, can_enter_current_thread_rt_from_within_block_in_place) {
  multi().block_on([]() -> rill::Task<void> {
    rill::block_in_place([] {
      auto inner = rill::Builder::new_current_thread().build();
      inner.block_on([]() -> rill::Task<void> { co_return; }());
    });
    co_return;
  }());
}

TEST(task_blocking, useful_panic_message_when_dropping_rt_in_rt) {
  auto outer = multi();
  bool threw = false;
  try {
    outer.block_on([]() -> rill::Task<void> {
      auto rt = rill::Builder::new_current_thread().build();
      co_return;
    }());
  } catch (const rill::RuntimeError& e) {
    threw = true;
    EXPECT_NE(std::string(e.what()).find("Cannot drop a runtime"), std::string::npos)
        << "Wrong panic message: " << e.what();
  }
  EXPECT_TRUE(threw);
}

TEST(task_blocking, can_shutdown_with_zero_timeout_in_runtime) {
  multi().block_on([]() -> rill::Task<void> {
    auto rt = rill::Builder::new_current_thread().build();
    std::move(rt).shutdown_timeout(0ns);
    co_return;
  }());
}

TEST(task_blocking, can_shutdown_now_in_runtime) {
  multi().block_on([]() -> rill::Task<void> {
    auto rt = rill::Builder::new_current_thread().build();
    std::move(rt).shutdown_background();
    co_return;
  }());
}

namespace {
rill::Task<int> count_all(rill::sync::mpsc::Receiver<int> rx) {
  int n = 0;
  while (co_await rx.recv())
    ++n;
  co_return n;
}
}  // namespace

TEST(task_blocking, coop_disabled_in_block_in_place) {
  auto outer = multi();
  auto [tx, rx] = rill::sync::mpsc::unbounded_channel<int>();
  for (int i = 0; i < 200; ++i)
    EXPECT_TRUE(tx.send(i));
  { auto drop = std::move(tx); }
  outer.block_on([](rill::sync::mpsc::Receiver<int> rx) -> rill::Task<void> {
    auto jh = rill::spawn([](rill::sync::mpsc::Receiver<int> rx) -> rill::Task<void> {
      rill::block_in_place([&rx] {
        auto exec = rill::Builder::new_current_thread().build();
        EXPECT_EQ(exec.block_on(count_all(std::move(rx))), 200);
      });
      co_return;
    }(std::move(rx)));
    auto r = co_await rill::timeout(
        1s, [](rill::JoinHandle<void> jh) -> rill::Task<void> { co_await jh; }(std::move(jh)));
    EXPECT_TRUE(r) << "timed out (probably hanging)";
  }(std::move(rx)));
}

TEST(task_blocking, coop_disabled_in_block_in_place_in_block_on) {
  std::atomic<int> done{0};
  std::thread th([&done] {
    try {
      auto outer = multi();
      auto [tx, rx] = rill::sync::mpsc::unbounded_channel<int>();
      for (int i = 0; i < 200; ++i)
        EXPECT_TRUE(tx.send(i));
      { auto drop = std::move(tx); }
      outer.block_on([](rill::sync::mpsc::Receiver<int> rx) -> rill::Task<void> {
        rill::block_in_place([&rx] {
          auto exec = rill::Builder::new_current_thread().build();
          EXPECT_EQ(exec.block_on(count_all(std::move(rx))), 200);
        });
        co_return;
      }(std::move(rx)));
      done = 1;
    } catch (const std::exception& e) {
      ADD_FAILURE() << e.what();
      done = 2;
    }
  });
  // Tokio gives up after 1 s; a loaded machine gets longer (a hang still fails).
  for (int i = 0; i < 1000 && !done; ++i)
    std::this_thread::sleep_for(10ms);
  EXPECT_EQ(done.load(), 1) << "timed out (probably hanging)";
  if (done)
    th.join();
  else
    th.detach();
}

TEST(task_blocking, blocking_when_paused) {
  block_on_paused([]() -> rill::Task<void> {
    // Do not auto-advance time when we have started a blocking task that has not yet finished.
    auto r =
        co_await rill::timeout(3s, rill::spawn_blocking([] { std::this_thread::sleep_for(1ms); }));
    EXPECT_TRUE(r) << "timeout should not trigger";
    // Really: Do not auto-advance time, even if the timeout is short and the blocking task
    // runs for longer than that. It doesn't matter: rill time is paused; system time is not.
    r = co_await rill::timeout(1ms,
                               rill::spawn_blocking([] { std::this_thread::sleep_for(50ms); }));
    EXPECT_TRUE(r) << "timeout should not trigger";
  }());
}

TEST(task_blocking, blocking_task_wakes_paused_runtime) {
  block_on_paused([]() -> rill::Task<void> {
    auto t0 = std::chrono::steady_clock::now();
    auto r =
        co_await rill::timeout(15s, rill::spawn_blocking([] { std::this_thread::sleep_for(1ms); }));
    EXPECT_TRUE(r) << "timeout should not trigger";
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 10s)
        << "completing a spawn_blocking should wake the scheduler if it's parked while time is "
           "paused";
  }());
}

TEST(task_blocking, unawaited_blocking_task_wakes_paused_runtime) {
  block_on_paused([]() -> rill::Task<void> {
    auto t0 = std::chrono::steady_clock::now();
    // When this task finishes, time should auto-advance, even though the JoinHandle has not
    // been awaited yet.
    auto a = rill::spawn_blocking([] { std::this_thread::sleep_for(1ms); });
    co_await rill::sleep(15s);
    co_await a;
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 10s)
        << "completing a spawn_blocking should wake the scheduler if it's parked while time is "
           "paused";
  }());
}

TEST(task_blocking, panicking_blocking_task_wakes_paused_runtime) {
  block_on_paused([]() -> rill::Task<void> {
    auto t0 = std::chrono::steady_clock::now();
    bool timed_out = false;
    bool threw = false;
    try {
      auto r = co_await rill::timeout(15s, rill::spawn_blocking([] {
                                        std::this_thread::sleep_for(1ms);
                                        throw std::runtime_error("blocking task panicked");
                                      }));
      timed_out = !r;
    } catch (const std::runtime_error&) {
      threw = true;
    }
    EXPECT_FALSE(timed_out) << "timeout should not trigger";
    EXPECT_TRUE(threw) << "blocking task should have panicked";
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 10s)
        << "completing a spawn_blocking should wake the scheduler if it's parked while time is "
           "paused";
  }());
}

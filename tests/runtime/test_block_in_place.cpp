// Tests for block_in_place against runtime entry and shutdown: entering a runtime (block_on)
// inside block_in_place, and a shutdown that ends while a thread is blocked inside
// block_in_place (cancel first, then wait with the documented timeout). Ports of Tokio's
// rt_threaded `hang_on_shutdown`, `yield_after_block_in_place` and task_blocking
// `can_enter_current_thread_rt_from_within_block_in_place`.
#include <gtest/gtest.h>
#include <rill/rill.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <future>
#include <memory>
#include <thread>

using namespace std::chrono_literals;
using rill::Task;

namespace {

/// Runs `body` on a thread and aborts the test binary if it has not returned after `limit` (a
/// hang is the failure these tests look for; the limit is generous for a loaded machine).
void within(std::chrono::seconds limit, const std::function<void()>& body) {
  std::promise<void> done;
  auto f = done.get_future();
  std::thread th([&] {
    body();
    done.set_value();
  });
  if (f.wait_for(limit) != std::future_status::ready) {
    std::fprintf(stderr, "test body still running after %lld s: hang\n",
                 static_cast<long long>(limit.count()));
    std::abort();
  }
  th.join();
}

/// Sets a flag when destroyed (observes that a task's frame was destroyed).
struct OnDestroy {
  std::shared_ptr<std::promise<void>> p;
  ~OnDestroy() {
    if (p) p->set_value();
  }
};

Task<void> wait_until(const std::atomic<bool>& flag) {
  while (!flag.load())
    co_await rill::sleep(1ms);
}

}  // namespace

// Tokio: task_blocking.rs can_enter_current_thread_rt_from_within_block_in_place.
TEST(BlockInPlace, CanEnterCurrentThreadRuntimeFromWithin) {
  within(120s, [] {
    auto outer = rill::Builder::new_multi_thread().build();
    int v = outer.block_on([]() -> Task<int> {
      co_return rill::block_in_place([] {
        auto inner = rill::Builder::new_current_thread().build();
        return inner.block_on([]() -> Task<int> {
          co_await rill::yield_now();
          co_return 7;
        }());
      });
    }());
    EXPECT_EQ(v, 7);
  });
}

// Tokio: rt_threaded.rs yield_after_block_in_place.
TEST(BlockInPlace, YieldAfterBlockInPlace) {
  within(120s, [] {
    auto rt = rill::Builder::new_multi_thread().worker_threads(1).build();
    rt.block_on([]() -> Task<void> {
      co_await rill::spawn([]() -> Task<void> {
        // Block in place, then enter a new runtime.
        rill::block_in_place([] {
          auto rt = rill::Builder::new_current_thread().build();
          rt.block_on([]() -> Task<void> { co_return; }());
        });
        // Yield, then complete.
        co_await rill::yield_now();
      }());
    }());
  });
}

TEST(BlockInPlace, TaskContextIsRestoredAndTheRuntimeStaysCurrent) {
  within(120s, [] {
    auto rt = rill::Builder::new_multi_thread().worker_threads(2).build();
    int v = rt.block_on([]() -> Task<int> {
      // Inside: no task is being polled, but the runtime is still the thread's (Tokio: the
      // handle stays current), so a block_on on it from here runs the task on the workers.
      int inner = rill::block_in_place(
          [] { return rill::Handle::current().block_on([]() -> Task<int> { co_return 5; }()); });
      // After: the task context is back (spawning and awaiting work as before).
      int after = co_await rill::spawn([]() -> Task<int> { co_return 6; }());
      co_await rill::sleep(1ms);
      co_return inner + after;
    }());
    EXPECT_EQ(v, 11);
  });
}

// Tokio: rt_threaded.rs hang_on_shutdown. The blocked function waits for a value that only the
// cancellation of another task provides (dropping its promise): shutdown must cancel the tasks
// before it waits for the thread inside block_in_place.
TEST(BlockInPlace, DroppingTheRuntimeCancelsBeforeWaitingForTheBlockedThread) {
  within(120s, [] {
    std::atomic<bool> entered{false};
    std::atomic<bool> returned{false};
    {
      auto rt = rill::Builder::new_multi_thread().worker_threads(2).build();
      auto sync_tx = std::make_shared<std::promise<void>>();
      std::shared_future<void> sync_rx = sync_tx->get_future().share();
      rt.block_on([](std::shared_future<void> rx, std::shared_ptr<std::promise<void>> tx,
                     std::atomic<bool>& entered, std::atomic<bool>& returned) -> Task<void> {
        (void)rill::spawn([](std::shared_future<void> rx, std::atomic<bool>& entered,
                             std::atomic<bool>& returned) -> Task<void> {
          rill::block_in_place([&] {
            entered.store(true);
            rx.wait();  // ready when the promise is set or destroyed
          });
          returned.store(true);
          co_return;
        }(std::move(rx), entered, returned));
        (void)rill::spawn([](std::shared_ptr<std::promise<void>> tx) -> Task<void> {
          co_await rill::sleep(1h);  // never set: the promise is destroyed with this frame
          tx->set_value();
        }(std::move(tx)));
        co_await wait_until(entered);
      }(std::move(sync_rx), std::move(sync_tx), entered, returned));
    }  // the runtime is dropped here: must not hang
    EXPECT_TRUE(entered.load());
    EXPECT_TRUE(returned.load());  // the destructor waited for the blocked thread
  });
}

// shutdown_timeout bounds the wait for a thread inside block_in_place; the task blocked there
// is cancelled once its poll ends, on its own thread, after the runtime object is gone.
TEST(BlockInPlace, ShutdownTimeoutDoesNotWaitForeverForTheBlockedThread) {
  within(120s, [] {
    std::atomic<bool> entered{false};
    std::atomic<bool> returned{false};
    std::atomic<bool> resumed_after_yield{false};
    std::promise<void> release;
    std::shared_future<void> gate = release.get_future().share();
    auto frame_gone = std::make_shared<std::promise<void>>();
    auto frame_gone_f = frame_gone->get_future();
    {
      auto rt = rill::Builder::new_multi_thread().worker_threads(2).build();
      (void)rt.spawn([](std::shared_future<void> gate, std::shared_ptr<std::promise<void>> gone,
                        std::atomic<bool>& entered, std::atomic<bool>& returned,
                        std::atomic<bool>& resumed) -> Task<void> {
        OnDestroy guard{std::move(gone)};
        rill::block_in_place([&] {
          entered.store(true);
          gate.wait();
        });
        returned.store(true);
        co_await rill::yield_now();  // the runtime is shut down: never resumed
        resumed.store(true);
      }(gate, frame_gone, entered, returned, resumed_after_yield));
      rt.block_on(wait_until(entered));
      std::move(rt).shutdown_timeout(20ms);  // returns although the function still blocks
      EXPECT_FALSE(returned.load());
    }
    release.set_value();
    frame_gone_f.wait();  // the task's frame is destroyed when its poll ends
    EXPECT_TRUE(returned.load());
    EXPECT_FALSE(resumed_after_yield.load());
  });
}

// shutdown_background does not wait at all, even when another worker is inside
// block_in_place; dropping the runtime from a blocking thread of another runtime works too.
TEST(BlockInPlace, ShutdownBackgroundReturnsAtOnce) {
  within(120s, [] {
    std::atomic<bool> entered{false};
    std::promise<void> release;
    std::shared_future<void> gate = release.get_future().share();
    {
      auto rt = rill::Builder::new_multi_thread().worker_threads(1).build();
      (void)rt.spawn([](std::shared_future<void> gate, std::atomic<bool>& entered) -> Task<void> {
        rill::block_in_place([&] {
          entered.store(true);
          gate.wait();
        });
        co_return;
      }(gate, entered));
      rt.block_on(wait_until(entered));
      std::move(rt).shutdown_background();
    }
    release.set_value();  // the thread leaves on its own, keeping the scheduler alive till then
  });
}

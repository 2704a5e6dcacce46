// Port of tokio-1.24.2/tests/task_abort.rs. Left out: remote_abort_local_set_3929 (no LocalSet in
// rill), test_abort_task_that_panics_on_drop_contained/_returned (a C++ destructor that throws
// terminates the program; destructors are noexcept).
#include "harness.hpp"

#include <atomic>
#include <memory>
#include <thread>

using namespace conformance;

TEST(task_abort, test_abort_without_panic_3157) {
  auto rt = rill::Builder::new_multi_thread().worker_threads(1).build();
  rt.block_on([]() -> rill::Task<void> {
    auto handle = rill::spawn([]() -> rill::Task<void> { co_await rill::sleep(100s); }());
    co_await rill::sleep(10ms);
    handle.abort();
    try {
      co_await handle;
    } catch (const rill::JoinError&) {
    }
  }());
}

namespace {
struct DropCheck {
  std::shared_ptr<std::atomic<bool>> flag;
  explicit DropCheck(std::shared_ptr<std::atomic<bool>> f) : flag(std::move(f)) {}
  DropCheck(DropCheck&& o) noexcept : flag(std::move(o.flag)) {}
  ~DropCheck() {
    if (flag) flag->store(true);
  }
};
}  // namespace

TEST(task_abort, test_abort_without_panic_3662) {
  auto rt = rill::Builder::new_current_thread().build();
  rt.block_on([]() -> rill::Task<void> {
    auto drop_flag = std::make_shared<std::atomic<bool>>(false);
    auto j = rill::spawn([](DropCheck c) -> rill::Task<void> {
      auto drop_check = std::move(c);
      co_await pending_forever();
    }(DropCheck(drop_flag)));
    std::thread([&] {
      EXPECT_FALSE(drop_flag->load());
      j.abort();
    }).join();
    bool cancelled = false;
    try {
      co_await j;
    } catch (const rill::JoinError& e) {
      cancelled = e.is_cancelled();
    }
    EXPECT_TRUE(drop_flag->load());
    EXPECT_TRUE(cancelled);
    auto i = rill::spawn([]() -> rill::Task<void> { co_await rill::yield_now(); }());
    co_await i;
  }());
}

TEST(task_abort, test_abort_wakes_task_3964) {
  auto rt = rill::Builder::new_current_thread().build();
  rt.block_on([]() -> rill::Task<void> {
    auto notify_dropped = std::make_shared<int>();
    std::weak_ptr<int> weak_notify_dropped = notify_dropped;
    {
      auto handle = rill::spawn([](std::shared_ptr<int> n) -> rill::Task<void> {
        auto keep = std::move(n);
        co_await rill::sleep(100s);
      }(std::move(notify_dropped)));
      co_await rill::sleep(10ms);
      handle.abort();
    }
    co_await rill::sleep(10ms);
    EXPECT_TRUE(weak_notify_dropped.expired());
  }());
}

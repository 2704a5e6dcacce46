// Port of tokio-1.24.2/tests/sync_once_cell.rs (including its parking_lot module). Tokio's
// `static ONCE: OnceCell = const_new()` is a local cell here; OnceCell::new_with(Some(v)) and
// OnceCell::from(v) are OnceCell(v); into_inner() is take(). Tokio pauses the clock in
// get_or_init, get_or_init_panic and get_or_try_init; here they run on the real clock (their
// ordering follows from spawn order on a current_thread runtime, not from the sleeps' lengths).
// set_while_initializing orders its steps with a Notify instead of paused time.
#include "harness.hpp"

#include <atomic>
#include <functional>
#include <stdexcept>

using namespace conformance;
using rill::sync::OnceCell;
using rill::sync::SetError;

namespace {
std::atomic<std::uint32_t> NUM_DROPS{0};
struct Foo {
  bool live = true;
  Foo() = default;
  Foo(Foo&& o) noexcept { o.live = false; }
  Foo& operator=(Foo&&) = delete;
  ~Foo() {
    if (live) NUM_DROPS.fetch_add(1);
  }
};
}  // namespace

TEST(sync_once_cell, drop_cell) {
  NUM_DROPS = 0;
  {
    Foo fooer;
    OnceCell<Foo> once_cell;
    auto prev = once_cell.set(std::move(fooer));
    EXPECT_TRUE(prev);
  }
  EXPECT_EQ(NUM_DROPS.load(), 1u);
}

TEST(sync_once_cell, drop_cell_new_with) {
  NUM_DROPS = 0;
  {
    OnceCell<Foo> once_cell{Foo{}};
    EXPECT_TRUE(once_cell.initialized());
  }
  EXPECT_EQ(NUM_DROPS.load(), 1u);
}

TEST(sync_once_cell, drop_into_inner) {
  NUM_DROPS = 0;
  OnceCell<Foo> once_cell;
  EXPECT_TRUE(once_cell.set(Foo{}));
  auto fooer = once_cell.take();
  EXPECT_EQ(NUM_DROPS.load(), 0u);
  fooer.reset();
  EXPECT_EQ(NUM_DROPS.load(), 1u);
}

TEST(sync_once_cell, drop_into_inner_new_with) {
  NUM_DROPS = 0;
  OnceCell<Foo> once_cell{Foo{}};
  auto fooer = once_cell.take();
  EXPECT_EQ(NUM_DROPS.load(), 0u);
  fooer.reset();
  EXPECT_EQ(NUM_DROPS.load(), 1u);
}

TEST(sync_once_cell, from) {
  OnceCell<int> cell(2);
  ASSERT_NE(cell.get(), nullptr);
  EXPECT_EQ(*cell.get(), 2);
}

namespace {
rill::Task<std::uint32_t> func1() {
  co_return 5;
}
rill::Task<std::uint32_t> func2() {
  co_await rill::sleep(1ms);
  co_return 10;
}
rill::Task<rill::Result<std::uint32_t, int>> func_err() {
  co_return rill::Unexpected{0};
}
rill::Task<rill::Result<std::uint32_t, int>> func_ok() {
  co_return 10u;
}
rill::Task<std::uint32_t> func_panic() {
  co_await rill::sleep(1ms);
  throw std::runtime_error("panic");
}
rill::Task<std::uint32_t> sleep_and_set(rill::sync::Notify* set_done) {
  co_await set_done->notified();
  co_return 5;
}
using Cell = OnceCell<std::uint32_t>;
template <class F>
rill::Task<std::uint32_t> get_or_init(Cell* c, F f) {
  co_return (co_await c->get_or_init(f)).get();
}
}  // namespace

TEST(sync_once_cell, get_or_init) {
  block_on([]() -> rill::Task<void> {
    Cell once;
    auto handle1 = rill::spawn(get_or_init(&once, func1));
    auto handle2 = rill::spawn(get_or_init(&once, func2));
    co_await rill::sleep(1ms);
    EXPECT_EQ(co_await handle1, 5u);
    EXPECT_EQ(co_await handle2, 5u);
  }());
}

TEST(sync_once_cell, get_or_init_panic) {
  block_on([]() -> rill::Task<void> {
    Cell once;
    auto handle1 = rill::spawn(get_or_init(&once, func1));
    auto handle2 = rill::spawn(get_or_init(&once, func_panic));
    co_await rill::sleep(1ms);
    EXPECT_EQ(co_await handle1, 5u);
    EXPECT_EQ(co_await handle2, 5u);
  }());
}

TEST(sync_once_cell, set_and_get) {
  block_on([]() -> rill::Task<void> {
    Cell once;
    co_await rill::spawn([](Cell* c) -> rill::Task<void> {
      (void)c->set(5);
      co_return;
    }(&once));
    auto value = once.get();
    CO_ASSERT_TRUE(value != nullptr);
    EXPECT_EQ(*value, 5u);
  }());
}

TEST(sync_once_cell, get_uninit) {
  Cell once;
  EXPECT_EQ(once.get(), nullptr);
}

TEST(sync_once_cell, set_twice) {
  Cell once;
  auto first = once.set(5);
  EXPECT_TRUE(first);
  auto second = once.set(6);
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().kind, SetError<std::uint32_t>::Kind::AlreadyInitialized);
}

TEST(sync_once_cell, set_while_initializing) {
  // Tokio: the initializer sleeps 2ms of paused time while handle2 advances 1ms and sets. Here
  // the initializer waits until handle2 has set (a real 2ms sleep could end first on a loaded
  // machine).
  block_on([]() -> rill::Task<void> {
    Cell once;
    rill::sync::Notify set_done;
    auto handle1 = rill::spawn(get_or_init(&once, [n = &set_done] { return sleep_and_set(n); }));
    co_await rill::yield_now();  // handle1 is now initializing
    auto handle2 = rill::spawn(
        [](Cell* c,
           rill::sync::Notify* n) -> rill::Task<rill::Result<void, SetError<std::uint32_t>>> {
          auto r = c->set(10);
          n->notify_one();
          co_return r;
        }(&once, &set_done));
    auto result1 = co_await handle1;
    auto result2 = co_await handle2;
    EXPECT_EQ(result1, 5u);
    CO_ASSERT_FALSE(result2);
    EXPECT_EQ(result2.error().kind, SetError<std::uint32_t>::Kind::InitializingError);
  }());
}

TEST(sync_once_cell, get_or_try_init) {
  block_on([]() -> rill::Task<void> {
    Cell once;
    auto try_init = [](Cell* c, auto f) -> rill::Task<rill::Result<std::uint32_t, int>> {
      auto r = co_await c->get_or_try_init(f);
      if (!r) co_return rill::Unexpected{r.error()};
      co_return r->get();
    };
    auto handle1 = rill::spawn(try_init(&once, func_err));
    auto handle2 = rill::spawn(try_init(&once, func_ok));
    co_await rill::sleep(1ms);
    auto result1 = co_await handle1;
    EXPECT_FALSE(result1);
    auto result2 = co_await handle2;
    CO_ASSERT_TRUE(result2);
    EXPECT_EQ(*result2, 10u);
  }());
}

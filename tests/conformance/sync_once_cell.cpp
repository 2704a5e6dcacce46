// Port of tokio-1.24.2/tests/sync_once_cell.rs (including its parking_lot module). Tokio's
// `static ONCE: OnceCell = const_new()` is a local cell here; OnceCell::new_with(Some(v)) and
// OnceCell::from(v) are OnceCell(v); into_inner() is take(). get_or_init, get_or_init_panic,
// set_while_initializing and get_or_try_init pause the clock and advance it, as Tokio's.
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
rill::Task<std::uint32_t> sleep_and_set() {
  // Simulate sleep by pausing time and waiting for another thread to resume clock when calling
  // `set`, then finishing the initialization
  co_await rill::sleep(2ms);
  co_return 5;
}
using Cell = OnceCell<std::uint32_t>;
rill::Task<rill::Result<void, SetError<std::uint32_t>>> advance_time_and_set(Cell* cell,
                                                                             std::uint32_t v) {
  co_await rill::time::advance(1ms);
  co_return cell->set(v);
}
template <class F>
rill::Task<std::uint32_t> get_or_init(Cell* c, F f) {
  co_return (co_await c->get_or_init(f)).get();
}
}  // namespace

TEST(sync_once_cell, get_or_init) {
  block_on_paused([]() -> rill::Task<void> {
    Cell once;
    auto handle1 = rill::spawn(get_or_init(&once, func1));
    auto handle2 = rill::spawn(get_or_init(&once, func2));
    co_await rill::time::advance(1ms);
    rill::time::resume();
    EXPECT_EQ(co_await handle1, 5u);
    EXPECT_EQ(co_await handle2, 5u);
  }());
}

TEST(sync_once_cell, get_or_init_panic) {
  block_on([]() -> rill::Task<void> {
    rill::time::pause();
    Cell once;
    auto handle1 = rill::spawn(get_or_init(&once, func1));
    auto handle2 = rill::spawn(get_or_init(&once, func_panic));
    co_await rill::time::advance(1ms);
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
  block_on([]() -> rill::Task<void> {
    rill::time::pause();
    Cell once;
    auto handle1 = rill::spawn(get_or_init(&once, sleep_and_set));
    auto handle2 = rill::spawn(advance_time_and_set(&once, 10));
    co_await rill::time::advance(2ms);
    auto result1 = co_await handle1;
    auto result2 = co_await handle2;
    EXPECT_EQ(result1, 5u);
    CO_ASSERT_FALSE(result2);
    EXPECT_EQ(result2.error().kind, SetError<std::uint32_t>::Kind::InitializingError);
  }());
}

TEST(sync_once_cell, get_or_try_init) {
  block_on_paused([]() -> rill::Task<void> {
    Cell once;
    auto try_init = [](Cell* c, auto f) -> rill::Task<rill::Result<std::uint32_t, int>> {
      auto r = co_await c->get_or_try_init(f);
      if (!r) co_return rill::Unexpected{r.error()};
      co_return r->get();
    };
    auto handle1 = rill::spawn(try_init(&once, func_err));
    auto handle2 = rill::spawn(try_init(&once, func_ok));
    co_await rill::time::advance(1ms);
    rill::time::resume();
    auto result1 = co_await handle1;
    EXPECT_FALSE(result1);
    auto result2 = co_await handle2;
    CO_ASSERT_TRUE(result2);
    EXPECT_EQ(*result2, 10u);
  }());
}

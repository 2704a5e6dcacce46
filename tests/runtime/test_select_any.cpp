// select / join / try_join / timeout / timeout_at on any rill awaitable, not only Task<T>: a
// channel receive, a read, an accept, a sleep, a JoinHandle, with no wrapper coroutine.
#include <gtest/gtest.h>
#include <rill/net/tcp.hpp>
#include <rill/net/unix.hpp>
#include <rill/rill.hpp>
#include <rill/select.hpp>
#include <rill/sync/mpsc.hpp>

#include <chrono>
#include <optional>
#include <span>
#include <string>
#include <variant>

using namespace std::chrono_literals;
using rill::Task;
namespace mpsc = rill::sync::mpsc;

namespace {
class Any : public ::testing::TestWithParam<rill::IoBackend> {};
INSTANTIATE_TEST_SUITE_P(Select, Any, ::testing::Values(rill::IoBackend::Auto, rill::IoBackend::Epoll),
                         [](const auto& i) {
                           return i.param == rill::IoBackend::Epoll ? "epoll" : "auto";
                         });
rill::Runtime rt_for(rill::IoBackend b) { return rill::Builder::new_current_thread().io_backend(b).build(); }
}  // namespace

TEST_P(Any, SelectAChannelReceiveAgainstASleep) {
  auto rt = rt_for(GetParam());
  rt.block_on([]() -> Task<void> {
    auto [tx, rx] = mpsc::channel<int>(4);
    // Nothing sent: the (short) sleep wins, and the receive is dropped without losing anything.
    auto r = co_await rill::select(rx.recv(), rill::sleep(5ms));
    EXPECT_EQ(r.index(), 1u);
    EXPECT_TRUE((co_await tx.send(7)).has_value());
    auto r2 = co_await rill::select(rx.recv(), rill::sleep(1h));
    EXPECT_EQ(r2.index(), 0u);
    EXPECT_EQ(std::get<0>(r2), std::optional<int>(7));
  }());
}

TEST_P(Any, SelectAReadAgainstAnAcceptAndAKeptSleep) {
  auto rt = rt_for(GetParam());
  rt.block_on([]() -> Task<void> {
    auto l = rill::net::TcpListener::bind("127.0.0.1:0");
    EXPECT_TRUE(l.has_value());
    auto p = rill::net::UnixStream::pair();
    EXPECT_TRUE(p.has_value());
    auto& [a, b] = *p;
    char buf[16];
    // A Sleep kept by the caller (an lvalue) is borrowed: it stays usable after the select.
    auto deadline = rill::sleep(1h);
    EXPECT_TRUE(co_await a.write_all("hi"));
    auto r = co_await rill::select(l->accept(), b.read(std::span<char>(buf)), deadline);
    EXPECT_EQ(r.index(), 1u);
    auto n = std::get<1>(r);
    EXPECT_TRUE(n && *n == 2);
    EXPECT_EQ(std::string(buf, 2), "hi");
    EXPECT_FALSE(deadline.is_elapsed());
  }());
}

TEST_P(Any, TimeoutOnAReceiveAnAcceptAndAJoinHandle) {
  auto rt = rt_for(GetParam());
  rt.block_on([]() -> Task<void> {
    auto [tx, rx] = mpsc::channel<int>(1);
    auto r = co_await rill::timeout(5ms, rx.recv());
    EXPECT_FALSE(r.has_value());  // Elapsed: nothing was sent
    EXPECT_TRUE((co_await tx.send(3)).has_value());
    auto r2 = co_await rill::timeout_at(std::chrono::steady_clock::now() + 1h, rx.recv());
    EXPECT_TRUE(r2.has_value());
    EXPECT_EQ(*r2, std::optional<int>(3));

    auto l = rill::net::TcpListener::bind("127.0.0.1:0");
    EXPECT_TRUE(l.has_value());
    auto acc = co_await rill::timeout(5ms, l->accept());
    EXPECT_FALSE(acc.has_value());

    auto jh = rill::spawn([]() -> Task<int> { co_return 42; }());
    auto j = co_await rill::timeout(1h, std::move(jh));
    EXPECT_TRUE(j.has_value());
    EXPECT_EQ(*j, 42);

    // A sleep under a longer timeout completes (void result).
    auto s = co_await rill::timeout(1h, rill::sleep(1ms));
    EXPECT_TRUE(s.has_value());
  }());
}

TEST_P(Any, JoinAndTryJoinMixAwaitablesAndTasks) {
  auto rt = rt_for(GetParam());
  rt.block_on([]() -> Task<void> {
    auto [tx, rx] = mpsc::channel<int>(1);
    auto producer = [](mpsc::Sender<int> tx) -> Task<int> {
      co_await rill::sleep(1ms);
      (void)co_await tx.send(5);
      co_return 1;
    };
    auto [got, one, unit] = co_await rill::join(rx.recv(), producer(tx.clone()), rill::sleep(1ms));
    EXPECT_EQ(got, std::optional<int>(5));
    EXPECT_EQ(one, 1);
    (void)unit;

    auto p = rill::net::UnixStream::pair();
    EXPECT_TRUE(p.has_value());
    auto& [a, b] = *p;
    auto both = co_await rill::try_join(a.write_all("x"), b.write_all("y"));
    EXPECT_TRUE(both.has_value());
    char c[2];
    auto rb = co_await rill::try_join(a.read_exact(std::span<char>(c, 1)),
                                      b.read_exact(std::span<char>(c + 1, 1)));
    EXPECT_TRUE(rb.has_value());
    EXPECT_EQ(std::string(c, 2), "yx");
  }());
}

TEST(SelectAny, MovedAwaitablesAreOwnedByTheCombinator) {
  // A movable awaitable passed as an rvalue lives in the combinator: the combinator may be
  // created first and awaited later.
  auto rt = rill::Builder::new_current_thread().build();
  rt.block_on([]() -> Task<void> {
    auto sel = rill::select(rill::sleep(1h), rill::sleep(1ms));
    auto tmo = rill::timeout(1h, rill::sleep(1ms));
    co_await rill::sleep(2ms);
    auto r = co_await sel;
    EXPECT_EQ(r.index(), 1u);
    EXPECT_TRUE((co_await tmo).has_value());
  }());
}

// Port of tokio-1.24.2/tests/signal_ctrl_c.rs.
#include "harness.hpp"

#include <signal.h>
#include <unistd.h>

using namespace conformance;
using rill::signal::Signal;

namespace {
void send_signal(int signo) {
  ASSERT_EQ(::kill(::getpid(), signo), 0);
}
}  // namespace

TEST(signal_ctrl_c, ctrl_c) {
  block_on([]() -> rill::Task<void> {
    auto ctrl_c = rill::signal::ctrl_c();
    auto [fire, wait] = rill::sync::oneshot::channel<int>();
    auto h = rill::spawn([](rill::sync::oneshot::Receiver<int> wait) -> rill::Task<void> {
      EXPECT_TRUE(co_await wait) << "wait failed";
      send_signal(SIGINT);
    }(std::move(wait)));
    (void)std::move(fire).send(1);
    co_await ctrl_c;
    co_await h;
  }());
}

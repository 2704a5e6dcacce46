// Port of tokio-1.24.2/tests/signal_notify_both.rs.
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

TEST(signal_notify_both, notify_both) {
  block_on([]() -> rill::Task<void> {
    Signal signal1(SIGUSR2);
    Signal signal2(SIGUSR2);
    send_signal(SIGUSR2);
    co_await signal1.recv();
    co_await signal2.recv();
  }());
}

// Port of tokio-1.24.2/tests/signal_drop_recv.rs.
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

TEST(signal_drop_recv, drop_then_get_a_signal) {
  block_on([]() -> rill::Task<void> {
    { Signal sig(SIGUSR1); }
    send_signal(SIGUSR1);
    Signal sig(SIGUSR1);
    co_await sig.recv();
  }());
}

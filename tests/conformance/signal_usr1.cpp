// Port of tokio-1.24.2/tests/signal_usr1.rs.
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

TEST(signal_usr1, signal_usr1) {
  block_on([]() -> rill::Task<void> {
    Signal signal(SIGUSR1);
    send_signal(SIGUSR1);
    co_await signal.recv();
  }());
}

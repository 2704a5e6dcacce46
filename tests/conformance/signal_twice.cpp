// Port of tokio-1.24.2/tests/signal_twice.rs.
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

TEST(signal_twice, twice) {
  block_on([]() -> rill::Task<void> {
    Signal sig(SIGUSR1);
    for (int i = 0; i < 2; ++i) {
      send_signal(SIGUSR1);
      co_await sig.recv();  // rill's recv() has no "stream ended" outcome (Tokio: Some(()))
    }
  }());
}

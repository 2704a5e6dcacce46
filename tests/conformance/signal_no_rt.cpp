// Port of tokio-1.24.2/tests/signal_no_rt.rs. Tokio panics; rill throws RuntimeError.
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

TEST(signal_no_rt, no_runtime_panics_creating_signals) {
  EXPECT_THROW(Signal(SIGHUP), rill::RuntimeError);
}

// Port of tokio-1.24.2/tests/signal_panic.rs. Tokio panics (and checks the panic names the
// caller's file); rill throws std::system_error (EINVAL) naming the signal.
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

#include <system_error>

TEST(signal_panic, signal_panic_caller) {
  auto rt = rill::Builder::new_current_thread().build();
  rt.block_on([]() -> rill::Task<void> {
    EXPECT_THROW(Signal(-1), std::system_error);
    co_return;
  }());
}

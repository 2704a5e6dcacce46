// Port of tokio-1.24.2/tests/signal_drop_signal.rs.
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

TEST(signal_drop_signal, dropping_signal_does_not_deregister_any_other_instances) {
  block_on([]() -> rill::Task<void> {
    std::optional<Signal> first_duplicate_signal(std::in_place, SIGUSR1);
    Signal sig(SIGUSR1);
    std::optional<Signal> second_duplicate_signal(std::in_place, SIGUSR1);
    first_duplicate_signal.reset();
    second_duplicate_signal.reset();
    send_signal(SIGUSR1);
    co_await sig.recv();
  }());
}

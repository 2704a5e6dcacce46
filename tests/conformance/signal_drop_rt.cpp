// Port of tokio-1.24.2/tests/signal_drop_rt.rs.
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

TEST(signal_drop_rt, dropping_loops_does_not_cause_starvation) {
  auto rt = [] { return rill::Builder::new_current_thread().build(); };
  std::optional<rill::Runtime> first_rt(rt());
  std::optional<Signal> first_signal;
  first_rt->block_on([](std::optional<Signal>* s) -> rill::Task<void> {
    s->emplace(SIGUSR1);
    co_return;
  }(&first_signal));
  auto second_rt = rt();
  std::optional<Signal> second_signal;
  second_rt.block_on([](std::optional<Signal>* s) -> rill::Task<void> {
    s->emplace(SIGUSR1);
    co_return;
  }(&second_signal));
  send_signal(SIGUSR1);
  first_rt->block_on([](Signal* s) -> rill::Task<void> { co_await s->recv(); }(&*first_signal));
  first_rt.reset();
  first_signal.reset();
  send_signal(SIGUSR1);
  second_rt.block_on([](Signal* s) -> rill::Task<void> { co_await s->recv(); }(&*second_signal));
}

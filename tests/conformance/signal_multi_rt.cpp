// Port of tokio-1.24.2/tests/signal_multi_rt.rs.
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

#include <thread>
#include <vector>

TEST(signal_multi_rt, multi_loop) {
  for (int round = 0; round < 10; ++round) {
    std::atomic<int> ready{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < 4; ++i)
      threads.emplace_back([&ready] {
        auto rt = rill::Builder::new_current_thread().build();
        rt.block_on([](std::atomic<int>* ready) -> rill::Task<void> {
          Signal signal(SIGHUP);
          ready->fetch_add(1);
          co_await signal.recv();
        }(&ready));
      });
    while (ready.load() < 4)
      std::this_thread::yield();
    send_signal(SIGHUP);
    for (auto& t : threads)
      t.join();
  }
}

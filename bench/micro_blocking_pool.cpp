// Micro benchmark for rill::detail::BlockingPool (runtime/src/blocking/pool.hpp).
#include <benchmark/benchmark.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <vector>

#include "blocking/pool.hpp"

namespace {

using rill::detail::BlockingJob;
using rill::detail::BlockingPool;
using rill::detail::BlockingPoolConfig;

struct Counter {
  std::mutex mu;
  std::condition_variable cv;
  std::atomic<int> remaining{0};
};

struct CountJob : BlockingJob {
  Counter* counter = nullptr;
};

void count_down(BlockingJob* j) noexcept {
  Counter* c = static_cast<CountJob*>(j)->counter;
  if (c->remaining.fetch_sub(1, std::memory_order_acq_rel) == 1) {
    std::lock_guard lk(c->mu);
    c->cv.notify_all();
  }
}

// Spawn 10k trivial jobs and wait for all of them (tokio's spawn_blocking throughput).
// range(0) = max_threads. Jobs are preallocated so only the pool is measured.
void BM_BlockingSpawn10k(benchmark::State& state) {
  constexpr int kJobs = 10'000;
  // Declared before the pool so they outlive its threads (the pool's destructor joins them).
  Counter counter;
  std::vector<CountJob> jobs(kJobs);
  BlockingPoolConfig cfg;
  cfg.max_threads = static_cast<std::size_t>(state.range(0));
  BlockingPool pool(cfg);
  for (auto& j : jobs) {
    j.counter = &counter;
    j.run = &count_down;
    j.cancel = &count_down;
  }
  for (auto _ : state) {
    counter.remaining.store(kJobs);
    for (auto& j : jobs) {
      j.next = nullptr;
      if (!pool.spawn(&j)) state.SkipWithError("spawn failed");
    }
    std::unique_lock lk(counter.mu);
    counter.cv.wait(lk, [&] { return counter.remaining.load() == 0; });
  }
  state.SetItemsProcessed(state.iterations() * kJobs);
}
BENCHMARK(BM_BlockingSpawn10k)
    ->Arg(1)
    ->Arg(4)
    ->Arg(64)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace

// Micro benchmarks for rill::detail::TimerWheel (runtime/src/time/wheel.hpp).
#include <benchmark/benchmark.h>

#include <cstdint>
#include <random>
#include <vector>

#include "time/wheel.hpp"

namespace {

using rill::detail::TimerEntry;
using rill::detail::TimerWheel;

// Fills the wheel with `n` long-lived background timers spread over ~1 hour.
std::vector<TimerEntry> background(TimerWheel& w, std::size_t n) {
  std::vector<TimerEntry> bg(n);
  std::mt19937_64 rng(7);
  for (auto& e : bg) {
    e.deadline = w.elapsed() + 1 + rng() % 3'600'000;
    w.insert(&e);
  }
  return bg;
}

// The common timeout pattern: arm a timer, then cancel it before it fires.
void BM_TimerInsertCancel(benchmark::State& state) {
  TimerWheel w(1'000'000);
  auto bg = background(w, static_cast<std::size_t>(state.range(0)));
  std::vector<std::uint64_t> offsets(4096);
  std::mt19937_64 rng(1);
  for (auto& o : offsets)
    o = 1 + rng() % 60'000;  // up to a minute: levels 0..2
  TimerEntry e;
  std::size_t i = 0;
  for (auto _ : state) {
    e.deadline = w.elapsed() + offsets[i++ & 4095];
    w.insert(&e);
    w.remove(&e);
  }
  benchmark::DoNotOptimize(w.size());
  for (auto& b : bg)
    w.remove(&b);  // entries must not die while linked
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_TimerInsertCancel)->Arg(0)->Arg(100'000);

// Arm a batch of timers and let them all fire. range(0): the deadline spread in ticks (64
// stays on level 0; 100000 exercises cascading from level 2).
void BM_TimerInsertFire(benchmark::State& state) {
  constexpr std::size_t kBatch = 1024;
  const auto spread = static_cast<std::uint64_t>(state.range(0));
  TimerWheel w(0);
  std::vector<TimerEntry> entries(kBatch);
  std::vector<std::uint64_t> offsets(kBatch);
  std::mt19937_64 rng(2);
  for (auto& o : offsets)
    o = 1 + rng() % spread;
  std::size_t fired = 0;
  for (auto _ : state) {
    const std::uint64_t now = w.elapsed();
    for (std::size_t i = 0; i < kBatch; ++i) {
      entries[i].deadline = now + offsets[i];
      w.insert(&entries[i]);
    }
    fired += w.advance(now + spread, [](TimerEntry* e) { benchmark::DoNotOptimize(e); });
  }
  if (fired != kBatch * state.iterations()) state.SkipWithError("not every timer fired");
  state.SetItemsProcessed(static_cast<std::int64_t>(fired));
}
BENCHMARK(BM_TimerInsertFire)->Arg(64)->Arg(100'000);

// Driver-style polling: next_expiration() on a wheel holding many timers.
void BM_TimerNextExpiration(benchmark::State& state) {
  TimerWheel w(1'000'000);
  auto bg = background(w, static_cast<std::size_t>(state.range(0)));
  for (auto _ : state)
    benchmark::DoNotOptimize(w.next_expiration());
  for (auto& b : bg)
    w.remove(&b);
}
BENCHMARK(BM_TimerNextExpiration)->Arg(1'000)->Arg(100'000);

}  // namespace

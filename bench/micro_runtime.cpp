// Micro benches for the runtime core: spawn+join, yield, cross-task wake (oneshot ping-pong),
// block_on round trip, spawn_blocking. Each iteration is one operation; compare ratios across
// commits (the box is shared and noisy).
#include <benchmark/benchmark.h>
#include <rill/rill.hpp>

#include <vector>

namespace {

rill::Runtime& multi() {
  static auto rt = rill::Builder::new_multi_thread().worker_threads(2).build();
  return rt;
}
rill::Runtime& current() {
  static auto rt = rill::Builder::new_current_thread().build();
  return rt;
}
rill::Runtime& pick(const benchmark::State& st) { return st.range(0) ? multi() : current(); }

rill::Task<void> empty() { co_return; }

void BM_SpawnJoin(benchmark::State& st) {
  auto& rt = pick(st);
  const std::int64_t batch = 1000;
  for (auto _ : st) {
    rt.block_on([](std::int64_t n) -> rill::Task<void> {
      std::vector<rill::JoinHandle<void>> hs;
      hs.reserve(n);
      for (std::int64_t i = 0; i < n; ++i) hs.push_back(rill::spawn(empty()));
      for (auto& h : hs) co_await h;
    }(batch));
  }
  st.SetItemsProcessed(st.iterations() * batch);
}
BENCHMARK(BM_SpawnJoin)->Arg(0)->Arg(1)->ArgName("multi")->UseRealTime();

void BM_YieldNow(benchmark::State& st) {
  auto& rt = pick(st);
  const std::int64_t n = 10000;
  for (auto _ : st) {
    rt.block_on([](std::int64_t n) -> rill::Task<void> {
      for (std::int64_t i = 0; i < n; ++i) co_await rill::yield_now();
    }(n));
  }
  st.SetItemsProcessed(st.iterations() * n);
}
BENCHMARK(BM_YieldNow)->Arg(0)->Arg(1)->ArgName("multi")->UseRealTime();

void BM_WakePingPong(benchmark::State& st) {
  auto& rt = pick(st);
  const std::int64_t n = 1000;
  for (auto _ : st) {
    rt.block_on([](std::int64_t n) -> rill::Task<void> {
      for (std::int64_t i = 0; i < n; ++i) {
        auto [tx, rx] = rill::sync::oneshot::channel<int>();
        auto h = rill::spawn([](rill::sync::oneshot::Sender<int> tx) -> rill::Task<void> {
          (void)std::move(tx).send(1);
          co_return;
        }(std::move(tx)));
        (void)co_await rx;
        co_await h;
      }
    }(n));
  }
  st.SetItemsProcessed(st.iterations() * n);
}
BENCHMARK(BM_WakePingPong)->Arg(0)->Arg(1)->ArgName("multi")->UseRealTime();

void BM_BlockOn(benchmark::State& st) {
  auto& rt = pick(st);
  for (auto _ : st) rt.block_on(empty());
}
BENCHMARK(BM_BlockOn)->Arg(0)->Arg(1)->ArgName("multi")->UseRealTime();

void BM_SpawnBlocking(benchmark::State& st) {
  auto& rt = multi();
  const std::int64_t n = 1000;
  for (auto _ : st) {
    rt.block_on([](std::int64_t n) -> rill::Task<void> {
      std::vector<rill::JoinHandle<std::int64_t>> hs;
      for (std::int64_t i = 0; i < n; ++i) hs.push_back(rill::spawn_blocking([i] { return i; }));
      for (auto& h : hs) benchmark::DoNotOptimize(co_await h);
    }(n));
  }
  st.SetItemsProcessed(st.iterations() * n);
}
BENCHMARK(BM_SpawnBlocking)->UseRealTime();

}  // namespace

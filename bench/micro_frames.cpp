// Micro benchmarks for the coroutine frame allocator (rill/detail/frame_alloc.hpp) against
// plain ::operator new/delete.
#include <benchmark/benchmark.h>

#include <coroutine>
#include <cstddef>
#include <exception>
#include <new>
#include <source_location>
#include <utility>

#include "rill/detail/frame_alloc.hpp"

namespace {

void BM_FrameAllocFree(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const auto site = std::source_location::current();
  for (auto _ : state) {
    void* p = rill::detail::frame_alloc(n, site);
    benchmark::DoNotOptimize(p);
    rill::detail::frame_free(p, n);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_FrameAllocFree)->Arg(64)->Arg(256)->Arg(1000)->Arg(4000)->Arg(16000)->Arg(100000);
BENCHMARK(BM_FrameAllocFree)->Arg(256)->Threads(2);

void BM_OperatorNewDelete(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  for (auto _ : state) {
    void* p = ::operator new(n);
    benchmark::DoNotOptimize(p);
    ::operator delete(p, n);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_OperatorNewDelete)->Arg(64)->Arg(256)->Arg(1000)->Arg(4000)->Arg(16000)->Arg(100000);
BENCHMARK(BM_OperatorNewDelete)->Arg(256)->Threads(2);

// Many frames live at once (a burst of tasks), then all freed: exercises the free lists
// beyond a single hot block.
void BM_FrameBurst(benchmark::State& state) {
  constexpr std::size_t kLive = 256, kSize = 200;
  const auto site = std::source_location::current();
  void* ptrs[kLive];
  for (auto _ : state) {
    for (auto& p : ptrs)
      p = rill::detail::frame_alloc(kSize, site);
    benchmark::DoNotOptimize(ptrs);
    for (auto* p : ptrs)
      rill::detail::frame_free(p, kSize);
  }
  state.SetItemsProcessed(state.iterations() * kLive);
}
BENCHMARK(BM_FrameBurst);

// A real coroutine whose promise uses the allocator, created and destroyed.
struct Lazy {
  struct promise_type {
    template <class... Args>
    static void* operator new(std::size_t n, rill::detail::FrameSite where = {}, Args&&...) {
      return rill::detail::frame_alloc(n, where);
    }
    static void operator delete(void* p, std::size_t n) noexcept { rill::detail::frame_free(p, n); }
    Lazy get_return_object() {
      return Lazy{std::coroutine_handle<promise_type>::from_promise(*this)};
    }
    std::suspend_always initial_suspend() noexcept { return {}; }
    std::suspend_always final_suspend() noexcept { return {}; }
    void return_void() {}
    void unhandled_exception() { std::terminate(); }
  };
  std::coroutine_handle<promise_type> h;
};

[[gnu::noinline]] Lazy bench_coro(int x) {
  benchmark::DoNotOptimize(x);
  co_return;
}

void BM_CoroutineCreateDestroy(benchmark::State& state) {
  for (auto _ : state) {
    Lazy l = bench_coro(1);
    benchmark::DoNotOptimize(l.h);
    l.h.destroy();
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_CoroutineCreateDestroy);

}  // namespace

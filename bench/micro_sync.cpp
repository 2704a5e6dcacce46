// Micro benchmarks for rill::sync, on the workloads of Tokio's benches/sync_*.rs (mpsc contention
// 5 producers x 1000 sends, oneshot request/reply, semaphore uncontended/contended, mutex
// contended, notify ping-pong). Each iteration runs the whole workload in Runtime::block_on on a
// 2-worker runtime; items_per_second gives ns/op as 1e9 / items_per_second.
#include <benchmark/benchmark.h>

#include <atomic>
#include <memory>
#include <vector>

#include <rill/rill.hpp>

namespace {

using rill::Task;
namespace mpsc = rill::sync::mpsc;
namespace oneshot = rill::sync::oneshot;

rill::Runtime& runtime() {
  static rill::Runtime rt = rill::Builder::new_multi_thread().worker_threads(2).build();
  return rt;
}

// Tokio sync_mpsc contention_bounded / contention_bounded_full: 5 producers x 1000 sends.
void BM_MpscContentionBounded(benchmark::State& state) {
  const auto cap = static_cast<std::size_t>(state.range(0));
  for (auto _ : state) {
    runtime().block_on([](std::size_t cap) -> Task<void> {
      auto [tx, rx] = mpsc::channel<int>(cap);
      for (int p = 0; p < 5; ++p)
        (void)rill::spawn([](mpsc::Sender<int> tx) -> Task<void> {
          for (int i = 0; i < 1000; ++i)
            (void)co_await tx.send(i);
        }(tx.clone()));
      {
        auto drop = std::move(tx);
      }
      while (co_await rx.recv()) {
      }
    }(cap));
  }
  state.SetItemsProcessed(state.iterations() * 5000);
}
BENCHMARK(BM_MpscContentionBounded)->Arg(1'000'000)->Arg(100)->UseRealTime();

// Tokio sync_mpsc contention_unbounded: 5 producers x 1000 sends.
void BM_MpscContentionUnbounded(benchmark::State& state) {
  for (auto _ : state) {
    runtime().block_on([]() -> Task<void> {
      auto [tx, rx] = mpsc::unbounded_channel<int>();
      for (int p = 0; p < 5; ++p)
        (void)rill::spawn([](mpsc::UnboundedSender<int> tx) -> Task<void> {
          for (int i = 0; i < 1000; ++i)
            (void)tx.send(i);
          co_return;
        }(tx.clone()));
      {
        auto drop = std::move(tx);
      }
      while (co_await rx.recv()) {
      }
    }());
  }
  state.SetItemsProcessed(state.iterations() * 5000);
}
BENCHMARK(BM_MpscContentionUnbounded)->UseRealTime();

// Tokio sync_mpsc uncontented_bounded: one task sends 5000 then receives them.
void BM_MpscUncontendedBounded(benchmark::State& state) {
  for (auto _ : state) {
    runtime().block_on([]() -> Task<void> {
      auto [tx, rx] = mpsc::channel<int>(1'000'000);
      for (int i = 0; i < 5000; ++i)
        (void)co_await tx.send(i);
      for (int i = 0; i < 5000; ++i)
        (void)co_await rx.recv();
    }());
  }
  state.SetItemsProcessed(state.iterations() * 5000);
}
BENCHMARK(BM_MpscUncontendedBounded)->UseRealTime();

// Tokio sync_mpsc_oneshot request_reply: a server task answers 1000 requests, each carrying a
// oneshot for the reply.
void BM_OneshotRequestReply(benchmark::State& state) {
  for (auto _ : state) {
    runtime().block_on([]() -> Task<void> {
      auto [tx, rx] = mpsc::channel<oneshot::Sender<int>>(10);
      auto server = rill::spawn([](mpsc::Receiver<oneshot::Sender<int>> rx) -> Task<void> {
        while (auto reply = co_await rx.recv())
          (void)std::move(*reply).send(1);
      }(std::move(rx)));
      for (int i = 0; i < 1000; ++i) {
        auto [otx, orx] = oneshot::channel<int>();
        (void)co_await tx.send(std::move(otx));
        (void)co_await orx;
      }
      {
        auto drop = std::move(tx);
      }
      co_await server;
    }());
  }
  state.SetItemsProcessed(state.iterations() * 1000);
}
BENCHMARK(BM_OneshotRequestReply)->UseRealTime();

// Tokio sync_semaphore uncontended: acquire and release in one task (x 6 per Tokio iteration;
// here 6000 per block_on to amortize it).
void BM_SemaphoreUncontended(benchmark::State& state) {
  for (auto _ : state) {
    runtime().block_on([]() -> Task<void> {
      rill::sync::Semaphore s(10);
      for (int i = 0; i < 6000; ++i) {
        auto p = co_await s.acquire();
        benchmark::DoNotOptimize(p);
      }
    }());
  }
  state.SetItemsProcessed(state.iterations() * 6000);
}
BENCHMARK(BM_SemaphoreUncontended)->UseRealTime();

// Tokio sync_semaphore contended: 6 tasks on 5 permits, each acquiring 1000 times.
void BM_SemaphoreContended(benchmark::State& state) {
  for (auto _ : state) {
    runtime().block_on([]() -> Task<void> {
      auto s = std::make_shared<rill::sync::Semaphore>(5);
      std::vector<rill::JoinHandle<void>> hs;
      for (int t = 0; t < 6; ++t)
        hs.push_back(rill::spawn([](std::shared_ptr<rill::sync::Semaphore> s) -> Task<void> {
          for (int i = 0; i < 1000; ++i) {
            auto p = co_await s->acquire();
            benchmark::DoNotOptimize(p);
          }
        }(s)));
      for (auto& h : hs)
        co_await h;
    }());
  }
  state.SetItemsProcessed(state.iterations() * 6000);
}
BENCHMARK(BM_SemaphoreContended)->UseRealTime();

// Mutex: 5 tasks x 1000 lock/increment/unlock (Tokio's sync_mutex contended shape).
void BM_MutexContended(benchmark::State& state) {
  for (auto _ : state) {
    runtime().block_on([]() -> Task<void> {
      auto m = std::make_shared<rill::sync::Mutex<long>>(0);
      std::vector<rill::JoinHandle<void>> hs;
      for (int t = 0; t < 5; ++t)
        hs.push_back(rill::spawn([](std::shared_ptr<rill::sync::Mutex<long>> m) -> Task<void> {
          for (int i = 0; i < 1000; ++i) {
            auto g = co_await m->lock();
            ++*g;
          }
        }(m)));
      for (auto& h : hs)
        co_await h;
    }());
  }
  state.SetItemsProcessed(state.iterations() * 5000);
}
BENCHMARK(BM_MutexContended)->UseRealTime();

// Mutex uncontended lock/unlock in one task.
void BM_MutexUncontended(benchmark::State& state) {
  for (auto _ : state) {
    runtime().block_on([]() -> Task<void> {
      rill::sync::Mutex<long> m(0);
      for (int i = 0; i < 10000; ++i) {
        auto g = co_await m.lock();
        ++*g;
      }
    }());
  }
  state.SetItemsProcessed(state.iterations() * 10000);
}
BENCHMARK(BM_MutexUncontended)->UseRealTime();

// Tokio sync_notify notify_one: waiter tasks loop on notified(); the driver notifies until they
// have been woken 1000 times in total. Arg = number of waiter tasks.
void BM_NotifyOne(benchmark::State& state) {
  const int waiters = static_cast<int>(state.range(0));
  for (auto _ : state) {
    runtime().block_on([](int waiters) -> Task<void> {
      auto n = std::make_shared<rill::sync::Notify>();
      auto count = std::make_shared<std::atomic<int>>(0);
      auto stop = std::make_shared<std::atomic<bool>>(false);
      std::vector<rill::JoinHandle<void>> hs;
      for (int w = 0; w < waiters; ++w)
        hs.push_back(rill::spawn([](auto n, auto count, auto stop) -> Task<void> {
          while (!stop->load(std::memory_order_acquire)) {
            co_await n->notified();
            count->fetch_add(1, std::memory_order_relaxed);
          }
        }(n, count, stop)));
      while (count->load(std::memory_order_relaxed) < 1000) {
        n->notify_one();
        co_await rill::yield_now();
      }
      stop->store(true, std::memory_order_release);
      for (auto& h : hs) {
        while (!h.is_finished()) {  // a waiter may re-arm after one notify_waiters()
          n->notify_waiters();
          co_await rill::yield_now();
        }
        co_await h;
      }
    }(waiters));
  }
  state.SetItemsProcessed(state.iterations() * 1000);
}
BENCHMARK(BM_NotifyOne)->Arg(1)->Arg(10)->UseRealTime();

}  // namespace

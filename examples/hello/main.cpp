// examples/hello: the smallest tour of rill. Spawns 100,000 tasks; each one sleeps on the timer
// wheel, yields to the scheduler, and hands a small blocking job to the blocking pool. Then it
// prints what happened, including what the frame allocator saw.
#include <rill/rill.hpp>

#include <fmt/format.h>

#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

using namespace std::chrono_literals;

// One task: sleep 0-9 ms, yield, then do "blocking" work (here: a checksum) off the workers.
rill::Task<std::uint64_t> worker(int i) {
  co_await rill::sleep(std::chrono::milliseconds(i % 10));
  co_await rill::yield_now();
  std::uint64_t sum = co_await rill::spawn_blocking([i] {
    std::uint64_t s = 0;
    for (int k = 0; k <= i % 100; ++k) s += static_cast<std::uint64_t>(k);
    return s;
  });
  co_return sum;
}

rill::Task<void> run(int n) {
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<rill::JoinHandle<std::uint64_t>> handles;
  handles.reserve(n);
  for (int i = 0; i < n; ++i) handles.push_back(rill::spawn(worker(i)));
  std::uint64_t total = 0;
  for (auto& h : handles) total += co_await h;
  const auto ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0);

  // The expected total: sum over i of (i % 100)(i % 100 + 1) / 2.
  std::uint64_t expect = 0;
  for (int i = 0; i < n; ++i) expect += static_cast<std::uint64_t>(i % 100) * (i % 100 + 1) / 2;

  fmt::print("hello from rill: {} tasks slept, yielded and called spawn_blocking on {} workers\n",
             n, rill::Handle::current().num_workers());
  fmt::print("  checksum {} ({}), wall time {:.1f} ms\n", total,
             total == expect ? "correct" : "WRONG", ms.count());
  handles.clear();  // drop the JoinHandles: their task cells are freed
  auto totals = rill::frames::totals();
  fmt::print("  coroutine frames allocated: {}, still live: {}\n", totals.total_allocations,
             totals.live_frames);
  // rill's own task cells go through the same allocator; the coroutine sites are what a service
  // author tunes, so list those.
  for (const auto& site : rill::frames::snapshot()) {
    if (site.total < 1000 || site.function.find("rill::detail::") != std::string::npos) continue;
    fmt::print("  {:>7} frames of {:>4} bytes: {}\n", site.total, site.frame_size, site.function);
  }
  if (total != expect) throw std::runtime_error("checksum mismatch");
}

int main() {
  auto rt = rill::Builder::new_multi_thread().build();
  rt.block_on(run(100'000));
  return 0;
}

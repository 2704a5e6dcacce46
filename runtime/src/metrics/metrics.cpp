// metrics/metrics.cpp: RuntimeMetrics (reads the scheduler's per-core counters) and
// RuntimeMonitor (tokio-metrics style intervals).
#include "rill/metrics.hpp"

#include <algorithm>
#include <limits>
#include <stdexcept>
#include <string>

#include "rill/runtime.hpp"
#include "scheduler/scheduler.hpp"

namespace rill {

namespace {
std::uint64_t load(const std::atomic<std::uint64_t>& a) noexcept {
  return a.load(std::memory_order_relaxed);
}
}  // namespace

std::size_t RuntimeMetrics::num_workers() const noexcept {
  return sched_->num_workers();
}
std::size_t RuntimeMetrics::num_alive_tasks() const {
  return sched_->num_alive_tasks();
}
std::size_t RuntimeMetrics::global_queue_depth() const noexcept {
  return sched_->global_queue_depth();
}
std::uint64_t RuntimeMetrics::spawned_tasks_count() const noexcept {
  return sched_->spawned_tasks_count();
}
std::uint64_t RuntimeMetrics::remote_schedule_count() const noexcept {
  return sched_->remote_schedule_count();
}
std::uint64_t RuntimeMetrics::budget_forced_yield_count() const noexcept {
  std::uint64_t n = 0;
  for (std::size_t i = 0; i < sched_->num_workers(); ++i)
    n += load(sched_->core(i).stats.budget_forced_yield_count);
  return n;
}
std::uint64_t RuntimeMetrics::io_driver_ready_count() const noexcept {
  std::uint64_t n = 0;
  for (std::size_t i = 0; i < sched_->num_workers(); ++i)
    n += sched_->core(i).driver.ready_count();
  return n;
}
std::size_t RuntimeMetrics::num_blocking_threads() const noexcept {
  return sched_->blocking().num_threads();
}
std::size_t RuntimeMetrics::num_idle_blocking_threads() const noexcept {
  return sched_->blocking().num_idle_threads();
}
std::size_t RuntimeMetrics::blocking_queue_depth() const noexcept {
  return sched_->blocking().queue_depth();
}

void RuntimeMetrics::check_worker(std::size_t w) const {
  if (w >= sched_->num_workers())
    throw std::out_of_range("rill::RuntimeMetrics: worker index " + std::to_string(w) +
                            " out of range (the runtime has " +
                            std::to_string(sched_->num_workers()) + " workers)");
}

#define RILL_WORKER_COUNTER(name, field)                    \
  std::uint64_t RuntimeMetrics::name(std::size_t w) const { \
    check_worker(w);                                        \
    return load(sched_->core(w).stats.field);               \
  }
RILL_WORKER_COUNTER(worker_park_count, park_count)
RILL_WORKER_COUNTER(worker_noop_count, noop_count)
RILL_WORKER_COUNTER(worker_steal_count, steal_count)
RILL_WORKER_COUNTER(worker_steal_operations, steal_operations)
RILL_WORKER_COUNTER(worker_poll_count, poll_count)
RILL_WORKER_COUNTER(worker_local_schedule_count, local_schedule_count)
RILL_WORKER_COUNTER(worker_overflow_count, overflow_count)
RILL_WORKER_COUNTER(worker_long_poll_count, long_poll_count)
#undef RILL_WORKER_COUNTER

std::uint64_t RuntimeMetrics::worker_park_unpark_count(std::size_t w) const {
  check_worker(w);
  const auto& s = sched_->core(w).stats;
  // Read unparks first: a park counted after it cannot make the sum look "unparked" wrongly.
  const std::uint64_t unparks = load(s.unpark_count);
  return load(s.park_count) + unparks;
}
std::chrono::nanoseconds RuntimeMetrics::worker_total_busy_duration(std::size_t w) const {
  check_worker(w);
  return std::chrono::nanoseconds(load(sched_->core(w).stats.busy_ns));
}
std::size_t RuntimeMetrics::worker_local_queue_depth(std::size_t w) const {
  check_worker(w);
  return std::min<std::size_t>(sched_->core(w).run_queue.len(), detail::LocalQueue::kCapacity);
}
std::chrono::nanoseconds RuntimeMetrics::worker_mean_poll_time(std::size_t w) const {
  check_worker(w);
  return std::chrono::nanoseconds(load(sched_->core(w).stats.mean_poll_ns));
}
std::chrono::nanoseconds RuntimeMetrics::worker_total_poll_time(std::size_t w) const {
  check_worker(w);
  return std::chrono::nanoseconds(load(sched_->core(w).stats.poll_time_ns));
}

bool RuntimeMetrics::poll_time_histogram_enabled() const noexcept {
  return sched_->config().poll_time_histogram_enabled;
}
std::size_t RuntimeMetrics::poll_time_histogram_num_buckets() const noexcept {
  return poll_time_histogram_enabled() ? sched_->config().poll_time_histogram.num_buckets : 0;
}
std::pair<std::chrono::nanoseconds, std::chrono::nanoseconds>
RuntimeMetrics::poll_time_histogram_bucket_range(std::size_t b) const {
  const std::size_t n = poll_time_histogram_num_buckets();
  if (b >= n)
    throw std::out_of_range("rill::RuntimeMetrics: histogram bucket " + std::to_string(b) +
                            " out of range (" + std::to_string(n) + " buckets)");
  const auto& h = sched_->config().poll_time_histogram;
  const std::chrono::nanoseconds res = h.resolution;
  constexpr auto kMax = std::chrono::nanoseconds::max();
  std::chrono::nanoseconds lo, hi;
  if (h.scale == HistogramScale::Linear) {
    lo = res * static_cast<std::int64_t>(b);
    hi = res * static_cast<std::int64_t>(b + 1);
  } else {
    // Saturate instead of overflowing for very long ranges.
    auto pow2 = [&](std::size_t k) {
      if (k >= 62 || res.count() > (kMax.count() >> k)) return kMax;
      return res * (std::int64_t{1} << k);
    };
    lo = b == 0 ? std::chrono::nanoseconds(0) : pow2(b - 1);
    hi = pow2(b);
  }
  if (b + 1 == n) hi = kMax;
  return {lo, hi};
}
std::uint64_t RuntimeMetrics::poll_time_histogram_bucket_count(std::size_t w, std::size_t b) const {
  check_worker(w);
  if (b >= poll_time_histogram_num_buckets())
    throw std::out_of_range("rill::RuntimeMetrics: histogram bucket " + std::to_string(b) +
                            " out of range");
  return load(sched_->core(w).stats.poll_hist[b]);
}
std::chrono::nanoseconds RuntimeMetrics::long_poll_threshold() const noexcept {
  const auto t = sched_->config().long_poll_threshold;
  return t.count() > 0 ? t : std::chrono::nanoseconds(0);
}

// ---- RuntimeIntervalMetrics / RuntimeMonitor ----------------------------------------------------

double RuntimeIntervalMetrics::busy_ratio() const noexcept {
  const double denom = static_cast<double>(elapsed.count()) * static_cast<double>(workers_count);
  if (denom <= 0) return 0.0;
  return std::clamp(static_cast<double>(total_busy_duration.count()) / denom, 0.0, 1.0);
}
double RuntimeIntervalMetrics::mean_polls_per_park() const noexcept {
  if (total_park_count == 0) return static_cast<double>(total_polls_count);
  return static_cast<double>(total_polls_count) / static_cast<double>(total_park_count);
}

struct RuntimeMonitor::Sample {
  std::chrono::steady_clock::time_point at;
  struct Worker {
    std::uint64_t park, noop, steal, steal_ops, local_sched, overflow, polls, busy_ns, poll_ns,
        long_polls;
  };
  std::vector<Worker> workers;
  std::vector<std::uint64_t> hist;  // summed over workers
  std::uint64_t remote = 0, forced = 0, io_ready = 0;
};

RuntimeMonitor::RuntimeMonitor(const Handle& h)
    : m_(h.metrics()), last_(std::make_shared<Sample>(take())) {}

RuntimeMonitor::Sample RuntimeMonitor::take() const {
  Sample s;
  s.at = std::chrono::steady_clock::now();
  const std::size_t n = m_.num_workers(), nb = m_.poll_time_histogram_num_buckets();
  s.hist.assign(nb, 0);
  for (std::size_t w = 0; w < n; ++w) {
    s.workers.push_back({m_.worker_park_count(w), m_.worker_noop_count(w), m_.worker_steal_count(w),
                         m_.worker_steal_operations(w), m_.worker_local_schedule_count(w),
                         m_.worker_overflow_count(w), m_.worker_poll_count(w),
                         static_cast<std::uint64_t>(m_.worker_total_busy_duration(w).count()),
                         static_cast<std::uint64_t>(m_.worker_total_poll_time(w).count()),
                         m_.worker_long_poll_count(w)});
    for (std::size_t b = 0; b < nb; ++b)
      s.hist[b] += m_.poll_time_histogram_bucket_count(w, b);
  }
  s.remote = m_.remote_schedule_count();
  s.forced = m_.budget_forced_yield_count();
  s.io_ready = m_.io_driver_ready_count();
  return s;
}

RuntimeIntervalMetrics RuntimeMonitor::next_interval() {
  Sample now = take();
  const Sample& prev = *last_;
  RuntimeIntervalMetrics r;
  const std::size_t n = now.workers.size();
  r.workers_count = n;
  r.elapsed = std::chrono::duration_cast<std::chrono::nanoseconds>(now.at - prev.at);
  // total / max / min of one per-worker delta.
  auto agg = [&](auto field, std::uint64_t& total, std::uint64_t& mx, std::uint64_t& mn) {
    total = 0;
    mx = 0;
    mn = std::numeric_limits<std::uint64_t>::max();
    for (std::size_t w = 0; w < n; ++w) {
      const std::uint64_t d = now.workers[w].*field - prev.workers[w].*field;
      total += d;
      mx = std::max(mx, d);
      mn = std::min(mn, d);
    }
    if (n == 0) mn = 0;
  };
  using W = Sample::Worker;
  agg(&W::park, r.total_park_count, r.max_park_count, r.min_park_count);
  agg(&W::noop, r.total_noop_count, r.max_noop_count, r.min_noop_count);
  agg(&W::steal, r.total_steal_count, r.max_steal_count, r.min_steal_count);
  agg(&W::steal_ops, r.total_steal_operations, r.max_steal_operations, r.min_steal_operations);
  agg(&W::local_sched, r.total_local_schedule_count, r.max_local_schedule_count,
      r.min_local_schedule_count);
  agg(&W::overflow, r.total_overflow_count, r.max_overflow_count, r.min_overflow_count);
  agg(&W::polls, r.total_polls_count, r.max_polls_count, r.min_polls_count);
  std::uint64_t tb, xb, nbusy;
  agg(&W::busy_ns, tb, xb, nbusy);
  r.total_busy_duration = std::chrono::nanoseconds(tb);
  r.max_busy_duration = std::chrono::nanoseconds(xb);
  r.min_busy_duration = std::chrono::nanoseconds(nbusy);
  std::uint64_t tp, xp, np, tl, xl, nl;
  agg(&W::poll_ns, tp, xp, np);
  agg(&W::long_polls, tl, xl, nl);
  r.long_poll_count = tl;
  r.mean_poll_duration =
      std::chrono::nanoseconds(r.total_polls_count ? tp / r.total_polls_count : 0);
  r.mean_poll_duration_worker_min = std::chrono::nanoseconds::max();
  r.mean_poll_duration_worker_max = std::chrono::nanoseconds(0);
  r.min_local_queue_depth = std::numeric_limits<std::size_t>::max();
  for (std::size_t w = 0; w < n; ++w) {
    const auto mp = m_.worker_mean_poll_time(w);
    r.mean_poll_duration_worker_min = std::min(r.mean_poll_duration_worker_min, mp);
    r.mean_poll_duration_worker_max = std::max(r.mean_poll_duration_worker_max, mp);
    const std::size_t q = m_.worker_local_queue_depth(w);
    r.total_local_queue_depth += q;
    r.max_local_queue_depth = std::max(r.max_local_queue_depth, q);
    r.min_local_queue_depth = std::min(r.min_local_queue_depth, q);
  }
  if (n == 0) {
    r.mean_poll_duration_worker_min = std::chrono::nanoseconds(0);
    r.min_local_queue_depth = 0;
  }
  r.poll_time_histogram.resize(now.hist.size());
  for (std::size_t b = 0; b < now.hist.size(); ++b)
    r.poll_time_histogram[b] = now.hist[b] - (b < prev.hist.size() ? prev.hist[b] : 0);
  r.num_remote_schedules = now.remote - prev.remote;
  r.budget_forced_yield_count = now.forced - prev.forced;
  r.io_driver_ready_count = now.io_ready - prev.io_ready;
  r.global_queue_depth = m_.global_queue_depth();
  r.blocking_queue_depth = m_.blocking_queue_depth();
  r.live_tasks_count = m_.num_alive_tasks();
  r.blocking_threads_count = m_.num_blocking_threads();
  r.idle_blocking_threads_count = m_.num_idle_blocking_threads();
  last_ = std::make_shared<Sample>(std::move(now));
  return r;
}

}  // namespace rill

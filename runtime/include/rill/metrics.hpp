// rill/metrics.hpp: runtime metrics with Tokio's names and meanings, tokio-metrics style
// interval sampling (RuntimeMonitor), and Prometheus text / JSON exposition.
//
// Every counter is maintained by the scheduler at all times (plain per-worker stores, no
// atomic read-modify-write on the hot path); reading them is cheap and never stops a worker.
// No clock is read per poll unless the poll-time histogram is enabled (as in Tokio): busy time
// is measured per run of polls (from the first poll after a park or driver poll to the next
// park or driver poll), and without the histogram the poll-time figures derive from those runs.
// Runs are timed with the CPU's time-stamp counter where it is invariant (calibrated against
// steady_clock during the process's first 20 ms; steady_clock until then and elsewhere).
// Mirrors tokio::runtime::RuntimeMetrics (worker metrics, poll-time histogram) and
// tokio_metrics::RuntimeMonitor.
#pragma once

#include "rill/detail/compiler.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace rill {

class Runtime;
class Handle;
namespace detail {
class Scheduler;
}

/// How poll times are bucketed. Mirrors tokio::runtime::HistogramScale.
enum class HistogramScale : std::uint8_t {
  /// Bucket i covers [i * resolution, (i + 1) * resolution); the last bucket is unbounded.
  Linear,
  /// Bucket 0 covers [0, resolution), bucket i >= 1 covers [resolution * 2^(i-1),
  /// resolution * 2^i); the last bucket is unbounded.
  Log,
};

/// Shape of the per-worker poll-time histogram. The defaults are Tokio's
/// (`metrics_poll_count_histogram_*`): linear, 10 buckets of 100 µs, the last one unbounded.
/// Builder::build() rejects a resolution <= 0 and a bucket count of 0 or above 1024 with a
/// RuntimeError.
struct HistogramConfiguration {
  HistogramScale scale = HistogramScale::Linear;
  /// Width of the first bucket (Linear: of every bucket).
  std::chrono::nanoseconds resolution = std::chrono::microseconds(100);
  /// Number of buckets, the last one unbounded.
  std::size_t num_buckets = 10;
};

/// A read-only view of a runtime's metrics. Cheap to copy (holds a reference to the runtime's
/// scheduler, which it keeps alive; reading a shut-down runtime returns the final values).
/// Every method is thread-safe and lock-free except num_alive_tasks() (takes the owned-task
/// list locks briefly). Counters are read with relaxed loads, so values read together may be
/// from slightly different instants. Per-worker methods take a worker index in
/// [0, num_workers()) and throw std::out_of_range otherwise. Counters only increase.
/// Mirrors tokio::runtime::RuntimeMetrics (including the tokio_unstable ones).
class RuntimeMetrics {
 public:
  /// Internal: use Runtime::metrics() or Handle::metrics().
  explicit RuntimeMetrics(std::shared_ptr<detail::Scheduler> s) noexcept : sched_(std::move(s)) {}

  /// Number of worker threads (1 for current_thread). Static for a runtime.
  std::size_t num_workers() const noexcept;
  /// Tasks spawned and not yet completed or cancelled (coroutine tasks; spawn_blocking jobs
  /// are counted by the blocking metrics instead).
  std::size_t num_alive_tasks() const;
  /// Tasks currently in the global (injection) queue: spawned or woken from outside the
  /// runtime's workers, or moved there when a local queue overflowed.
  std::size_t global_queue_depth() const noexcept;
  /// Tasks spawned on this runtime since it was created (coroutine tasks).
  std::uint64_t spawned_tasks_count() const noexcept;
  /// Tasks scheduled from outside the runtime's workers (through the global queue).
  std::uint64_t remote_schedule_count() const noexcept;
  /// Times a task was forced to yield because its cooperative budget (128) ran out, summed
  /// over workers.
  std::uint64_t budget_forced_yield_count() const noexcept;
  /// I/O completions processed by the workers' drivers (unpark notifications excluded).
  std::uint64_t io_driver_ready_count() const noexcept;
  /// Threads in the blocking pool (busy or idle).
  std::size_t num_blocking_threads() const noexcept;
  /// Idle threads in the blocking pool.
  std::size_t num_idle_blocking_threads() const noexcept;
  /// Jobs queued in the blocking pool and not yet started.
  std::size_t blocking_queue_depth() const noexcept;

  /// Times worker `w` parked (went to sleep for lack of work).
  std::uint64_t worker_park_count(std::size_t w) const;
  /// Times worker `w` parked plus times it unparked: odd while it is parked.
  std::uint64_t worker_park_unpark_count(std::size_t w) const;
  /// Times worker `w` parked without having polled any task since its previous park (a
  /// wake-up that found nothing to do).
  std::uint64_t worker_noop_count(std::size_t w) const;
  /// Tasks worker `w` stole from other workers' local queues.
  std::uint64_t worker_steal_count(std::size_t w) const;
  /// Steal operations by worker `w` (each moves one or more tasks).
  std::uint64_t worker_steal_operations(std::size_t w) const;
  /// Task polls performed by worker `w`.
  std::uint64_t worker_poll_count(std::size_t w) const;
  /// Time worker `w` spent running tasks (from taking a task to the end of its run of polls,
  /// LIFO-slot polls included), i.e. not parked or searching.
  std::chrono::nanoseconds worker_total_busy_duration(std::size_t w) const;
  /// Tasks scheduled on worker `w`'s local queue or LIFO slot from within the runtime.
  std::uint64_t worker_local_schedule_count(std::size_t w) const;
  /// Times worker `w`'s local queue overflowed (half of it moved to the global queue).
  std::uint64_t worker_overflow_count(std::size_t w) const;
  /// Tasks currently in worker `w`'s local queue (the LIFO slot is not counted, as in Tokio).
  std::size_t worker_local_queue_depth(std::size_t w) const;
  /// Exponentially weighted moving average of worker `w`'s poll times (alpha 0.1 per poll,
  /// Tokio's); zero before its first poll. With the poll-time histogram each poll is timed;
  /// without it (the default) each run of polls counts as that many polls of its mean duration
  /// (scheduling overhead between the polls included, as Tokio's MetricsBatch).
  std::chrono::nanoseconds worker_mean_poll_time(std::size_t w) const;
  /// Long polls of worker `w` reported by the long-poll detector (rill extension; 0 when the
  /// detector is off). Polls that ended before the watchdog saw them outlive the threshold are
  /// not counted (see diagnostics::LongPollPhase).
  std::uint64_t worker_long_poll_count(std::size_t w) const;
  /// Sum of worker `w`'s poll times (rill extension; the Prometheus histogram's _sum). Exact
  /// with the poll-time histogram; otherwise the sum of its runs of polls (as mean poll time).
  std::chrono::nanoseconds worker_total_poll_time(std::size_t w) const;

  /// True when the poll-time histogram is recorded (default off, as in Tokio; see
  /// Builder::enable_metrics_poll_time_histogram).
  bool poll_time_histogram_enabled() const noexcept;
  /// Number of histogram buckets (0 when disabled).
  std::size_t poll_time_histogram_num_buckets() const noexcept;
  /// [start, end) of bucket `b`; the last bucket's end is nanoseconds::max(). Throws
  /// std::out_of_range for a bad bucket.
  std::pair<std::chrono::nanoseconds, std::chrono::nanoseconds> poll_time_histogram_bucket_range(
      std::size_t b) const;
  /// Polls by worker `w` whose duration fell in bucket `b`. Throws std::out_of_range.
  std::uint64_t poll_time_histogram_bucket_count(std::size_t w, std::size_t b) const;
  /// The long-poll threshold in effect (0: detector off).
  std::chrono::nanoseconds long_poll_threshold() const noexcept;

  /// Internal.
  detail::Scheduler* scheduler() const noexcept { return sched_.get(); }

 private:
  void check_worker(std::size_t w) const;
  std::shared_ptr<detail::Scheduler> sched_;
};

/// One sampling interval of a RuntimeMonitor: totals, minima and maxima over workers of the
/// counters' increase during the interval, gauges sampled at its end, and derived ratios.
/// Field names and meanings mirror tokio_metrics::RuntimeMetrics.
struct RuntimeIntervalMetrics {
  std::size_t workers_count = 0;
  std::uint64_t total_park_count = 0, max_park_count = 0, min_park_count = 0;
  std::uint64_t total_noop_count = 0, max_noop_count = 0, min_noop_count = 0;
  std::uint64_t total_steal_count = 0, max_steal_count = 0, min_steal_count = 0;
  std::uint64_t total_steal_operations = 0, max_steal_operations = 0, min_steal_operations = 0;
  std::uint64_t num_remote_schedules = 0;
  std::uint64_t total_local_schedule_count = 0, max_local_schedule_count = 0,
                min_local_schedule_count = 0;
  std::uint64_t total_overflow_count = 0, max_overflow_count = 0, min_overflow_count = 0;
  std::uint64_t total_polls_count = 0, max_polls_count = 0, min_polls_count = 0;
  std::chrono::nanoseconds total_busy_duration{0}, max_busy_duration{0}, min_busy_duration{0};
  std::size_t global_queue_depth = 0;
  std::size_t total_local_queue_depth = 0, max_local_queue_depth = 0, min_local_queue_depth = 0;
  std::size_t blocking_queue_depth = 0, live_tasks_count = 0, blocking_threads_count = 0,
              idle_blocking_threads_count = 0;
  /// Wall-clock length of the interval.
  std::chrono::nanoseconds elapsed{0};
  /// Mean poll time over the interval (sum of poll times / polls; zero without polls), and the
  /// smallest / largest of the workers' worker_mean_poll_time at the end of the interval.
  std::chrono::nanoseconds mean_poll_duration{0}, mean_poll_duration_worker_min{0},
      mean_poll_duration_worker_max{0};
  /// Polls per histogram bucket during the interval, summed over workers (empty if disabled).
  std::vector<std::uint64_t> poll_time_histogram;
  std::uint64_t budget_forced_yield_count = 0;
  std::uint64_t io_driver_ready_count = 0;
  std::uint64_t long_poll_count = 0;  ///< rill extension

  /// total_busy_duration / (elapsed * workers_count), in [0, 1] (0 for an empty interval).
  double busy_ratio() const noexcept;
  /// total_polls_count / total_park_count (total polls when nothing parked).
  double mean_polls_per_park() const noexcept;
};

/// Samples a runtime's metrics at intervals: each next_interval() call returns what happened
/// since the previous call (the first one: since the monitor was created). Holds a reference
/// to the runtime. Not thread-safe (one sampler at a time); cheap (no lock except the alive
/// task count). Mirrors tokio_metrics::RuntimeMonitor::intervals().
class RuntimeMonitor {
 public:
  explicit RuntimeMonitor(const Handle& h);
  /// The metrics of the interval that ends now.
  RuntimeIntervalMetrics next_interval();

 private:
  struct Sample;
  Sample take() const;
  RuntimeMetrics m_;
  std::shared_ptr<Sample> last_;
};

namespace metrics {

/// Every metric of `rt` (RuntimeMetrics, per-worker with a `worker` label, the poll-time
/// histogram as a Prometheus histogram in seconds, long polls, and the frame accounting of
/// rill::frames: live frames/bytes per coroutine site and frame sizes) in the Prometheus text
/// exposition format 0.0.4. Names are `rill_` + Tokio's name; counters end in `_total`,
/// durations are in seconds. Thread-safe; allocates (may throw std::bad_alloc).
std::string prometheus_text(const Runtime& rt);
std::string prometheus_text(const Handle& h);
std::string prometheus_text(const RuntimeMetrics& m);

/// The same data as one JSON object: {"runtime": {...}, "workers": [{...}], "histogram":
/// {...}, "frames": {...}}. Thread-safe; allocates.
std::string json(const Runtime& rt);
std::string json(const Handle& h);
std::string json(const RuntimeMetrics& m);

}  // namespace metrics
}  // namespace rill

// scheduler/scheduler.hpp: the scheduler shared by both runtime flavors.
//
// A Scheduler owns N cores (N = worker_threads; 1 for current_thread). A core is everything a
// worker needs to run tasks: its local run queue, LIFO slot, deferred (yielded) tasks, timer
// wheel and event driver. A thread runs a core; on the multi-thread flavor each worker thread
// starts with one, and block_in_place hands a core to a fresh thread. On current_thread the
// thread inside block_on runs the single core.
//
// Worker loop (one "tick" per task):
//   LIFO slot (max 3 in a row) -> local queue -> global queue (first, every
//   global_queue_interval ticks) -> driver and timers every event_interval ticks or when idle ->
//   steal half of another core's queue -> park on the core's io_uring (timeout = next timer).
// Mirrors tokio/src/runtime/scheduler/multi_thread/worker.rs.
#pragma once

#include <pthread.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "blocking/pool.hpp"
#include "io/driver.hpp"
#include "rill/detail/task_header.hpp"
#include "rill/runtime.hpp"
#include "scheduler/busy_clock.hpp"
#include "scheduler/idle.hpp"
#include "scheduler/inject.hpp"
#include "scheduler/queue.hpp"
#include "time/clock.hpp"
#include "time/wheel.hpp"

namespace rill::detail {

/// Bumps a counter that only one thread writes (no lock prefix), readable from any thread.
inline void bump(std::atomic<std::uint64_t>& c, std::uint64_t by = 1) noexcept {
  c.store(c.load(std::memory_order_relaxed) + by, std::memory_order_relaxed);
}

/// Per-core counters, named as Tokio's runtime metrics (read by the metrics layer, see
/// rill/metrics.hpp for their meanings). Written by the thread running the core only.
struct CoreStats {
  std::atomic<std::uint64_t> poll_count{0};
  std::atomic<std::uint64_t> park_count{0};
  std::atomic<std::uint64_t> unpark_count{0};
  std::atomic<std::uint64_t> noop_count{0};
  std::atomic<std::uint64_t> steal_count{0};
  std::atomic<std::uint64_t> steal_operations{0};
  std::atomic<std::uint64_t> local_schedule_count{0};
  std::atomic<std::uint64_t> overflow_count{0};
  std::atomic<std::uint64_t> busy_ns{0};  ///< sum of runs of polls (begin_busy..end_busy)
  std::atomic<std::uint64_t> budget_forced_yield_count{0};
  std::atomic<std::uint64_t> mean_poll_ns{0};     ///< EWMA of poll times (Tokio's alpha 0.1)
  std::atomic<std::uint64_t> poll_time_ns{0};     ///< sum of poll times (per run without timing)
  std::atomic<std::uint64_t> long_poll_count{0};  ///< long polls reported (watchdog writes)
  std::unique_ptr<std::atomic<std::uint64_t>[]> poll_hist;  ///< poll-time buckets (or null)
};

struct Watchdog;
/// Starts the long-poll watchdog thread of `s` (runtime/src/diagnostics/long_poll.cpp).
/// Throws RuntimeError when the thread cannot be created.
Watchdog* start_watchdog(Scheduler* s);
/// Stops and joins the watchdog (null: nothing). Never throws.
void stop_watchdog(Watchdog* w) noexcept;

struct Core {
  Core(std::uint64_t now_tick, DriverKind io) : driver(io), wheel(now_tick) {}
  Scheduler* sched = nullptr;
  std::uint32_t index = 0;
  std::uint32_t tick = 0;
  std::uint32_t lifo_polls = 0;
  bool is_searching = false;
  /// Owner only: the core is dispatching driver events and timers (park / maintenance). Tasks
  /// woken meanwhile do not wake other workers one by one: the dispatch ends with one check
  /// (notify_after_dispatch). Without it, a parked worker woke itself through its own eventfd.
  bool in_driver = false;
  std::uint32_t rng = 0;
  TaskHeader* lifo = nullptr;
  std::vector<TaskHeader*> deferred;  ///< yield_now()ed tasks, re-queued after the driver poll
  LocalQueue run_queue;
  Driver driver;
  // Park state: EMPTY, PARKED, NOTIFIED (Tokio's park.rs protocol around driver.park()).
  std::atomic<std::uint32_t> park_state{0};
  // Timers: the wheel is guarded by timer_mu (cancellation may come from any thread).
  std::mutex timer_mu;
  TimerWheel wheel;
  std::atomic<std::uint64_t> next_timer_tick{UINT64_MAX};  ///< earliest deadline in the wheel
  std::atomic<std::uint64_t> parked_until_tick{UINT64_MAX};
  CoreStats stats;
  // Diagnostics: the poll in progress, published for the long-poll watchdog (relaxed/release
  // stores by the owner, no clock read): stats.poll_count is the poll's sequence number, and a
  // number that stays the same across the watchdog's samples for the threshold is a long poll.
  std::atomic<TaskHeader*> poll_task{nullptr};  ///< task being polled; null between polls
  std::atomic<pthread_t> owner_thread{};        ///< the thread running this core
  std::atomic<int> owner_tid{0};                ///< its kernel thread id (gettid)
  std::atomic<std::uint64_t> watched_seq{0};    ///< watchdog: poll reported as long (running)
  std::atomic<std::uint64_t> long_end_seq{0};   ///< owner: that poll ended ...
  std::atomic<std::uint64_t> long_end_ns{0};    ///< ... at this steady-clock time (ns)
  BusyClock::Stamp busy_start;         ///< owner only: start of the current run of polls
  bool busy = false;                   ///< owner only: a run of polls is in progress
  std::uint64_t busy_start_polls = 0;  ///< owner only: poll_count at that start
  std::uint64_t batch_polls = 0, batch_poll_ns = 0;  ///< owner only: not yet in mean_poll_ns
  std::uint64_t polls_at_last_park = 0;              ///< owner only: for noop_count

  void unpark() noexcept;
};

/// Owned-task list shard: every live coroutine task, for shutdown, metrics and dumps.
struct alignas(64) OwnedShard {  // a cache line each: workers lock different shards
  AdaptiveMutex mu;
  TaskHeader* head = nullptr;
  std::size_t len = 0;
  bool closed = false;
};

class Scheduler : public std::enable_shared_from_this<Scheduler> {
 public:
  explicit Scheduler(RuntimeConfig cfg);
  ~Scheduler();

  void start();  ///< starts worker threads (multi-thread)
  void shutdown(std::optional<std::chrono::nanoseconds> timeout) noexcept;

  // Scheduling.
  void schedule(TaskHeader* t) noexcept;         ///< NOTIFIED task + queue reference
  void schedule_remote(TaskHeader* t) noexcept;  ///< through the injection queue
  void bind(TaskHeader* t) noexcept;
  void unlink_owned(TaskHeader* t) noexcept;

  // Driving.
  void run_worker(Core* core) noexcept;  ///< a worker thread's life (returns on shutdown/handoff)
  void block_until(TaskHeader* t);
  void hand_off_core();  ///< block_in_place

  bool is_current_thread() const noexcept {
    return cfg_.flavor == RuntimeConfig::Flavor::CurrentThread;
  }
  std::size_t num_workers() const noexcept { return cores_.size(); }
  const RuntimeConfig& config() const noexcept { return cfg_; }
  BlockingPool& blocking() noexcept { return *blocking_; }
  Core& core(std::size_t i) noexcept { return *cores_[i]; }
  std::size_t num_alive_tasks() noexcept;
  std::size_t global_queue_depth() const noexcept { return inject_.len(); }
  std::uint64_t remote_schedule_count() const noexcept {
    return remote_schedule_count_.load(std::memory_order_relaxed);
  }
  std::uint64_t spawned_tasks_count() const noexcept {
    return spawned_.load(std::memory_order_relaxed);
  }
  bool is_shutdown() const noexcept { return shutdown_.load(std::memory_order_acquire); }
  /// Every live (bound, not completed) coroutine task, each with a reference taken that the
  /// caller must drop with task_ref_dec. For Handle::dump. Allocates; may throw bad_alloc.
  std::vector<TaskHeader*> owned_tasks_ref();
  /// Bucket of a poll that took `ns` in the poll-time histogram (cfg_.poll_time_histogram).
  std::size_t poll_hist_bucket(std::uint64_t ns) const noexcept;
  /// Monotonic clock in ns (steady_clock), the time base of busy time and long-poll reports.
  static std::uint64_t clock_ns() noexcept {
    return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                          std::chrono::steady_clock::now().time_since_epoch())
                                          .count());
  }

  /// Tick of the scheduler's clock (ms since the process-wide timer origin), rounding up.
  static std::uint64_t tick_of(std::chrono::steady_clock::time_point t) noexcept;
  /// The instant of tick 0 (process-wide).
  static std::chrono::steady_clock::time_point tick_origin() noexcept;
  /// The current tick of this runtime's clock (which a test may pause; see time/clock.hpp).
  std::uint64_t now_tick() const noexcept;
  /// The runtime's clock: steady_clock, unless paused / advanced by rill::time.
  Clock& clock() noexcept { return clock_; }
  void process_timers(Core* core) noexcept;
  /// Park of a current_thread runtime whose clock is paused: polls I/O without waiting; when
  /// nothing woke and no blocking job runs, jumps the clock to the next timer (Tokio's
  /// auto-advance).
  void park_paused(Core* core) noexcept;

 private:
  void run_core(Core* core, TaskHeader* until) noexcept;
  void run_task(Core* core, TaskHeader* t) noexcept;
  /// Per-poll timing (poll-time histogram enabled): one poll's duration into the metrics.
  void record_poll(Core* core, std::uint64_t ns) noexcept;
  /// A run of polls between parks / driver polls: starts it (one BusyClock read) unless started.
  void begin_busy(Core* core) noexcept;
  /// Ends the run (one BusyClock read): busy time, and without per-poll timing the poll-time sum
  /// and the mean poll time (run duration / polls in it), as Tokio's MetricsBatch.
  void end_busy(Core* core) noexcept;
  void flush_poll_stats(Core* core) noexcept;
  void finish_poll(Core* core, TaskHeader* t) noexcept;
  TaskHeader* next_task(Core* core) noexcept;
  TaskHeader* next_local(Core* core) noexcept;
  TaskHeader* steal_work(Core* core) noexcept;
  void schedule_local(Core* core, TaskHeader* t, bool lifo) noexcept;
  void push_back_local(Core* core, TaskHeader* t) noexcept;
  /// Whether a worker that has `queued` tasks waiting locally should wake a parked one (Tokio's
  /// notify-if-work-pending rule): not on a current_thread runtime, not while it is searching
  /// (a searcher wakes the next one when it finds work), not inside a driver dispatch (its end
  /// checks once, notify_after_dispatch), and only for more than the one task it runs next.
  bool wants_another_worker(const Core* core, std::size_t queued) const noexcept {
    return !is_current_thread() && !core->is_searching && !core->in_driver && queued > 1;
  }
  void maintenance(Core* core) noexcept;
  /// Maintenance without the final wake-up check: driver poll (skipped when `driver_polled`:
  /// the caller just parked in the driver, which reaped and submitted), timers, deferred tasks.
  void dispatch_events(Core* core, bool driver_polled) noexcept;
  /// After a driver dispatch: wakes a parked worker if the dispatch queued work to share.
  void notify_after_dispatch(Core* core) noexcept;
  void flush_deferred(Core* core) noexcept;
  void park(Core* core, bool allow_block) noexcept;
  bool transition_from_parked(Core* core) noexcept;
  void notify_parked() noexcept;
  void transition_from_searching(Core* core) noexcept;
  bool has_work(Core* core) const noexcept;
  std::int64_t park_timeout_ns(Core* core) const noexcept;
  void drop_queued(Core* core) noexcept;
  void cancel_all_owned() noexcept;
  void release_core_run() noexcept;
  void leave_in_place() noexcept;
  void drain_inject() noexcept;

  RuntimeConfig cfg_;
  std::vector<std::unique_ptr<Core>> cores_;
  Inject inject_;
  Idle idle_;
  std::unique_ptr<BlockingPool> blocking_;
  Clock clock_;
  static constexpr std::size_t kShards = 16;  ///< shard_of() takes the top 4 bits of a hash
  OwnedShard owned_[kShards];
  std::atomic<bool> shutdown_{false};
  std::vector<pthread_t> threads_;
  // Cores being run by some thread (worker loops alive); shutdown waits for 0. Guarded by run_mu_.
  std::mutex run_mu_;
  std::condition_variable run_cv_;
  std::size_t running_cores_ = 0;
  // Threads that gave their core away in block_in_place and have not left the runtime yet
  // (their poll may still run). Shutdown cancels every task first, then waits for this list to
  // empty with its timeout. Guarded by run_mu_.
  std::vector<pthread_t> in_place_;
  // current_thread: who holds the core.
  std::mutex ct_mu_;
  std::condition_variable ct_cv_;
  bool ct_core_taken_ = false;
  std::atomic<std::uint64_t> remote_schedule_count_{0};
  std::atomic<std::uint64_t> spawned_{0};
  bool shut_down_done_ = false;
  std::mutex shutdown_mu_;
  std::uint64_t long_poll_ns_ = 0;  ///< cfg_.long_poll_threshold in ns (0: detector off)
  bool time_polls_ = false;         ///< a clock read around each poll (poll-time histogram enabled)
  Watchdog* watchdog_ = nullptr;
};

}  // namespace rill::detail

// rill/runtime.hpp: Builder, Runtime and Handle, and the free functions that spawn work on the
// current runtime: spawn, spawn_blocking, block_in_place.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <source_location>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "rill/detail/task_cell.hpp"
#include "rill/diagnostics.hpp"
#include "rill/error.hpp"
#include "rill/join_handle.hpp"
#include "rill/metrics.hpp"
#include "rill/task.hpp"

namespace rill {

/// Which kernel interface the runtime's I/O driver uses (Builder::io_backend). Tokio is
/// epoll-only; tokio-uring is the io_uring analogue.
enum class IoBackend : std::uint8_t {
  Auto,     ///< io_uring when the kernel allows it, else epoll; RILL_IO_BACKEND=epoll forces epoll
  IoUring,  ///< io_uring (one ring per worker); build() throws RuntimeError if it is refused
  Epoll,    ///< epoll readiness for sockets, the blocking pool for files
};

namespace detail {
class Scheduler;

/// Everything a Builder collects; see the Builder methods for meanings and defaults.
struct RuntimeConfig {
  enum class Flavor : std::uint8_t { MultiThread, CurrentThread };
  Flavor flavor = Flavor::MultiThread;
  std::optional<std::size_t> worker_threads;
  std::size_t max_blocking_threads = 512;
  std::chrono::nanoseconds thread_keep_alive = std::chrono::seconds(10);
  std::string thread_name = "rill-worker";
  std::size_t thread_stack_size = 0;
  std::uint32_t global_queue_interval = 31;
  std::uint32_t event_interval = 61;
  std::size_t large_frame_threshold = 16384;
  IoBackend io_backend = IoBackend::Auto;
  std::function<void()> on_thread_start, on_thread_stop, on_thread_park, on_thread_unpark;
  std::chrono::nanoseconds long_poll_threshold = std::chrono::milliseconds(10);
  bool long_poll_threshold_set = false;  ///< set by Builder (else RILL_LONG_POLL_THRESHOLD_MS)
  diagnostics::LongPollCallback on_long_poll;  ///< empty: diagnostics::log_long_poll
  bool start_paused = false;  ///< the clock starts paused (current_thread only; rill::time)
  bool poll_time_histogram_enabled = true;
  HistogramConfiguration poll_time_histogram;
};

std::shared_ptr<Scheduler> make_scheduler(RuntimeConfig cfg);
/// The scheduler of the runtime this thread is in (worker, block_on caller), or null.
std::shared_ptr<Scheduler> current_scheduler() noexcept;
Scheduler* current_scheduler_raw() noexcept;
/// Blocks the calling thread until `t` completes (driving the scheduler on current_thread).
void block_until_complete(Scheduler* s, TaskHeader* t);
void shutdown_scheduler(Scheduler* s, std::optional<std::chrono::nanoseconds> timeout) noexcept;
std::size_t scheduler_num_workers(const Scheduler* s) noexcept;
bool scheduler_is_current_thread(const Scheduler* s) noexcept;
/// Hands the current worker's core to another thread (multi-thread) so `f` may block.
void block_in_place_enter();
void block_in_place_exit() noexcept;
[[noreturn]] void throw_no_runtime(const char* what);

/// Copies a task name into a NUL-terminated heap string (null for an empty name).
std::unique_ptr<char[]> copy_task_name(std::string_view name);
/// Handle::dump / Runtime::dump (runtime/src/diagnostics/dump.cpp).
diagnostics::RuntimeDump dump_scheduler(Scheduler* s);

template <class T>
std::pair<TaskHeader*, JoinHandle<T>> new_task(Task<T>&& task, std::source_location loc,
                                               std::string_view name = {}) {
  auto h = task.release();
  if (!h) throw RuntimeError("rill::spawn: the Task is empty (moved-from)");
  auto nm = copy_task_name(name);  // before the cell: a throw here loses nothing but the frame
  auto* cell = new TaskCell<T>(h);
  cell->spawn_location = loc;
  cell->name = std::move(nm);
  JoinHandle<T> jh(cell, &take_output<TaskCell<T>, T>);
  return {cell, std::move(jh)};
}

/// Every spawn (rill::spawn, Runtime/Handle::spawn, task::Builder): a new cell bound to `s`.
template <class T>
JoinHandle<T> spawn_on(Scheduler* s, Task<T>&& task, std::source_location loc,
                       std::string_view name = {}) {
  auto [cell, jh] = new_task(std::move(task), loc, name);
  bind_task(s, cell);
  return std::move(jh);
}

/// Runtime::block_on and Handle::block_on: runs `task` on `s` and waits for it on this thread.
/// `who` names the caller in the error thrown from inside a task.
template <class T>
T block_on_impl(Scheduler* s, Task<T>&& task, std::source_location loc, const char* who) {
  if (current_task() != nullptr)
    throw RuntimeError(std::string(who) +
                       " called from inside a rill task: this would block a worker thread; "
                       "await the task instead");
  auto [cell, jh] = new_task(std::move(task), loc);
  bind_task(s, cell);
  block_until_complete(s, cell);
  return jh.await_resume();
}
}  // namespace detail

class Handle;

/// Options for spawning a task: `rill::spawn(work(), rill::TaskOptions{.name = "reader"})`.
/// The name shows in long-poll reports and task dumps (copied at spawn). Mirrors the options of
/// tokio::task::Builder.
struct TaskOptions {
  /// The task's name; empty for none.
  std::string_view name;
};

/// The rill runtime: worker threads (or the calling thread, for current_thread), their run
/// queues, timers and I/O rings, and the blocking pool. Created by Builder::build(). Move-only.
/// Destroying a Runtime shuts it down: every task is cancelled at its next suspension point
/// (their frames are destroyed, so RAII cleans up) and the destructor waits for blocking-pool
/// jobs that already started. All methods are thread-safe. Mirrors tokio::runtime::Runtime.
class Runtime {
 public:
  explicit Runtime(std::shared_ptr<detail::Scheduler> s) noexcept : sched_(std::move(s)) {}
  Runtime(Runtime&&) noexcept = default;
  Runtime& operator=(Runtime&& o) noexcept {
    if (this != &o) {
      shutdown_impl(std::nullopt);
      sched_ = std::move(o.sched_);
    }
    return *this;
  }
  ~Runtime() { shutdown_impl(std::nullopt); }

  /// Runs `task` to completion on this runtime and returns its value (rethrowing its
  /// exception). On a multi-thread runtime the task runs on the workers while the calling thread
  /// sleeps; on current_thread the calling thread runs the scheduler (and every spawned task)
  /// until `task` finishes. Throws RuntimeError when called from inside a rill task (that would
  /// block a worker: Tokio panics there), or after shutdown. Mirrors Runtime::block_on.
  template <class T>
  T block_on(Task<T> task, std::source_location loc = std::source_location::current()) {
    return detail::block_on_impl(sched_.get(), std::move(task), loc, "rill::Runtime::block_on");
  }

  /// Starts `task` on this runtime and returns its JoinHandle. Callable from any thread. On a
  /// current_thread runtime the task runs during the next block_on. Mirrors Runtime::spawn.
  template <class T>
  JoinHandle<T> spawn(Task<T> task, std::source_location loc = std::source_location::current()) {
    return detail::spawn_on(sched_.get(), std::move(task), loc);
  }
  /// Like spawn(task), with options (a name). Mirrors tokio::task::Builder::spawn_on.
  template <class T>
  JoinHandle<T> spawn(Task<T> task, const TaskOptions& opts,
                      std::source_location loc = std::source_location::current()) {
    return detail::spawn_on(sched_.get(), std::move(task), loc, opts.name);
  }

  /// A cheap, clonable reference to this runtime. Mirrors Runtime::handle.
  Handle handle() const noexcept;

  /// The runtime's metrics (see rill/metrics.hpp). Mirrors Runtime::metrics.
  RuntimeMetrics metrics() const noexcept { return RuntimeMetrics(sched_); }
  /// Every live task with its state, counters and suspended async stack; see Handle::dump.
  diagnostics::RuntimeDump dump() const { return detail::dump_scheduler(sched_.get()); }

  /// Shuts the runtime down: cancels every task, then waits up to `timeout` for blocking-pool
  /// jobs that already started (jobs still running after that are left to finish on their
  /// own). Mirrors Runtime::shutdown_timeout.
  void shutdown_timeout(std::chrono::nanoseconds timeout) && { shutdown_impl(timeout); }
  /// Shuts down without waiting for blocking jobs. Mirrors Runtime::shutdown_background.
  void shutdown_background() && { shutdown_impl(std::chrono::nanoseconds(0)); }

  /// Number of worker threads (1 for current_thread).
  std::size_t num_workers() const noexcept { return detail::scheduler_num_workers(sched_.get()); }

  /// Internal.
  detail::Scheduler* scheduler() const noexcept { return sched_.get(); }

 private:
  void shutdown_impl(std::optional<std::chrono::nanoseconds> t) noexcept {
    if (sched_) {
      detail::shutdown_scheduler(sched_.get(), t);
      sched_.reset();
    }
  }
  std::shared_ptr<detail::Scheduler> sched_;
};

/// A reference to a runtime that can spawn onto it from any thread and outlive the Runtime
/// object (spawning after shutdown yields a task that is already cancelled). Copyable,
/// thread-safe. Mirrors tokio::runtime::Handle.
class Handle {
 public:
  explicit Handle(std::shared_ptr<detail::Scheduler> s) noexcept : sched_(std::move(s)) {}

  /// The runtime of the calling thread (a worker, a blocking-pool thread, or a thread inside
  /// block_on). Throws RuntimeError outside a runtime. Mirrors Handle::current.
  static Handle current() {
    auto s = detail::current_scheduler();
    if (!s) detail::throw_no_runtime("rill::Handle::current");
    return Handle(std::move(s));
  }
  /// Like current(), but empty instead of throwing. Mirrors Handle::try_current.
  static std::optional<Handle> try_current() noexcept {
    auto s = detail::current_scheduler();
    if (!s) return std::nullopt;
    return Handle(std::move(s));
  }

  /// Starts `task` on the runtime. Mirrors Handle::spawn.
  template <class T>
  JoinHandle<T> spawn(Task<T> task, std::source_location loc = std::source_location::current()) {
    return detail::spawn_on(sched_.get(), std::move(task), loc);
  }
  /// Like spawn(task), with options (a name). Mirrors tokio::task::Builder::spawn_on.
  template <class T>
  JoinHandle<T> spawn(Task<T> task, const TaskOptions& opts,
                      std::source_location loc = std::source_location::current()) {
    return detail::spawn_on(sched_.get(), std::move(task), loc, opts.name);
  }
  /// The runtime's metrics (see rill/metrics.hpp). Mirrors Handle::metrics.
  RuntimeMetrics metrics() const noexcept { return RuntimeMetrics(sched_); }
  /// Every live task (id, name, spawn location, state, polls, busy time) and, for suspended
  /// tasks, the chain of coroutines awaiting one another. Each idle task is claimed (marked
  /// running) for the few microseconds its chain is read, so no worker is ever stopped; tasks
  /// being polled or queued are listed without a stack. Thread-safe; callable from inside a
  /// task (the calling task shows as running). Allocates. Mirrors tokio's Handle::dump (task
  /// dumps), without its pause of the whole runtime.
  diagnostics::RuntimeDump dump() const { return detail::dump_scheduler(sched_.get()); }
  /// Runs `task` to completion from a thread outside the runtime; see Runtime::block_on.
  template <class T>
  T block_on(Task<T> task, std::source_location loc = std::source_location::current()) {
    return detail::block_on_impl(sched_.get(), std::move(task), loc, "rill::Handle::block_on");
  }
  /// Number of worker threads.
  std::size_t num_workers() const noexcept { return detail::scheduler_num_workers(sched_.get()); }
  /// Internal.
  detail::Scheduler* scheduler() const noexcept { return sched_.get(); }

 private:
  std::shared_ptr<detail::Scheduler> sched_;
};

inline Handle Runtime::handle() const noexcept {
  return Handle(sched_);
}

/// Configures and builds a Runtime. Methods chain (`Builder::new_multi_thread().worker_threads(4)
/// .build()`). Not thread-safe (a plain value). Mirrors tokio::runtime::Builder, with its
/// defaults.
class Builder {
 public:
  /// A work-stealing runtime with one worker thread per CPU (or RILL_WORKER_THREADS).
  static Builder new_multi_thread() { return Builder(detail::RuntimeConfig::Flavor::MultiThread); }
  /// A runtime that runs every task on the thread that calls block_on.
  static Builder new_current_thread() {
    return Builder(detail::RuntimeConfig::Flavor::CurrentThread);
  }

  /// Number of worker threads (multi-thread only). Default: the env var RILL_WORKER_THREADS if
  /// set (like TOKIO_WORKER_THREADS), else the number of CPUs. 0 is rejected by build().
  Builder& worker_threads(std::size_t n) {
    cfg_.worker_threads = n;
    return *this;
  }
  /// Upper bound on blocking-pool threads (default 512). 0 is rejected by build().
  Builder& max_blocking_threads(std::size_t n) {
    cfg_.max_blocking_threads = n;
    return *this;
  }
  /// How long an idle blocking-pool thread lives (default 10 s).
  Builder& thread_keep_alive(std::chrono::nanoseconds d) {
    cfg_.thread_keep_alive = d;
    return *this;
  }
  /// Name of the runtime's threads (default "rill-worker"; truncated to 15 bytes by the OS).
  Builder& thread_name(std::string name) {
    cfg_.thread_name = std::move(name);
    return *this;
  }
  /// Stack size of worker and blocking threads in bytes (default: the system's, usually 8 MiB).
  Builder& thread_stack_size(std::size_t bytes) {
    cfg_.thread_stack_size = bytes;
    return *this;
  }
  /// Scheduler ticks between checks of the global (injection) queue (default 31). 0 rejected.
  Builder& global_queue_interval(std::uint32_t ticks) {
    cfg_.global_queue_interval = ticks;
    return *this;
  }
  /// Scheduler ticks between polls of the I/O and timer driver (default 61). 0 rejected.
  Builder& event_interval(std::uint32_t ticks) {
    cfg_.event_interval = ticks;
    return *this;
  }
  /// Starts the runtime's clock paused (see rill::time::pause): timers fire only when the clock
  /// is advanced, and it jumps to the next timer whenever every task is idle, so a test of a
  /// 2 s timeout takes milliseconds. current_thread only: build() throws RuntimeError on a
  /// multi_thread runtime. Mirrors tokio::runtime::Builder::start_paused (test-util).
  Builder& start_paused(bool on) {
    cfg_.start_paused = on;
    return *this;
  }
  /// Coroutine frames larger than this many bytes are recorded by rill::frames (default 16384,
  /// clippy's large_futures default; 0 disables).
  Builder& large_frame_threshold(std::size_t bytes) {
    cfg_.large_frame_threshold = bytes;
    return *this;
  }
  /// The I/O driver's backend (default Auto: io_uring, or epoll when the kernel refuses
  /// io_uring — ENOSYS, EPERM from seccomp, kernel.io_uring_disabled — or when the environment
  /// sets RILL_IO_BACKEND=epoll). Every worker uses the same backend. With IoUring, build()
  /// throws RuntimeError when io_uring is unavailable.
  Builder& io_backend(IoBackend b) {
    cfg_.io_backend = b;
    return *this;
  }
  /// A poll that runs longer than `d` (default 10 ms) is reported while it still runs, with
  /// the worker's native stack and the task's async stack (rill/diagnostics.hpp). 0 disables
  /// the detector (no watchdog thread). Negative values are rejected by build(). Without this
  /// call, the environment variable RILL_LONG_POLL_THRESHOLD_MS (milliseconds; 0 disables)
  /// overrides the default. With the detector on, a watchdog thread wakes every d/2 and the
  /// runtime installs a process-wide SIGURG handler (SA_RESTART; signals not sent by rill are
  /// passed to the previous handler). Time the worker spends preempted by the OS is discounted.
  Builder& long_poll_threshold(std::chrono::nanoseconds d) {
    cfg_.long_poll_threshold = d;
    cfg_.long_poll_threshold_set = true;
    return *this;
  }
  /// Receives the long-poll reports (on the watchdog thread); default:
  /// diagnostics::log_long_poll, which prints them to stderr.
  Builder& on_long_poll(diagnostics::LongPollCallback f) {
    cfg_.on_long_poll = std::move(f);
    return *this;
  }
  /// Records each worker's poll-time histogram (default on in rill: a bucket store per poll).
  /// Mirrors Builder::enable_metrics_poll_time_histogram.
  Builder& enable_metrics_poll_time_histogram(bool on = true) {
    cfg_.poll_time_histogram_enabled = on;
    return *this;
  }
  /// Shape of the poll-time histogram (default: Tokio's, linear, 10 x 100 µs). Mirrors
  /// Builder::metrics_poll_time_histogram_configuration.
  Builder& metrics_poll_time_histogram_configuration(HistogramConfiguration c) {
    cfg_.poll_time_histogram = c;
    return *this;
  }
  /// Called on each runtime thread (workers and blocking threads) when it starts / stops.
  Builder& on_thread_start(std::function<void()> f) {
    cfg_.on_thread_start = std::move(f);
    return *this;
  }
  Builder& on_thread_stop(std::function<void()> f) {
    cfg_.on_thread_stop = std::move(f);
    return *this;
  }
  /// Called on a worker thread right before it parks (sleeps for lack of work) / after it wakes.
  Builder& on_thread_park(std::function<void()> f) {
    cfg_.on_thread_park = std::move(f);
    return *this;
  }
  Builder& on_thread_unpark(std::function<void()> f) {
    cfg_.on_thread_unpark = std::move(f);
    return *this;
  }

  /// Builds the runtime and starts its workers. Throws RuntimeError with a clear message for a
  /// bad setting (0 worker threads, a malformed RILL_WORKER_THREADS, 0 blocking threads, a 0
  /// interval) or when threads cannot be created.
  Runtime build();

  /// The collected settings (read-only).
  const detail::RuntimeConfig& config() const noexcept { return cfg_; }

 private:
  explicit Builder(detail::RuntimeConfig::Flavor f) { cfg_.flavor = f; }
  detail::RuntimeConfig cfg_;
};

/// Starts `task` on the current runtime and returns its JoinHandle; the task starts running
/// concurrently (possibly on another worker). Throws RuntimeError outside a runtime. Dropping the
/// JoinHandle detaches the task. Mirrors tokio::spawn.
template <class T>
JoinHandle<T> spawn(Task<T> task, std::source_location loc = std::source_location::current()) {
  auto* s = detail::current_scheduler_raw();
  if (!s) detail::throw_no_runtime("rill::spawn");
  return detail::spawn_on(s, std::move(task), loc);
}

/// Like spawn(task), with options: `rill::spawn(work(), {.name = "reader"})`. Throws
/// RuntimeError outside a runtime. Mirrors tokio::task::Builder::spawn.
template <class T>
JoinHandle<T> spawn(Task<T> task, const TaskOptions& opts,
                    std::source_location loc = std::source_location::current()) {
  auto* s = detail::current_scheduler_raw();
  if (!s) detail::throw_no_runtime("rill::spawn");
  return detail::spawn_on(s, std::move(task), loc, opts.name);
}

namespace task {
/// Configures a task before spawning it: `rill::task::Builder().name("reader").spawn(work())`.
/// A plain value; the name is copied when the task is spawned. Mirrors tokio::task::Builder.
class Builder {
 public:
  /// Names the task (shown in long-poll reports and dumps).
  Builder& name(std::string_view n) noexcept {
    opts_.name = n;
    return *this;
  }
  /// Spawns on the current runtime; see rill::spawn. Throws RuntimeError outside a runtime.
  template <class T>
  JoinHandle<T> spawn(Task<T> t, std::source_location loc = std::source_location::current()) const {
    return rill::spawn(std::move(t), opts_, loc);
  }
  /// Spawns on the runtime of `h`. Mirrors tokio::task::Builder::spawn_on.
  template <class T>
  JoinHandle<T> spawn_on(Task<T> t, const Handle& h,
                         std::source_location loc = std::source_location::current()) const {
    return h.spawn(std::move(t), opts_, loc);
  }

 private:
  TaskOptions opts_;
};
}  // namespace task

/// Runs `f()` on the runtime's blocking pool (FIFO, up to max_blocking_threads threads) and
/// returns a JoinHandle for its result; an exception thrown by f is rethrown by the await.
/// Outside a runtime, f runs on a new detached thread. abort() only prevents a job that has not
/// started. Mirrors tokio::task::spawn_blocking.
template <class F, class R = std::invoke_result_t<std::decay_t<F>&>>
JoinHandle<R> spawn_blocking(F&& f) {
  using Cell = detail::BlockingCell<std::decay_t<F>, R>;
  auto* cell = new Cell(std::decay_t<F>(std::forward<F>(f)));
  cell->state.store(
      detail::state::NOTIFIED | detail::state::JOIN_INTEREST | 2 * detail::state::REF_ONE,
      std::memory_order_relaxed);
  JoinHandle<R> jh(cell, &detail::take_output<Cell, R>);
  detail::submit_blocking(cell);
  return jh;
}

/// Runs the blocking `f()` on the current worker thread after handing the worker's run queue to
/// another thread, so other tasks keep running; returns f's result (exceptions propagate).
/// Outside a runtime, just calls f. Throws RuntimeError on a current_thread runtime (Tokio
/// panics there). Mirrors tokio::task::block_in_place.
template <class F>
decltype(auto) block_in_place(F&& f) {
  detail::block_in_place_enter();
  struct Exit {
    ~Exit() { detail::block_in_place_exit(); }
  } exit;
  return std::forward<F>(f)();
}

}  // namespace rill

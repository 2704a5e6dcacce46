// The blocking thread pool behind rill::spawn_blocking.
//
// Mirrors tokio/src/runtime/blocking/pool.rs: a FIFO queue served by lazily spawned threads
// (up to max_threads) that exit after keep_alive of idleness; shutdown() cancels the queued jobs
// and waits for the running ones up to a timeout. One difference: Tokio's spawn() wakes an idle
// thread (or starts one) for every job; here spawn() does so only when no thread is already on
// its way to the queue, and a thread that takes a job while more are queued brings the next ones
// (two at a time), as the scheduler wakes workers. A burst of spawns then costs the spawning task
// one wake-up instead of a futex wake or a thread start per job.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace rill::detail {

/// An intrusive unit of work for the blocking pool (tokio: blocking::pool::Task).
///
/// Ownership passes to the pool when spawn() returns true: afterwards the pool calls exactly
/// one of `run` (normally, on a pool thread) or `cancel` (if the pool shuts down before the
/// job starts; called on the thread calling shutdown()), and never touches the job again after
/// that call returns, so either function may free it. Both must be non-null.
struct BlockingJob {
  /// Internal: next job in the pool's queue.
  BlockingJob* next = nullptr;
  /// Runs the job and then owns/frees it. Must not throw (noexcept).
  void (*run)(BlockingJob*) noexcept = nullptr;
  /// Called instead of `run` for a job dropped at shutdown; frees it. Must not throw.
  void (*cancel)(BlockingJob*) noexcept = nullptr;
};

/// Configuration of a BlockingPool (tokio: runtime::Builder's max_blocking_threads,
/// thread_keep_alive, thread_name, thread_stack_size, on_thread_start/on_thread_stop).
struct BlockingPoolConfig {
  /// Upper bound on pool threads; must be >= 1 (the constructor throws
  /// std::invalid_argument otherwise). Tokio's default is 512.
  std::size_t max_threads = 512;
  /// How long a thread stays idle before exiting (tokio default 10 s).
  std::chrono::nanoseconds keep_alive = std::chrono::seconds(10);
  /// Thread name set with pthread_setname_np, truncated to 15 bytes (the Linux limit).
  std::string thread_name = "rill-blocking";
  /// Stack size in bytes for pool threads; 0 = the system default. Values below
  /// PTHREAD_STACK_MIN are raised to it.
  std::size_t stack_size = 0;
  /// Called on each pool thread when it starts / when it exits (tokio: on_thread_start,
  /// on_thread_stop). A thread leaving on keep-alive is no longer counted by num_threads()
  /// while its on_thread_stop runs; shutdown() waits (within its timeout) for every
  /// on_thread_stop in progress. Must not throw (a throwing hook terminates the process) and
  /// must not call shutdown().
  std::function<void()> on_thread_start, on_thread_stop;
};

/// A pool of threads for blocking work (tokio::runtime::blocking::BlockingPool).
///
/// All members are thread-safe. Threads are started lazily by spawn(). State shared with the
/// threads lives in a shared_ptr, so threads that are still busy when a shutdown times out
/// can finish later without touching freed memory.
class BlockingPool {
 public:
  /// Creates an empty pool (no threads yet). Throws std::invalid_argument when
  /// config.max_threads == 0.
  explicit BlockingPool(BlockingPoolConfig config);
  /// Equivalent to shutdown(std::nullopt): cancels queued jobs and joins all threads.
  ~BlockingPool();
  BlockingPool(const BlockingPool&) = delete;
  BlockingPool& operator=(const BlockingPool&) = delete;

  /// Queues `job` (FIFO). When no pool thread is on its way to the queue, also wakes one idle
  /// thread, or starts a new thread while fewer than max_threads exist; otherwise the thread on
  /// its way takes the job, and each thread that takes a job while more are queued wakes or
  /// starts up to two more (so queued jobs still get a thread each, up to max_threads; beyond
  /// that they wait for a busy thread). Cost: one mutex acquisition, plus one futex wake (or
  /// thread start) for the first job of a burst.
  ///
  /// Returns true when the pool took ownership of the job. Returns false, without touching
  /// the job, once shutdown() has begun, or when no pool thread exists and a new one cannot be
  /// created (pthread_create failure); the caller still owns the job then. Throws
  /// std::invalid_argument when `job` is null or has a null run/cancel.
  bool spawn(BlockingJob* job);

  /// Stops accepting jobs, calls `cancel` on every queued job that has not started (on the
  /// calling thread, outside the pool lock), wakes idle threads and joins the threads until
  /// they all exited or `timeout` elapsed (nullopt: wait forever). Threads still busy after
  /// the timeout are detached; they finish their job and exit on their own. Idempotent: later
  /// calls return immediately. If called from a pool thread, that thread is not waited for.
  void shutdown(std::optional<std::chrono::nanoseconds> timeout);

  /// Threads currently alive (busy or idle).
  std::size_t num_threads() const;
  /// Threads currently waiting for work.
  std::size_t num_idle_threads() const;
  /// Jobs queued and not yet picked up by a thread.
  std::size_t queue_depth() const;
  /// True while a job is queued or running (a thread not idle), read in one critical section.
  /// A job's completion (its task's wake-up) happens before its thread counts itself idle, so
  /// a caller that sees false afterwards sees every such wake-up.
  bool is_busy() const;

  struct Shared;  // internal; public only so the thread entry point can name it

 private:
  std::shared_ptr<Shared> shared_;
};

}  // namespace rill::detail

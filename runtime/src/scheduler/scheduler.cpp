// scheduler/scheduler.cpp: task state transitions, the worker loop, parking, stealing, and
// shutdown. See scheduler.hpp for the algorithm.
#include "scheduler/scheduler.hpp"

#include <fmt/format.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

#include "rill/frames.hpp"

namespace rill::detail {

thread_local constinit Context t_ctx{};

namespace {
/// Set on a thread that gave its core away in block_in_place: that thread keeps using the
/// scheduler (its poll ends there) possibly after shutdown gave up waiting for it, so it holds a
/// reference until its thread function returns.
thread_local std::shared_ptr<Scheduler> t_in_place_keep_alive;
}  // namespace

namespace {

constexpr std::uint32_t kMaxLifoPolls = 3;  // Tokio's MAX_LIFO_POLLS_PER_TICK
constexpr std::uint32_t EMPTY = 0, PARKED = 1, NOTIFIED_PARK = 2;

std::atomic<std::uint64_t> g_next_task_id{1};

const std::chrono::steady_clock::time_point g_origin = std::chrono::steady_clock::now();

std::uint32_t xorshift(std::uint32_t& s) noexcept {
  s ^= s << 13;
  s ^= s >> 17;
  s ^= s << 5;
  return s;
}

void set_thread_name(const std::string& name) {
  std::string n = name.substr(0, 15);
  pthread_setname_np(pthread_self(), n.c_str());
}

/// Thread start: a function object on the heap.
template <class F>
pthread_t start_thread(std::size_t stack_size, F f) {
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  if (stack_size) pthread_attr_setstacksize(&attr, stack_size);
  auto* fp = new F(std::move(f));
  pthread_t th;
  int rc = pthread_create(
      &th, &attr,
      [](void* p) -> void* {
        auto* fn = static_cast<F*>(p);
        (*fn)();
        delete fn;
        return nullptr;
      },
      fp);
  pthread_attr_destroy(&attr);
  if (rc != 0) {
    delete fp;
    throw RuntimeError(std::string("rill: cannot create a worker thread: ") + std::strerror(rc));
  }
  return th;
}

/// The owned-list shard of a task: its id hashed (Fibonacci hashing), not its low bits. Ids are
/// sequential, and a spawner binding ids in order while another worker completes them in order
/// would, with `id % shards`, walk the shards in lockstep: once their phases met, every bind
/// waited on the completer's lock (a convoy held together by the lock itself).
std::size_t shard_of(const TaskHeader* t) noexcept {
  return static_cast<std::size_t>((t->id * 0x9E3779B97F4A7C15ull) >> 60);
}

}  // namespace

// ---- task completion ------------------------------------------------------------------------

/// Marks `t` COMPLETE (it is RUNNING by the caller, whose reference is untouched) and hands the
/// output to the JoinHandle or drops it.
void complete_task(TaskHeader* t, bool cancelled) noexcept {
  if (cancelled) t->vtable->cancel(t);
  if (!t->is_blocking && t->sched) t->sched->unlink_owned(t);
  auto s = t->state.load(std::memory_order_acquire);
  std::uint64_t ns;
  do {
    ns = (s & ~state::RUNNING) | state::COMPLETE;
  } while (!t->state.compare_exchange_weak(s, ns, std::memory_order_acq_rel));
  if (!(ns & state::JOIN_INTEREST)) {
    t->vtable->drop_output(t);
    return;
  }
  t->lock_join();
  Waker w = std::move(t->join_waker);
  t->unlock_join();
  w.wake();
}

bool join_register(TaskHeader* t, Waker w) noexcept {
  t->lock_join();
  if (t->is_complete()) {
    t->unlock_join();
    return true;
  }
  t->join_waker = std::move(w);
  t->unlock_join();
  return false;
}

void join_handle_drop(TaskHeader* t) noexcept {
  auto s = t->state.load(std::memory_order_acquire);
  while (!t->state.compare_exchange_weak(s, s & ~state::JOIN_INTEREST, std::memory_order_acq_rel)) {
  }
  if (s & state::COMPLETE) t->vtable->drop_output(t);
  t->lock_join();
  Waker w = std::move(t->join_waker);
  t->unlock_join();
  w.reset();
  task_ref_dec(t);
}

void join_handle_abort(TaskHeader* t) noexcept {
  ForeignWakeScope scope(t);
  auto s = t->state.load(std::memory_order_acquire);
  for (;;) {
    if (s & (state::COMPLETE | state::CANCELLED)) return;
    if ((s & (state::RUNNING | state::NOTIFIED)) || t->is_blocking) {
      if (t->state.compare_exchange_weak(s, s | state::CANCELLED, std::memory_order_acq_rel))
        return;
      continue;
    }
    if (t->state.compare_exchange_weak(s, (s | state::CANCELLED | state::NOTIFIED) + state::REF_ONE,
                                       std::memory_order_acq_rel)) {
      schedule_task(t);
      return;
    }
  }
}

void schedule_task(TaskHeader* t) noexcept {
  t->sched->schedule(t);
}

std::atomic<std::uint64_t> g_foreign_wakes{0};

// ---- diagnostics helpers ----------------------------------------------------------------------

std::vector<TaskHeader*> Scheduler::owned_tasks_ref() {
  std::vector<TaskHeader*> out;
  for (auto& sh : owned_) {
    std::lock_guard lk(sh.mu);
    out.reserve(out.size() + sh.len);
    for (TaskHeader* t = sh.head; t; t = t->owned_next) {
      task_ref_inc(t);
      out.push_back(t);
    }
  }
  return out;
}

std::size_t Scheduler::poll_hist_bucket(std::uint64_t ns) const noexcept {
  const auto& h = cfg_.poll_time_histogram;
  const std::uint64_t res = static_cast<std::uint64_t>(h.resolution.count());
  const std::uint64_t q = ns / res;
  std::uint64_t b;
  if (h.scale == HistogramScale::Linear)
    b = q;
  else
    b = q == 0 ? 0 : static_cast<std::uint64_t>(std::bit_width(q));
  return static_cast<std::size_t>(std::min<std::uint64_t>(b, h.num_buckets - 1));
}

void Scheduler::record_poll(Core* core, std::uint64_t ns) noexcept {
  ++core->batch_polls;
  core->batch_poll_ns += ns;
  bump(core->stats.poll_time_ns, ns);
  bump(core->stats.poll_hist[poll_hist_bucket(ns)]);
}

void Scheduler::begin_busy(Core* core) noexcept {
  if (core->busy) return;
  core->busy = true;
  core->busy_start = BusyClock::now();
  core->busy_start_polls = core->stats.poll_count.load(std::memory_order_relaxed);
}

void Scheduler::end_busy(Core* core) noexcept {
  if (!core->busy) return;
  core->busy = false;
  const std::uint64_t took = BusyClock::elapsed_ns(core->busy_start);
  bump(core->stats.busy_ns, took);
  if (time_polls_) return;  // poll times were measured one by one (record_poll)
  // Without per-poll timing (Tokio's default), a run of polls gives the poll-time sum and the
  // mean poll time: the run's duration over its poll count.
  const std::uint64_t polls =
      core->stats.poll_count.load(std::memory_order_relaxed) - core->busy_start_polls;
  if (polls == 0) return;
  core->batch_polls += polls;
  core->batch_poll_ns += took;
  bump(core->stats.poll_time_ns, took);
}

void Scheduler::flush_poll_stats(Core* core) noexcept {
  if (core->batch_polls == 0) return;
  // Tokio's worker_mean_poll_time: an EWMA with alpha 0.1 per poll, applied per batch with the
  // batch's mean poll time and weight 1 - 0.9^n (metrics/batch.rs).
  constexpr double kAlpha = 0.1;
  const double mean = static_cast<double>(core->batch_poll_ns) / core->batch_polls;
  // (1 - alpha)^n by squaring, as Tokio's powi (libm's pow cost 2% of an echo server's user
  // time: this runs on every park).
  double p = 1.0, b = 1.0 - kAlpha;
  for (std::uint64_t n = core->batch_polls; n != 0 && p > 1e-300; n >>= 1, b *= b)
    if (n & 1) p *= b;
  const double w = 1.0 - p;
  const double prev = static_cast<double>(core->stats.mean_poll_ns.load(std::memory_order_relaxed));
  core->stats.mean_poll_ns.store(static_cast<std::uint64_t>(w * mean + (1.0 - w) * prev),
                                 std::memory_order_relaxed);
  core->batch_polls = 0;
  core->batch_poll_ns = 0;
}

void note_forced_yield() noexcept {
  if (Core* c = t_ctx.core) bump(c->stats.budget_forced_yield_count);
}

// ---- Scheduler --------------------------------------------------------------------------------

void Scheduler::unlink_owned(TaskHeader* t) noexcept {
  OwnedShard& sh = owned_[shard_of(t)];
  std::lock_guard lk(sh.mu);
  if (!t->in_owned) return;
  t->in_owned = false;
  if (t->owned_prev)
    t->owned_prev->owned_next = t->owned_next;
  else
    sh.head = t->owned_next;
  if (t->owned_next) t->owned_next->owned_prev = t->owned_prev;
  t->owned_prev = t->owned_next = nullptr;
  --sh.len;
}

std::uint64_t Scheduler::tick_of(std::chrono::steady_clock::time_point t) noexcept {
  if (t <= g_origin) return 0;
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t - g_origin).count();
  return static_cast<std::uint64_t>((ns + 999'999) / 1'000'000);
}
std::chrono::steady_clock::time_point Scheduler::tick_origin() noexcept { return g_origin; }
std::uint64_t Scheduler::now_tick() const noexcept {
  const auto t = clock_.now();
  if (t <= g_origin) return 0;
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t - g_origin).count();
  return static_cast<std::uint64_t>(ns / 1'000'000);
}

Scheduler::Scheduler(RuntimeConfig cfg)
    : cfg_(std::move(cfg)),
      idle_(static_cast<std::uint32_t>(
          cfg_.flavor == RuntimeConfig::Flavor::CurrentThread ? 1 : *cfg_.worker_threads)) {
  const std::size_t n = is_current_thread() ? 1 : *cfg_.worker_threads;
  cores_.reserve(n);
  if (cfg_.start_paused) clock_.pause(g_origin);
  const std::uint64_t now = now_tick();
  const DriverKind io = Driver::choose(cfg_.io_backend);  // one backend for every core
  for (std::size_t i = 0; i < n; ++i) {
    auto c = std::make_unique<Core>(now, io);
    c->sched = this;
    c->index = static_cast<std::uint32_t>(i);
    c->rng = static_cast<std::uint32_t>(0x9E3779B9u * (i + 1)) | 1u;
    c->deferred.reserve(64);
    if (cfg_.poll_time_histogram_enabled) {
      c->stats.poll_hist.reset(
          new std::atomic<std::uint64_t>[cfg_.poll_time_histogram.num_buckets]);
      for (std::size_t b = 0; b < cfg_.poll_time_histogram.num_buckets; ++b)
        c->stats.poll_hist[b].store(0, std::memory_order_relaxed);
    }
    cores_.push_back(std::move(c));
  }
  BlockingPoolConfig bc;
  bc.max_threads = cfg_.max_blocking_threads;
  bc.keep_alive = cfg_.thread_keep_alive;
  bc.thread_name = cfg_.thread_name;
  bc.stack_size = cfg_.thread_stack_size;
  bc.on_thread_start = cfg_.on_thread_start;
  bc.on_thread_stop = cfg_.on_thread_stop;
  blocking_ = std::make_unique<BlockingPool>(std::move(bc));
  time_polls_ = cfg_.poll_time_histogram_enabled;
  long_poll_ns_ = cfg_.long_poll_threshold.count() > 0
                      ? static_cast<std::uint64_t>(cfg_.long_poll_threshold.count())
                      : 0;
}

Scheduler::~Scheduler() {
  shutdown(std::nullopt);
  // A thread that was inside block_in_place when shutdown stopped waiting (shutdown_timeout)
  // ended its poll later and may have queued a task on the closed queue: drop those entries.
  drain_inject();
}

void Scheduler::start() {
  if (long_poll_ns_ != 0) watchdog_ = start_watchdog(this);
  if (is_current_thread()) return;
  for (auto& c : cores_) {
    Core* core = c.get();
    {
      std::lock_guard lk(run_mu_);
      ++running_cores_;
    }
    auto self = this;
    try {
      threads_.push_back(start_thread(cfg_.thread_stack_size, [self, core] {
        set_thread_name(self->cfg_.thread_name);
        if (self->cfg_.on_thread_start) self->cfg_.on_thread_start();
        self->run_worker(core);
        if (self->cfg_.on_thread_stop) self->cfg_.on_thread_stop();
        t_in_place_keep_alive.reset();  // last: may destroy the scheduler (see hand_off_core)
      }));
    } catch (...) {
      {
        std::lock_guard lk(run_mu_);
        --running_cores_;
      }
      shutdown(std::nullopt);
      throw;
    }
  }
}

std::size_t Scheduler::num_alive_tasks() noexcept {
  std::size_t n = 0;
  for (auto& sh : owned_) {
    std::lock_guard lk(sh.mu);
    n += sh.len;
  }
  return n;
}

void Scheduler::bind(TaskHeader* t) noexcept {
  t->sched = this;
  t->id = g_next_task_id.fetch_add(1, std::memory_order_relaxed);
  // NOTIFIED + JOIN_INTEREST; references: the queue entry and the JoinHandle.
  t->state.store(state::NOTIFIED | state::JOIN_INTEREST | 2 * state::REF_ONE,
                 std::memory_order_relaxed);
  OwnedShard& sh = owned_[shard_of(t)];
  {
    std::lock_guard lk(sh.mu);
    if (!sh.closed) {
      t->owned_next = sh.head;
      if (sh.head) sh.head->owned_prev = t;
      sh.head = t;
      t->in_owned = true;
      ++sh.len;
      goto bound;
    }
  }
  // Shut down: the task is cancelled before it ever runs.
  t->state.fetch_or(state::RUNNING, std::memory_order_acq_rel);
  t->sched = nullptr;
  complete_task(t, true);
  task_ref_dec(t);
  return;
bound:
  spawned_.fetch_add(1, std::memory_order_relaxed);  // many spawning threads: a real RMW
  schedule(t);
}

void Scheduler::schedule(TaskHeader* t) noexcept {
  Core* core = t_ctx.core;
  if (core && core->sched == this) {
    schedule_local(core, t, /*lifo=*/!is_current_thread());
    return;
  }
  schedule_remote(t);
}

void Scheduler::schedule_remote(TaskHeader* t) noexcept {
  remote_schedule_count_.fetch_add(1, std::memory_order_relaxed);  // many threads push
  if (!inject_.push(t)) return;  // closed: kept in the queue; shutdown cancels and drops it
  if (is_current_thread())
    cores_[0]->unpark();
  else
    notify_parked();
}

void Scheduler::schedule_local(Core* core, TaskHeader* t, bool lifo) noexcept {
  bump(core->stats.local_schedule_count);
  if (lifo) {
    TaskHeader* prev = std::exchange(core->lifo, t);
    if (!prev) {
      // Tokio: a lone task in the LIFO slot is not worth waking another worker for.
      if (wants_another_worker(core, 1 + core->run_queue.len())) notify_parked();
      return;
    }
    t = prev;
  }
  if (core->run_queue.push_back(t, inject_)) bump(core->stats.overflow_count);
  if (wants_another_worker(core, (core->lifo != nullptr) + core->run_queue.len())) notify_parked();
}

void Scheduler::push_back_local(Core* core, TaskHeader* t) noexcept {
  if (core->run_queue.push_back(t, inject_)) bump(core->stats.overflow_count);
  if (wants_another_worker(core, core->run_queue.len())) notify_parked();
}

void Scheduler::notify_parked() noexcept {
  // Pairs with the fence in park(): either we see the parking worker in the idle state, or it
  // sees the task we just queued.
  full_fence();
  if (auto w = idle_.worker_to_notify()) cores_[*w]->unpark();
}

void Core::unpark() noexcept {
  // stats.unpark_count is counted by the parked worker itself (Tokio's park_unpark_count).
  if (park_state.exchange(NOTIFIED_PARK, std::memory_order_acq_rel) == PARKED) driver.unpark();
}

// ---- running tasks ----------------------------------------------------------------------------

void Scheduler::run_task(Core* core, TaskHeader* t) noexcept {
  auto s = t->state.load(std::memory_order_acquire);
  std::uint64_t ns;
  do {
    if (s & (state::COMPLETE | state::RUNNING)) {  // cancelled at shutdown while queued
      task_ref_dec(t);
      return;
    }
    ns = (s & ~state::NOTIFIED) | state::RUNNING;
  } while (!t->state.compare_exchange_weak(s, ns, std::memory_order_acq_rel));
  if (ns & state::CANCELLED) {
    complete_task(t, true);
    task_ref_dec(t);
    return;
  }
  // The poll's sequence number and task, published for the long-poll watchdog (plain stores,
  // no fence, no clock read): a poll whose number does not move between its samples is long.
  const std::uint64_t seq = core->stats.poll_count.load(std::memory_order_relaxed) + 1;
  core->stats.poll_count.store(seq, std::memory_order_relaxed);
  core->poll_task.store(t, std::memory_order_release);
  const std::uint64_t t0 = time_polls_ ? clock_ns() : 0;
  t_ctx.task = t;
  t_ctx.budget = kBudget;
  t_ctx.defer_yield = false;
  if (Resumable* r = t->hook) {
    r->poll(r);
  } else if (auto h = std::exchange(t->resume_point, {})) {
    h.resume();
  }
  t_ctx.task = nullptr;
  std::uint64_t took = 0;
  if (time_polls_) {
    took = clock_ns() - t0;
    bump(t->busy_ns, took);
  }
  if (t_ctx.core == core) {  // not handed off in block_in_place: the core's stats are ours
    core->poll_task.store(nullptr, std::memory_order_release);
    if (time_polls_) record_poll(core, took);
    if (core->watched_seq.load(std::memory_order_relaxed) == seq) [[unlikely]] {
      // The watchdog reported this poll as long: give it the exact end.
      core->long_end_ns.store(clock_ns(), std::memory_order_relaxed);
      core->long_end_seq.store(seq, std::memory_order_release);
    }
  }
  bump(t->polls);
  finish_poll(core, t);
}

void Scheduler::finish_poll(Core* core, TaskHeader* t) noexcept {
  // The thread may have lost its core in block_in_place: then `core` is someone else's.
  const bool own_core = t_ctx.core == core;
  if (t->root && t->root.done()) {
    t->vtable->complete(t);
    complete_task(t, false);
    task_ref_dec(t);
    return;
  }
  if (!t->hook && !t->resume_point && t->root) {
    fmt::print(stderr,
               "rill: task {} suspended on an awaitable that is not a rill resource; it can never "
               "be resumed (await rill types, or wrap foreign awaitables)\n",
               t->id);
  }
  auto s = t->state.load(std::memory_order_acquire);
  for (;;) {
    if (s & state::CANCELLED) {
      complete_task(t, true);
      task_ref_dec(t);
      return;
    }
    if (s & state::NOTIFIED) {
      if (!t->state.compare_exchange_weak(s, s & ~state::RUNNING, std::memory_order_acq_rel))
        continue;
      if (!own_core) {
        schedule_remote(t);
        return;
      }
      bump(core->stats.local_schedule_count);  // woken during its poll: Tokio counts these too
      if (t_ctx.defer_yield)
        core->deferred.push_back(t);
      else
        push_back_local(core, t);
      return;
    }
    const std::uint64_t ns = (s & ~state::RUNNING) - state::REF_ONE;
    if (t->state.compare_exchange_weak(s, ns, std::memory_order_acq_rel)) {
      if ((ns >> state::REF_SHIFT) == 0) t->vtable->dealloc(t);
      return;
    }
  }
}

TaskHeader* Scheduler::next_local(Core* core) noexcept {
  if (core->lifo) return std::exchange(core->lifo, nullptr);
  return core->run_queue.pop();
}

TaskHeader* Scheduler::next_task(Core* core) noexcept {
  if (core->tick % cfg_.global_queue_interval == 0) {
    if (TaskHeader* t = inject_.pop()) return t;
    return next_local(core);
  }
  if (TaskHeader* t = next_local(core)) return t;
  if (inject_.empty()) return nullptr;
  // Refill the local queue from the global one (Tokio: a fair share, at most half the queue).
  const std::size_t n = std::min<std::size_t>(
      {inject_.len() / cores_.size() + 1, LocalQueue::kCapacity / 2, core->run_queue.remaining()});
  TaskHeader* first = nullptr;
  inject_.pop_n(n, [&](TaskHeader* t) {
    if (!first)
      first = t;
    else
      core->run_queue.push_unchecked(t);
  });
  return first;
}

TaskHeader* Scheduler::steal_work(Core* core) noexcept {
  if (cores_.size() == 1) return inject_.pop();
  if (!core->is_searching) {
    if (!idle_.transition_worker_to_searching()) return nullptr;
    core->is_searching = true;
  }
  const std::size_t n = cores_.size();
  const std::size_t start = xorshift(core->rng) % n;
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t idx = (start + i) % n;
    if (idx == core->index) continue;
    std::uint32_t stolen = 0;
    if (TaskHeader* t = cores_[idx]->run_queue.steal_into(core->run_queue, stolen)) {
      bump(core->stats.steal_operations);
      bump(core->stats.steal_count, stolen);
      return t;
    }
  }
  return inject_.pop();
}

void Scheduler::transition_from_searching(Core* core) noexcept {
  if (!core->is_searching) return;
  core->is_searching = false;
  if (idle_.transition_worker_from_searching()) notify_parked();
}

bool Scheduler::has_work(Core* core) const noexcept {
  return core->lifo || !core->run_queue.empty() || !inject_.empty() || !core->deferred.empty();
}

void Scheduler::flush_deferred(Core* core) noexcept {
  if (core->deferred.empty()) return;
  for (TaskHeader* t : core->deferred)
    if (core->run_queue.push_back(t, inject_)) bump(core->stats.overflow_count);
  core->deferred.clear();
  // One wake-up check for the whole batch, not a fence and an idle-state read per task.
  if (wants_another_worker(core, core->run_queue.len())) notify_parked();
}

void Scheduler::maintenance(Core* core) noexcept {
  dispatch_events(core, /*driver_polled=*/false);
  notify_after_dispatch(core);
}

void Scheduler::dispatch_events(Core* core, bool driver_polled) noexcept {
  end_busy(core);
  flush_poll_stats(core);
  const bool outer = !std::exchange(core->in_driver, true);
  // After a driver park the completions are reaped and the queued SQEs submitted: polling again
  // would cost one more kernel entry (io_uring_enter for completions posted since, epoll_wait)
  // that the next park or maintenance makes anyway.
  if (!driver_polled) core->driver.poll();
  process_timers(core);
  flush_deferred(core);
  if (outer) core->in_driver = false;
}

void Scheduler::notify_after_dispatch(Core* core) noexcept {
  // Tokio's park_timeout ends the same way: completions arrive in batches, so the wake-ups they
  // cause share one check (and a parked worker never wakes itself through its own eventfd).
  if (!is_current_thread() && !core->is_searching &&
      (core->lifo != nullptr) + core->run_queue.len() > 1)
    notify_parked();
}

std::int64_t Scheduler::park_timeout_ns(Core* core) const noexcept {
  const std::uint64_t next = core->next_timer_tick.load(std::memory_order_acquire);
  if (next == UINT64_MAX) return -1;
  const auto deadline = g_origin + std::chrono::milliseconds(next);
  const auto now = clock_.now();
  if (deadline <= now) return 0;
  return std::chrono::duration_cast<std::chrono::nanoseconds>(deadline - now).count();
}

void Scheduler::park(Core* core, bool allow_block) noexcept {
  if (cfg_.on_thread_park) cfg_.on_thread_park();
  end_busy(core);
  flush_poll_stats(core);
  // Tokio's about_to_park: park and park_unpark counts; a park with no poll since the previous
  // one is a no-op wake-up (worker_noop_count).
  bump(core->stats.park_count);
  const std::uint64_t polls = core->stats.poll_count.load(std::memory_order_relaxed);
  if (polls == core->polls_at_last_park) bump(core->stats.noop_count);
  core->polls_at_last_park = polls;
  const bool multi = !is_current_thread();
  bool was_searching = core->is_searching;
  core->is_searching = false;
  if (multi) {
    const bool last_searcher = idle_.transition_worker_to_parked(core->index, was_searching);
    full_fence();
    if (!inject_.empty()) {
      // A remote push may have raced with us and seen no parked worker: take it ourselves.
      core->is_searching = !idle_.unpark_worker_by_id(core->index);  // see transition_from_parked
      bump(core->stats.unpark_count);
      if (cfg_.on_thread_unpark) cfg_.on_thread_unpark();
      return;
    }
    if (last_searcher) {
      // Last searcher: make sure no work is stranded in other workers' queues.
      for (auto& c : cores_)
        if (c.get() != core && !c->run_queue.empty()) {
          notify_parked();
          break;
        }
    }
  }
  // Completions and timers dispatched while parking wake tasks without waking workers one by
  // one; the check after transition_from_parked below does it once (when this worker is still
  // in the sleepers list, a per-task check would pick this very worker and write its eventfd).
  core->in_driver = true;
  if (multi && allow_block && core->driver.idle()) {
    // Nothing of our own to wait for: only another thread can give us work, and it may be
    // about to (a spawner in a loop, a worker with a full queue). Give it the CPU a few times
    // before sleeping: a notifier that picks us meanwhile just flags NOTIFIED_PARK, with no
    // eventfd write and no kernel wake-up on either side. Tokio's parker does the same (three
    // yields); with operations in flight we go straight to the ring, whose completions are the
    // likelier wake-up.
    for (int i = 0; i < 3; ++i) {
      if (core->park_state.load(std::memory_order_acquire) == NOTIFIED_PARK) break;
      sched_yield();
    }
  }
  bool driver_polled = false;
  for (;;) {
    std::uint32_t expected = NOTIFIED_PARK;
    if (core->park_state.compare_exchange_strong(expected, EMPTY, std::memory_order_acq_rel)) break;
    if (!allow_block || shutdown_.load(std::memory_order_acquire)) {
      core->driver.park(0);
      driver_polled = true;
      break;
    }
    expected = EMPTY;
    if (!core->park_state.compare_exchange_strong(expected, PARKED, std::memory_order_acq_rel)) {
      continue;  // notified meanwhile
    }
    // Re-check after publishing PARKED: a push that raced with us has unparked or will see us.
    if (!multi && !inject_.empty()) {
      core->park_state.store(EMPTY, std::memory_order_release);
      break;
    }
    if (!multi && clock_.paused()) {
      park_paused(core);
    } else {
      core->driver.park(park_timeout_ns(core));
    }
    driver_polled = true;
    expected = PARKED;
    core->park_state.compare_exchange_strong(expected, EMPTY, std::memory_order_acq_rel);
    if (expected == NOTIFIED_PARK) core->park_state.store(EMPTY, std::memory_order_release);
    break;
  }
  bump(core->stats.unpark_count);
  dispatch_events(core, driver_polled);
  core->in_driver = false;
  if (multi) transition_from_parked(core);
  notify_after_dispatch(core);
  if (cfg_.on_thread_unpark) cfg_.on_thread_unpark();
}

void Scheduler::park_paused(Core* core) noexcept {
  core->driver.park(0);  // reap what is ready: a completion may wake a task first
  // Read the blocking pool before the queues: a job wakes its task before its pool thread counts
  // itself idle, so once the pool is seen idle, the wake-up of every finished job is already in
  // a queue checked below. (The other order let a job that ended between the two reads advance
  // the clock past a timeout still waiting for it.)
  const bool blocking_busy = blocking_->is_busy();
  if (core->lifo || !core->run_queue.empty() || !core->deferred.empty() || !inject_.empty()) return;
  if (blocking_busy) {
    // A blocking job runs: its completion is the next event, not a timer (Tokio inhibits
    // auto-advance while spawn_blocking work runs). Wait for it in short real-time steps.
    core->driver.park(10'000'000);
    return;
  }
  const std::uint64_t next = core->next_timer_tick.load(std::memory_order_acquire);
  if (next == UINT64_MAX) {
    core->driver.park(-1);  // no timer: only I/O or another thread can wake us
    return;
  }
  clock_.advance_to(g_origin + std::chrono::milliseconds(next));
}

bool Scheduler::transition_from_parked(Core* core) noexcept {
  if (core->lifo || !core->run_queue.empty() || !core->deferred.empty()) {
    // Woke up with local work (timers fired, I/O completed): leave the sleepers list by
    // ourselves. If a notifier already took us off it (possibly our own wake-ups, scheduled
    // while reaping completions in park), it counted us as searching: become searching so that
    // transition_from_searching() gives the count back (Tokio's worker.rs does the same);
    // otherwise the count leaks and notify_parked() never wakes anyone again.
    core->is_searching = !idle_.unpark_worker_by_id(core->index);
    return true;
  }
  // Spurious or timer wake-up: leave the sleepers list ourselves (counted as unparked, not
  // searching). If a notifier took us off it first, it counted us as searching: take that role,
  // so transition_from_searching() gives the count back. One call decides, no check-then-act.
  if (idle_.unpark_worker_by_id(core->index)) return false;
  core->is_searching = true;
  return true;
}

void Scheduler::run_core(Core* core, TaskHeader* until) noexcept {
  const bool multi = !is_current_thread();
  while (true) {
    if (until ? until->is_complete() : shutdown_.load(std::memory_order_acquire)) {
      end_busy(core);
      flush_poll_stats(core);
      return;
    }
    if (t_ctx.core != core) return;  // handed off in block_in_place
    ++core->tick;
    // Driver and timers every event_interval ticks. A worker without work parks next, and the
    // park dispatches them too: a maintenance now would only add a kernel entry (one per
    // event_interval ticks of a busy I/O server). If it finds work to steal instead, it does the
    // maintenance before running it.
    bool maintenance_due = false;
    if (core->tick % cfg_.event_interval == 0) {
      if (has_work(core))
        maintenance(core);
      else
        maintenance_due = true;
    }
    TaskHeader* t = next_task(core);
    if (!t && multi) t = steal_work(core);
    if (t) {
      if (maintenance_due) maintenance(core);
      transition_from_searching(core);
      begin_busy(core);
      run_task(core, t);
      if (t_ctx.core != core) return;  // handed off in block_in_place: the core is not ours
      // LIFO slot: run a woken task right away (cache-hot), at most kMaxLifoPolls in a row.
      core->lifo_polls = 0;
      while (t_ctx.core == core && core->lifo) {
        if (++core->lifo_polls > kMaxLifoPolls) {
          push_back_local(core, std::exchange(core->lifo, nullptr));
          break;
        }
        run_task(core, std::exchange(core->lifo, nullptr));
      }
      if (t_ctx.core != core) return;
      continue;
    }
    if (!core->deferred.empty()) {
      maintenance(core);  // yield_now: poll the driver once, then run the yielders again
      continue;
    }
    if (until ? until->is_complete() : shutdown_.load(std::memory_order_acquire)) return;
    park(core, true);
  }
}

void Scheduler::run_worker(Core* core) noexcept {
  t_ctx.sched = this;
  t_ctx.core = core;
  core->owner_thread.store(pthread_self(), std::memory_order_release);
  core->owner_tid.store(static_cast<int>(gettid()), std::memory_order_release);
  run_core(core, nullptr);
  const bool handed_off = t_ctx.core != core;
  if (!handed_off) t_ctx.core = nullptr;
  t_ctx.sched = nullptr;
  if (handed_off)
    leave_in_place();  // the core's count went to the thread that took it over
  else
    release_core_run();
}

void Scheduler::leave_in_place() noexcept {
  std::lock_guard lk(run_mu_);
  const pthread_t me = pthread_self();
  for (auto it = in_place_.begin(); it != in_place_.end(); ++it) {
    if (pthread_equal(*it, me)) {
      in_place_.erase(it);
      break;
    }
  }
  run_cv_.notify_all();
}

void Scheduler::release_core_run() noexcept {
  std::lock_guard lk(run_mu_);
  if (--running_cores_ == 0) run_cv_.notify_all();
}

void Scheduler::block_until(TaskHeader* t) {
  if (!is_current_thread()) {
    ThreadParker* p = ThreadParker::create();
    if (!join_register(t, p->waker())) {
      while (!t->is_complete())
        p->park();
    }
    p->release();
    return;
  }
  // current_thread: drive the core on this thread, or wait while another block_on drives it.
  Core* core = cores_[0].get();
  for (;;) {
    {
      std::unique_lock lk(ct_mu_);
      ct_cv_.wait_for(lk, std::chrono::milliseconds(1),
                      [&] { return !ct_core_taken_ || t->is_complete(); });
      if (t->is_complete()) return;
      if (ct_core_taken_) continue;
      ct_core_taken_ = true;
    }
    Context saved = t_ctx;
    t_ctx.sched = this;
    t_ctx.core = core;
    core->owner_thread.store(pthread_self(), std::memory_order_release);
    core->owner_tid.store(static_cast<int>(gettid()), std::memory_order_release);
    run_core(core, t);
    core->driver.flush();  // e.g. a file's close queued by the last poll (close_on_ring)
    t_ctx = saved;
    {
      std::lock_guard lk(ct_mu_);
      ct_core_taken_ = false;
    }
    ct_cv_.notify_all();
    if (t->is_complete()) return;
    if (shutdown_.load(std::memory_order_acquire)) return;
  }
}

void Scheduler::hand_off_core() {
  auto self = shared_from_this();
  // This thread's running-core count passes to the new holder; this thread is now "in place":
  // shutdown cancels the tasks without waiting for it, then waits for it with its timeout.
  {
    std::lock_guard lk(run_mu_);
    in_place_.push_back(pthread_self());  // may throw: nothing changed yet
  }
  if (!t_in_place_keep_alive) t_in_place_keep_alive = self;
  Core* core = t_ctx.core;
  t_ctx.core = nullptr;
  // The poll in progress may now block on purpose: it is no longer the core's poll.
  core->poll_task.store(nullptr, std::memory_order_release);
  // The new holder runs the worker loop for this core on a fresh thread.
  try {
    pthread_t th = start_thread(cfg_.thread_stack_size, [self, core] {
      set_thread_name(self->cfg_.thread_name);
      if (self->cfg_.on_thread_start) self->cfg_.on_thread_start();
      self->run_worker(core);
      if (self->cfg_.on_thread_stop) self->cfg_.on_thread_stop();
      t_in_place_keep_alive.reset();
    });
    pthread_detach(th);
  } catch (...) {
    t_ctx.core = core;  // could not hand off: keep the core and block it (degraded, not lost)
    leave_in_place();
    throw;
  }
}

// ---- shutdown ---------------------------------------------------------------------------------

void Scheduler::cancel_all_owned() noexcept {
  for (auto& sh : owned_) {
    for (;;) {
      TaskHeader* t;
      {
        std::lock_guard lk(sh.mu);
        sh.closed = true;
        t = sh.head;
        if (!t) break;
        task_ref_inc(t);
      }
      // Claim the task (nobody runs it: workers have stopped) and cancel it. A task running on
      // a thread that gave its core away (block_in_place) is marked CANCELLED instead: the end
      // of its poll, on that thread, destroys its frame. One CAS decides which.
      auto s = t->state.load(std::memory_order_acquire);
      bool claimed = false;
      while (!(s & state::COMPLETE)) {
        const bool running = s & state::RUNNING;
        const auto ns = running ? s | state::CANCELLED : s | state::RUNNING | state::CANCELLED;
        if (t->state.compare_exchange_weak(s, ns, std::memory_order_acq_rel)) {
          claimed = !running;
          break;
        }
      }
      if (claimed)
        complete_task(t, true);
      else
        unlink_owned(t);  // so the loop advances
      task_ref_dec(t);
    }
  }
}

void Scheduler::drop_queued(Core* core) noexcept {
  if (TaskHeader* t = std::exchange(core->lifo, nullptr)) task_ref_dec(t);
  while (TaskHeader* t = core->run_queue.pop())
    task_ref_dec(t);
  for (TaskHeader* t : core->deferred)
    task_ref_dec(t);
  core->deferred.clear();
}

void Scheduler::shutdown(std::optional<std::chrono::nanoseconds> timeout) noexcept {
  std::lock_guard once(shutdown_mu_);
  if (shut_down_done_) return;
  shut_down_done_ = true;
  const auto start = std::chrono::steady_clock::now();
  shutdown_.store(true, std::memory_order_release);
  stop_watchdog(std::exchange(watchdog_, nullptr));
  for (auto& c : cores_)
    c->unpark();
  // Wait for the threads running a core: each stops at the end of its current poll. A thread
  // inside block_in_place holds no core and is not waited for here: what it waits for may be
  // released only by the cancellations below (Tokio's hang_on_shutdown).
  std::vector<pthread_t> joinable;
  {
    std::unique_lock lk(run_mu_);
    run_cv_.wait(lk, [&] { return running_cores_ == 0; });
    for (pthread_t th : threads_) {
      bool in_place = false;
      for (pthread_t p : in_place_)
        in_place = in_place || pthread_equal(p, th);
      if (in_place)
        pthread_detach(th);  // it keeps the scheduler alive until it leaves (hand_off_core)
      else
        joinable.push_back(th);
    }
    threads_.clear();
  }
  for (pthread_t th : joinable)
    pthread_join(th, nullptr);
  {
    // current_thread: wait for a block_on caller still driving the core.
    std::unique_lock lk(ct_mu_);
    ct_cv_.wait(lk, [&] { return !ct_core_taken_; });
    ct_core_taken_ = true;
  }
  inject_.close();
  cancel_all_owned();
  for (auto& c : cores_)
    drop_queued(c.get());
  // (The closed injection queue is emptied last, below: wakes may still append to it.)
  // Every task is gone, so every I/O op still in flight is orphaned: cancel them and wait for
  // their completions before anything the kernel could write into is freed.
  for (auto& c : cores_)
    c->driver.shutdown();
  // Blocking-pool jobs and threads inside block_in_place share the timeout (none: wait for
  // them, as Tokio's drop does).
  auto left = [&]() -> std::optional<std::chrono::nanoseconds> {
    if (!timeout) return std::nullopt;
    auto spent = std::chrono::steady_clock::now() - start;
    return spent >= *timeout ? std::chrono::nanoseconds(0) : *timeout - spent;
  };
  blocking_->shutdown(left());
  {
    std::unique_lock lk(run_mu_);
    if (auto l = left())
      run_cv_.wait_for(lk, *l, [&] { return in_place_.empty(); });
    else
      run_cv_.wait(lk, [&] { return in_place_.empty(); });
  }
  // Every task is complete: wakes from other threads that saw one still pending may be about to
  // queue it here. Let them finish before this scheduler can be destroyed (an RMW, so a wake
  // starting after this synchronizes with it and sees the tasks complete).
  while (g_foreign_wakes.fetch_add(0, std::memory_order_acq_rel) != 0)
    std::this_thread::yield();
  // Wakes during the cancellations (a cancelled waiter passing its notification on) queued
  // their tasks on the closed injection queue; every task is complete now: drop those entries.
  drain_inject();
}

void Scheduler::drain_inject() noexcept {
  while (TaskHeader* t = inject_.pop())
    task_ref_dec(t);
}

}  // namespace rill::detail

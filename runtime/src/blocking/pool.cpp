// Blocking thread pool; see pool.hpp. Follows tokio/src/runtime/blocking/pool.rs.
#include "blocking/pool.hpp"

#include <linux/futex.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <climits>
#include <condition_variable>
#include <cstdint>
#include <ctime>
#include <exception>
#include <mutex>
#include <stdexcept>
#include <unordered_map>
#include <vector>

namespace rill::detail {

struct BlockingPool::Shared {
  explicit Shared(BlockingPoolConfig c) : cfg(std::move(c)) {}

  const BlockingPoolConfig cfg;

  mutable std::mutex mu;
  // Idle threads sleep on this futex word; spawn() and shutdown() bump it and wake them. Not a
  // std::condition_variable: glibc's condvar re-takes the mutex in its "contended" state after
  // every wake-up, so each job then paid a second futex syscall (the wake on unlock) for nobody.
  std::atomic<std::uint32_t> wake_seq{0};
  std::condition_variable exit_cv;  // shutdown() waits here for threads to exit

  // FIFO queue of jobs not yet started.
  BlockingJob* head = nullptr;
  BlockingJob* tail = nullptr;
  std::size_t depth = 0;

  std::size_t num_th = 0;       // live threads
  std::size_t num_idle = 0;     // threads waiting for work and not yet claimed by a spawn()
  std::size_t num_notify = 0;   // wake-ups issued to idle threads but not yet consumed
  std::size_t num_starting = 0; // threads started but not yet at the queue
  std::size_t num_exiting = 0;  // keep-alive exits still running on_thread_stop
  bool shutdown = false;

  struct ThreadRec {
    pthread_t handle;
    bool exited = false;  // finished its loop; join() will not block for long
  };
  std::uint64_t next_id = 0;
  // Joinable threads. Threads exiting on keep-alive remove and detach themselves.
  std::unordered_map<std::uint64_t, ThreadRec> threads;

  BlockingJob* pop() {
    BlockingJob* j = head;
    head = j->next;
    if (!head) tail = nullptr;
    j->next = nullptr;
    --depth;
    return j;
  }

  /// Threads on their way to the queue: woken or started, not there yet.
  std::size_t on_the_way() const { return num_notify + num_starting; }

  void push(BlockingJob* j) {
    j->next = nullptr;
    if (tail)
      tail->next = j;
    else
      head = j;
    tail = j;
    ++depth;
  }
};

namespace {

struct Start {
  std::shared_ptr<BlockingPool::Shared> shared;
  std::uint64_t id;
};

void call_hook(const std::function<void()>& hook) noexcept {
  // A throwing hook escapes a noexcept function: std::terminate, as documented.
  if (hook) hook();
}

// Sleeps while `word` still holds `seen`, until woken or the CLOCK_MONOTONIC `deadline` (the
// steady_clock's clock on Linux) passes. Returns false once the deadline has passed.
bool futex_wait_until(std::atomic<std::uint32_t>& word, std::uint32_t seen,
                      std::chrono::steady_clock::time_point deadline) noexcept {
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(deadline.time_since_epoch());
  timespec ts{};
  ts.tv_sec = static_cast<time_t>(ns.count() / 1'000'000'000);
  ts.tv_nsec = static_cast<long>(ns.count() % 1'000'000'000);
  const long rc =
      ::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word),
                FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG, seen, &ts, nullptr, FUTEX_BITSET_MATCH_ANY);
  return !(rc == -1 && errno == ETIMEDOUT);
}

void futex_wake(std::atomic<std::uint32_t>& word, int n) noexcept {
  ::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAKE | FUTEX_PRIVATE_FLAG, n,
            nullptr, nullptr, 0);
}

// Bumps the wake word (so a thread about to sleep on the old value does not) and wakes `n`.
void wake_idle(BlockingPool::Shared& s, int n) noexcept {
  s.wake_seq.fetch_add(1, std::memory_order_release);
  futex_wake(s.wake_seq, n);
}

std::chrono::steady_clock::time_point deadline_after(std::chrono::nanoseconds d) {
  // Saturate instead of overflowing the clock for huge durations.
  constexpr auto kMax = std::chrono::hours(24 * 365 * 100);
  if (d > kMax) d = kMax;
  if (d < std::chrono::nanoseconds::zero()) d = std::chrono::nanoseconds::zero();
  return std::chrono::steady_clock::now() + d;
}

bool start_thread(const std::shared_ptr<BlockingPool::Shared>& s);

enum class Brought { Idle, Started, None };

// Under s.mu: brings one more thread to the queue: claims an idle one (Idle: the caller wakes
// it after unlocking; whichever idle thread wakes takes the claim, so no thundering herd), else
// starts a new one while under max_threads (Tokio starts threads under the lock too). None when
// neither is possible (at max_threads, or the thread could not be started).
Brought bring_thread(const std::shared_ptr<BlockingPool::Shared>& sp) {
  BlockingPool::Shared& s = *sp;
  if (s.num_idle > 0) {
    --s.num_idle;
    ++s.num_notify;
    return Brought::Idle;
  }
  if (s.num_th < s.cfg.max_threads && start_thread(sp)) return Brought::Started;
  return Brought::None;
}

// Under s.mu, after this thread took a job: while more jobs are queued than threads are on
// their way to the queue, brings up to two more threads (returns how many idle ones it claimed,
// for the caller to wake after unlocking). The pool thus grows from its own threads, at the
// pace they find work, and the task that spawns pays for at most one wake-up per burst (see
// BlockingPool::spawn).
int ramp_up(const std::shared_ptr<BlockingPool::Shared>& sp) {
  BlockingPool::Shared& s = *sp;
  int wake = 0;
  for (int i = 0; i < 2 && s.depth > s.on_the_way(); ++i) {
    const Brought b = bring_thread(sp);
    if (b == Brought::None) break;
    if (b == Brought::Idle) ++wake;
  }
  return wake;
}

void run_worker(const std::shared_ptr<BlockingPool::Shared>& sp, std::uint64_t id) noexcept {
  BlockingPool::Shared& s = *sp;
  std::unique_lock lk(s.mu);
  --s.num_starting;  // arrived
  for (;;) {
    // BUSY: drain the queue.
    while (s.head) {
      BlockingJob* job = s.pop();
      const int wake = ramp_up(sp);
      lk.unlock();
      if (wake > 0) wake_idle(s, wake);
      job->run(job);
      lk.lock();
    }
    if (s.shutdown) break;

    // IDLE: wait for a spawn() to claim us, the keep-alive to expire, or shutdown.
    ++s.num_idle;
    const auto deadline = deadline_after(s.cfg.keep_alive);
    bool claimed = false;
    while (!s.shutdown) {
      // The word is read under the lock. A spawn() claims under the lock and bumps the word
      // before waking, so a claim made after we unlock makes the futex wait return at once
      // instead of missing the wake-up.
      const std::uint32_t seen = s.wake_seq.load(std::memory_order_relaxed);
      lk.unlock();
      const bool in_time = futex_wait_until(s.wake_seq, seen, deadline);
      lk.lock();
      if (s.num_notify != 0) {
        // A legitimate wake-up: spawn() already took us off num_idle.
        --s.num_notify;
        claimed = true;
        break;
      }
      if (!s.shutdown && !in_time && std::chrono::steady_clock::now() >= deadline) {
        // Keep-alive expired (tokio: thread_keep_alive): leave on our own.
        --s.num_idle;
        --s.num_th;
        ++s.num_exiting;  // shutdown() waits for our on_thread_stop
        s.threads.erase(id);
        pthread_detach(pthread_self());
        lk.unlock();
        call_hook(s.cfg.on_thread_stop);
        lk.lock();
        --s.num_exiting;
        s.exit_cv.notify_all();
        return;
      }
      // Spurious wake-up: keep waiting for the same deadline.
    }
    if (!claimed) {
      --s.num_idle;  // woken by shutdown while still counted idle
      break;
    }
  }
  lk.unlock();
  call_hook(s.cfg.on_thread_stop);
  lk.lock();
  --s.num_th;
  auto it = s.threads.find(id);
  if (it != s.threads.end()) it->second.exited = true;
  s.exit_cv.notify_all();
}

extern "C" void* blocking_thread_main(void* arg) noexcept {
  std::shared_ptr<BlockingPool::Shared> shared;
  std::uint64_t id;
  {
    auto* start = static_cast<Start*>(arg);
    shared = std::move(start->shared);
    id = start->id;
    delete start;
  }
  if (!shared->cfg.thread_name.empty()) {
    const std::string name = shared->cfg.thread_name.substr(0, 15);
    pthread_setname_np(pthread_self(), name.c_str());
  }
  call_hook(shared->cfg.on_thread_start);
  run_worker(shared, id);
  return nullptr;
}

// Starts a pool thread; requires s.mu (the new thread blocks on it until we are done).
bool start_thread(const std::shared_ptr<BlockingPool::Shared>& s) {
  pthread_attr_t attr;
  if (pthread_attr_init(&attr) != 0) return false;
  if (s->cfg.stack_size != 0) {
    std::size_t size = std::max<std::size_t>(s->cfg.stack_size, PTHREAD_STACK_MIN);
    const long page = sysconf(_SC_PAGESIZE);
    if (page > 0) size = (size + page - 1) / page * page;
    pthread_attr_setstacksize(&attr, size);
  }
  const std::uint64_t id = s->next_id++;
  auto* start = new Start{s, id};
  pthread_t handle;
  const int rc = pthread_create(&handle, &attr, &blocking_thread_main, start);
  pthread_attr_destroy(&attr);
  if (rc != 0) {
    delete start;
    return false;
  }
  ++s->num_th;
  ++s->num_starting;
  s->threads.emplace(id, BlockingPool::Shared::ThreadRec{handle, false});
  return true;
}

}  // namespace

BlockingPool::BlockingPool(BlockingPoolConfig config) {
  if (config.max_threads == 0)
    throw std::invalid_argument("rill::BlockingPool: max_threads must be at least 1");
  shared_ = std::make_shared<Shared>(std::move(config));
}

BlockingPool::~BlockingPool() {
  shutdown(std::nullopt);
}

bool BlockingPool::spawn(BlockingJob* job) {
  if (!job || !job->run || !job->cancel)
    throw std::invalid_argument(
        "rill::BlockingPool::spawn: job, job->run and job->cancel must be non-null");
  Shared& s = *shared_;
  bool notify = false;
  {
    std::lock_guard lk(s.mu);
    if (s.shutdown) return false;
    // A thread already on its way to the queue takes this job or, finding more queued, brings
    // the next threads (ramp_up): a burst of spawns costs the spawning task one wake-up, not
    // one per job (the scheduler's "wake a worker only when nobody is searching").
    if (s.on_the_way() == 0) {
      const Brought b = bring_thread(shared_);
      notify = b == Brought::Idle;
      // With no thread brought, the threads there are get to the job eventually; with none at
      // all (the start failed), nobody would.
      if (b == Brought::None && s.num_th == 0) return false;
    }
    s.push(job);
  }
  // Signal after unlocking: a thread woken while we still held the lock would only block on it
  // again (a futex sleep and a second wake per job). The claim (num_notify) was made under the
  // lock, so whichever idle thread wakes takes it.
  if (notify) wake_idle(s, 1);
  return true;
}

void BlockingPool::shutdown(std::optional<std::chrono::nanoseconds> timeout) {
  Shared& s = *shared_;
  std::unique_lock lk(s.mu);
  if (s.shutdown) return;
  s.shutdown = true;
  BlockingJob* queued = s.head;
  s.head = s.tail = nullptr;
  s.depth = 0;
  lk.unlock();
  wake_idle(s, INT_MAX);

  // Cancel jobs that never started, outside the lock (cancel may do anything but spawn()).
  while (queued) {
    BlockingJob* next = queued->next;
    queued->next = nullptr;
    queued->cancel(queued);
    queued = next;
  }

  lk.lock();
  const pthread_t self = pthread_self();
  auto all_exited = [&] {
    if (s.num_exiting != 0) return false;
    for (auto& [id, rec] : s.threads)
      if (!rec.exited && !pthread_equal(rec.handle, self)) return false;
    return true;
  };
  if (timeout)
    s.exit_cv.wait_until(lk, deadline_after(*timeout), all_exited);
  else
    s.exit_cv.wait(lk, all_exited);
  std::vector<pthread_t> to_join, to_detach;
  for (auto& [id, rec] : s.threads)
    (rec.exited ? to_join : to_detach).push_back(rec.handle);
  s.threads.clear();
  lk.unlock();
  for (pthread_t t : to_join)
    pthread_join(t, nullptr);
  // Still busy after the timeout (or the calling thread itself): they hold their own
  // reference to the shared state and exit on their own.
  for (pthread_t t : to_detach)
    pthread_detach(t);
}

std::size_t BlockingPool::num_threads() const {
  std::lock_guard lk(shared_->mu);
  return shared_->num_th;
}

std::size_t BlockingPool::num_idle_threads() const {
  std::lock_guard lk(shared_->mu);
  return shared_->num_idle;
}

bool BlockingPool::is_busy() const {
  std::lock_guard lk(shared_->mu);
  return shared_->depth > 0 || shared_->num_th > shared_->num_idle;
}

std::size_t BlockingPool::queue_depth() const {
  std::lock_guard lk(shared_->mu);
  return shared_->depth;
}

}  // namespace rill::detail

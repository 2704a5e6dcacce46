// diagnostics/long_poll.cpp: the long-poll (blocking) detector.
//
// Workers publish (task, poll start) in their Core when a poll starts (run_task). A watchdog
// thread per runtime wakes every threshold/2; when a poll has run for at least the threshold
// and is still running, it sends SIGURG to the worker. The handler (on the worker, in the
// middle of the poll, so the task and its coroutine frames are alive and still) records:
//   - the native stack with libgcc's unwinder (_Unwind_Backtrace: no allocation once warmed up),
//     and for each frame its CFA, function start and callee-saved registers;
//   - the innermost running coroutine frame: a coroutine frame starts with the address of its
//     resume function, so a callee-saved register or stack slot of a `.resume` function's
//     native frame that points at memory starting with that function's own start address is
//     its coroutine frame. Memory is read with process_vm_readv (no fault on a bad pointer);
//   - the chain of awaiting coroutines: each rill promise starts with `continuation`
//     (detail::PromiseBase), right after the frame's two function pointers;
//   - the task's id, name and spawn location.
// Symbolization (ELF symbol tables, demangling) happens afterwards on the watchdog thread.
#include <fcntl.h>
#include <fmt/format.h>
#include <linux/futex.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <ucontext.h>
#include <unistd.h>
#include <unwind.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "rill/diagnostics.hpp"
#include "scheduler/scheduler.hpp"

namespace rill::diagnostics {

namespace {
std::string fmt_duration(std::chrono::nanoseconds d) {
  const double ns = static_cast<double>(d.count());
  if (ns >= 1e9) return fmt::format("{:.3f} s", ns / 1e9);
  if (ns >= 1e6) return fmt::format("{:.1f} ms", ns / 1e6);
  if (ns >= 1e3) return fmt::format("{:.1f} us", ns / 1e3);
  return fmt::format("{} ns", d.count());
}
std::string describe_location(const std::source_location& l) {
  if (!l.file_name() || !*l.file_name()) return "<unknown>";
  return fmt::format("{}:{}", l.file_name(), l.line());
}
}  // namespace

std::string LongPollReport::to_string() const {
  std::string o;
  auto out = std::back_inserter(o);
  const std::string name = task_name.empty() ? std::string() : fmt::format(" \"{}\"", task_name);
  if (phase == LongPollPhase::Detected) {
    fmt::format_to(out,
                   "rill: long poll: task {}{} (spawned at {}) has been running for {} on worker "
                   "{} without yielding (threshold {})\n",
                   task_id, name, describe_location(spawn_location), fmt_duration(duration), worker,
                   fmt_duration(threshold));
  } else if (captured) {
    fmt::format_to(out, "rill: long poll ended: task {}{} blocked worker {} for {}\n", task_id,
                   name, worker, fmt_duration(duration));
    return o;
  } else {
    fmt::format_to(out,
                   "rill: long poll: task {} blocked worker {} for {} (threshold {}; it ended "
                   "before the watchdog sampled it, no stack)\n",
                   task_id, worker, fmt_duration(duration), fmt_duration(threshold));
    return o;
  }
  if (!captured) {
    o += "  (stack not captured: the worker did not answer the sampling signal in time)\n";
    return o;
  }
  o += "  native stack (innermost first):\n";
  for (std::size_t i = 0; i < stack.size(); ++i) {
    const auto& f = stack[i];
    fmt::format_to(out, "    #{:<2} 0x{:012x} {}{}\n", i, f.address,
                   f.function.empty() ? "??" : f.function,
                   f.object.empty() ? "" : fmt::format(" ({})", f.object));
  }
  o += "  async stack (awaited by, innermost first):\n";
  for (std::size_t i = 0; i < async_stack.size(); ++i)
    fmt::format_to(out, "    #{:<2} {} (frame {})\n", i, async_stack[i].function,
                   async_stack[i].frame);
  return o;
}

void log_long_poll(const LongPollReport& report) {
  const std::string s = report.to_string();
  std::fwrite(s.data(), 1, s.size(), stderr);
  std::fflush(stderr);
}

void log_large_frame(const frames::SiteStats& site) noexcept {
  try {
    const std::string s = fmt::format(
        "rill: warning: coroutine {} ({}:{}) has a {}-byte frame, above the large-frame "
        "threshold of {} bytes; every call allocates it (move large locals to the heap)\n",
        site.function, site.file, site.line, site.frame_size, frames::large_frame_threshold());
    std::fwrite(s.data(), 1, s.size(), stderr);
  } catch (...) {
  }
}

namespace {
// The default large-frame warning, installed when the runtime is linked in (this file is
// always linked: the scheduler starts the watchdog from here).
[[maybe_unused]] const bool g_large_frame_warning_installed =
    (frames::set_large_frame_hook(&log_large_frame), true);
}  // namespace

}  // namespace rill::diagnostics

namespace rill::detail {

namespace {

using diagnostics::AsyncFrame;
using diagnostics::LongPollPhase;
using diagnostics::LongPollReport;

constexpr int kSignal = SIGURG;
constexpr int kMaxFrames = 64;
constexpr int kMaxAsync = 64;
constexpr int kRegs[] = {3, 6, 12, 13, 14, 15};  // x86-64 DWARF: rbx rbp r12 r13 r14 r15
constexpr int kNumRegs = sizeof(kRegs) / sizeof(kRegs[0]);
constexpr int kMaxStackWords = 64;  // words of a native frame scanned for the coroutine frame

enum : int { IDLE = 0, ARMED = 1, CAPTURING = 2, DONE = 3 };

/// The one capture in flight (process-wide; g_capture_mu serializes watchdogs).
struct Capture {
  std::atomic<int> state{IDLE};
  // Request (written by the watchdog before ARMED).
  pthread_t target{};
  Core* core = nullptr;
  std::uint64_t seq = 0;
  TaskHeader* task = nullptr;
  // Result (written by the handler before DONE).
  bool ok = false;
  int nframes = 0;
  std::uintptr_t ip[kMaxFrames];
  std::uintptr_t cfa[kMaxFrames];
  std::uintptr_t fn_start[kMaxFrames];
  std::uintptr_t regs[kMaxFrames][kNumRegs];
  std::uintptr_t interrupted_ip = 0;
  int nasync = 0;
  const void* async_frame[kMaxAsync];
  const void* async_resume[kMaxAsync];
  bool async_exact = false;  // innermost frame found on the native stack
  std::uint64_t task_id = 0;
  char name[96];
  std::source_location loc;
  sem_t done;
};

Capture g_cap;
std::mutex g_capture_mu;
std::once_flag g_install_once;
struct sigaction g_prev_action {};
std::atomic<bool> g_use_pipe{false};
int g_pipe[2] = {-1, -1};

/// Reads one word at `addr` without faulting (false when unreadable). Async-signal-safe.
bool safe_read(std::uintptr_t addr, std::uintptr_t& out) noexcept {
  if (addr < 4096 || (addr & 7) != 0 || addr >= (std::uintptr_t{1} << 47)) return false;
  if (!g_use_pipe.load(std::memory_order_relaxed)) {
    iovec local{&out, sizeof out};
    iovec remote{reinterpret_cast<void*>(addr), sizeof out};
    return ::process_vm_readv(::getpid(), &local, 1, &remote, 1, 0) ==
           static_cast<ssize_t>(sizeof out);
  }
  // Fallback when process_vm_readv is refused (seccomp): write() reports EFAULT instead of
  // faulting; the word is then read back from the pipe.
  if (::write(g_pipe[1], reinterpret_cast<const void*>(addr), sizeof out) !=
      static_cast<ssize_t>(sizeof out))
    return false;
  return ::read(g_pipe[0], &out, sizeof out) == static_cast<ssize_t>(sizeof out);
}

struct UnwindState {
  Capture* c;
};

_Unwind_Reason_Code unwind_cb(_Unwind_Context* ctx, void* arg) noexcept {
  auto* c = static_cast<UnwindState*>(arg)->c;
  if (c->nframes >= kMaxFrames) return _URC_END_OF_STACK;
  const int i = c->nframes++;
  c->ip[i] = _Unwind_GetIP(ctx);
  c->cfa[i] = _Unwind_GetCFA(ctx);
  c->fn_start[i] = _Unwind_GetRegionStart(ctx);
  for (int r = 0; r < kNumRegs; ++r)
    c->regs[i][r] = _Unwind_GetGR(ctx, kRegs[r]);
  return _URC_NO_REASON;
}

/// True when `cand` is the coroutine frame of the resume function starting at `start`.
bool is_frame_of(std::uintptr_t cand, std::uintptr_t start) noexcept {
  std::uintptr_t first;
  return start != 0 && (cand & 7) == 0 && safe_read(cand, first) && first == start;
}

/// Runs in the signal handler: finds the innermost coroutine frame and walks the chain.
void capture_async(Capture* c) noexcept {
  std::uintptr_t inner = 0;
  for (int k = 0; k < c->nframes && !inner; ++k) {
    const std::uintptr_t start = c->fn_start[k];
    for (int r = 0; r < kNumRegs && !inner; ++r)
      if (is_frame_of(c->regs[k][r], start)) inner = c->regs[k][r];
    if (k == 0 || inner) continue;
    const std::uintptr_t lo = c->cfa[k - 1], hi = c->cfa[k];
    if (lo >= hi || hi - lo > kMaxStackWords * sizeof(std::uintptr_t)) continue;
    for (std::uintptr_t p = lo; p + sizeof(std::uintptr_t) <= hi && !inner; p += sizeof p) {
      const std::uintptr_t w = *reinterpret_cast<const std::uintptr_t*>(p);  // our own stack
      if (is_frame_of(w, start)) inner = w;
    }
  }
  c->async_exact = inner != 0;
  if (!inner) {
    // Not found (e.g. frames without unwind info): start from the coroutine this poll resumed.
    if (c->task->hook && c->task->hook->handle) {
      inner = reinterpret_cast<std::uintptr_t>(c->task->hook->handle.address());
    } else if (c->task->root) {
      inner = reinterpret_cast<std::uintptr_t>(c->task->root.address());
    }
  }
  const std::uintptr_t root = reinterpret_cast<std::uintptr_t>(c->task->root.address());
  // The promise (detail::PromiseBase first) follows the resume and destroy pointers.
  constexpr std::uintptr_t kContinuationOffset = 2 * sizeof(void*);
  constexpr std::uintptr_t kDiagParentOffset = 3 * sizeof(void*);  // PromiseBase::diag_parent
  static_assert(offsetof(PromiseBase, continuation) == 0 &&
                offsetof(PromiseBase, diag_parent) == sizeof(void*));
  std::uintptr_t f = inner;
  while (f && c->nasync < kMaxAsync) {
    std::uintptr_t resume;
    if (!safe_read(f, resume)) break;
    c->async_frame[c->nasync] = reinterpret_cast<const void*>(f);
    c->async_resume[c->nasync] = reinterpret_cast<const void*>(resume);
    ++c->nasync;
    if (f == root) break;
    std::uintptr_t next;
    if (!safe_read(f + kContinuationOffset, next)) break;
    // A combinator's child (null continuation): go on at the coroutine awaiting the combinator.
    if (next == 0 && !safe_read(f + kDiagParentOffset, next)) break;
    f = next;
  }
  // A chain cut by a combinator (Timeout's inner task has no continuation): show the root.
  if (root && c->nasync > 0 && c->nasync < kMaxAsync &&
      reinterpret_cast<std::uintptr_t>(c->async_frame[c->nasync - 1]) != root) {
    std::uintptr_t resume;
    if (safe_read(root, resume)) {
      c->async_frame[c->nasync] = reinterpret_cast<const void*>(root);
      c->async_resume[c->nasync] = reinterpret_cast<const void*>(resume);
      ++c->nasync;
    }
  }
}

void on_signal(int sig, siginfo_t* info, void* uctx) {
  const int saved_errno = errno;
  Capture* c = &g_cap;
  int expected = ARMED;
  if (c->state.load(std::memory_order_acquire) != ARMED ||
      !pthread_equal(pthread_self(), c->target) ||
      !c->state.compare_exchange_strong(expected, CAPTURING, std::memory_order_acq_rel)) {
    // Not ours: hand it to whoever had the signal before us.
    if ((g_prev_action.sa_flags & SA_SIGINFO) && g_prev_action.sa_sigaction) {
      g_prev_action.sa_sigaction(sig, info, uctx);
    } else if (g_prev_action.sa_handler != SIG_DFL && g_prev_action.sa_handler != SIG_IGN &&
               g_prev_action.sa_handler) {
      g_prev_action.sa_handler(sig);
    }
    errno = saved_errno;
    return;
  }
  c->ok = false;
  c->nframes = 0;
  c->nasync = 0;
  // Still inside the poll the watchdog saw? (Only this thread writes these.)
  if (c->core->poll_task.load(std::memory_order_relaxed) == c->task &&
      c->core->stats.poll_count.load(std::memory_order_relaxed) == c->seq) {
    c->interrupted_ip =
        static_cast<std::uintptr_t>(static_cast<ucontext_t*>(uctx)->uc_mcontext.gregs[REG_RIP]);
    UnwindState st{c};
    _Unwind_Backtrace(&unwind_cb, &st);
    capture_async(c);
    TaskHeader* t = c->task;
    c->task_id = t->id;
    c->name[0] = '\0';
    if (const char* n = t->name.get()) {
      std::size_t i = 0;
      for (; n[i] && i + 1 < sizeof c->name; ++i)
        c->name[i] = n[i];
      c->name[i] = '\0';
    }
    c->loc = t->spawn_location;
    c->ok = true;
  }
  c->state.store(DONE, std::memory_order_release);
  sem_post(&c->done);
  errno = saved_errno;
}

_Unwind_Reason_Code count_cb(_Unwind_Context*, void* n) {
  ++*static_cast<int*>(n);
  return _URC_NO_REASON;
}

void install_handler() {
  sem_init(&g_cap.done, 0, 0);
  // Warm the unwinder up (libgcc loads and caches unwind tables on first use, which may
  // allocate): the handler must not be the first user.
  int n = 0;
  _Unwind_Backtrace(&count_cb, &n);
  std::uintptr_t probe = 0, word = 0x5eed;
  if (!safe_read(reinterpret_cast<std::uintptr_t>(&word), probe) || probe != word) {
    if (::pipe2(g_pipe, O_CLOEXEC | O_NONBLOCK) == 0) g_use_pipe.store(true);
  }
  struct sigaction sa {};
  sa.sa_sigaction = &on_signal;
  sa.sa_flags = SA_SIGINFO | SA_RESTART;
  sigemptyset(&sa.sa_mask);
  sigaction(kSignal, &sa, &g_prev_action);
}

/// Copies what the handler captured into `r` (symbolizing). Caller holds g_capture_mu and the
/// capture is DONE with ok = true.
void fill_report(const Capture& c, LongPollReport& r) {
  r.captured = true;
  r.task_id = c.task_id;
  r.task_name = c.name;
  r.spawn_location = c.loc;
  // Drop the handler's own frames: start at the interrupted instruction.
  int first = 0;
  for (int i = 0; i < c.nframes; ++i)
    if (c.ip[i] == c.interrupted_ip) {
      first = i;
      break;
    }
  for (int i = first; i < c.nframes; ++i) {
    if (c.ip[i] == 0) break;
    r.stack.push_back(diagnostics::symbolize(c.ip[i]));
  }
  for (int i = 0; i < c.nasync; ++i)
    r.async_stack.push_back(
        AsyncFrame{diagnostics::coroutine_name(c.async_resume[i]), c.async_frame[i]});
}

/// What /proc says about one worker thread, for telling blocking from preemption.
struct ThreadSample {
  std::uint64_t cpu_ns = 0;  ///< time on a CPU (schedstat field 1)
  char state = '?';          ///< R running/runnable, S sleeping, D uninterruptible (stat field 3)
};

/// Per-thread /proc files, kept open (pread at offset 0 regenerates them).
struct ProcFiles {
  int tid = 0, schedstat = -1, stat = -1;
  void close_all() noexcept {
    if (schedstat >= 0) ::close(schedstat);
    if (stat >= 0) ::close(stat);
    schedstat = stat = -1;
  }
};

/// Reads thread `tid`'s CPU time, and with `want_state` its scheduler state (a second, costlier
/// /proc read). False when /proc is unavailable (then the detector falls back to wall-clock
/// time).
bool sample_thread(int tid, ProcFiles& f, ThreadSample& out, bool want_state) noexcept {
  if (tid <= 0) return false;
  if (f.tid != tid) {
    f.close_all();
    char path[64];
    std::snprintf(path, sizeof path, "/proc/self/task/%d/schedstat", tid);
    f.schedstat = ::open(path, O_RDONLY | O_CLOEXEC);
    std::snprintf(path, sizeof path, "/proc/self/task/%d/stat", tid);
    f.stat = ::open(path, O_RDONLY | O_CLOEXEC);
    f.tid = tid;
  }
  if (f.schedstat < 0 || f.stat < 0) return false;
  char buf[512];
  ssize_t n = ::pread(f.schedstat, buf, sizeof buf - 1, 0);
  if (n <= 0) return false;
  buf[n] = '\0';
  char* end = nullptr;
  out.cpu_ns = std::strtoull(buf, &end, 10);
  if (end == buf) return false;
  if (!want_state) return true;
  n = ::pread(f.stat, buf, sizeof buf - 1, 0);
  if (n <= 0) return false;
  buf[n] = '\0';
  const char* paren = std::strrchr(buf, ')');  // the command name may contain spaces
  if (!paren || paren[1] != ' ' || paren[2] == '\0') return false;
  out.state = paren[2];
  return true;
}

}  // namespace

struct Watchdog {
  Scheduler* sched = nullptr;
  std::chrono::nanoseconds threshold{0};
  // Set to 1 (then FUTEX_WAKE) by stop_watchdog. The watchdog sleeps on this word with a
  // timeout: one futex call per sample (a condition variable with a timeout made two, the
  // second to wake the mutex glibc re-takes as contended), which matters because the watchdog
  // wakes every threshold/2 for as long as the runtime lives.
  std::atomic<std::uint32_t> stop{0};
  std::thread th;

  struct PerCore {
    // The poll last sampled on this core: its sequence number (stats.poll_count; 0: none),
    // the sample that first saw it, and the sample before (the poll started after that one).
    std::uint64_t seen_seq = 0, first_seen_ns = 0, start_bound_ns = 0;
    std::uint64_t last_sample_ns = 0;  // previous sample of this core
    std::uint64_t reported_seq = 0;    // poll already reported as Detected
    bool active = false;               // a Detected report awaits its Finished one
    std::uint64_t active_seq = 0;
    std::uint64_t active_start = 0;  // start_bound_ns of the active poll
    int active_misses = 0;
    std::uint64_t consumed_long_seq = 0;
    LongPollReport saved;
    // Blocking vs preemption: the worker's CPU time when this poll was first seen.
    std::uint64_t seen_cpu = 0;
    bool seen_ok = false;
    ProcFiles files;
  };
  std::vector<PerCore> cores;

  void emit(const LongPollReport& r) noexcept {
    try {
      sched->config().on_long_poll(r);
    } catch (...) {
    }
  }

  /// Interrupts core `i`'s thread and captures the poll `seq` of task `t`. Returns false when
  /// the poll ended meanwhile.
  bool capture(std::size_t i, Core& core, std::uint64_t seq, TaskHeader* t, LongPollReport& r) {
    std::lock_guard g(g_capture_mu);
    Capture& c = g_cap;
    while (sem_trywait(&c.done) == 0) {
    }
    c.target = core.owner_thread.load(std::memory_order_acquire);
    c.core = &core;
    c.seq = seq;
    c.task = t;
    c.ok = false;
    c.state.store(ARMED, std::memory_order_release);
    if (pthread_kill(c.target, kSignal) != 0) {
      c.state.store(IDLE, std::memory_order_release);
      return false;
    }
    timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += 1;  // a running worker answers in microseconds; a loaded box may delay it
    int rc;
    while ((rc = sem_timedwait(&c.done, &ts)) != 0 && errno == EINTR) {
    }
    if (rc != 0) {
      int expected = ARMED;
      if (c.state.compare_exchange_strong(expected, IDLE, std::memory_order_acq_rel)) {
        r.captured = false;  // signal not handled in time (e.g. deferred by a sanitizer)
        return core.poll_task.load(std::memory_order_acquire) == t &&
               core.stats.poll_count.load(std::memory_order_acquire) == seq;
      }
      while (sem_wait(&c.done) != 0 && errno == EINTR) {
      }
    }
    const bool ok = c.ok;
    if (ok) fill_report(c, r);
    c.state.store(IDLE, std::memory_order_release);
    (void)i;
    return ok;
  }

  void tick() {
    const std::uint64_t now = Scheduler::clock_ns();
    const std::uint64_t thr = static_cast<std::uint64_t>(threshold.count());
    for (std::size_t i = 0; i < cores.size(); ++i) {
      Core& core = sched->core(i);
      PerCore& pc = cores[i];
      const std::uint64_t prev_sample = std::exchange(pc.last_sample_ns, now);
      // A reported poll that ended: the worker stored its exact end.
      const std::uint64_t lseq = core.long_end_seq.load(std::memory_order_acquire);
      if (lseq != pc.consumed_long_seq) {
        pc.consumed_long_seq = lseq;
        if (pc.active && pc.active_seq == lseq) {
          LongPollReport r = std::move(pc.saved);
          r.phase = LongPollPhase::Finished;
          const std::uint64_t end = core.long_end_ns.load(std::memory_order_relaxed);
          r.duration = std::chrono::nanoseconds(end - std::min(end, pc.active_start));
          pc.active = false;
          emit(r);
        }
      }
      // The poll in progress, identified by its sequence number (no clock read by the worker).
      const std::uint64_t seq = core.stats.poll_count.load(std::memory_order_acquire);
      TaskHeader* t = core.poll_task.load(std::memory_order_acquire);
      if (pc.active && (seq != pc.active_seq || t == nullptr)) {
        // Ended without the worker recording it (block_in_place took the core away, or the
        // worker missed the mark): close it after two samples with the duration known so far.
        if (++pc.active_misses >= 2) {
          LongPollReport r = std::move(pc.saved);
          r.phase = LongPollPhase::Finished;
          r.duration = std::chrono::nanoseconds(now - pc.active_start);
          pc.active = false;
          emit(r);
        }
      }
      if (!t) {
        pc.seen_seq = 0;
        continue;
      }
      if (seq != pc.seen_seq) {
        // First sight of this poll: it started after the previous sample. Note the worker's CPU
        // time now, to tell blocking from preemption later (its state is read only when the
        // poll has run for the threshold: most polls seen once are never seen again).
        pc.seen_seq = seq;
        pc.first_seen_ns = now;
        pc.start_bound_ns = prev_sample;
        ThreadSample ts;
        pc.seen_ok = sample_thread(core.owner_tid.load(std::memory_order_acquire), pc.files, ts,
                                   /*want_state=*/false);
        pc.seen_cpu = ts.cpu_ns;
        continue;
      }
      if (pc.active || seq == pc.reported_seq) continue;
      // The same poll is still running: it has run at least since its first sight (Go's sysmon
      // flags a goroutine whose scheduling tick has not moved for 10 ms the same way).
      const std::uint64_t age = now - pc.first_seen_ns;
      if (age < thr) continue;
      // Blocking or preempted? On a loaded machine a worker can wait tens of milliseconds for a
      // CPU in the middle of a 1 ms poll. A poll counts as long when it is sleeping in the
      // kernel (state S/D: a blocking call) or has used threshold/2 of CPU since the watchdog
      // first saw it; a runnable worker that barely ran is being preempted, not blocking.
      ThreadSample ts;
      const bool ts_ok = sample_thread(core.owner_tid.load(std::memory_order_acquire), pc.files, ts,
                                       /*want_state=*/true);
      if (ts_ok && pc.seen_ok && ts.state == 'R' &&
          ts.cpu_ns - std::min(ts.cpu_ns, pc.seen_cpu) < thr / 2)
        continue;  // runnable but mostly off-CPU: preempted, not (yet) blocking
      if (core.stats.poll_count.load(std::memory_order_acquire) != seq) continue;
      LongPollReport r;
      r.phase = LongPollPhase::Detected;
      r.worker = i;
      r.threshold = threshold;
      r.duration = std::chrono::nanoseconds(age);
      pc.reported_seq = seq;
      // Ask the worker for the poll's exact end (it checks this mark after each poll); the
      // capture below synchronizes with the worker's signal handler, so a poll still running
      // there sees the mark when it ends.
      core.watched_seq.store(seq, std::memory_order_release);
      const bool running = capture(i, core, seq, t, r);
      if (!running) continue;  // the poll ended meanwhile: not reported
      // The only writer of long_poll_count (the worker never times polls for the detector).
      bump(core.stats.long_poll_count);
      pc.active = true;
      pc.active_seq = seq;
      pc.active_start = pc.start_bound_ns;
      pc.active_misses = 0;
      pc.saved = r;
      emit(r);
    }
  }

  void run() {
    const auto period =
        std::max<std::chrono::nanoseconds>(threshold / 2, std::chrono::microseconds(500));
    // A relative timeout, as before: on a loaded box a late wake-up stretches the next period
    // instead of adding catch-up samples. A timer slack of 1/8 of the period lets the kernel
    // fold the wake-up into an interrupt it takes anyway.
    ::prctl(PR_SET_TIMERSLACK, static_cast<unsigned long>(period.count() / 8), 0, 0, 0);
    timespec ts{};
    ts.tv_sec = static_cast<time_t>(period.count() / 1'000'000'000);
    ts.tv_nsec = static_cast<long>(period.count() % 1'000'000'000);
    while (stop.load(std::memory_order_acquire) == 0) {
      // Returns at the timeout, on the stop wake-up, when the word is already non-zero
      // (EAGAIN), or on a signal (EINTR: one early sample, harmless).
      ::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&stop), FUTEX_WAIT | FUTEX_PRIVATE_FLAG,
                0u, &ts, nullptr, 0);
      if (stop.load(std::memory_order_acquire) != 0) break;
      tick();
    }
  }
};

Watchdog* start_watchdog(Scheduler* s) {
  std::call_once(g_install_once, install_handler);
  auto* w = new Watchdog;
  w->sched = s;
  w->threshold = s->config().long_poll_threshold;
  w->cores.resize(s->num_workers());
  const std::uint64_t now = Scheduler::clock_ns();
  for (auto& pc : w->cores)
    pc.last_sample_ns = now;
  try {
    w->th = std::thread([w] {
      pthread_setname_np(pthread_self(), "rill-watchdog");
      // Never take the sampling signal on this thread.
      sigset_t set;
      sigemptyset(&set);
      sigaddset(&set, kSignal);
      pthread_sigmask(SIG_BLOCK, &set, nullptr);
      w->run();
    });
  } catch (const std::system_error& e) {
    delete w;
    throw RuntimeError(std::string("rill: cannot start the long-poll watchdog thread: ") +
                       e.what());
  }
  return w;
}

void stop_watchdog(Watchdog* w) noexcept {
  if (!w) return;
  w->stop.store(1, std::memory_order_release);
  ::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&w->stop), FUTEX_WAKE | FUTEX_PRIVATE_FLAG,
            1, nullptr, nullptr, 0);
  if (w->th.joinable()) w->th.join();
  for (auto& pc : w->cores)
    pc.files.close_all();
  delete w;
}

}  // namespace rill::detail

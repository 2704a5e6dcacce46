// signal/signal.cpp: process-wide signal registrations, the handler and the dispatch thread.
#include "rill/signal.hpp"

#include "rill/runtime.hpp"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <mutex>
#include <system_error>
#include <utility>
#include <vector>

namespace rill::signal {
namespace detail {

struct Registration {
  std::atomic<std::uint64_t> count{0};
  std::mutex mu;
  rill::sync::detail::WaitList waiters;  // Recv awaiters (their WaitNodes), guarded by mu
  /// Deliveries counted while no Signal for this signal existed, kept for the next Signal
  /// created (guarded by the registry's mutex, as the listener check is).
  std::uint64_t unclaimed = 0;
};

namespace {
constexpr int kMaxSignal = 65;
std::array<std::atomic<std::uint64_t>, kMaxSignal> g_pending{};
// The registry is used by the detached dispatch thread, which may still run while the process
// exits: allocate it once and never destroy it (no static destructor to race with).
struct Registry {
  std::array<std::shared_ptr<Registration>, kMaxSignal> regs;
  std::mutex mu;
};
Registry& registry() {
  static Registry* r = new Registry;
  return *r;
}
int g_pipe[2] = {-1, -1};

// The handlers installed before ours (written once, before ours is installed; read by the
// handler). Like signal-hook-registry (Tokio's), we chain to them, so a library or the runtime's
// own long-poll detector (SIGURG) that handled the signal first keeps working.
std::array<struct sigaction, kMaxSignal> g_prev{};

void handler(int signo, siginfo_t* info, void* uctx) {
  const int saved = errno;
  if (signo > 0 && signo < kMaxSignal) {
    g_pending[signo].fetch_add(1, std::memory_order_relaxed);
    const char b = static_cast<char>(signo);
    [[maybe_unused]] auto rc = ::write(g_pipe[1], &b, 1);  // nonblocking: a full pipe wakes too
    const struct sigaction& prev = g_prev[signo];
    if ((prev.sa_flags & SA_SIGINFO) && prev.sa_sigaction)
      prev.sa_sigaction(signo, info, uctx);
    else if (!(prev.sa_flags & SA_SIGINFO) && prev.sa_handler != SIG_DFL &&
             prev.sa_handler != SIG_IGN && prev.sa_handler)
      prev.sa_handler(signo);
  }
  errno = saved;
}

void* dispatch_thread(void*) {
  pthread_setname_np(pthread_self(), "rill-signal");
  sigset_t all;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, nullptr);  // deliver signals to other threads, not this one
  char buf[64];
  for (;;) {
    const ssize_t n = ::read(g_pipe[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return nullptr;
    for (int s = 1; s < kMaxSignal; ++s) {
      const std::uint64_t p = g_pending[s].exchange(0, std::memory_order_acq_rel);
      if (p == 0) continue;
      std::shared_ptr<Registration> r;
      rill::sync::detail::WakeList wake;
      {
        // Under the registry's mutex, so that a Signal being created sees this delivery either
        // as counted before it (then as unclaimed) or as one of its own (Signal::Signal).
        std::lock_guard lk(registry().mu);
        r = registry().regs[s];
        if (!r) continue;
        // Only the registry and `r` hold it: no Signal listens. Keep the deliveries for the
        // next Signal created, as Tokio's registry hands a delivery to the listeners present
        // when its driver next runs, which is after a Signal created just after the delivery.
        if (r.use_count() == 2) r->unclaimed += p;
        std::lock_guard lk2(r->mu);
        r->count.fetch_add(p, std::memory_order_acq_rel);
        while (auto* n = r->waiters.pop_front())
          wake.complete(n);
      }
      wake.wake_all();
    }
  }
}
}  // namespace

namespace {
/// register_signal with the registry's mutex held.
std::shared_ptr<Registration> register_locked(int signo) {
  if (signo <= 0 || signo >= kMaxSignal || signo == SIGKILL || signo == SIGSTOP)
    throw std::system_error(EINVAL, std::generic_category(),
                            "rill::signal: signal " + std::to_string(signo) + " cannot be handled");
  Registry& g = registry();
  if (g_pipe[0] < 0) {
    if (::pipe2(g_pipe, O_CLOEXEC) != 0)
      throw std::system_error(errno, std::generic_category(), "rill::signal: pipe2");
    ::fcntl(g_pipe[1], F_SETFL, O_NONBLOCK);
    pthread_t th;
    if (int rc = pthread_create(&th, nullptr, dispatch_thread, nullptr); rc != 0)
      throw std::system_error(rc, std::generic_category(), "rill::signal: dispatch thread");
    pthread_detach(th);
  }
  if (!g.regs[signo]) {
    struct sigaction sa{};
    sa.sa_sigaction = handler;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART | SA_SIGINFO;
    if (::sigaction(signo, nullptr, &g_prev[signo]) != 0 || ::sigaction(signo, &sa, nullptr) != 0)
      throw std::system_error(errno, std::generic_category(), "rill::signal: sigaction");
    g.regs[signo] = std::make_shared<Registration>();
  }
  return g.regs[signo];
}
}  // namespace

std::shared_ptr<Registration> register_signal(int signo) {
  std::lock_guard lk(registry().mu);
  return register_locked(signo);
}

std::uint64_t deliveries(const Registration& r) noexcept {
  return r.count.load(std::memory_order_acquire);
}

bool add_waiter(Registration& r, std::uint64_t seen, rill::sync::detail::WaitNode* n) {
  std::lock_guard lk(r.mu);
  if (r.count.load(std::memory_order_acquire) > seen) return false;
  n->done.store(false, std::memory_order_relaxed);
  r.waiters.push_back(n);
  return true;
}

void remove_waiter(Registration& r, rill::sync::detail::WaitNode* n) noexcept {
  std::lock_guard lk(r.mu);
  r.waiters.unlink(n);
}

std::size_t waiter_count(int signo) {
  if (signo <= 0 || signo >= kMaxSignal) return 0;
  std::shared_ptr<Registration> r;
  {
    std::lock_guard lk(registry().mu);
    r = registry().regs[signo];
  }
  if (!r) return 0;
  std::lock_guard lk(r->mu);
  return r->waiters.size();
}

}  // namespace detail

namespace {
int checked_in_runtime(int signo) {
  if (!rill::detail::t_ctx.sched && !rill::detail::current_task())
    rill::detail::throw_no_runtime("rill::signal::Signal");
  return signo;
}
}  // namespace

Signal::Signal(int signo) : signo_(checked_in_runtime(signo)) {
  std::lock_guard lk(detail::registry().mu);
  reg_ = detail::register_locked(signo);
  // Deliveries that arrived while no Signal existed count as not yet seen by this one; the
  // first Signal created takes them.
  seen_ = detail::deliveries(*reg_) - std::exchange(reg_->unclaimed, 0);
}

}  // namespace rill::signal

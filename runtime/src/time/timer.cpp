// time/timer.cpp: registering, cancelling and firing timers on the per-core wheels.
//
// Each core owns a TimerWheel guarded by a mutex (taken by its own worker when it registers or
// fires, and by whichever thread cancels). A task registers on the core of the thread it runs
// on; a thread without a core picks one round-robin and unparks it when the new deadline is
// earlier than the one that core sleeps until. Firing unlinks entries under the lock, takes
// their wakers, and wakes them after unlocking.
#include <new>
#include <vector>

#include "rill/detail/timer_node.hpp"
#include "rill/error.hpp"
#include "scheduler/scheduler.hpp"
#include "time/wheel.hpp"

namespace rill::detail {

static_assert(sizeof(TimerEntry) <= sizeof(TimerNode::entry), "TimerNode::entry too small");
static_assert(alignof(TimerEntry) <= 8);

namespace {
TimerEntry* entry_of(TimerNode* n) noexcept {
  return std::launder(reinterpret_cast<TimerEntry*>(n->entry));
}
TimerNode* node_of(TimerEntry* e) noexcept {
  return reinterpret_cast<TimerNode*>(reinterpret_cast<std::byte*>(e) - offsetof(TimerNode, entry));
}
std::atomic<std::uint32_t> g_rr{0};

void refresh_next(Core* c) noexcept {
  auto next = c->wheel.next_expiration();
  c->next_timer_tick.store(next ? *next : UINT64_MAX, std::memory_order_release);
}
}  // namespace

void timer_register(TimerNode* n, std::chrono::steady_clock::time_point deadline, Waker w) {
  Core* core = t_ctx.core;
  Scheduler* s = t_ctx.sched;
  if (!core) {
    if (!s) throw RuntimeError("rill timers must be used inside a rill runtime");
    core = &s->core(g_rr.fetch_add(1, std::memory_order_relaxed) % s->num_workers());
  }
  auto* e = new (n->entry) TimerEntry();
  e->deadline = Scheduler::tick_of(deadline);
  n->owner = core;
  n->waker = std::move(w);
  n->fired.store(false, std::memory_order_relaxed);
  n->registered = true;
  bool earlier;
  {
    std::lock_guard lk(core->timer_mu);
    core->wheel.insert(e);
    const std::uint64_t prev = core->next_timer_tick.load(std::memory_order_relaxed);
    earlier = e->deadline < prev;
    if (earlier) core->next_timer_tick.store(e->deadline, std::memory_order_release);
  }
  if (earlier && core != t_ctx.core) core->unpark();  // it may sleep past the new deadline
}

void timer_cancel(TimerNode* n) noexcept {
  if (n->fired.load(std::memory_order_acquire)) return;
  Core* core = n->owner;
  Waker w;
  {
    std::lock_guard lk(core->timer_mu);
    TimerEntry* e = entry_of(n);
    if (e->linked()) {
      core->wheel.remove(e);
      w = std::move(n->waker);
    }
  }
  // Dropped outside the lock: releasing the last task reference may free a cell.
}

void Scheduler::process_timers(Core* core) noexcept {
  const std::uint64_t next = core->next_timer_tick.load(std::memory_order_acquire);
  if (next == UINT64_MAX) return;  // no timer: no clock read
  const std::uint64_t now = now_tick();
  if (next > now) return;
  std::vector<Waker> wake;
  {
    std::lock_guard lk(core->timer_mu);
    core->wheel.advance(now, [&](TimerEntry* e) {
      TimerNode* n = node_of(e);
      wake.push_back(std::move(n->waker));
      n->fired.store(true, std::memory_order_release);
    });
    refresh_next(core);
  }
  for (auto& w : wake) w.wake();
}

}  // namespace rill::detail

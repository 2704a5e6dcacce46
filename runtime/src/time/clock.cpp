// time/clock.cpp: rill::time::{now, pause, resume, advance} on the current runtime's Clock.
#include <stdexcept>

#include "rill/coop.hpp"
#include "rill/error.hpp"
#include "rill/time.hpp"
#include "scheduler/scheduler.hpp"

namespace rill::time {

namespace {
detail::Scheduler* scheduler_for(const char* what) {
  detail::Scheduler* s = detail::t_ctx.sched;
  if (s == nullptr)
    throw RuntimeError(std::string("rill::time::") + what +
                       " must be called inside a rill runtime (block_on or a task)");
  return s;
}
}  // namespace

Instant now() noexcept {
  if (detail::Scheduler* s = detail::t_ctx.sched) return s->clock().now();
  return std::chrono::steady_clock::now();
}

void pause() {
  detail::Scheduler* s = scheduler_for("pause");
  if (!s->is_current_thread())
    throw RuntimeError("rill::time::pause needs a current_thread runtime (the clock of a "
                       "multi_thread runtime cannot be paused)");
  if (!s->clock().pause(detail::Scheduler::tick_origin()))
    throw RuntimeError("rill::time::pause: the clock is already paused");
}

void resume() {
  if (!scheduler_for("resume")->clock().resume())
    throw RuntimeError("rill::time::resume: the clock is not paused");
}

Task<void> advance(Duration d) {
  if (d < Duration::zero()) throw std::invalid_argument("rill::time::advance: negative duration");
  detail::Scheduler* s = scheduler_for("advance");
  if (!s->clock().advance(d))
    throw RuntimeError("rill::time::advance: the clock is not paused (call rill::time::pause)");
  if (detail::Core* c = detail::t_ctx.core) s->process_timers(c);
  co_await rill::yield_now();  // the woken tasks run before the caller continues
}

}  // namespace rill::time

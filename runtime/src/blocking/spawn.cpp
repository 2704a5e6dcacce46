// blocking/spawn.cpp: running spawn_blocking cells on the runtime's blocking pool.
#include <pthread.h>

#include <memory>

#include "blocking/pool.hpp"
#include "rill/detail/task_cell.hpp"
#include "scheduler/scheduler.hpp"

namespace rill::detail {

namespace {

/// A pool job for one blocking cell; keeps the scheduler alive while the job runs.
struct CellJob : BlockingJob {
  TaskHeader* cell;
  std::shared_ptr<Scheduler> sched;
};

void run_cell(TaskHeader* t, Scheduler* s) noexcept {
  auto st = t->state.load(std::memory_order_acquire);
  std::uint64_t ns;
  do {
    ns = (st & ~state::NOTIFIED) | state::RUNNING;
  } while (!t->state.compare_exchange_weak(st, ns, std::memory_order_acq_rel));
  if (ns & state::CANCELLED) {  // aborted before it started
    complete_task(t, true);
  } else {
    Context saved = t_ctx;
    t_ctx = Context{};
    t_ctx.sched = s;
    t->vtable->run_blocking(t);
    t_ctx = saved;
    complete_task(t, false);
  }
  task_ref_dec(t);  // the queue's reference
}

}  // namespace

void submit_blocking(TaskHeader* t) {
  static std::atomic<std::uint64_t> ids{1ull << 62};
  t->id = ids.fetch_add(1, std::memory_order_relaxed);
  Scheduler* s = t_ctx.sched;
  if (!s) {
    // Outside a runtime: a dedicated detached thread (Tokio would panic; running it is kinder).
    pthread_t th;
    int rc = pthread_create(
        &th, nullptr,
        [](void* p) -> void* {
          run_cell(static_cast<TaskHeader*>(p), nullptr);
          return nullptr;
        },
        t);
    if (rc != 0) {
      complete_task(t, true);
      task_ref_dec(t);
      return;
    }
    pthread_detach(th);
    return;
  }
  auto* job = new CellJob();
  job->cell = t;
  job->sched = s->shared_from_this();
  job->run = [](BlockingJob* j) noexcept {
    auto* cj = static_cast<CellJob*>(j);
    run_cell(cj->cell, cj->sched.get());
    delete cj;
  };
  job->cancel = [](BlockingJob* j) noexcept {
    auto* cj = static_cast<CellJob*>(j);
    TaskHeader* c = cj->cell;
    c->state.fetch_or(state::RUNNING, std::memory_order_acq_rel);
    complete_task(c, true);
    task_ref_dec(c);
    delete cj;
  };
  if (!s->blocking().spawn(job)) job->cancel(job);
}

}  // namespace rill::detail

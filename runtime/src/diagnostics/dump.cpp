// diagnostics/dump.cpp: Handle::dump(): every live task with its state, counters and, for
// suspended tasks, the chain of coroutines awaiting one another.
//
// A suspended (idle) task is claimed for the few microseconds it takes to read its chain: its
// state goes idle -> RUNNING with one CAS, exactly as a worker would before polling it, so no
// worker can resume (and free) its frames meanwhile. Releasing mirrors the end of a poll: a
// wake-up that arrived meanwhile re-queues the task, an abort cancels it.
#include <fmt/format.h>

#include <algorithm>
#include <coroutine>

#include "rill/diagnostics.hpp"
#include "rill/runtime.hpp"
#include "rill/task.hpp"
#include "scheduler/scheduler.hpp"

namespace rill::diagnostics {

std::string RuntimeDump::to_string() const {
  std::string o;
  auto out = std::back_inserter(o);
  fmt::format_to(out, "rill task dump: {} live task(s)\n", tasks.size());
  for (const auto& t : tasks) {
    const char* st = t.state == TaskState::Idle        ? "idle"
                     : t.state == TaskState::Scheduled ? "scheduled"
                                                       : "running";
    fmt::format_to(out, "task {}{} [{}", t.id,
                   t.name.empty() ? std::string() : fmt::format(" \"{}\"", t.name), st);
    if (t.state == TaskState::Running && t.worker != static_cast<std::size_t>(-1))
      fmt::format_to(out, " on worker {}", t.worker);
    fmt::format_to(out, "] polls={} busy={:.3f}ms spawned at {}:{}\n", t.polls,
                   static_cast<double>(t.busy.count()) / 1e6,
                   t.spawn_location.file_name() ? t.spawn_location.file_name() : "?",
                   t.spawn_location.line());
    for (std::size_t i = 0; i < t.async_stack.size(); ++i)
      fmt::format_to(out, "    #{:<2} {}\n", i, t.async_stack[i].function);
  }
  return o;
}

}  // namespace rill::diagnostics

namespace rill::detail {

namespace {

/// Reads the chain of a task this thread has claimed (RUNNING set by us).
std::vector<diagnostics::AsyncFrame> read_chain(TaskHeader* t) {
  std::vector<diagnostics::AsyncFrame> out;
  const void* root = t->root.address();
  std::coroutine_handle<> h;
  // Descend through combinators (Timeout, select/join) to the innermost waiting leaf.
  Resumable* leaf = t->hook;
  for (int depth = 0; leaf && !leaf->handle && leaf->inner && depth < 64; ++depth)
    leaf = leaf->inner(leaf);
  if (leaf && leaf->handle)
    h = leaf->handle;
  else if (t->resume_point)
    h = t->resume_point;  // never polled
  else if (t->root)
    h = t->root;  // suspended in a combinator (e.g. Timeout)
  constexpr int kMax = 256;
  void* f = h.address();
  for (int n = 0; f && n < kMax; ++n) {
    // A coroutine frame starts with its resume function's address.
    out.push_back({diagnostics::coroutine_name(*static_cast<void* const*>(f)), f});
    if (f == root) break;
    // Every rill promise derives from PromiseBase first. A combinator's child has no
    // continuation: its stack goes on at the coroutine awaiting the combinator.
    const PromiseBase& p = std::coroutine_handle<PromiseBase>::from_address(f).promise();
    f = p.continuation ? p.continuation.address() : p.diag_parent.address();
  }
  if (root && (out.empty() || out.back().frame != root))
    out.push_back({diagnostics::coroutine_name(*static_cast<void* const*>(root)), root});
  return out;
}

/// Ends our claim of `t` like the end of a poll; consumes the reference we held.
void release_claim(TaskHeader* t) noexcept {
  auto s = t->state.load(std::memory_order_acquire);
  for (;;) {
    if (s & state::CANCELLED) {  // aborted meanwhile: cancel it now, as a poll's end would
      complete_task(t, true);
      task_ref_dec(t);
      return;
    }
    if (!t->state.compare_exchange_weak(s, s & ~state::RUNNING, std::memory_order_acq_rel))
      continue;
    if (s & state::NOTIFIED)
      schedule_task(t);  // woken meanwhile: our reference queues it
    else
      task_ref_dec(t);
    return;
  }
}

}  // namespace

diagnostics::RuntimeDump dump_scheduler(Scheduler* s) {
  diagnostics::RuntimeDump d;
  if (!s) throw RuntimeError("rill::Handle::dump: the runtime was moved from or shut down");
  std::vector<TaskHeader*> tasks = s->owned_tasks_ref();
  d.tasks.reserve(tasks.size());
  std::size_t i = 0;
  try {
    for (; i < tasks.size(); ++i) {
      TaskHeader* t = tasks[i];
      diagnostics::TaskDump td;
      td.id = t->id;
      if (const char* n = t->name.get()) td.name = n;
      td.spawn_location = t->spawn_location;
      td.polls = t->polls.load(std::memory_order_relaxed);
      td.busy = std::chrono::nanoseconds(t->busy_ns.load(std::memory_order_relaxed));
      auto st = t->state.load(std::memory_order_acquire);
      bool claimed = false;
      while (!(st & (state::COMPLETE | state::RUNNING | state::NOTIFIED))) {
        if (t->state.compare_exchange_weak(st, st | state::RUNNING, std::memory_order_acq_rel)) {
          claimed = true;
          break;
        }
      }
      if (claimed) {
        td.state = diagnostics::TaskState::Idle;
        std::vector<diagnostics::AsyncFrame> chain;
        try {
          chain = read_chain(t);
        } catch (...) {
          release_claim(t);
          tasks[i] = nullptr;
          throw;
        }
        td.async_stack = std::move(chain);
        release_claim(t);  // consumes our reference
        tasks[i] = nullptr;
      } else if (st & state::COMPLETE) {
        continue;  // finished meanwhile
      } else if (st & state::RUNNING) {
        td.state = diagnostics::TaskState::Running;
        for (std::size_t w = 0; w < s->num_workers(); ++w)
          if (s->core(w).poll_task.load(std::memory_order_acquire) == t) td.worker = w;
      } else {
        td.state = diagnostics::TaskState::Scheduled;
      }
      d.tasks.push_back(std::move(td));
    }
  } catch (...) {
    for (TaskHeader* t : tasks)
      if (t) task_ref_dec(t);
    throw;
  }
  for (TaskHeader* t : tasks)
    if (t) task_ref_dec(t);
  std::sort(d.tasks.begin(), d.tasks.end(),
            [](const auto& a, const auto& b) { return a.id < b.id; });
  return d;
}

}  // namespace rill::detail

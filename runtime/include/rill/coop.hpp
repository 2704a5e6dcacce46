// rill/coop.hpp: cooperative scheduling: the per-poll budget, yielding, and opting out.
//
// Every task poll starts with a budget of 128 units (Tokio's). Each rill resource that completes
// without suspending (a ready channel receive, an elapsed sleep, a finished JoinHandle, ...)
// spends one; when the budget is spent the task is suspended and re-queued at the back of its
// worker's run queue, so one busy task cannot starve the others. Mirrors tokio::task::coop.
#pragma once

#include <coroutine>
#include <utility>

#include "rill/detail/task_header.hpp"
#include "rill/task.hpp"

namespace rill {

/// Awaitable that spends one unit of the current task's budget and yields (re-queues at the
/// back) only when the budget is exhausted. Use it in long loops that never touch rill
/// resources. Outside a task it completes at once. Mirrors tokio::task::consume_budget.
class [[nodiscard]] ConsumeBudget : private detail::Leaf {
 public:
  bool await_ready() noexcept { return ready_spend(); }
  void await_suspend(std::coroutine_handle<> h) noexcept { suspend_yield(h); }
  void await_resume() const noexcept {}
};
/// `co_await rill::consume_budget();`
inline ConsumeBudget consume_budget() noexcept { return {}; }

/// Awaitable that always suspends and re-queues the task after the worker next polls its I/O and
/// timer driver (so a yielding loop cannot starve I/O). Mirrors tokio::task::yield_now.
class [[nodiscard]] YieldNow : private detail::Leaf {
 public:
  bool await_ready() const noexcept { return detail::current_task() == nullptr; }
  void await_suspend(std::coroutine_handle<> h) noexcept {
    detail::t_ctx.defer_yield = true;
    suspend_yield(h);
  }
  void await_resume() const noexcept {}
};
/// `co_await rill::yield_now();`
inline YieldNow yield_now() noexcept { return {}; }

/// Awaitable that runs `task` with the cooperative budget switched off: resources awaited inside
/// it never force a yield. Use sparingly (a loop that never yields starves its worker). Mirrors
/// tokio::task::unconstrained.
template <class T>
class [[nodiscard]] Unconstrained {
 public:
  explicit Unconstrained(Task<T> t) noexcept : inner_(std::move(t)) {}
  Unconstrained(Unconstrained&&) = delete;
  ~Unconstrained() { leave(); }
  bool await_ready() const noexcept { return inner_.await_ready(); }
  std::coroutine_handle<> await_suspend(std::coroutine_handle<> h) noexcept {
    task_ = detail::current_task();
    if (task_) ++task_->unconstrained_depth;
    return inner_.await_suspend(h);
  }
  T await_resume() {
    leave();
    return inner_.await_resume();
  }

 private:
  void leave() noexcept {
    if (task_) --std::exchange(task_, nullptr)->unconstrained_depth;
  }
  Task<T> inner_;
  detail::TaskHeader* task_ = nullptr;
};
/// `co_await rill::unconstrained(some_task());`
template <class T>
Unconstrained<T> unconstrained(Task<T> t) noexcept {
  return Unconstrained<T>(std::move(t));
}

}  // namespace rill

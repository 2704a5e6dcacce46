// rill/join_handle.hpp: JoinHandle<T>, the owned permission to await a spawned task.
#pragma once

#include <coroutine>
#include <cstdint>
#include <utility>

#include "rill/detail/task_cell.hpp"
#include "rill/error.hpp"

namespace rill {

/// Handle to a task started with rill::spawn / Runtime::spawn / Handle::spawn or
/// rill::spawn_blocking. `co_await handle` suspends until the task finishes and yields its value;
/// it rethrows the exception the task ended with, and throws JoinError (is_cancelled()) when the
/// task was aborted or the runtime shut down first. A handle may be awaited once (awaiting
/// again throws std::logic_error). Dropping the handle detaches the task: it keeps
/// running and its output is dropped. Move-only; abort() and is_finished() are thread-safe;
/// awaiting is done by one task at a time. Mirrors tokio::task::JoinHandle.
template <class T>
class [[nodiscard]] JoinHandle : private detail::Leaf {
 public:
  JoinHandle() noexcept = default;
  /// Takes over one reference and the join interest of `t`. Internal.
  /// `take` reads the output of the cell's concrete type.
  JoinHandle(detail::TaskHeader* t, T (*take)(detail::TaskHeader*)) noexcept
      : cell_(t), take_(take) {}
  JoinHandle(JoinHandle&& o) noexcept
      : detail::Leaf(), cell_(std::exchange(o.cell_, nullptr)), take_(o.take_) {}
  JoinHandle& operator=(JoinHandle&& o) noexcept {
    if (this != &o) {
      reset();
      cell_ = std::exchange(o.cell_, nullptr);
      take_ = o.take_;
    }
    return *this;
  }
  ~JoinHandle() { reset(); }

  /// Requests cancellation: the task is dropped at its next suspension point (never while it
  /// runs); awaiting then throws JoinError::cancelled unless it finished first. A blocking task
  /// that already started runs to completion (as in Tokio). Thread-safe.
  void abort() const noexcept {
    if (cell_) detail::join_handle_abort(cell_);
  }
  /// True once the task has finished (value, exception or cancellation). Thread-safe.
  bool is_finished() const noexcept { return cell_ && cell_->is_complete(); }
  /// The task's id (unique within the process, like tokio::task::Id).
  std::uint64_t id() const noexcept { return cell_ ? cell_->id : 0; }
  /// True while the handle refers to a task.
  explicit operator bool() const noexcept { return cell_ != nullptr; }

  bool await_ready() noexcept {
    if (!cell_->is_complete()) return false;
    return ready_spend();
  }
  bool await_suspend(std::coroutine_handle<> h) noexcept {
    if (must_yield) {
      suspend_yield(h);
      return true;
    }
    if (detail::join_register(cell_, detail::task_waker(detail::current_task()))) return false;
    suspend_here(h, [](detail::Resumable* self) noexcept {
      auto* me = static_cast<JoinHandle*>(static_cast<detail::Leaf*>(self));
      if (me->cell_->is_complete()) me->resume();
    });
    return true;
  }
  /// The task's value; rethrows its exception; throws JoinError when it was cancelled.
  T await_resume() { return take_(cell_); }

 private:
  void reset() noexcept {
    if (auto* c = std::exchange(cell_, nullptr)) detail::join_handle_drop(c);
  }
  detail::TaskHeader* cell_ = nullptr;
  T (*take_)(detail::TaskHeader*) = nullptr;
};

namespace detail {
/// Output reader for a TaskCell<T> or BlockingCell<F, T> (the JoinHandle's `take`).
template <class Cell, class R>
R take_output(TaskHeader* t) {
  auto* c = static_cast<Cell*>(t);
  if (c->cancelled) throw JoinError::cancelled(c->id);
  if (c->taken) throw std::logic_error("rill::JoinHandle awaited after it completed");
  c->taken = true;
  return take_outcome<R>(c->output);
}
}  // namespace detail

}  // namespace rill

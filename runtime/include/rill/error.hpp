// rill/error.hpp: the runtime's error types.
#pragma once

#include "rill/detail/compiler.hpp"

#include <cstdint>
#include <exception>
#include <stdexcept>
#include <string>

namespace rill {

/// Thrown when the runtime is used wrongly: a bad Builder value (0 worker threads), spawn() or
/// Handle::current() called outside a runtime, block_in_place() on a current_thread runtime,
/// block_on() nested inside a running task. Mirrors the situations where Tokio panics; rill
/// reports them as exceptions the caller can catch instead.
class RuntimeError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Why awaiting a JoinHandle failed: the task was cancelled (JoinHandle::abort(), runtime
/// shutdown) or it ended with an exception. Mirrors tokio::task::JoinError.
class JoinError : public std::runtime_error {
 public:
  enum class Kind : std::uint8_t { Cancelled, Panic };

  /// The task was cancelled before it completed.
  static JoinError cancelled(std::uint64_t task_id) {
    return JoinError(Kind::Cancelled, task_id, nullptr,
                     "task " + std::to_string(task_id) + " was cancelled");
  }
  /// The task ended with `e`; `panic()` gives it back and `resume_panic()` rethrows it.
  static JoinError panic(std::uint64_t task_id, std::exception_ptr e) {
    return JoinError(Kind::Panic, task_id, std::move(e),
                     "task " + std::to_string(task_id) + " ended with an exception");
  }

  bool is_cancelled() const noexcept { return kind_ == Kind::Cancelled; }
  bool is_panic() const noexcept { return kind_ == Kind::Panic; }
  /// The id of the task that failed (see JoinHandle::id()).
  std::uint64_t id() const noexcept { return id_; }
  /// The exception the task ended with (null when cancelled).
  std::exception_ptr panic_payload() const noexcept { return payload_; }
  /// Rethrows the task's exception; does nothing when cancelled.
  void resume_panic() const {
    if (payload_) std::rethrow_exception(payload_);
  }

 private:
  JoinError(Kind k, std::uint64_t id, std::exception_ptr p, const std::string& what)
      : std::runtime_error(what), kind_(k), id_(id), payload_(std::move(p)) {}
  Kind kind_;
  std::uint64_t id_;
  std::exception_ptr payload_;
};

}  // namespace rill

// rill/sync/cancellation_token.hpp: CancellationToken, a cheap, copyable, thread-safe signal
// that asks a group of tasks to stop, organised as a tree (child tokens). Mirrors
// tokio_util::sync::CancellationToken.
//
// Design: every token owns a reference to a node (copies share it). A node holds the cancelled
// flag (an atomic, so is_cancelled() takes no lock), the intrusive list of tasks waiting in
// cancelled() and the intrusive list of its live children, all guarded by the node's mutex.
// A child holds a reference to its parent's node; the parent links its children without owning
// them, and a child's node unlinks itself when the last token referring to it is dropped, so a
// long-lived parent does not accumulate dead children. cancel() sets the flag, takes the
// waiters and the (still alive) children under the lock, then wakes and cancels them outside it.
#pragma once

#include <atomic>
#include <coroutine>
#include <cstddef>
#include <memory>
#include <mutex>

#include "rill/detail/adaptive_mutex.hpp"
#include "rill/detail/task_header.hpp"
#include "rill/sync/detail/wait_list.hpp"

namespace rill::sync {

class CancellationToken;

namespace detail {
/// The shared state of a token and its copies. Internal.
struct CancelNode : std::enable_shared_from_this<CancelNode> {
  explicit CancelNode(std::shared_ptr<CancelNode> p) noexcept : parent(std::move(p)) {}
  ~CancelNode();
  CancelNode(const CancelNode&) = delete;
  CancelNode& operator=(const CancelNode&) = delete;

  std::atomic<bool> cancelled{false};
  rill::detail::AdaptiveMutex mu;
  WaitList waiters;                    ///< tasks in cancelled(); guarded by mu
  CancelNode* first_child = nullptr;   ///< live children; guarded by mu
  std::shared_ptr<CancelNode> parent;  ///< keeps the parent alive; immutable
  CancelNode* sibling_prev = nullptr;  ///< links in parent->first_child; guarded by parent->mu
  CancelNode* sibling_next = nullptr;  ///< guarded by parent->mu
  bool linked = false;                 ///< in parent's child list; guarded by parent->mu
  /// Used only by the cancel() that unlinked this node from its parent (one at a time: a node
  /// is unlinked once): the pending-work stack and the reference keeping this node alive.
  CancelNode* todo_next = nullptr;
  std::shared_ptr<CancelNode> todo_self;

  /// Cancels this node and every descendant (iteratively: no recursion on deep trees).
  void cancel() noexcept;
};

/// Tasks queued in cancelled() and live children linked to `t`'s state. Internal: for tests
/// and diagnostics (both must drop to zero when waiters are cancelled and children dropped).
struct CancelCounts {
  std::size_t waiters = 0;
  std::size_t children = 0;
};
CancelCounts cancel_counts(const CancellationToken& t) noexcept;
}  // namespace detail

/// A token that signals cancellation to every task holding a copy of it, and to every child
/// token derived from it. Copies share one state (copying costs one reference count); every
/// method is thread-safe and may be called from any thread, inside or outside a runtime.
///
/// Cancelling is one-way and idempotent: once cancel() was called, is_cancelled() stays true and
/// every cancelled() completes at once. Cancelling a token cancels all its children (created by
/// child_token(), transitively, including children created later, which start cancelled);
/// cancelling a child does not affect its parent. Dropping a token never cancels it (use
/// drop_guard() for that).
///
/// Typical use (graceful shutdown):
///
///     rill::sync::CancellationToken stop;
///     auto worker = rill::spawn([](rill::sync::CancellationToken stop) -> rill::Task<void> {
///       co_await stop.cancelled();   // or select it against other work
///     }(stop));
///     stop.cancel();
///
/// A moved-from token may only be assigned to or destroyed.
///
/// Mirrors tokio_util::sync::CancellationToken.
class CancellationToken {
 public:
  /// A new, uncancelled root token. Allocates its state (may throw std::bad_alloc). Mirrors
  /// CancellationToken::new.
  CancellationToken() : n_(std::make_shared<detail::CancelNode>(nullptr)) {}

  /// A new token that is cancelled when this one is (or at once, if this one already is), and
  /// that can be cancelled alone without affecting this one. The child keeps this token's state
  /// alive. Mirrors CancellationToken::child_token.
  CancellationToken child_token() const;

  /// Cancels this token and all its descendants, and wakes every task waiting in cancelled().
  /// Idempotent; noexcept. Mirrors CancellationToken::cancel.
  void cancel() const noexcept { n_->cancel(); }

  /// True once this token (or an ancestor) was cancelled. Lock-free. Mirrors
  /// CancellationToken::is_cancelled.
  bool is_cancelled() const noexcept { return n_->cancelled.load(std::memory_order_acquire); }

  /// Awaitable of cancelled(): completes (with no value) once the token is cancelled, at once if
  /// it already is. It keeps the token's state alive, so `co_await token.cancelled()` on a
  /// temporary token is fine. Must be awaited inside a rill task. Cancel-safe: destroyed while
  /// waiting (a lost select, a timeout, an aborted task) it leaves the token's waiter list at
  /// once, so nothing accumulates. Mirrors tokio_util::sync::WaitForCancellationFutureOwned.
  class [[nodiscard]] WaitForCancellation : private rill::detail::Leaf {
   public:
    explicit WaitForCancellation(std::shared_ptr<detail::CancelNode> n) noexcept
        : n_(std::move(n)) {}
    WaitForCancellation(WaitForCancellation&& o) noexcept
        : rill::detail::Leaf(), n_(std::move(o.n_)) {}
    WaitForCancellation(const WaitForCancellation&) = delete;
    WaitForCancellation& operator=(const WaitForCancellation&) = delete;
    ~WaitForCancellation() {
      if (waiting_) deregister();
    }
    bool await_ready() const noexcept { return n_->cancelled.load(std::memory_order_acquire); }
    bool await_suspend(std::coroutine_handle<> h) noexcept;
    void await_resume() noexcept { waiting_ = false; }

   private:
    void deregister() noexcept;
    std::shared_ptr<detail::CancelNode> n_;
    bool waiting_ = false;
    detail::WaitNode node_;
  };

  /// Waits until the token is cancelled; see WaitForCancellation. Mirrors
  /// CancellationToken::cancelled / cancelled_owned.
  WaitForCancellation cancelled() const noexcept { return WaitForCancellation(n_); }

  /// Cancels its token when destroyed, unless disarm() was called. Movable, not copyable.
  /// Mirrors tokio_util::sync::DropGuard.
  class [[nodiscard]] DropGuard {
   public:
    explicit DropGuard(CancellationToken t) noexcept : t_(std::move(t.n_)) {}
    DropGuard(DropGuard&&) noexcept = default;
    DropGuard& operator=(DropGuard&& o) noexcept {
      if (this != &o) {
        if (t_) t_->cancel();
        t_ = std::move(o.t_);
      }
      return *this;
    }
    ~DropGuard() {
      if (t_) t_->cancel();
    }
    /// Gives the token back without cancelling it. Mirrors DropGuard::disarm.
    CancellationToken disarm() noexcept { return CancellationToken(std::move(t_)); }

   private:
    std::shared_ptr<detail::CancelNode> t_;
  };

  /// A guard that cancels this token when it is destroyed. Mirrors
  /// CancellationToken::drop_guard.
  DropGuard drop_guard() const noexcept { return DropGuard(*this); }

  /// True when both tokens share one state (one is a copy of the other).
  friend bool operator==(const CancellationToken& a, const CancellationToken& b) noexcept {
    return a.n_ == b.n_;
  }

 private:
  explicit CancellationToken(std::shared_ptr<detail::CancelNode> n) noexcept : n_(std::move(n)) {}
  friend detail::CancelCounts detail::cancel_counts(const CancellationToken&) noexcept;
  std::shared_ptr<detail::CancelNode> n_;
};

}  // namespace rill::sync

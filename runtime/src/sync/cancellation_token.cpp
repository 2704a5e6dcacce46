// sync/cancellation_token.cpp: rill::sync::CancellationToken (a tree of mutex-guarded nodes, each
// with an atomic cancelled flag, an intrusive waiter list and an intrusive list of live
// children). Mirrors tokio-util/src/sync/cancellation_token{.rs,/tree_node.rs}.
#include "rill/sync/cancellation_token.hpp"

#include <vector>

namespace rill::sync {

using detail::CancelNode;
using detail::WakeList;

namespace detail {

CancelNode::~CancelNode() {
  // Leave the parent's child list (the parent cannot be gone: we hold a reference to it).
  if (parent) {
    std::lock_guard lk(parent->mu);
    if (linked) {
      if (sibling_prev)
        sibling_prev->sibling_next = sibling_next;
      else
        parent->first_child = sibling_next;
      if (sibling_next) sibling_next->sibling_prev = sibling_prev;
      linked = false;
    }
  }
  // Our own children are unlinked by their destructors, or by cancel(); none can be linked
  // here, since every child holds a reference to us.
}

void CancelNode::cancel() noexcept {
  // Iterative over the tree, without allocating: children still to cancel form an intrusive
  // stack through `todo_next`, each keeping itself alive through `todo_self`.
  CancelNode* todo = nullptr;
  CancelNode* cur = this;
  std::shared_ptr<CancelNode> hold;  // keeps `cur` alive while it is processed
  for (;;) {
    WakeList wl;
    {
      std::lock_guard lk(cur->mu);
      if (!cur->cancelled.load(std::memory_order_relaxed)) {
        cur->cancelled.store(true, std::memory_order_release);
        while (auto* w = cur->waiters.pop_front())
          wl.complete(w);
        // Take the children that are still alive; a child whose last token is being dropped
        // (its destructor waits for this lock) cannot be revived and needs no cancelling.
        for (CancelNode* c = cur->first_child; c;) {
          CancelNode* next = c->sibling_next;
          c->linked = false;
          c->sibling_prev = c->sibling_next = nullptr;
          if (auto sp = c->weak_from_this().lock()) {
            c->todo_self = std::move(sp);
            c->todo_next = todo;
            todo = c;
          }
          c = next;
        }
        cur->first_child = nullptr;
      }
    }
    wl.wake_all();
    if (!todo) return;
    cur = todo;
    todo = cur->todo_next;
    cur->todo_next = nullptr;
    hold = std::move(cur->todo_self);  // drops the previous node's reference, outside any lock
  }
}

CancelCounts cancel_counts(const CancellationToken& t) noexcept {
  CancelCounts c;
  std::lock_guard lk(t.n_->mu);
  c.waiters = t.n_->waiters.size();
  for (CancelNode* n = t.n_->first_child; n; n = n->sibling_next)
    ++c.children;
  return c;
}

}  // namespace detail

CancellationToken CancellationToken::child_token() const {
  auto child = std::make_shared<CancelNode>(n_);
  std::lock_guard lk(n_->mu);
  if (n_->cancelled.load(std::memory_order_relaxed)) {
    child->cancelled.store(true, std::memory_order_release);
  } else {
    child->sibling_next = n_->first_child;
    if (n_->first_child) n_->first_child->sibling_prev = child.get();
    n_->first_child = child.get();
    child->linked = true;
  }
  return CancellationToken(std::move(child));
}

bool CancellationToken::WaitForCancellation::await_suspend(std::coroutine_handle<> h) noexcept {
  {
    std::lock_guard lk(n_->mu);
    if (n_->cancelled.load(std::memory_order_relaxed)) return false;
    node_.waker = rill::detail::task_waker(rill::detail::current_task());
    n_->waiters.push_back(&node_);
    waiting_ = true;
  }
  suspend_here(h, [](rill::detail::Resumable* self) noexcept {
    auto* me = static_cast<WaitForCancellation*>(static_cast<rill::detail::Leaf*>(self));
    if (me->node_.done.load(std::memory_order_acquire)) me->resume();
  });
  return true;
}

void CancellationToken::WaitForCancellation::deregister() noexcept {
  std::lock_guard lk(n_->mu);
  if (node_.queued) {
    n_->waiters.unlink(&node_);
    node_.waker.reset();
  }
  waiting_ = false;
}

}  // namespace rill::sync

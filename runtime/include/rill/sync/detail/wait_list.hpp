// rill/sync/detail/wait_list.hpp: the intrusive waiter queue and batched wake list shared by the
// rill::sync primitives. Internal.
//
// Every primitive keeps its waiters in a WaitList guarded by the primitive's own std::mutex (the
// design of Tokio's batch_semaphore and Notify: a mutex-protected intrusive linked list, waking
// outside the lock). A waiter is a WaitNode embedded in the awaiter object (no allocation per
// wait). The side that completes a waiter unlinks it, moves its Waker into a WakeList and sets
// `done` (release) while holding the lock, then wakes after unlocking; the awaiter's poll hook
// reads `done` (acquire) without the lock, and its destructor takes the lock to unlink itself
// when it is still queued. Invariant: a node leaves the list only when it is complete (or when
// its owner removes it), so "dequeued" always means "ready" for the poll hook.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "rill/detail/waker.hpp"

namespace rill::sync::detail {

/// A queued waiter: links, the waker to call, and the completion flag. All fields except `done`
/// are guarded by the owning primitive's mutex. Not copyable or movable (it is linked).
struct WaitNode {
  WaitNode* prev = nullptr;
  WaitNode* next = nullptr;
  rill::detail::Waker waker;
  /// Set (release) by the completing side under the lock; read (acquire) by the poll hook.
  std::atomic<bool> done{false};
  bool queued = false;

  WaitNode() = default;
  WaitNode(const WaitNode&) = delete;
  WaitNode& operator=(const WaitNode&) = delete;
};

/// A FIFO intrusive doubly linked list of WaitNodes. Not thread-safe: guard it with the owning
/// primitive's mutex. O(1) push, pop and unlink.
class WaitList {
 public:
  bool empty() const noexcept { return head_ == nullptr; }
  WaitNode* front() const noexcept { return head_; }
  std::size_t size() const noexcept { return len_; }

  /// Appends `n` (which must not be queued).
  void push_back(WaitNode* n) noexcept {
    n->queued = true;
    n->next = nullptr;
    n->prev = tail_;
    if (tail_)
      tail_->next = n;
    else
      head_ = n;
    tail_ = n;
    ++len_;
  }
  /// Removes `n` if it is queued; no-op otherwise.
  void unlink(WaitNode* n) noexcept {
    if (!n->queued) return;
    n->queued = false;
    if (n->prev)
      n->prev->next = n->next;
    else
      head_ = n->next;
    if (n->next)
      n->next->prev = n->prev;
    else
      tail_ = n->prev;
    n->prev = n->next = nullptr;
    --len_;
  }
  /// Removes and returns the first node, or null.
  WaitNode* pop_front() noexcept {
    WaitNode* n = head_;
    if (n) unlink(n);
    return n;
  }

 private:
  WaitNode* head_ = nullptr;
  WaitNode* tail_ = nullptr;
  std::size_t len_ = 0;
};

/// Wakers collected under a lock and woken after it is released. Holds a few inline (the common
/// case wakes one or two waiters) and spills to a vector. Mirrors tokio::util::WakeList.
class WakeList {
 public:
  WakeList() = default;
  WakeList(const WakeList&) = delete;
  WakeList& operator=(const WakeList&) = delete;
  ~WakeList() { wake_all(); }

  void push(rill::detail::Waker w) {
    if (!w) return;
    if (n_ < kInline)
      inline_[n_++] = std::move(w);
    else
      more_.push_back(std::move(w));
  }
  /// Completes `n` (which the caller has unlinked): takes its waker, then publishes `done`.
  /// After this the node may be destroyed at any time by its owner.
  void complete(WaitNode* n) {
    push(std::move(n->waker));
    n->done.store(true, std::memory_order_release);
  }
  /// Wakes everything collected (call without holding the primitive's lock).
  void wake_all() noexcept {
    for (std::size_t i = 0; i < n_; ++i)
      inline_[i].wake();
    n_ = 0;
    for (auto& w : more_)
      w.wake();
    more_.clear();
  }

 private:
  static constexpr std::size_t kInline = 4;
  rill::detail::Waker inline_[kInline];
  std::size_t n_ = 0;
  std::vector<rill::detail::Waker> more_;
};

}  // namespace rill::sync::detail

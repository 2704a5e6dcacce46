// scheduler/queue.hpp: the per-worker run queue.
//
// A bounded (256) single-producer, multi-consumer ring buffer. The owner pushes at the tail and
// pops at the head; other workers steal half of the queue at once. `head` packs two u32 indices:
// `real` (the next task to pop) and `steal` (where an in-progress steal started); while they
// differ a steal is copying tasks out, and no second stealer may start. When the queue is full,
// the owner moves half of it plus the new task to the global injection queue in one batch.
// Mirrors tokio/src/runtime/scheduler/multi_thread/queue.rs.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>

#include "rill/detail/task_header.hpp"
#include "scheduler/inject.hpp"

namespace rill::detail {

class LocalQueue {
 public:
  static constexpr std::uint32_t kCapacity = 256;
  static constexpr std::uint32_t kMask = kCapacity - 1;

  /// Owner only. Pushes at the tail; on overflow moves half the queue + `t` to `inject`.
  /// Returns true when an overflow happened (metrics).
  bool push_back(TaskHeader* t, Inject& inject) noexcept {
    for (;;) {
      const std::uint64_t head = head_.load(std::memory_order_acquire);
      const std::uint32_t steal = hi(head), real = lo(head);
      const std::uint32_t tail = tail_.load(std::memory_order_relaxed);
      if (tail - steal < kCapacity) {
        buf_[tail & kMask].store(t, std::memory_order_relaxed);
        tail_.store(tail + 1, std::memory_order_release);
        return false;
      }
      if (steal != real) {  // a stealer is making room; don't wait for it
        inject.push(t);
        return true;
      }
      if (push_overflow(t, real, tail, inject)) return true;
    }
  }

  /// Owner only. Pops from the head; null when empty.
  TaskHeader* pop() noexcept {
    std::uint64_t head = head_.load(std::memory_order_acquire);
    std::uint32_t idx;
    for (;;) {
      const std::uint32_t steal = hi(head), real = lo(head);
      if (real == tail_.load(std::memory_order_relaxed)) return nullptr;
      const std::uint32_t next_real = real + 1;
      const std::uint64_t next = steal == real ? pack(next_real, next_real) : pack(steal, next_real);
      if (head_.compare_exchange_weak(head, next, std::memory_order_acq_rel,
                                      std::memory_order_acquire)) {
        idx = real;
        break;
      }
    }
    return buf_[idx & kMask].load(std::memory_order_relaxed);
  }

  /// Called by another worker: moves half of this queue into `dst` (the caller's own queue,
  /// which must be at most half full) and returns one of the stolen tasks to run; null when
  /// nothing could be stolen. `stolen` receives the number of tasks moved.
  TaskHeader* steal_into(LocalQueue& dst, std::uint32_t& stolen) noexcept {
    const std::uint32_t dst_tail = dst.tail_.load(std::memory_order_relaxed);
    const std::uint32_t dst_steal = hi(dst.head_.load(std::memory_order_acquire));
    if (dst_tail - dst_steal > kCapacity / 2) return nullptr;
    std::uint32_t n = steal_into2(dst, dst_tail);
    stolen = n;
    if (n == 0) return nullptr;
    --n;
    TaskHeader* ret = dst.buf_[(dst_tail + n) & kMask].load(std::memory_order_relaxed);
    if (n > 0) dst.tail_.store(dst_tail + n, std::memory_order_release);
    return ret;
  }

  /// Approximate number of queued tasks (exact for the owner).
  std::uint32_t len() const noexcept {
    const std::uint64_t head = head_.load(std::memory_order_acquire);
    return tail_.load(std::memory_order_acquire) - lo(head);
  }
  bool empty() const noexcept { return len() == 0; }
  /// Owner only: true when the queue has room without overflowing.
  std::uint32_t remaining() const noexcept {
    const std::uint32_t steal = hi(head_.load(std::memory_order_acquire));
    return kCapacity - (tail_.load(std::memory_order_relaxed) - steal);
  }
  /// Owner only: pushes `t` assuming remaining() > 0 (used to refill from the global queue).
  void push_unchecked(TaskHeader* t) noexcept {
    const std::uint32_t tail = tail_.load(std::memory_order_relaxed);
    buf_[tail & kMask].store(t, std::memory_order_relaxed);
    tail_.store(tail + 1, std::memory_order_release);
  }

 private:
  static std::uint32_t hi(std::uint64_t v) noexcept { return static_cast<std::uint32_t>(v >> 32); }
  static std::uint32_t lo(std::uint64_t v) noexcept { return static_cast<std::uint32_t>(v); }
  static std::uint64_t pack(std::uint32_t steal, std::uint32_t real) noexcept {
    return (std::uint64_t{steal} << 32) | real;
  }

  bool push_overflow(TaskHeader* t, std::uint32_t head, std::uint32_t tail,
                     Inject& inject) noexcept {
    constexpr std::uint32_t n = kCapacity / 2;
    std::uint64_t prev = pack(head, head);
    if (!head_.compare_exchange_strong(prev, pack(head + n, head + n), std::memory_order_release,
                                       std::memory_order_relaxed))
      return false;  // a stealer took some; the queue has room now
    TaskHeader* first = buf_[head & kMask].load(std::memory_order_relaxed);
    TaskHeader* last = first;
    for (std::uint32_t i = 1; i < n; ++i) {
      TaskHeader* x = buf_[(head + i) & kMask].load(std::memory_order_relaxed);
      last->queue_next = x;
      last = x;
    }
    last->queue_next = t;
    t->queue_next = nullptr;
    inject.push_batch(first, t, n + 1);
    (void)tail;
    return true;
  }

  std::uint32_t steal_into2(LocalQueue& dst, std::uint32_t dst_tail) noexcept {
    std::uint64_t prev = head_.load(std::memory_order_acquire);
    std::uint64_t next;
    std::uint32_t n;
    for (;;) {
      const std::uint32_t steal = hi(prev), real = lo(prev);
      const std::uint32_t tail = tail_.load(std::memory_order_acquire);
      if (steal != real) return 0;  // another worker is stealing
      n = tail - real;
      n -= n / 2;
      if (n == 0) return 0;
      next = pack(steal, real + n);
      if (head_.compare_exchange_weak(prev, next, std::memory_order_acq_rel,
                                      std::memory_order_acquire))
        break;
    }
    const std::uint32_t first = hi(next);
    for (std::uint32_t i = 0; i < n; ++i) {
      TaskHeader* t = buf_[(first + i) & kMask].load(std::memory_order_relaxed);
      dst.buf_[(dst_tail + i) & kMask].store(t, std::memory_order_relaxed);
    }
    // Release the steal claim: steal catches up with real.
    prev = next;
    for (;;) {
      const std::uint32_t real = lo(prev);
      if (head_.compare_exchange_weak(prev, pack(real, real), std::memory_order_acq_rel,
                                      std::memory_order_acquire))
        return n;
    }
  }

  alignas(64) std::atomic<std::uint64_t> head_{0};
  alignas(64) std::atomic<std::uint32_t> tail_{0};
  alignas(64) std::array<std::atomic<TaskHeader*>, kCapacity> buf_{};
};

}  // namespace rill::detail

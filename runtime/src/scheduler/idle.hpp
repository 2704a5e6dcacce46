// scheduler/idle.hpp: which workers are parked and how many are searching for work.
//
// Waking a parked worker costs a syscall, and waking one for every scheduled task makes workers
// fight over the same few tasks. So, as in Tokio, at most half the workers "search" (steal) at
// a time, and a new task wakes a parked worker only when nobody is searching: a searcher that
// finds work and was the last searcher wakes another, so wake-ups fan out exactly as fast as
// work appears. State word: (num_unparked << 16) | num_searching. Mirrors
// tokio/src/runtime/scheduler/multi_thread/idle.rs.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>
#include <vector>

namespace rill::detail {

/// A sequentially consistent fence (the pairing point between a worker going idle and a thread
/// queueing work). On x86-64 a locked read-modify-write of the stack is a full barrier, as
/// MFENCE is, at a third of its cost on this project's machines (11 ns against 35 ns, AMD
/// EPYC guest); Linux's smp_mb() and crossbeam use the same instruction for this reason.
/// ThreadSanitizer does not model inline assembly, so it gets the standard fence.
inline void full_fence() noexcept {
#if defined(__x86_64__) && !defined(__SANITIZE_THREAD__) && !__has_feature(thread_sanitizer)
  asm volatile("lock orq $0, (%%rsp)" ::: "memory", "cc");
#else
  std::atomic_thread_fence(std::memory_order_seq_cst);
#endif
}

class Idle {
 public:
  explicit Idle(std::uint32_t num_workers) : num_workers_(num_workers) {
    state_.store(num_workers << kUnparkShift);
    sleepers_.reserve(num_workers);
  }

  /// A worker to wake for new work, if one should be woken; it is counted as unparked and
  /// searching before it runs.
  std::optional<std::uint32_t> worker_to_notify() noexcept {
    if (!notify_should_wakeup()) return std::nullopt;
    std::lock_guard lk(mu_);
    if (!notify_should_wakeup() || sleepers_.empty()) return std::nullopt;
    state_.fetch_add((1u << kUnparkShift) | 1u, std::memory_order_seq_cst);
    const std::uint32_t w = sleepers_.back();
    sleepers_.pop_back();
    return w;
  }

  /// The worker is about to park. Returns true if it was the last searcher (the caller must then
  /// re-check for work so none is stranded).
  bool transition_worker_to_parked(std::uint32_t worker, bool is_searching) noexcept {
    std::lock_guard lk(mu_);
    const std::uint32_t dec = (1u << kUnparkShift) | (is_searching ? 1u : 0u);
    const std::uint32_t prev = state_.fetch_sub(dec, std::memory_order_seq_cst);
    sleepers_.push_back(worker);
    return is_searching && (prev & kSearchMask) == 1;
  }

  /// Tries to become a searcher; refused when half the workers already search.
  bool transition_worker_to_searching() noexcept {
    const std::uint32_t s = state_.load(std::memory_order_seq_cst);
    if (2 * (s & kSearchMask) >= num_workers_) return false;
    state_.fetch_add(1, std::memory_order_seq_cst);
    return true;
  }

  /// Stops searching. Returns true if this was the last searcher (then wake another worker).
  bool transition_worker_from_searching() noexcept {
    const std::uint32_t prev = state_.fetch_sub(1, std::memory_order_seq_cst);
    return (prev & kSearchMask) == 1;
  }

  /// Removes `worker` from the sleepers (it woke by itself with work to do). Returns true if it
  /// was parked.
  bool unpark_worker_by_id(std::uint32_t worker) noexcept {
    std::lock_guard lk(mu_);
    auto it = std::find(sleepers_.begin(), sleepers_.end(), worker);
    if (it == sleepers_.end()) return false;
    sleepers_.erase(it);
    state_.fetch_add(1u << kUnparkShift, std::memory_order_seq_cst);
    return true;
  }

  /// True while `worker` is in the sleepers list (nobody claimed it).
  bool is_parked(std::uint32_t worker) const noexcept {
    std::lock_guard lk(mu_);
    return std::find(sleepers_.begin(), sleepers_.end(), worker) != sleepers_.end();
  }

  std::uint32_t num_searching() const noexcept {
    return state_.load(std::memory_order_seq_cst) & kSearchMask;
  }

 private:
  static constexpr std::uint32_t kUnparkShift = 16;
  static constexpr std::uint32_t kSearchMask = (1u << kUnparkShift) - 1;
  bool notify_should_wakeup() const noexcept {
    const std::uint32_t s = state_.load(std::memory_order_seq_cst);
    return (s & kSearchMask) == 0 && (s >> kUnparkShift) < num_workers_;
  }
  const std::uint32_t num_workers_;
  std::atomic<std::uint32_t> state_{0};
  mutable std::mutex mu_;
  std::vector<std::uint32_t> sleepers_;
};

}  // namespace rill::detail

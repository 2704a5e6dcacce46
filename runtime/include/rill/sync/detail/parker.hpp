// rill/sync/detail/parker.hpp: blocks a thread that is not a runtime thread until a Waker wakes
// it (the blocking_send / blocking_recv of the channels). Internal.
#pragma once

#include <atomic>
#include <condition_variable>
#include <mutex>

#include "rill/detail/waker.hpp"

namespace rill::sync::detail {

/// A one-thread parking spot with Wakers pointing at it. The state is reference-counted, so a
/// Waker that outlives the Parker (left in a channel) is harmless. Mirrors the thread parker of
/// Tokio's blocking `block_on` (CachedParkThread).
class Parker {
 public:
  Parker() : s_(new State) {}
  ~Parker() { release(s_); }
  Parker(const Parker&) = delete;
  Parker& operator=(const Parker&) = delete;

  /// A Waker that unparks this Parker's thread.
  rill::detail::Waker waker() noexcept {
    s_->refs.fetch_add(1, std::memory_order_relaxed);
    return rill::detail::Waker(&kVTable, s_);
  }
  /// Blocks until a waker was woken since the last park() (returns at once if one already was).
  void park() {
    std::unique_lock lk(s_->m);
    s_->cv.wait(lk, [this] { return s_->notified; });
    s_->notified = false;
  }

 private:
  struct State {
    std::atomic<int> refs{1};
    std::mutex m;
    std::condition_variable cv;
    bool notified = false;  ///< guarded by m
  };
  static void release(State* s) noexcept {
    if (s->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) delete s;
  }
  static void unpark(State* s) noexcept {
    {
      std::lock_guard lk(s->m);
      s->notified = true;
    }
    s->cv.notify_one();
  }
  static void* clone_fn(void* p) noexcept {
    static_cast<State*>(p)->refs.fetch_add(1, std::memory_order_relaxed);
    return p;
  }
  static void wake_fn(void* p) noexcept {
    unpark(static_cast<State*>(p));
    release(static_cast<State*>(p));
  }
  static void wake_by_ref_fn(void* p) noexcept { unpark(static_cast<State*>(p)); }
  static void drop_fn(void* p) noexcept { release(static_cast<State*>(p)); }
  static constexpr rill::detail::WakerVTable kVTable{&clone_fn, &wake_fn, &wake_by_ref_fn,
                                                     &drop_fn};
  State* s_;
};

}  // namespace rill::sync::detail

// rill/detail/timer_node.hpp: the storage a timer-using awaiter embeds (intrusive, no allocation).
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>

#include "rill/detail/waker.hpp"

namespace rill::detail {

struct Core;

/// A timer registration. The first member is opaque storage for the wheel's intrusive entry
/// (runtime/src/time/wheel.hpp); the rest is what firing needs. Lives inside the awaiter, which
/// must cancel it (timer_cancel) before it is destroyed.
struct TimerNode {
  alignas(8) std::byte entry[40];
  Core* owner = nullptr;            ///< the core whose wheel holds it (guarded by its lock)
  Waker waker;                      ///< woken when the deadline passes
  std::atomic<bool> fired{false};   ///< set (under the wheel lock) when it fired
  bool registered = false;          ///< owned by the awaiter's thread
};

/// Registers `n` to fire at `deadline` (ns on the steady clock) on the calling thread's core, or
/// on a core of the current runtime. Throws RuntimeError outside a runtime.
void timer_register(TimerNode* n, std::chrono::steady_clock::time_point deadline, Waker w);
/// Cancels `n` if it has not fired; afterwards the wheel no longer references it. Thread-safe.
void timer_cancel(TimerNode* n) noexcept;

}  // namespace rill::detail

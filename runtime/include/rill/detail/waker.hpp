// rill/detail/waker.hpp: a type-erased handle that makes a suspended computation runnable again.
#pragma once

#include "rill/detail/compiler.hpp"

#include <utility>

namespace rill::detail {

/// The operations behind a Waker, like Rust's RawWakerVTable. `clone` returns the data pointer
/// for a new reference; `wake` consumes one reference; `wake_by_ref` keeps it; `drop` releases it.
struct WakerVTable {
  void* (*clone)(void*) noexcept;
  void (*wake)(void*) noexcept;
  void (*wake_by_ref)(void*) noexcept;
  void (*drop)(void*) noexcept;
};

/// An owning, move-only-by-default reference to something that can be woken: a task (scheduled
/// on its runtime) or a thread blocked in block_on. Waking is thread-safe and may happen any
/// number of times; a spurious wake is harmless because every rill awaiter re-checks readiness
/// when polled. Mirrors std::task::Waker.
class Waker {
 public:
  Waker() noexcept = default;
  Waker(const WakerVTable* vt, void* data) noexcept : vt_(vt), data_(data) {}
  Waker(Waker&& o) noexcept : vt_(std::exchange(o.vt_, nullptr)), data_(o.data_) {}
  Waker& operator=(Waker&& o) noexcept {
    if (this != &o) {
      reset();
      vt_ = std::exchange(o.vt_, nullptr);
      data_ = o.data_;
    }
    return *this;
  }
  Waker(const Waker&) = delete;
  Waker& operator=(const Waker&) = delete;
  ~Waker() { reset(); }

  /// A new reference to the same target.
  Waker clone() const noexcept { return vt_ ? Waker(vt_, vt_->clone(data_)) : Waker(); }
  /// Wakes the target and releases this reference (the Waker becomes empty).
  void wake() noexcept {
    if (auto* vt = std::exchange(vt_, nullptr)) vt->wake(data_);
  }
  /// Wakes the target and keeps this reference.
  void wake_by_ref() const noexcept {
    if (vt_) vt_->wake_by_ref(data_);
  }
  /// Releases the reference without waking.
  void reset() noexcept {
    if (auto* vt = std::exchange(vt_, nullptr)) vt->drop(data_);
  }
  /// True when both wakers would wake the same target.
  bool will_wake(const Waker& o) const noexcept { return vt_ == o.vt_ && data_ == o.data_; }
  explicit operator bool() const noexcept { return vt_ != nullptr; }

 private:
  const WakerVTable* vt_ = nullptr;
  void* data_ = nullptr;
};

}  // namespace rill::detail

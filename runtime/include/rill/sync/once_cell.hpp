// rill/sync/once_cell.hpp: a value initialized at most once, possibly by an asynchronous
// initializer. Mirrors tokio::sync::OnceCell.
#pragma once

#include <atomic>
#include <functional>
#include <new>
#include <optional>
#include <type_traits>
#include <utility>

#include "rill/result.hpp"
#include "rill/sync/semaphore.hpp"
#include "rill/task.hpp"

namespace rill::sync {

/// OnceCell::set() failed; holds the value that was not stored. Mirrors
/// tokio::sync::SetError.
template <class T>
struct SetError {
  enum class Kind {
    AlreadyInitialized,  ///< the cell already holds a value
    InitializingError,   ///< another task is running an initializer right now
  } kind;
  T value;
  const char* what() const noexcept {
    return kind == Kind::AlreadyInitialized ? "cell already initialized"
                                            : "cell is being initialized";
  }
};

/// A thread-safe cell written at most once. get_or_init(f) runs the asynchronous initializer
/// `f` (a callable returning Task<T>) in at most one task at a time: concurrent callers wait
/// (FIFO) and then see the value; if the initializer throws or its task is cancelled, the next
/// waiter runs its own initializer (nothing is stored). Once set, reads are a single atomic load.
/// The value lives as long as the cell; references returned stay valid until then. Not movable.
/// Mirrors tokio::sync::OnceCell.
template <class T>
class OnceCell {
 public:
  /// An empty cell.
  OnceCell() : sem_(1) {}
  /// A cell that already holds `v`. Mirrors OnceCell::new_with(Some(v)).
  explicit OnceCell(T v) : sem_(1) {
    value_.emplace(std::move(v));
    sem_.close();
    init_.store(true, std::memory_order_release);
  }
  OnceCell(const OnceCell&) = delete;
  OnceCell& operator=(const OnceCell&) = delete;

  /// True once a value was stored. Mirrors OnceCell::initialized.
  bool initialized() const noexcept { return init_.load(std::memory_order_acquire); }
  /// The value, or null while uninitialized. Mirrors OnceCell::get.
  const T* get() const noexcept { return initialized() ? &*value_ : nullptr; }
  /// Mutable access; only for a caller with exclusive access to the cell. Mirrors get_mut.
  T* get_mut() noexcept { return initialized() ? &*value_ : nullptr; }

  /// Stores `v` if the cell is empty and no initializer is running; otherwise returns it in the
  /// error. Never waits. Mirrors OnceCell::set.
  Result<void, SetError<T>> set(T v) {
    switch (sem_.try_take(1)) {
      case 0:
        store(std::move(v));
        return {};
      case 2:
        return Unexpected{SetError<T>{SetError<T>::Kind::AlreadyInitialized, std::move(v)}};
      default:
        return Unexpected{SetError<T>{SetError<T>::Kind::InitializingError, std::move(v)}};
    }
  }

  /// The value, initializing it first with `co_await f()` if needed (see the class comment).
  /// Exceptions from `f` propagate to this caller. Mirrors OnceCell::get_or_init.
  template <class F>
    requires std::is_same_v<std::invoke_result_t<F&>, Task<T>>
  Task<std::reference_wrapper<const T>> get_or_init(F f) {
    if (!initialized()) {
      auto permit = co_await sem_.acquire();
      if (permit && !initialized()) {
        T v = co_await f();
        permit->forget();  // the semaphore is closed instead: later acquires fail at once
        store(std::move(v));
      }
    }
    co_return std::cref(*value_);
  }

  /// Like get_or_init, for an initializer that may fail: `f` returns Task<Result<T, E>>; an
  /// error is returned to this caller and nothing is stored (the next caller tries again).
  /// Mirrors OnceCell::get_or_try_init.
  template <class F, class R = typename std::invoke_result_t<F&>::value_type>
  Task<Result<std::reference_wrapper<const T>, typename R::error_type>> get_or_try_init(F f) {
    if (!initialized()) {
      auto permit = co_await sem_.acquire();
      if (permit && !initialized()) {
        R r = co_await f();
        if (!r) co_return Unexpected{std::move(r.error())};
        permit->forget();
        store(std::move(*r));
      }
    }
    co_return std::cref(*value_);
  }

  /// Moves the value out and empties the cell; only with exclusive access to the cell (no
  /// concurrent users). Mirrors OnceCell::take.
  std::optional<T> take() {
    if (!initialized()) return std::nullopt;
    std::optional<T> v = std::move(value_);
    value_.reset();
    init_.store(false, std::memory_order_release);
    sem_.~Semaphore();
    new (&sem_) Semaphore(1);
    return v;
  }

 private:
  void store(T v) {
    value_.emplace(std::move(v));
    init_.store(true, std::memory_order_release);
    sem_.close();
  }
  Semaphore sem_;
  std::optional<T> value_;
  std::atomic<bool> init_{false};
};

}  // namespace rill::sync

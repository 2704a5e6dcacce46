// rill/task.hpp: Task<T>, the lazy coroutine type of rill.
#pragma once

#include <coroutine>
#include <exception>
#include <source_location>
#include <type_traits>
#include <utility>
#include <variant>

#include "rill/detail/frame_alloc.hpp"

namespace rill {

template <class T = void>
class Task;

namespace detail {

/// Allocation and continuation shared by every rill promise. Frames are allocated through
/// frame_alloc (per-thread size classes, per-coroutine-site accounting; see rill/frames.hpp).
struct PromiseBase {
  std::coroutine_handle<> continuation;
  /// For diagnostics only: the coroutine awaiting the combinator (Timeout, select, join) that
  /// runs this coroutine as a child, whose continuation is null. Async stacks (Handle::dump, the
  /// long-poll detector) continue there, so they cross combinators. Null otherwise.
  std::coroutine_handle<> diag_parent;

#if defined(__clang__)
  // clang evaluates the default argument inside the coroutine, so `where` names the coroutine
  // function itself: the accounting site costs nothing at run time. FrameSite swallows the
  // coroutine's first parameter and the pack the rest (see rill/detail/frame_alloc.hpp).
  template <class... Args>
  static void* operator new(std::size_t n, FrameSite where = {}, Args&&...) {
    return frame_alloc(n, where);
  }
#else
  [[gnu::noinline]] static void* operator new(std::size_t n) {
    return frame_alloc(n, __builtin_return_address(0));
  }
#endif
  static void operator delete(void* p, std::size_t n) noexcept { frame_free(p, n); }

  std::suspend_always initial_suspend() noexcept { return {}; }

  struct FinalAwaiter {
    bool await_ready() const noexcept { return false; }
    template <class P>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<P> h) noexcept {
      auto c = h.promise().continuation;
      return c ? c : std::noop_coroutine();
    }
    void await_resume() const noexcept {}
  };
  FinalAwaiter final_suspend() noexcept { return {}; }
};

struct Unit {};
template <class T>
using Stored = std::conditional_t<std::is_void_v<T>, Unit, T>;

/// What a finished coroutine produced: nothing yet, a value, or an exception.
template <class T>
using Outcome = std::variant<std::monostate, Stored<T>, std::exception_ptr>;

template <class T>
struct Promise : PromiseBase {
  Outcome<T> outcome;
  Task<T> get_return_object() noexcept;
  void unhandled_exception() noexcept { outcome.template emplace<2>(std::current_exception()); }
  template <class U = T>
    requires std::is_convertible_v<U&&, T>
  void return_value(U&& v) {
    outcome.template emplace<1>(std::forward<U>(v));
  }
};

template <>
struct Promise<void> : PromiseBase {
  Outcome<void> outcome;
  Task<void> get_return_object() noexcept;
  void unhandled_exception() noexcept { outcome.template emplace<2>(std::current_exception()); }
  void return_void() noexcept { outcome.template emplace<1>(); }
};

/// Returns the value in `o` or rethrows its exception.
template <class T>
T take_outcome(Outcome<T>& o) {
  if (auto* e = std::get_if<2>(&o)) std::rethrow_exception(*e);
  if constexpr (!std::is_void_v<T>) return std::move(std::get<1>(o));
}

}  // namespace detail

/// A lazy coroutine producing a T (or an exception). Nothing runs until the Task is awaited
/// (`co_await task`), spawned (`rill::spawn`) or driven by `Runtime::block_on`. Awaiting uses
/// symmetric transfer, so deep chains of awaits take no stack. An exception that escapes the
/// coroutine is rethrown to the awaiter. Move-only; destroying an unstarted or suspended Task
/// destroys its frame (and everything the frame owns). Not thread-safe: one owner at a time.
/// The frame is allocated by the rill frame allocator and counted per coroutine site.
/// Mirrors a Rust `async fn` future (lazy, single-use) with cppcoro::task's C++ shape.
template <class T>
class [[nodiscard]] Task {
 public:
  using promise_type = detail::Promise<T>;
  using value_type = T;

  Task() noexcept = default;
  explicit Task(std::coroutine_handle<promise_type> h) noexcept : h_(h) {}
  Task(Task&& o) noexcept : h_(std::exchange(o.h_, {})) {}
  Task& operator=(Task&& o) noexcept {
    if (this != &o) {
      if (h_) h_.destroy();
      h_ = std::exchange(o.h_, {});
    }
    return *this;
  }
  Task(const Task&) = delete;
  Task& operator=(const Task&) = delete;
  ~Task() {
    if (h_) h_.destroy();
  }

  /// True when the Task holds a coroutine.
  bool valid() const noexcept { return static_cast<bool>(h_); }

  bool await_ready() const noexcept { return h_.done(); }
  std::coroutine_handle<> await_suspend(std::coroutine_handle<> awaiter) noexcept {
    h_.promise().continuation = awaiter;
    return h_;
  }
  /// The coroutine's result; rethrows the exception that escaped it.
  T await_resume() { return detail::take_outcome<T>(h_.promise().outcome); }

  /// Releases ownership of the coroutine frame (used by spawn). Internal.
  std::coroutine_handle<promise_type> release() noexcept { return std::exchange(h_, {}); }

 private:
  std::coroutine_handle<promise_type> h_;
};

namespace detail {
template <class T>
Task<T> Promise<T>::get_return_object() noexcept {
  return Task<T>(std::coroutine_handle<Promise<T>>::from_promise(*this));
}
inline Task<void> Promise<void>::get_return_object() noexcept {
  return Task<void>(std::coroutine_handle<Promise<void>>::from_promise(*this));
}
}  // namespace detail

}  // namespace rill

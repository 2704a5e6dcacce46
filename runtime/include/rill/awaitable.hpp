// rill/awaitable.hpp: what the combinators (select, join, try_join, timeout, timeout_at) accept:
// any rill awaitable (a Task, a read or write, an accept, a Signal::recv(), a sleep, a JoinHandle,
// a channel receive...), turned into a child Task the combinator drives. Mirrors Rust, where
// tokio::select!, tokio::join! and tokio::time::timeout take any `impl Future`.
#pragma once

#include <concepts>
#include <type_traits>
#include <utility>

#include "rill/task.hpp"

namespace rill {

/// An object `co_await` accepts directly: it has await_ready() and await_resume() (and an
/// await_suspend). Every rill awaitable is one: Task, io::ReadOp, Sleep, JoinHandle, mpsc's
/// Recv, Signal's Recv...
template <class A>
concept Awaitable = requires(A& a) {
  { a.await_ready() } -> std::convertible_to<bool>;
  a.await_resume();
};

/// The type `co_await a` yields for an lvalue `a` of type A (references decayed).
template <class A>
using await_result_t = std::conditional_t<
    std::is_void_v<decltype(std::declval<A&>().await_resume())>, void,
    std::remove_cvref_t<decltype(std::declval<A&>().await_resume())>>;

namespace detail {

template <class T>
struct IsTask : std::false_type {};
template <class T>
struct IsTask<Task<T>> : std::true_type {};

/// A child that owns `a` (moved into its frame) and awaits it.
template <class A>
Task<await_result_t<A>> await_owned(A a) {
  if constexpr (std::is_void_v<await_result_t<A>>) {
    co_await a;
  } else {
    co_return co_await a;
  }
}

/// A child that awaits `a` in place (the caller keeps it alive).
template <class A>
Task<await_result_t<A>> await_borrowed(A& a) {
  if constexpr (std::is_void_v<await_result_t<A>>) {
    co_await a;
  } else {
    co_return co_await a;
  }
}

/// The child Task a combinator drives for the argument `a`:
/// - a Task (rvalue) is used as it is;
/// - a movable rvalue awaitable (a read, a sleep, a JoinHandle, a channel receive...) is moved
///   into the child, so the combinator owns it;
/// - an lvalue awaitable is awaited in place: it must outlive the combinator, and stays usable
///   afterwards (a Sleep you keep across loop iterations, a JoinHandle you still want to await);
/// - an rvalue awaitable that cannot move is awaited in place too: it lives until the end of
///   the full-expression, so `co_await` the combinator in the expression that creates it.
template <class A>
  requires Awaitable<std::remove_cvref_t<A>>
auto as_task(A&& a) {
  using D = std::remove_cvref_t<A>;
  if constexpr (IsTask<D>::value) {
    static_assert(!std::is_lvalue_reference_v<A>,
                  "rill: pass a named Task to a combinator with std::move (a Task is single-use)");
    return D(std::move(a));
  } else if constexpr (!std::is_lvalue_reference_v<A> && std::is_move_constructible_v<D>) {
    return await_owned<D>(std::move(a));
  } else {
    return await_borrowed<D>(a);
  }
}

}  // namespace detail

/// The value type of the child Task `detail::as_task` makes for an argument of type A.
template <class A>
using combinator_value_t = await_result_t<std::remove_cvref_t<A>>;

}  // namespace rill

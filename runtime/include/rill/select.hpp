// rill/select.hpp: running several awaitables concurrently inside the current task: select /
// when_any (first wins, the rest are cancelled), join / join_all (wait for all), try_join (stop at
// the first error), and for_each_concurrent (a bounded number of f(item) in flight). select, join
// and try_join take any rill awaitable (a Task, a read, an accept, a sleep, a JoinHandle, a
// channel receive...; see rill/awaitable.hpp for who owns it), when_any / join_all a vector of
// Tasks.
//
// All of them follow the hook mechanism of rill::Timeout (docs/ARCHITECTURE.md): the children
// are driven by nested resumes on the awaiting task's thread (no spawn, no extra task, no
// parallelism between children); when a child suspends, the hook its leaf installed is saved;
// the combinator installs itself as the task's hook, and every poll of the task polls every
// saved child hook (each re-checks its own readiness, so only children whose resource is ready
// really resume). A child that finished is never polled again. Cancelling a child destroys its
// frame at its suspension point, which runs its awaiters' destructors: they deregister their
// wakers and cancel their timers and I/O (the leaf-awaiter contract), so losers leave nothing
// behind. Mirrors tokio::select! (with `biased;`), tokio::join!, tokio::try_join! and the
// futures crate's join_all / select_all / for_each_concurrent.
#pragma once

#include <array>
#include <coroutine>
#include <cstddef>
#include <exception>
#include <iterator>
#include <optional>
#include <ranges>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "rill/awaitable.hpp"
#include "rill/detail/task_header.hpp"
#include "rill/error.hpp"
#include "rill/result.hpp"
#include "rill/task.hpp"

namespace rill {

namespace detail {

/// Drives child coroutines inside the current task (see the file comment). Subclasses own the
/// children and decide what a finished child means. Internal.
class ChildDriver : protected Resumable {
 public:
  ChildDriver() = default;
  ChildDriver(const ChildDriver&) = delete;
  ChildDriver& operator=(const ChildDriver&) = delete;

 protected:
  /// One child: its coroutine, the hook it left when it last suspended, and its progress.
  struct Slot {
    std::coroutine_handle<> h;
    Resumable* saved = nullptr;
    bool started = false;
    bool active = false;
  };

  /// Child `i` finished (its coroutine is done and still alive). Return true to stop: the
  /// driver then destroys every unfinished child (stop_children) and resumes the parent.
  virtual bool on_complete(std::size_t i) = 0;
  /// Slot `i` is free: install a new child there (set slot(i)) and return true, or return false.
  virtual bool refill(std::size_t) { return false; }
  /// Destroy every child that has not finished (called once, when the driver stops).
  virtual void stop_children() noexcept = 0;

  void set_slots(Slot* s, std::size_t n) noexcept {
    slots_ = s;
    nslots_ = n;
  }
  /// Makes slot `i` hold the not-yet-started child `h` (whose continuation must be null).
  void install(std::size_t i, std::coroutine_handle<> h) noexcept {
    slots_[i] = Slot{h, nullptr, false, true};
    ++active_;
    if (parent_) set_diag_parent(h);  // a refill after start()
  }

  /// co_await entry: polls every child once; true when the driver already finished.
  bool start(std::coroutine_handle<> parent) {
    task_ = current_task();
    if (task_ == nullptr)
      throw RuntimeError("rill: select/join combinators must be awaited inside a rill task");
    parent_ = parent;
    for (std::size_t i = 0; i < nslots_; ++i)
      if (slots_[i].active) set_diag_parent(slots_[i].h);
    if (poll_children()) {
      finish();
      return true;
    }
    poll = &poll_fn;
    inner = &first_waiting_child;
    task_->hook = this;
    return false;
  }

 private:
  /// Diagnostics: the child's async stack continues at the coroutine awaiting this combinator.
  void set_diag_parent(std::coroutine_handle<> h) noexcept {
    std::coroutine_handle<PromiseBase>::from_address(h.address()).promise().diag_parent = parent_;
  }
  /// Diagnostics (Resumable::inner): the hook of the first child still waiting.
  static Resumable* first_waiting_child(Resumable* self) noexcept {
    auto* me = static_cast<ChildDriver*>(self);
    for (std::size_t i = 0; i < me->nslots_; ++i)
      if (me->slots_[i].active && me->slots_[i].saved) return me->slots_[i].saved;
    return nullptr;
  }
  static void poll_fn(Resumable* self) noexcept {
    auto* me = static_cast<ChildDriver*>(self);
    if (me->poll_children()) {
      me->finish();
      me->parent_.resume();  // may destroy *me: nothing after this
      return;
    }
    me->task_->hook = me;
  }

  void finish() noexcept {
    stop_children();
    task_->hook = nullptr;
  }

  /// Polls each active child; true when the driver is done (a stop or no child left).
  bool poll_children() noexcept {
    for (std::size_t i = 0; i < nslots_; ++i) {
      for (;;) {
        Slot& s = slots_[i];
        if (!s.active) break;
        task_->hook = nullptr;
        if (!s.started) {
          s.started = true;
          s.h.resume();
        } else if (Resumable* r = s.saved) {
          task_->hook = r;
          r->poll(r);
        } else {
          break;  // suspended on a non-rill awaitable: nothing we can poll
        }
        if (!s.h.done()) {
          s.saved = task_->hook;
          break;
        }
        s.active = false;
        s.saved = nullptr;
        --active_;
        if (on_complete(i)) return true;
        if (!refill(i)) break;
      }
    }
    task_->hook = nullptr;
    return active_ == 0;
  }

  Slot* slots_ = nullptr;
  std::size_t nslots_ = 0;
  std::size_t active_ = 0;
  TaskHeader* task_ = nullptr;
  std::coroutine_handle<> parent_;
};

/// Detaches `t`'s frame so that finishing returns to the driver (null continuation).
template <class T>
std::coroutine_handle<> child_handle(Task<T>& t) {
  auto h = t.release();
  if (!h) throw RuntimeError("rill: select/join got an empty (moved-from) Task");
  h.promise().continuation = nullptr;
  t = Task<T>(h);
  return h;
}

/// Reads a finished child's outcome as a Stored<T> (rethrows its exception).
template <class T>
Stored<T> take_stored(Task<T>& t) {
  if constexpr (std::is_void_v<T>) {
    t.await_resume();
    return Unit{};
  } else {
    return t.await_resume();
  }
}

/// True when the finished child `t` ended with an exception.
template <class T>
bool child_failed(Task<T>& t) noexcept {
  auto h = t.release();
  const bool failed = h.promise().outcome.index() == 2;
  t = Task<T>(h);
  return failed;
}

template <class T>
struct ResultTraits : std::false_type {};
template <class T, class E>
struct ResultTraits<Result<T, E>> : std::true_type {
  using value_type = T;
  using error_type = E;
};

/// True when the finished child `t` (a Task<Result<..>>) ended with an exception or an error.
template <class R>
bool child_errored(Task<R>& t) noexcept {
  auto h = t.release();
  auto& o = h.promise().outcome;
  const bool bad = o.index() == 2 || (o.index() == 1 && !std::get<1>(o).has_value());
  t = Task<R>(h);
  return bad;
}

}  // namespace detail

/// The result of when_any(): which task finished first and what it returned.
template <class T>
struct AnyResult {
  std::size_t index;        ///< position of the winner in the input vector
  detail::Stored<T> value;  ///< its value (detail::Unit for Task<void>)
};

/// Awaitable of select(): runs every task concurrently in the current task; the first to finish
/// wins and yields std::variant<Stored<Ts>...> whose index() is the winner's position (void
/// tasks yield detail::Unit). The other tasks are destroyed at their suspension points (their
/// destructors run, deregistering wakers, timers and I/O). Tasks are polled in argument order
/// (like tokio::select! with `biased;`): if several are ready in the same poll, the earliest
/// wins, and a task that finishes without suspending wins before later ones start. The winner's
/// exception is rethrown. Owned by one task; not movable once awaited. Mirrors tokio::select!.
template <class... Ts>
class [[nodiscard]] Select : private detail::ChildDriver {
 public:
  explicit Select(Task<Ts>... ts) : tasks_(std::move(ts)...) {}
  bool await_ready() const noexcept { return false; }
  bool await_suspend(std::coroutine_handle<> h) {
    set_slots(slots_.data(), slots_.size());
    install_all(std::index_sequence_for<Ts...>{});
    return !start(h);
  }
  std::variant<detail::Stored<Ts>...> await_resume() {
    return take(std::index_sequence_for<Ts...>{});
  }

 private:
  template <std::size_t... I>
  void install_all(std::index_sequence<I...>) {
    (install(I, detail::child_handle(std::get<I>(tasks_))), ...);
  }
  bool on_complete(std::size_t i) override {
    winner_ = i;
    return true;
  }
  void stop_children() noexcept override { stop(std::index_sequence_for<Ts...>{}); }
  template <std::size_t... I>
  void stop(std::index_sequence<I...>) noexcept {
    ((I != winner_ ? (void)(std::get<I>(tasks_) = Task<Ts>()) : (void)0), ...);
  }
  template <std::size_t I, std::size_t... Rest>
  std::variant<detail::Stored<Ts>...> take(std::index_sequence<I, Rest...>) {
    if (winner_ == I) {
      return std::variant<detail::Stored<Ts>...>(std::in_place_index<I>,
                                                 detail::take_stored(std::get<I>(tasks_)));
    }
    if constexpr (sizeof...(Rest) > 0) {
      return take(std::index_sequence<Rest...>{});
    } else {
      throw std::logic_error("rill::select: no winner");
    }
  }

  std::tuple<Task<Ts>...> tasks_;
  std::array<Slot, sizeof...(Ts)> slots_{};
  std::size_t winner_ = SIZE_MAX;
};

/// Races any rill awaitables (Tasks, reads, accepts, sleeps, JoinHandles, channel receives...);
/// see Select, and detail::as_task for who owns each argument. The index of the variant is the
/// winner's position; a void awaitable (a sleep) yields detail::Unit:
/// ```cpp
/// rill::Task<void> read_or_give_up(rill::net::TcpStream& s) {
///   char buf[512];
///   auto r = co_await rill::select(s.read(std::span<char>(buf)), rill::sleep(1s));
///   if (r.index() == 1) co_return;  // a second passed without data
///   auto n = std::get<0>(r);        // the read's io::Result<std::size_t>
///   (void)n;
/// }
/// ```
/// A read that loses the race is cancelled (see each awaitable's cancel safety). Mirrors
/// tokio::select! (with `biased;`).
template <class... As>
  requires(sizeof...(As) >= 1 && (Awaitable<std::remove_cvref_t<As>> && ...))
Select<combinator_value_t<As>...> select(As&&... as) {
  return Select<combinator_value_t<As>...>(detail::as_task(std::forward<As>(as))...);
}

/// Awaitable of when_any(): like Select over a vector of same-typed tasks; yields AnyResult<T>
/// with the winner's index and value. An empty vector throws std::invalid_argument when
/// awaited (there would be no winner). Mirrors futures::future::select_all.
template <class T>
class [[nodiscard]] WhenAny : private detail::ChildDriver {
 public:
  explicit WhenAny(std::vector<Task<T>> ts) : tasks_(std::move(ts)), slots_(tasks_.size()) {}
  bool await_ready() const noexcept { return false; }
  bool await_suspend(std::coroutine_handle<> h) {
    if (tasks_.empty()) throw std::invalid_argument("rill::when_any: no tasks");
    set_slots(slots_.data(), slots_.size());
    for (std::size_t i = 0; i < tasks_.size(); ++i)
      install(i, detail::child_handle(tasks_[i]));
    return !start(h);
  }
  AnyResult<T> await_resume() {
    return AnyResult<T>{winner_, detail::take_stored(tasks_[winner_])};
  }

 private:
  bool on_complete(std::size_t i) override {
    winner_ = i;
    return true;
  }
  void stop_children() noexcept override {
    for (std::size_t i = 0; i < tasks_.size(); ++i)
      if (i != winner_) tasks_[i] = Task<T>();
  }
  std::vector<Task<T>> tasks_;
  std::vector<Slot> slots_;
  std::size_t winner_ = SIZE_MAX;
};

/// First of several same-typed tasks to finish; the rest are cancelled. See WhenAny.
template <class T>
WhenAny<T> when_any(std::vector<Task<T>> tasks) {
  return WhenAny<T>(std::move(tasks));
}

namespace detail {

/// What ends a join early: a child that threw (join) or also one that returned an error
/// (try_join).
struct FailsOnException {
  template <class T>
  static bool fails(Task<T>& t) noexcept {
    return child_failed(t);
  }
};
struct FailsOnError {
  template <class T>
  static bool fails(Task<T>& t) noexcept {
    return child_errored(t);
  }
};

/// The body Join and TryJoin share: runs a tuple of child tasks concurrently inside the awaiting
/// task; the first child for which Policy::fails holds is remembered in `failed_` and the
/// others are cancelled at once (destroyed at their suspension point).
template <class Policy, class... Ts>
class TupleJoin : protected ChildDriver {
 public:
  explicit TupleJoin(Task<Ts>... ts) : tasks_(std::move(ts)...) {}
  bool await_ready() const noexcept { return false; }
  bool await_suspend(std::coroutine_handle<> h) {
    set_slots(slots_.data(), slots_.size());
    install_all(std::index_sequence_for<Ts...>{});
    return !start(h);
  }

 protected:
  template <std::size_t... I>
  void install_all(std::index_sequence<I...>) {
    (install(I, child_handle(std::get<I>(tasks_))), ...);
  }
  bool on_complete(std::size_t i) override {
    if (!fails(i, std::index_sequence_for<Ts...>{})) return false;
    failed_ = i;
    return true;
  }
  template <std::size_t... I>
  bool fails(std::size_t i, std::index_sequence<I...>) noexcept {
    return ((I == i && Policy::fails(std::get<I>(tasks_))) || ...);
  }
  void stop_children() noexcept override { stop(std::index_sequence_for<Ts...>{}); }
  template <std::size_t... I>
  void stop(std::index_sequence<I...>) noexcept {
    ((I != failed_ && !std::get<I>(tasks_).await_ready() ? (void)(std::get<I>(tasks_) = Task<Ts>())
                                                         : (void)0),
     ...);
  }

  std::tuple<Task<Ts>...> tasks_;
  std::array<Slot, sizeof...(Ts)> slots_{};
  std::size_t failed_ = SIZE_MAX;
};

}  // namespace detail

/// Awaitable of join(): runs every task concurrently in the current task and yields
/// std::tuple<Stored<Ts>...> once all finished. If one throws, the others are cancelled at once
/// and the exception is rethrown (like a panic in tokio::join!). Mirrors tokio::join!.
template <class... Ts>
class [[nodiscard]] Join : private detail::TupleJoin<detail::FailsOnException, Ts...> {
  using Base = detail::TupleJoin<detail::FailsOnException, Ts...>;

 public:
  using Base::await_ready;
  using Base::await_suspend;
  using Base::Base;
  std::tuple<detail::Stored<Ts>...> await_resume() {
    return take(std::index_sequence_for<Ts...>{});
  }

 private:
  template <std::size_t... I>
  std::tuple<detail::Stored<Ts>...> take(std::index_sequence<I...>) {
    if (this->failed_ != SIZE_MAX) rethrow(std::index_sequence_for<Ts...>{});
    return std::tuple<detail::Stored<Ts>...>(detail::take_stored(std::get<I>(this->tasks_))...);
  }
  template <std::size_t... I>
  void rethrow(std::index_sequence<I...>) {
    ((I == this->failed_ ? (void)detail::take_stored(std::get<I>(this->tasks_)) : (void)0), ...);
  }
};

/// `auto [a, b] = co_await rill::join(fetch_a(), rx.recv());` Waits for any rill awaitables
/// (see detail::as_task for who owns each argument). See Join. Mirrors tokio::join!.
template <class... As>
  requires(Awaitable<std::remove_cvref_t<As>> && ...)
Join<combinator_value_t<As>...> join(As&&... as) {
  return Join<combinator_value_t<As>...>(detail::as_task(std::forward<As>(as))...);
}

/// Awaitable of join_all(): runs every task of the vector concurrently in the current task and
/// yields their values in input order (std::vector<Stored<T>>; void tasks give Units). The first
/// exception cancels the rest and is rethrown. Mirrors futures::future::join_all.
template <class T>
class [[nodiscard]] JoinAll : private detail::ChildDriver {
 public:
  explicit JoinAll(std::vector<Task<T>> ts) : tasks_(std::move(ts)), slots_(tasks_.size()) {}
  bool await_ready() const noexcept { return tasks_.empty(); }
  bool await_suspend(std::coroutine_handle<> h) {
    set_slots(slots_.data(), slots_.size());
    for (std::size_t i = 0; i < tasks_.size(); ++i)
      install(i, detail::child_handle(tasks_[i]));
    return !start(h);
  }
  std::vector<detail::Stored<T>> await_resume() {
    if (failed_ != SIZE_MAX) (void)detail::take_stored(tasks_[failed_]);
    std::vector<detail::Stored<T>> out;
    out.reserve(tasks_.size());
    for (auto& t : tasks_)
      out.push_back(detail::take_stored(t));
    return out;
  }

 private:
  bool on_complete(std::size_t i) override {
    if (!detail::child_failed(tasks_[i])) return false;
    failed_ = i;
    return true;
  }
  void stop_children() noexcept override {
    for (std::size_t i = 0; i < tasks_.size(); ++i)
      if (i != failed_ && !tasks_[i].await_ready()) tasks_[i] = Task<T>();
  }
  std::vector<Task<T>> tasks_;
  std::vector<Slot> slots_;
  std::size_t failed_ = SIZE_MAX;
};

/// Waits for every task in `tasks` (concurrently, in the current task). See JoinAll.
template <class T>
JoinAll<T> join_all(std::vector<Task<T>> tasks) {
  return JoinAll<T>(std::move(tasks));
}

/// Awaitable of try_join(): every task returns Result<T_i, E> (the same E); yields
/// Result<std::tuple<Stored<T_i>...>, E>: all values when every task succeeded, else the first
/// error (in completion order), in which case the other tasks are cancelled at once. An
/// exception also cancels the rest and is rethrown. Mirrors tokio::try_join!.
template <class E, class... Rs>
class [[nodiscard]] TryJoin : private detail::TupleJoin<detail::FailsOnError, Rs...> {
  using Base = detail::TupleJoin<detail::FailsOnError, Rs...>;

 public:
  using Values = std::tuple<detail::Stored<typename detail::ResultTraits<Rs>::value_type>...>;

  using Base::await_ready;
  using Base::await_suspend;
  using Base::Base;
  Result<Values, E> await_resume() { return take(std::index_sequence_for<Rs...>{}); }

 private:
  template <class R>
  static auto value_of(R&& r) {
    using V = typename detail::ResultTraits<std::decay_t<R>>::value_type;
    if constexpr (std::is_void_v<V>) {
      return detail::Unit{};
    } else {
      return std::move(*r);
    }
  }
  template <std::size_t... I>
  Result<Values, E> take(std::index_sequence<I...>) {
    if (this->failed_ != SIZE_MAX) {
      std::optional<E> err;
      ((I == this->failed_
            ? (void)(err.emplace(std::move(std::get<I>(this->tasks_).await_resume().error())))
            : (void)0),
       ...);
      return Unexpected{std::move(*err)};
    }
    return Values(value_of(std::get<I>(this->tasks_).await_resume())...);
  }
};

/// `auto r = co_await rill::try_join(a(), b());  if (!r) handle(r.error());` Every task must
/// return a rill::Result with the same error type. See TryJoin. Mirrors tokio::try_join!.
/// Takes any rill awaitables yielding a rill::Result (see detail::as_task for ownership).
template <class A0, class... As>
  requires(Awaitable<std::remove_cvref_t<A0>> && (Awaitable<std::remove_cvref_t<As>> && ...) &&
           detail::ResultTraits<combinator_value_t<A0>>::value &&
           (std::is_same_v<typename detail::ResultTraits<combinator_value_t<A0>>::error_type,
                           typename detail::ResultTraits<combinator_value_t<As>>::error_type> &&
            ...))
TryJoin<typename detail::ResultTraits<combinator_value_t<A0>>::error_type, combinator_value_t<A0>,
        combinator_value_t<As>...>
try_join(A0&& a0, As&&... as) {
  return TryJoin<typename detail::ResultTraits<combinator_value_t<A0>>::error_type,
                 combinator_value_t<A0>, combinator_value_t<As>...>(
      detail::as_task(std::forward<A0>(a0)), detail::as_task(std::forward<As>(as))...);
}

namespace detail {

/// The driver of for_each_concurrent: at most `limit` f(item) children in flight; a finished
/// child's slot is refilled with the next item. The first exception cancels the rest.
template <class It, class Sent, class F>
class ForEachDriver : private ChildDriver {
 public:
  ForEachDriver(It it, Sent end, std::size_t limit, F& f)
      : it_(std::move(it)), end_(std::move(end)), limit_(limit == 0 ? SIZE_MAX : limit), f_(f) {}
  bool await_ready() const noexcept { return false; }
  bool await_suspend(std::coroutine_handle<> h) {
    while (tasks_.size() < limit_ && it_ != end_) {
      tasks_.push_back(f_(*it_));
      ++it_;
    }
    slots_.resize(tasks_.size());
    set_slots(slots_.data(), slots_.size());
    for (std::size_t i = 0; i < tasks_.size(); ++i)
      install(i, child_handle(tasks_[i]));
    return !start(h);
  }
  void await_resume() {
    if (error_) std::rethrow_exception(error_);
  }

 private:
  bool on_complete(std::size_t i) override {
    if (child_failed(tasks_[i])) {
      try {
        tasks_[i].await_resume();
      } catch (...) {
        error_ = std::current_exception();
      }
      return true;
    }
    tasks_[i] = Task<void>();  // free the finished frame now
    return false;
  }
  bool refill(std::size_t i) override {
    if (error_ || it_ == end_) return false;
    try {
      tasks_[i] = f_(*it_);
      ++it_;
      install(i, child_handle(tasks_[i]));
      return true;
    } catch (...) {
      error_ = std::current_exception();
      return false;
    }
  }
  void stop_children() noexcept override {
    for (auto& t : tasks_)
      t = Task<void>();
  }
  It it_;
  Sent end_;
  std::size_t limit_;
  F& f_;
  std::vector<Task<void>> tasks_;
  std::vector<Slot> slots_;
  std::exception_ptr error_;
};

}  // namespace detail

/// Runs `co_await f(item)` for every item of `range`, with at most `limit` of them in flight at
/// once (0 = no limit), concurrently inside the current task; completes when all finished. `f`
/// must return Task<void>; take items by value (an item reference may not outlive the
/// iteration step for ranges that produce values). The range and `f` are moved into the
/// returned task. The first exception cancels the calls in flight, starts no more, and is
/// rethrown. Mirrors futures::StreamExt::for_each_concurrent (buffer_unordered).
template <std::ranges::input_range R, class F>
  requires std::is_same_v<std::invoke_result_t<F&, std::ranges::range_reference_t<R>>, Task<void>>
Task<void> for_each_concurrent(R range, std::size_t limit, F f) {
  co_await detail::ForEachDriver<std::ranges::iterator_t<R>, std::ranges::sentinel_t<R>, F>(
      std::ranges::begin(range), std::ranges::end(range), limit, f);
}

}  // namespace rill

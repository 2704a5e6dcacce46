// rill/sync/watch.hpp: a single-value channel: receivers see the latest value and wait for
// changes. Mirrors tokio::sync::watch.
#pragma once

#include <atomic>
#include <coroutine>
#include <cstdint>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <utility>

#include "rill/detail/adaptive_mutex.hpp"
#include "rill/detail/task_header.hpp"
#include "rill/result.hpp"
#include "rill/sync/notify.hpp"
#include "rill/task.hpp"
#include "rill/sync/detail/wait_list.hpp"

namespace rill::sync::watch {

/// changed() / has_changed() failed: the Sender was dropped (and this receiver has seen the
/// last value). Mirrors tokio::sync::watch::error::RecvError.
struct RecvError {
  const char* what() const noexcept { return "channel closed"; }
};

/// send() failed because every receiver is gone; holds the value. Mirrors
/// tokio::sync::watch::error::SendError.
template <class T>
struct SendError {
  T value;
  const char* what() const noexcept { return "channel closed"; }
};

namespace detail {

/// Shared state. The value is guarded by a reader-writer lock (borrows are shared); the version
/// counts sends in steps of 2 with bit 0 = closed (Tokio's layout); waiters by `mu`.
template <class T>
struct Shared {
  template <class U>
  explicit Shared(U&& v) : value(std::forward<U>(v)) {}
  std::shared_mutex value_mu;
  T value;
  std::atomic<std::uint64_t> version{0};
  std::atomic<std::size_t> receivers{1};
  rill::sync::Notify rx_gone;  ///< notify_waiters() when the last receiver is dropped
  rill::detail::AdaptiveMutex mu;
  sync::detail::WaitList waiters;

  static constexpr std::uint64_t kClosed = 1;
  /// Bumps the version (call while holding value_mu exclusively, so a borrow sees a value and
  /// version that match).
  void bump(std::uint64_t add_bits) noexcept {
    version.fetch_add(add_bits, std::memory_order_release);
  }
  /// Wakes every waiter (call after bump(), without value_mu).
  void wake_all() {
    sync::detail::WakeList wl;
    std::lock_guard lk(mu);
    while (auto* w = waiters.pop_front())
      wl.complete(w);
  }
};

}  // namespace detail

/// A borrow of the current value: holds a shared (read) lock on it, so keep it short and never
/// across co_await (a send waits for it). Mirrors tokio::sync::watch::Ref.
template <class T>
class Ref {
 public:
  Ref(std::shared_mutex& mu, const T& v, bool changed) : lk_(mu), v_(&v), changed_(changed) {}
  const T& operator*() const noexcept { return *v_; }
  const T* operator->() const noexcept { return v_; }
  /// True when the value had not been seen by the receiver that borrowed it. Mirrors
  /// Ref::has_changed.
  bool has_changed() const noexcept { return changed_; }

 private:
  template <class>
  friend class Receiver;
  std::shared_lock<std::shared_mutex> lk_;
  const T* v_;
  bool changed_;
};

/// The receiving half: tracks the version it has seen. Copyable (a copy starts with the same
/// seen version; that is Receiver::clone); each copy is used by one task at a time. Mirrors
/// tokio::sync::watch::Receiver.
template <class T>
class Receiver {
 public:
  Receiver(std::shared_ptr<detail::Shared<T>> s, std::uint64_t seen) noexcept
      : s_(std::move(s)), seen_(seen) {}
  Receiver(const Receiver& o) : s_(o.s_), seen_(o.seen_) {
    s_->receivers.fetch_add(1, std::memory_order_relaxed);
  }
  Receiver(Receiver&& o) noexcept : s_(std::move(o.s_)), seen_(o.seen_) {}
  Receiver& operator=(Receiver o) noexcept {
    std::swap(s_, o.s_);
    std::swap(seen_, o.seen_);
    return *this;
  }
  ~Receiver() {
    if (s_ && s_->receivers.fetch_sub(1, std::memory_order_acq_rel) == 1)
      s_->rx_gone.notify_waiters();
  }

  /// The current value, without marking it seen. Mirrors Receiver::borrow.
  Ref<T> borrow() {
    const auto v = s_->version.load(std::memory_order_acquire) & ~kClosed;
    return Ref<T>(s_->value_mu, s_->value, v != seen_);
  }
  /// The current value, marking it seen. Mirrors Receiver::borrow_and_update.
  Ref<T> borrow_and_update() {
    Ref<T> r(s_->value_mu, s_->value, false);  // the version is bumped under the write lock
    const auto v = s_->version.load(std::memory_order_acquire) & ~kClosed;
    r.changed_ = v != seen_;
    seen_ = v;
    return r;
  }
  /// True when a value newer than the last seen one exists; RecvError when the sender is gone
  /// (even if a change is pending, as in Tokio). Mirrors Receiver::has_changed.
  Result<bool, RecvError> has_changed() const {
    const auto v = s_->version.load(std::memory_order_acquire);
    if (v & kClosed) return Unexpected{RecvError{}};
    return (v & ~kClosed) != seen_;
  }
  /// Makes the current value count as unseen. Mirrors Receiver::mark_changed.
  void mark_changed() noexcept { seen_ = kNeverSeen; }
  /// Makes the current value count as seen. Mirrors Receiver::mark_unchanged.
  void mark_unchanged() noexcept { seen_ = s_->version.load(std::memory_order_acquire) & ~kClosed; }

  /// Awaitable of changed(): yields Result<void, RecvError>. Cancel-safe (marks the value seen
  /// only when it resumes).
  class [[nodiscard]] Changed : private rill::detail::Leaf {
   public:
    explicit Changed(Receiver* r) noexcept : r_(r) {}
    Changed(const Changed&) = delete;
    ~Changed() {
      if (registered_) {
        std::lock_guard lk(r_->s_->mu);
        r_->s_->waiters.unlink(&node_);
      }
    }
    bool await_ready() noexcept { return ready() && ready_spend(); }
    bool await_suspend(std::coroutine_handle<> h) {
      if (must_yield) {
        suspend_yield(h);
        return true;
      }
      {
        std::lock_guard lk(r_->s_->mu);
        if (ready()) return false;
        node_.waker = rill::detail::task_waker(rill::detail::current_task());
        r_->s_->waiters.push_back(&node_);
        registered_ = true;
      }
      suspend_here(h, [](rill::detail::Resumable* self) noexcept {
        auto* me = static_cast<Changed*>(static_cast<rill::detail::Leaf*>(self));
        if (me->node_.done.load(std::memory_order_acquire)) me->resume();
      });
      return true;
    }
    Result<void, RecvError> await_resume() noexcept {
      const auto v = r_->s_->version.load(std::memory_order_acquire);
      if ((v & ~kClosed) != r_->seen_) {
        r_->seen_ = v & ~kClosed;
        return {};
      }
      return Unexpected{RecvError{}};
    }

   private:
    bool ready() const noexcept {
      const auto v = r_->s_->version.load(std::memory_order_acquire);
      return (v & kClosed) || (v & ~kClosed) != r_->seen_;
    }
    Receiver* r_;
    sync::detail::WaitNode node_;
    bool registered_ = false;
  };

  /// Waits until a value newer than the last seen one is sent, then marks it seen; yields
  /// RecvError once the Sender is dropped and no unseen value remains. Spends one unit of coop
  /// budget when it completes at once. Mirrors Receiver::changed.
  Changed changed() noexcept { return Changed(this); }

 private:
  static constexpr std::uint64_t kClosed = detail::Shared<T>::kClosed;
  static constexpr std::uint64_t kNeverSeen = UINT64_MAX & ~kClosed;
  std::shared_ptr<detail::Shared<T>> s_;
  std::uint64_t seen_;
};

/// The sending half (one owner; move-only). Dropping it closes the channel: waiting receivers
/// get RecvError after seeing the last value. Thread-safe to call from any thread. Mirrors
/// tokio::sync::watch::Sender.
template <class T>
class Sender {
 public:
  explicit Sender(std::shared_ptr<detail::Shared<T>> s) noexcept : s_(std::move(s)) {}
  Sender(Sender&&) noexcept = default;
  Sender& operator=(Sender&& o) noexcept {
    if (this != &o) {
      close();
      s_ = std::move(o.s_);
    }
    return *this;
  }
  ~Sender() { close(); }

  /// Stores `v` and notifies every receiver; fails (returning `v`, storing nothing) when there
  /// are no receivers. Mirrors Sender::send.
  Result<void, SendError<T>> send(T v) {
    if (s_->receivers.load(std::memory_order_acquire) == 0)
      return Unexpected{SendError<T>{std::move(v)}};
    (void)send_replace(std::move(v));
    return {};
  }
  /// Stores `v` even without receivers and returns the previous value. Mirrors
  /// Sender::send_replace.
  T send_replace(T v) {
    {
      std::unique_lock lk(s_->value_mu);
      std::swap(v, s_->value);
      s_->bump(2);
    }
    s_->wake_all();
    return v;
  }
  /// Modifies the value in place with `f(T&)` and notifies receivers. Mirrors
  /// Sender::send_modify.
  template <class F>
  void send_modify(F&& f) {
    {
      std::unique_lock lk(s_->value_mu);
      std::forward<F>(f)(s_->value);
      s_->bump(2);
    }
    s_->wake_all();
  }
  /// Like send_modify, but notifies only when `f(T&)` returns true. Mirrors
  /// Sender::send_if_modified.
  template <class F>
  bool send_if_modified(F&& f) {
    bool modified;
    {
      std::unique_lock lk(s_->value_mu);
      modified = std::forward<F>(f)(s_->value);
      if (modified) s_->bump(2);
    }
    if (modified) s_->wake_all();
    return modified;
  }
  /// The current value. Mirrors Sender::borrow.
  Ref<T> borrow() { return Ref<T>(s_->value_mu, s_->value, false); }
  /// A new receiver that has seen the current value. Mirrors Sender::subscribe.
  Receiver<T> subscribe() {
    s_->receivers.fetch_add(1, std::memory_order_relaxed);
    return Receiver<T>(s_, s_->version.load(std::memory_order_acquire) & ~Shared::kClosed);
  }
  /// Completes once every receiver is dropped (at once if none is alive). Cancel-safe.
  /// Mirrors Sender::closed.
  Task<void> closed() {
    auto gone = s_->rx_gone.notified();  // created before the check: no wake-up is missed
    if (s_->receivers.load(std::memory_order_acquire) == 0) co_return;
    co_await gone;
  }
  /// Number of live receivers. Mirrors Sender::receiver_count.
  std::size_t receiver_count() const noexcept {
    return s_->receivers.load(std::memory_order_acquire);
  }
  /// True when every receiver is gone. Mirrors Sender::is_closed.
  bool is_closed() const noexcept { return receiver_count() == 0; }

 private:
  using Shared = detail::Shared<T>;
  void close() noexcept {
    if (s_) {
      s_->bump(Shared::kClosed);
      s_->wake_all();
      s_.reset();
    }
  }
  std::shared_ptr<Shared> s_;
};

/// Creates a watch channel holding `init`. Mirrors tokio::sync::watch::channel.
template <class T>
std::pair<Sender<T>, Receiver<T>> channel(T init) {
  auto s = std::make_shared<detail::Shared<T>>(std::move(init));
  return {Sender<T>(s), Receiver<T>(s, 0)};
}

}  // namespace rill::sync::watch

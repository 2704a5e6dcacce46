// rill/sync/oneshot.hpp: a channel for sending exactly one value between tasks.
#pragma once

#include <atomic>
#include <coroutine>
#include <mutex>
#include <optional>
#include <utility>

#include "rill/detail/adaptive_mutex.hpp"
#include "rill/detail/task_header.hpp"
#include "rill/result.hpp"
#include "rill/sync/notify.hpp"
#include "rill/task.hpp"

namespace rill::sync::oneshot {

/// The receive error: the Sender was dropped without sending. Mirrors
/// tokio::sync::oneshot::error::RecvError.
struct RecvError {
  const char* what() const noexcept { return "channel closed"; }
};

namespace detail {
template <class T>
struct Shared {
  rill::detail::AdaptiveMutex mu;
  std::optional<T> value;
  bool tx_closed = false;
  bool rx_closed = false;
  rill::detail::Waker rx_waker;
  rill::sync::Notify rx_gone;  ///< notify_waiters() when the receiver is dropped
  std::atomic<int> refs{2};
  void release() noexcept {
    if (refs.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }
};
}  // namespace detail

/// Sends the value. Move-only; dropping it without sending makes the receiver's await yield
/// RecvError. Thread-safe to use from any thread (one owner). Mirrors tokio::sync::oneshot::Sender.
template <class T>
class Sender {
 public:
  explicit Sender(detail::Shared<T>* s) noexcept : s_(s) {}
  Sender(Sender&& o) noexcept : s_(std::exchange(o.s_, nullptr)) {}
  Sender& operator=(Sender&& o) noexcept {
    if (this != &o) {
      close();
      s_ = std::exchange(o.s_, nullptr);
    }
    return *this;
  }
  ~Sender() { close(); }

  /// Sends `v`, consuming the sender. Returns the value back as the error when the receiver
  /// was already dropped. Never blocks.
  Result<void, T> send(T v) && {
    auto* s = std::exchange(s_, nullptr);
    rill::detail::Waker w;
    bool rx_gone;
    {
      std::lock_guard lk(s->mu);
      s->tx_closed = true;
      rx_gone = s->rx_closed;
      if (!rx_gone) s->value.emplace(std::move(v));
      s->tx_closed = true;
      w = std::move(s->rx_waker);
    }
    w.wake();
    s->release();
    if (rx_gone) return Unexpected{std::move(v)};
    return {};
  }
  /// True when the receiver has been dropped.
  bool is_closed() const {
    std::lock_guard lk(s_->mu);
    return s_->rx_closed;
  }
  /// Completes once the receiver is dropped (at once if it already is): a producer can stop
  /// computing a value nobody will read. Cancel-safe. Mirrors Sender::closed.
  Task<void> closed() {
    auto gone = s_->rx_gone.notified();  // created before the check: no wake-up is missed
    if (is_closed()) co_return;
    co_await gone;
  }

 private:
  void close() noexcept {
    if (auto* s = std::exchange(s_, nullptr)) {
      rill::detail::Waker w;
      {
        std::lock_guard lk(s->mu);
        s->tx_closed = true;
        w = std::move(s->rx_waker);
      }
      w.wake();
      s->release();
    }
  }
  detail::Shared<T>* s_;
};

/// Receives the value: `co_await rx` yields Result<T, RecvError>. Move-only, awaited once by one
/// task. Dropping it makes send() fail. Spends one unit of coop budget when the value is already
/// there. Mirrors tokio::sync::oneshot::Receiver.
template <class T>
class [[nodiscard]] Receiver : private rill::detail::Leaf {
 public:
  explicit Receiver(detail::Shared<T>* s) noexcept : s_(s) {}
  Receiver(Receiver&& o) noexcept : rill::detail::Leaf(), s_(std::exchange(o.s_, nullptr)) {}
  ~Receiver() {
    if (auto* s = std::exchange(s_, nullptr)) {
      rill::detail::Waker w;
      {
        std::lock_guard lk(s->mu);
        s->rx_closed = true;
        w = std::move(s->rx_waker);
        s->value.reset();
      }
      s->rx_gone.notify_waiters();
      s->release();
    }
  }

  bool await_ready() noexcept { return done() && ready_spend(); }
  bool await_suspend(std::coroutine_handle<> h) noexcept {
    if (must_yield) {
      suspend_yield(h);
      return true;
    }
    {
      std::lock_guard lk(s_->mu);
      if (s_->value || s_->tx_closed) return false;
      s_->rx_waker = rill::detail::task_waker(rill::detail::current_task());
    }
    suspend_here(h, [](rill::detail::Resumable* self) noexcept {
      auto* me = static_cast<Receiver*>(static_cast<rill::detail::Leaf*>(self));
      if (me->done()) me->resume();
    });
    return true;
  }
  Result<T, RecvError> await_resume() {
    std::lock_guard lk(s_->mu);
    if (!s_->value) return Unexpected{RecvError{}};
    T v = std::move(*s_->value);
    s_->value.reset();
    return v;
  }
  /// Non-waiting receive: the value if it was sent; nullopt otherwise.
  std::optional<T> try_recv() {
    std::lock_guard lk(s_->mu);
    std::optional<T> v = std::move(s_->value);
    s_->value.reset();
    return v;
  }

 private:
  bool done() noexcept {
    std::lock_guard lk(s_->mu);
    return s_->value.has_value() || s_->tx_closed;
  }
  detail::Shared<T>* s_;
};

/// Creates a connected Sender/Receiver pair. Mirrors tokio::sync::oneshot::channel.
template <class T>
std::pair<Sender<T>, Receiver<T>> channel() {
  auto* s = new detail::Shared<T>();
  return {Sender<T>(s), Receiver<T>(s)};
}

}  // namespace rill::sync::oneshot

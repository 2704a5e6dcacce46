// rill/sync/mpsc.hpp: multi-producer, single-consumer channels, bounded (with backpressure) and
// unbounded. Mirrors tokio::sync::mpsc.
#pragma once

#include <atomic>
#include <coroutine>
#include <cstddef>
#include <deque>
#include <limits>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <utility>
#include <vector>

#include "rill/detail/adaptive_mutex.hpp"
#include "rill/detail/task_header.hpp"
#include "rill/error.hpp"
#include "rill/result.hpp"
#include "rill/sync/detail/parker.hpp"
#include "rill/sync/notify.hpp"
#include "rill/task.hpp"
#include "rill/time.hpp"

namespace rill::sync::mpsc {

/// send() failed because the receiver was dropped; holds the value that was not sent.
/// Mirrors tokio::sync::mpsc::error::SendError.
template <class T>
struct SendError {
  T value;
  const char* what() const noexcept { return "channel closed"; }
};

/// try_send() failed: the channel is full (the value is returned) or closed.
template <class T>
struct TrySendError {
  enum class Kind { Full, Closed } kind;
  T value;
};

/// send_timeout() failed: the timeout elapsed first, or the receiver is gone; holds the value
/// that was not sent. Mirrors tokio::sync::mpsc::error::SendTimeoutError.
template <class T>
struct SendTimeoutError {
  enum class Kind { Timeout, Closed } kind;
  T value;
  const char* what() const noexcept {
    return kind == Kind::Timeout ? "timed out waiting on send operation" : "channel closed";
  }
};

/// try_recv() found nothing: the channel is empty (senders remain) or disconnected.
enum class TryRecvError { Empty, Disconnected };

namespace detail {

/// A sender suspended for capacity; the receiver moves its value into the queue and grants it.
template <class T>
struct SendWaiter {
  SendWaiter* next = nullptr;
  SendWaiter* prev = nullptr;
  std::optional<T>* value = nullptr;
  rill::detail::Waker waker;
  bool granted = false;
  bool closed = false;
  bool queued = false;
};

template <class T>
struct Chan {
  rill::detail::AdaptiveMutex mu;
  std::deque<T> q;
  std::size_t cap;  // max queued values; SIZE_MAX for unbounded
  /// Live Sender shares. Atomic so that cloning and dropping a Sender (one per spawned task in a
  /// fan-out) does not take `mu`; only the last drop locks, to wake the receiver. The receiver
  /// reads it under `mu`, and the last sender's lock after its decrement orders the two.
  std::atomic<std::size_t> senders{1};
  bool rx_closed = false;
  rill::detail::Waker rx_waker;
  SendWaiter<T>* wait_head = nullptr;
  SendWaiter<T>* wait_tail = nullptr;
  std::atomic<int> refs{2};
  rill::sync::Notify rx_gone;  ///< notify_waiters() when the receiver closes (Sender::closed)
  std::size_t reserved = 0;    ///< slots held by Permits (reserve()), guarded by mu
  bool rx_dropped = false;     ///< the Receiver is destroyed (not just closed), guarded by mu

  explicit Chan(std::size_t c) : cap(c) {}
  /// Under mu: no free slot (queued values plus reserved slots fill the capacity).
  bool full() const noexcept { return q.size() + reserved >= cap; }
  /// Under mu: recv() has nothing more to wait for (no sender left, or the receiver closed the
  /// channel and no Permit can still send).
  bool drained() const noexcept {
    return senders.load(std::memory_order_acquire) == 0 || (rx_closed && reserved == 0);
  }
  void release() noexcept {
    if (refs.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }
  void enqueue(SendWaiter<T>* w) noexcept {
    w->queued = true;
    w->prev = wait_tail;
    w->next = nullptr;
    if (wait_tail)
      wait_tail->next = w;
    else
      wait_head = w;
    wait_tail = w;
  }
  void unlink(SendWaiter<T>* w) noexcept {
    if (!w->queued) return;
    w->queued = false;
    if (w->prev)
      w->prev->next = w->next;
    else
      wait_head = w->next;
    if (w->next)
      w->next->prev = w->prev;
    else
      wait_tail = w->prev;
  }
  /// Under mu: after a slot was freed (a pop, a dropped Permit), moves the first waiting
  /// sender's value in (or reserves the slot for a waiting reserve()) and returns its waker.
  rill::detail::Waker admit_waiter() {
    SendWaiter<T>* w = wait_head;
    if (!w || full()) return {};
    unlink(w);
    if (w->value) {
      q.push_back(std::move(**w->value));
      w->value->reset();
    } else {
      ++reserved;
    }
    w->granted = true;
    return std::move(w->waker);
  }
};

}  // namespace detail

template <class T>
class Receiver;

/// reserve() failed because the receiver is gone. Mirrors tokio's SendError<()>.
struct ReserveError {
  const char* what() const noexcept { return "channel closed"; }
};

/// One reserved slot of a bounded channel (from Sender::reserve): send(v) queues `v` at once,
/// never waiting; destroying an unused Permit gives the slot back (to the next waiting sender).
/// Move-only; must not outlive the Sender it came from. Mirrors tokio::sync::mpsc::Permit.
template <class T>
class Permit {
 public:
  explicit Permit(detail::Chan<T>* c) noexcept : c_(c) {}
  Permit(Permit&& o) noexcept : c_(std::exchange(o.c_, nullptr)) {}
  Permit& operator=(Permit&& o) noexcept {
    if (this != &o) {
      release();
      c_ = std::exchange(o.c_, nullptr);
    }
    return *this;
  }
  Permit(const Permit&) = delete;
  Permit& operator=(const Permit&) = delete;
  ~Permit() { release(); }

  /// Queues `v` in the reserved slot, consuming the Permit. After Receiver::close() the value is
  /// still queued (the receiver can receive it); if the receiver was dropped, `v` is dropped (as
  /// in Tokio). Mirrors Permit::send.
  void send(T v) && {
    auto* c = std::exchange(c_, nullptr);
    if (c == nullptr) return;
    rill::detail::Waker rx;
    {
      std::lock_guard lk(c->mu);
      --c->reserved;
      if (c->rx_dropped) return;
      c->q.push_back(std::move(v));
      rx = std::move(c->rx_waker);
    }
    rx.wake();
  }

 private:
  void release() noexcept {
    if (auto* c = std::exchange(c_, nullptr)) {
      rill::detail::Waker w;
      {
        std::lock_guard lk(c->mu);
        --c->reserved;
        w = c->admit_waiter();
        // A closed channel ends for the receiver once the last Permit is gone.
        if (!w && c->rx_closed && c->reserved == 0) w = std::move(c->rx_waker);
      }
      w.wake();
    }
  }
  detail::Chan<T>* c_;
};

/// The sending half of a bounded channel. Clone to get more producers; the channel closes for
/// the receiver when every Sender is dropped. Thread-safe (each Sender used by one task at a
/// time). Mirrors tokio::sync::mpsc::Sender.
///
/// Ownership, as in Tokio: every Sender is one share of the channel's sending side. clone()
/// (or a copy) adds a share; moving a Sender (into a task, a struct, a lambda) moves its share
/// and leaves the source empty (it may only be destroyed or assigned to); destroying a Sender
/// gives its share back, and when the last share is gone the receiver's recv() yields nullopt
/// once the queue is drained. There is no "empty Sender" to create: keep a Sender only where
/// you may send, and move it into the task that sends, so the channel closes when that task
/// ends.
template <class T>
class Sender {
 public:
  explicit Sender(detail::Chan<T>* c) noexcept : c_(c) {}
  Sender(const Sender& o) noexcept : c_(o.c_) {
    // A share is copied from a live one, so the count cannot be 0 here (no resurrection).
    c_->senders.fetch_add(1, std::memory_order_relaxed);
    c_->refs.fetch_add(1, std::memory_order_relaxed);
  }
  Sender(Sender&& o) noexcept : c_(std::exchange(o.c_, nullptr)) {}
  Sender& operator=(Sender o) noexcept {
    std::swap(c_, o.c_);
    return *this;
  }
  ~Sender() { drop(); }
  /// A new Sender for the same channel. Mirrors Sender::clone.
  Sender clone() const { return Sender(*this); }

  /// Awaitable for send(): yields Result<void, SendError<T>>.
  class [[nodiscard]] Send : private rill::detail::Leaf {
   public:
    Send(detail::Chan<T>* c, T v) : c_(c), value_(std::move(v)) {}
    Send(const Send&) = delete;
    ~Send() {
      if (w_.queued) {
        std::lock_guard lk(c_->mu);
        c_->unlink(&w_);
      }
    }
    bool await_ready() {
      rill::detail::Waker rx;
      {
        std::lock_guard lk(c_->mu);
        if (c_->rx_closed) {
          closed_ = true;
          return true;
        }
        if (c_->full() || c_->wait_head) return false;
        c_->q.push_back(std::move(*value_));
        value_.reset();
        rx = std::move(c_->rx_waker);
      }
      rx.wake();
      return ready_spend();
    }
    bool await_suspend(std::coroutine_handle<> h) {
      if (must_yield) {
        suspend_yield(h);
        return true;
      }
      rill::detail::Waker rx;
      bool pushed = false;  // decided under the lock: once queued, value_ belongs to the receiver
      {
        std::lock_guard lk(c_->mu);
        if (c_->rx_closed) {
          closed_ = true;
          return false;
        }
        // Re-check under the lock: the receiver may have drained the queue since await_ready,
        // and waiters are only admitted when it pops, so queueing behind an empty channel
        // would never be woken.
        if (!c_->full() && !c_->wait_head) {
          c_->q.push_back(std::move(*value_));
          value_.reset();
          rx = std::move(c_->rx_waker);
          pushed = true;
        } else {
          w_.value = &value_;
          w_.waker = rill::detail::task_waker(rill::detail::current_task());
          c_->enqueue(&w_);
        }
      }
      if (pushed) {
        rx.wake();
        return false;
      }
      suspend_here(h, [](rill::detail::Resumable* self) noexcept {
        auto* me = static_cast<Send*>(static_cast<rill::detail::Leaf*>(self));
        bool done;
        {
          std::lock_guard lk(me->c_->mu);
          done = me->w_.granted || me->w_.closed;
        }
        if (done) me->resume();
      });
      return true;
    }
    Result<void, SendError<T>> await_resume() {
      if (closed_ || w_.closed) return Unexpected{SendError<T>{std::move(*value_)}};
      return {};
    }

    /// After an abandoned wait (send_timeout): the value, unless the receiver took it.
    std::optional<T> take_back() {
      std::lock_guard lk(c_->mu);
      c_->unlink(&w_);
      if (w_.granted) return std::nullopt;
      return std::move(value_);
    }

   private:
    detail::Chan<T>* c_;
    std::optional<T> value_;
    detail::SendWaiter<T> w_;
    bool closed_ = false;
  };

  /// Sends `v`, waiting for capacity when the channel is full (FIFO among waiting senders).
  /// Yields SendError holding `v` if the receiver is gone. Cancel-safe: a send destroyed while
  /// waiting sends nothing. Mirrors Sender::send.
  Send send(T v) { return Send(c_, std::move(v)); }

  /// Awaitable of reserve(): yields Result<Permit<T>, ReserveError>. Waits in the same FIFO
  /// queue as send(). Cancel-safe: destroyed while waiting, or after a slot was granted but
  /// before it resumed, it gives the slot back.
  class [[nodiscard]] Reserve : private rill::detail::Leaf {
   public:
    explicit Reserve(detail::Chan<T>* c) noexcept : c_(c) {}
    Reserve(const Reserve&) = delete;
    ~Reserve() {
      rill::detail::Waker w;
      {
        std::lock_guard lk(c_->mu);
        c_->unlink(&w_);
        if (held_ || w_.granted) {  // a slot nobody will use
          --c_->reserved;
          w = c_->admit_waiter();
          if (!w && c_->rx_closed && c_->reserved == 0) w = std::move(c_->rx_waker);
        }
      }
      w.wake();
    }
    bool await_ready() {
      {
        std::lock_guard lk(c_->mu);
        if (c_->rx_closed) {
          closed_ = true;
          return true;
        }
        if (c_->full() || c_->wait_head) return false;
        ++c_->reserved;
        held_ = true;
      }
      return ready_spend();
    }
    bool await_suspend(std::coroutine_handle<> h) {
      if (must_yield) {
        suspend_yield(h);
        return true;
      }
      {
        std::lock_guard lk(c_->mu);
        if (c_->rx_closed) {
          closed_ = true;
          return false;
        }
        if (!c_->full() && !c_->wait_head) {
          ++c_->reserved;
          held_ = true;
          return false;
        }
        w_.value = nullptr;  // a reservation: admit_waiter reserves instead of moving a value
        w_.waker = rill::detail::task_waker(rill::detail::current_task());
        c_->enqueue(&w_);
      }
      suspend_here(h, [](rill::detail::Resumable* self) noexcept {
        auto* me = static_cast<Reserve*>(static_cast<rill::detail::Leaf*>(self));
        bool done;
        {
          std::lock_guard lk(me->c_->mu);
          done = me->w_.granted || me->w_.closed;
        }
        if (done) me->resume();
      });
      return true;
    }
    Result<Permit<T>, ReserveError> await_resume() {
      std::lock_guard lk(c_->mu);
      if (held_ || w_.granted) {
        held_ = false;
        w_.granted = false;
        return Permit<T>(c_);
      }
      return Unexpected{ReserveError{}};
    }

   private:
    detail::Chan<T>* c_;
    detail::SendWaiter<T> w_;
    bool held_ = false;  ///< a slot was reserved without waiting and not yet handed out
    bool closed_ = false;
  };

  /// Waits for a free slot and reserves it: the Permit then sends without waiting (so a value
  /// is produced only once there is room for it). ReserveError once the receiver is gone.
  /// Cancel-safe. Mirrors Sender::reserve.
  Reserve reserve() noexcept { return Reserve(c_); }

  /// Like send(), giving up after `d`: yields SendTimeoutError (Timeout or Closed) holding `v`
  /// when it was not sent. Cancel-safe like send(). Mirrors Sender::send_timeout.
  Task<Result<void, SendTimeoutError<T>>> send_timeout(T v, Duration d) {
    Send s(c_, std::move(v));
    auto r = co_await rill::timeout(d, s);  // borrows `s`, so the value can be taken back
    if (r) {
      if (*r) co_return Result<void, SendTimeoutError<T>>();
      co_return Unexpected{SendTimeoutError<T>{SendTimeoutError<T>::Kind::Closed,
                                               std::move(r->error().value)}};
    }
    std::optional<T> back = s.take_back();
    if (!back) co_return Result<void, SendTimeoutError<T>>();  // admitted as the timer fired
    co_return Unexpected{
        SendTimeoutError<T>{SendTimeoutError<T>::Kind::Timeout, std::move(*back)}};
  }

  /// Sends from a thread outside any rill runtime (a plain thread, a blocking-pool job), blocking
  /// it until there is capacity. SendError holding `v` when the receiver is gone. Throws
  /// RuntimeError when called on a runtime thread (it would block a worker; use send()).
  /// Mirrors Sender::blocking_send.
  Result<void, SendError<T>> blocking_send(T v) {
    if (rill::detail::t_ctx.sched != nullptr || rill::detail::t_ctx.task != nullptr)
      throw RuntimeError("rill::sync::mpsc::Sender::blocking_send called on a runtime thread: "
                         "use co_await send()");
    std::optional<T> value(std::move(v));
    sync::detail::Parker parker;
    detail::SendWaiter<T> w;
    rill::detail::Waker rx;
    {
      std::lock_guard lk(c_->mu);
      if (c_->rx_closed) return Unexpected{SendError<T>{std::move(*value)}};
      if (!c_->full() && !c_->wait_head) {
        c_->q.push_back(std::move(*value));
        rx = std::move(c_->rx_waker);
      } else {
        w.value = &value;
        w.waker = parker.waker();
        c_->enqueue(&w);
      }
    }
    if (!w.queued) {
      rx.wake();
      return {};
    }
    for (;;) {
      parker.park();
      std::lock_guard lk(c_->mu);
      if (w.granted) return {};
      if (w.closed) return Unexpected{SendError<T>{std::move(*value)}};
    }
  }

  /// Completes once the receiver is gone (dropped, or close() called); at once if it already
  /// is. Cancel-safe. Mirrors Sender::closed.
  Task<void> closed() {
    detail::Chan<T>* c = c_;
    auto gone = c->rx_gone.notified();  // created before the check: no wake-up is missed
    if (is_closed()) co_return;
    co_await gone;
  }

  /// Free slots now (max_capacity() minus the queued values and the reserved slots). Mirrors
  /// Sender::capacity.
  std::size_t capacity() const {
    std::lock_guard lk(c_->mu);
    return c_->full() ? 0 : c_->cap - c_->q.size() - c_->reserved;
  }
  /// The capacity the channel was created with. Mirrors Sender::max_capacity.
  std::size_t max_capacity() const noexcept { return c_->cap; }

  /// Sends without waiting; fails with Full (value returned) or Closed. Mirrors try_send.
  Result<void, TrySendError<T>> try_send(T v) {
    rill::detail::Waker rx;
    {
      std::lock_guard lk(c_->mu);
      if (c_->rx_closed)
        return Unexpected{TrySendError<T>{TrySendError<T>::Kind::Closed, std::move(v)}};
      if (c_->full() || c_->wait_head)
        return Unexpected{TrySendError<T>{TrySendError<T>::Kind::Full, std::move(v)}};
      c_->q.push_back(std::move(v));
      rx = std::move(c_->rx_waker);
    }
    rx.wake();
    return {};
  }
  /// True once the receiver was dropped (or closed).
  bool is_closed() const {
    std::lock_guard lk(c_->mu);
    return c_->rx_closed;
  }

 protected:
  void drop() noexcept {
    if (auto* c = std::exchange(c_, nullptr)) {
      if (c->senders.fetch_sub(1, std::memory_order_acq_rel) == 1) {
        // The last share: a receiver that read the count before the decrement registered its
        // waker under mu, so taking mu here finds it.
        rill::detail::Waker rx;
        {
          std::lock_guard lk(c->mu);
          rx = std::move(c->rx_waker);
        }
        rx.wake();
      }
      c->release();
    }
  }
  detail::Chan<T>* c_;
};

/// The sending half of an unbounded channel: send() never waits. Mirrors
/// tokio::sync::mpsc::UnboundedSender.
template <class T>
class UnboundedSender : private Sender<T> {
 public:
  using Sender<T>::Sender;
  using Sender<T>::is_closed;
  using Sender<T>::closed;
  UnboundedSender clone() const { return UnboundedSender(*this); }
  /// Queues `v`; fails (returning it) only when the receiver is gone.
  Result<void, SendError<T>> send(T v) {
    auto r = Sender<T>::try_send(std::move(v));
    if (r) return {};
    return Unexpected{SendError<T>{std::move(r.error().value)}};
  }
};

/// The receiving half. `co_await rx.recv()` yields the next value, or nullopt once the queue is
/// drained and every sender is gone or close() was called. Single consumer. Dropping it closes the
/// channel: waiting senders fail and queued values are destroyed. Mirrors
/// tokio::sync::mpsc::Receiver.
template <class T>
class Receiver {
 public:
  explicit Receiver(detail::Chan<T>* c) noexcept : c_(c) {}
  Receiver(Receiver&& o) noexcept : c_(std::exchange(o.c_, nullptr)) {}
  Receiver& operator=(Receiver&& o) noexcept {
    std::swap(c_, o.c_);
    return *this;
  }
  ~Receiver() {
    if (auto* c = std::exchange(c_, nullptr)) {
      close_impl(c);
      std::deque<T> drop;
      {
        std::lock_guard lk(c->mu);
        c->rx_dropped = true;
        drop.swap(c->q);
      }
      c->release();
    }
  }

  /// Awaitable for recv().
  class [[nodiscard]] Recv : private rill::detail::Leaf {
   public:
    explicit Recv(detail::Chan<T>* c) noexcept : c_(c) {}
    Recv(const Recv&) = delete;
    /// A cancelled wait deregisters its waker (the channel keeps no reference to the task).
    ~Recv() {
      if (registered_) {
        std::lock_guard lk(c_->mu);
        c_->rx_waker.reset();
      }
    }
    /// Takes a queued value at once, under the same lock as the readiness check (nothing can
    /// cancel the awaiter between await_ready returning true and await_resume).
    bool await_ready() {
      rill::detail::Waker w;
      {
        std::lock_guard lk(c_->mu);
        if (c_->q.empty() && !c_->drained()) return false;
        if (!ready_spend()) return false;  // out of budget: await_suspend yields first
        if (c_->q.empty()) return true;    // drained: await_resume yields nullopt
        taken_.emplace(std::move(c_->q.front()));
        c_->q.pop_front();
        w = c_->admit_waiter();
      }
      w.wake();
      return true;
    }
    bool await_suspend(std::coroutine_handle<> h) {
      if (must_yield) {
        suspend_yield(h);
        return true;
      }
      {
        std::lock_guard lk(c_->mu);
        if (!c_->q.empty() || c_->drained()) return false;
        c_->rx_waker = rill::detail::task_waker(rill::detail::current_task());
        registered_ = true;
      }
      suspend_here(h, [](rill::detail::Resumable* self) noexcept {
        auto* me = static_cast<Recv*>(static_cast<rill::detail::Leaf*>(self));
        if (me->ready()) me->resume();
      });
      return true;
    }
    std::optional<T> await_resume() {
      if (taken_) return std::move(taken_);
      rill::detail::Waker w;
      std::optional<T> v;
      {
        std::lock_guard lk(c_->mu);
        if (registered_) {
          registered_ = false;
          c_->rx_waker.reset();
        }
        if (c_->q.empty()) return std::nullopt;
        v.emplace(std::move(c_->q.front()));
        c_->q.pop_front();
        w = c_->admit_waiter();
      }
      w.wake();
      return v;
    }

   private:
    bool ready() {
      std::lock_guard lk(c_->mu);
      return !c_->q.empty() || c_->drained();
    }
    detail::Chan<T>* c_;
    bool registered_ = false;  // our waker is in c_->rx_waker (guarded by c_->mu)
    std::optional<T> taken_;   // the value await_ready took
  };

  /// Receives the next value (see the class comment). Cancel-safe. Mirrors Receiver::recv.
  Recv recv() noexcept { return Recv(c_); }

  /// Receives from a thread outside any rill runtime, blocking it until a value arrives or every
  /// sender is gone (nullopt). Throws RuntimeError when called on a runtime thread (use
  /// recv()). Mirrors Receiver::blocking_recv.
  std::optional<T> blocking_recv() {
    if (rill::detail::t_ctx.sched != nullptr || rill::detail::t_ctx.task != nullptr)
      throw RuntimeError("rill::sync::mpsc::Receiver::blocking_recv called on a runtime thread: "
                         "use co_await recv()");
    sync::detail::Parker parker;
    for (;;) {
      rill::detail::Waker w;
      std::optional<T> v;
      {
        std::lock_guard lk(c_->mu);
        if (!c_->q.empty()) {
          v.emplace(std::move(c_->q.front()));
          c_->q.pop_front();
          w = c_->admit_waiter();
        } else if (c_->drained()) {
          return std::nullopt;
        } else {
          c_->rx_waker = parker.waker();
        }
      }
      if (v) {
        w.wake();
        return v;
      }
      parker.park();
    }
  }

  /// Receives without waiting. Mirrors Receiver::try_recv.
  Result<T, TryRecvError> try_recv() {
    rill::detail::Waker w;
    std::optional<T> v;
    {
      std::lock_guard lk(c_->mu);
      if (c_->q.empty())
        return Unexpected{c_->drained() ? TryRecvError::Disconnected : TryRecvError::Empty};
      v.emplace(std::move(c_->q.front()));
      c_->q.pop_front();
      w = c_->admit_waiter();
    }
    w.wake();
    return std::move(*v);
  }

  /// Closes the channel without dropping the receiver: senders and reserve() fail from now on;
  /// queued values, and values sent through Permits reserved before, can still be received, then
  /// recv() yields nullopt (even while Senders exist). Mirrors Receiver::close.
  void close() { close_impl(c_); }

 private:
  static void close_impl(detail::Chan<T>* c) {
    std::vector<rill::detail::Waker> wake;
    {
      std::lock_guard lk(c->mu);
      c->rx_closed = true;
      while (auto* w = c->wait_head) {
        c->unlink(w);
        w->closed = true;
        wake.push_back(std::move(w->waker));
      }
      c->rx_waker.reset();
    }
    for (auto& w : wake) w.wake();
    c->rx_gone.notify_waiters();
  }
  detail::Chan<T>* c_;
};

/// Creates a bounded channel holding at most `capacity` values (>= 1; 0 throws
/// std::invalid_argument). Mirrors tokio::sync::mpsc::channel.
template <class T>
std::pair<Sender<T>, Receiver<T>> channel(std::size_t capacity) {
  if (capacity == 0) throw std::invalid_argument("rill::sync::mpsc::channel: capacity must be > 0");
  auto* c = new detail::Chan<T>(capacity);
  return {Sender<T>(c), Receiver<T>(c)};
}

/// Creates an unbounded channel (memory grows with the backlog: prefer channel(capacity)).
/// Mirrors tokio::sync::mpsc::unbounded_channel.
template <class T>
std::pair<UnboundedSender<T>, Receiver<T>> unbounded_channel() {
  auto* c = new detail::Chan<T>(std::numeric_limits<std::size_t>::max());
  return {UnboundedSender<T>(c), Receiver<T>(c)};
}

}  // namespace rill::sync::mpsc

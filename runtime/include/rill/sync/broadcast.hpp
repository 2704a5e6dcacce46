// rill/sync/broadcast.hpp: a multi-producer, multi-consumer channel where every receiver sees
// every value (a bounded ring; slow receivers lag). Mirrors tokio::sync::broadcast.
#pragma once

#include <atomic>
#include <bit>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <utility>
#include <vector>

#include "rill/detail/adaptive_mutex.hpp"
#include "rill/detail/task_header.hpp"
#include "rill/result.hpp"
#include "rill/sync/detail/wait_list.hpp"

namespace rill::sync::broadcast {

/// send() failed because there are no receivers; holds the value. Mirrors
/// tokio::sync::broadcast::error::SendError.
template <class T>
struct SendError {
  T value;
  const char* what() const noexcept { return "channel closed"; }
};

/// Why recv() yielded no value. Closed: every Sender is gone and this receiver has seen every
/// value. Lagged: this receiver fell behind and `skipped` values were overwritten before it read
/// them; the next recv() continues from the oldest value still retained. Mirrors
/// tokio::sync::broadcast::error::RecvError.
struct RecvError {
  enum class Kind { Closed, Lagged } kind;
  std::uint64_t skipped = 0;  ///< Lagged only: how many values were missed
  bool is_lagged() const noexcept { return kind == Kind::Lagged; }
  bool is_closed() const noexcept { return kind == Kind::Closed; }
  const char* what() const noexcept {
    return kind == Kind::Closed ? "channel closed" : "receiver lagged behind";
  }
};

/// try_recv() yielded no value: Empty (nothing new, senders remain), Closed, or Lagged(skipped).
/// Mirrors tokio::sync::broadcast::error::TryRecvError.
struct TryRecvError {
  enum class Kind { Empty, Closed, Lagged } kind;
  std::uint64_t skipped = 0;
};

namespace detail {

template <class T>
struct Slot {
  std::optional<T> value;
  std::uint64_t pos = UINT64_MAX;  ///< the position written into this slot
  std::size_t rem = 0;             ///< receivers that have not read it yet
};

/// Shared state, guarded by `mu` (Tokio guards the tail with a mutex and each slot with a
/// RwLock; one mutex keeps this simple and is uncontended for typical fan-out sizes).
template <class T>
struct Shared {
  explicit Shared(std::size_t cap) : slots(cap), mask(cap - 1) {}
  rill::detail::AdaptiveMutex mu;
  std::vector<Slot<T>> slots;
  std::size_t mask;
  std::uint64_t tail = 0;  ///< next position to write
  /// Live Senders. Atomic so that cloning and dropping a Sender does not take `mu`; only the
  /// last drop locks (to wake every receiver), which orders it with receivers reading it under
  /// `mu`.
  std::atomic<std::size_t> senders{1};
  std::size_t receivers = 1;
  sync::detail::WaitList waiters;

  /// Under mu: reads position `*next` for one receiver. 0 = value, 1 = lagged, 2 = nothing.
  int read(std::uint64_t* next, std::optional<T>* out, std::uint64_t* skipped) {
    if (*next >= tail) return 2;
    const std::uint64_t oldest = tail > slots.size() ? tail - slots.size() : 0;
    if (*next < oldest) {
      *skipped = oldest - *next;
      *next = oldest;
      return 1;
    }
    Slot<T>& s = slots[*next & mask];
    // Copy (or move) first: if that throws, nothing changed and the value stays readable by
    // this receiver's next attempt and by every other receiver.
    if (s.rem == 1) {
      out->emplace(std::move(*s.value));
      s.value.reset();
    } else {
      out->emplace(*s.value);
    }
    --s.rem;
    ++*next;
    return 0;
  }
  /// Under mu: a receiver at `next` leaves; release its claim on the unread values.
  void leave(std::uint64_t next) noexcept {
    const std::uint64_t oldest = tail > slots.size() ? tail - slots.size() : 0;
    for (std::uint64_t p = std::max(next, oldest); p < tail; ++p) {
      Slot<T>& s = slots[p & mask];
      if (s.pos == p && --s.rem == 0) s.value.reset();
    }
    --receivers;
  }
  void wake_all(sync::detail::WakeList& wl) {
    while (auto* w = waiters.pop_front())
      wl.complete(w);
  }
};

}  // namespace detail

template <class T>
class Sender;

/// The receiving half: sees every value sent after it subscribed, in order. `co_await rx.recv()`
/// yields Result<T, RecvError> (the value is a copy unless this receiver is the last to read it,
/// then it is moved). Move-only; one task at a time. Dropping it releases its claim on unread
/// values. Mirrors tokio::sync::broadcast::Receiver.
template <class T>
class Receiver {
 public:
  Receiver(std::shared_ptr<detail::Shared<T>> s, std::uint64_t next) noexcept
      : s_(std::move(s)), next_(next) {}
  Receiver(Receiver&& o) noexcept : s_(std::move(o.s_)), next_(o.next_) {}
  Receiver& operator=(Receiver&& o) noexcept {
    if (this != &o) {
      drop();
      s_ = std::move(o.s_);
      next_ = o.next_;
    }
    return *this;
  }
  ~Receiver() { drop(); }

  /// Awaitable of recv(). Cancel-safe: a value is consumed only when the await resumes.
  class [[nodiscard]] Recv : private rill::detail::Leaf {
   public:
    explicit Recv(Receiver* r) noexcept : r_(r) {}
    Recv(const Recv&) = delete;
    ~Recv() {
      if (registered_) {
        std::lock_guard lk(r_->s_->mu);
        r_->s_->waiters.unlink(&node_);
      }
    }
    bool await_ready() {
      std::lock_guard lk(r_->s_->mu);
      if (!ready_locked()) return false;
      return ready_spend();
    }
    bool await_suspend(std::coroutine_handle<> h) {
      if (must_yield) {
        suspend_yield(h);
        return true;
      }
      {
        std::lock_guard lk(r_->s_->mu);
        if (ready_locked()) return false;
        node_.waker = rill::detail::task_waker(rill::detail::current_task());
        r_->s_->waiters.push_back(&node_);
        registered_ = true;
      }
      suspend_here(h, [](rill::detail::Resumable* self) noexcept {
        auto* me = static_cast<Recv*>(static_cast<rill::detail::Leaf*>(self));
        if (me->node_.done.load(std::memory_order_acquire)) me->resume();
      });
      return true;
    }
    Result<T, RecvError> await_resume() {
      std::optional<T> v;
      std::uint64_t skipped = 0;
      std::lock_guard lk(r_->s_->mu);
      switch (r_->s_->read(&r_->next_, &v, &skipped)) {
        case 0:
          return std::move(*v);
        case 1:
          return Unexpected{RecvError{RecvError::Kind::Lagged, skipped}};
        default:
          return Unexpected{RecvError{RecvError::Kind::Closed, 0}};
      }
    }

   private:
    bool ready_locked() const noexcept {
      return r_->next_ < r_->s_->tail || r_->s_->senders.load(std::memory_order_acquire) == 0;
    }
    Receiver* r_;
    sync::detail::WaitNode node_;
    bool registered_ = false;
  };

  /// Waits for the next value (see the class comment). Spends one unit of coop budget when a
  /// value (or an error) is ready. Mirrors Receiver::recv.
  Recv recv() noexcept { return Recv(this); }

  /// Receives without waiting. Mirrors Receiver::try_recv.
  Result<T, TryRecvError> try_recv() {
    std::optional<T> v;
    std::uint64_t skipped = 0;
    std::lock_guard lk(s_->mu);
    switch (s_->read(&next_, &v, &skipped)) {
      case 0:
        return std::move(*v);
      case 1:
        return Unexpected{TryRecvError{TryRecvError::Kind::Lagged, skipped}};
      default:
        return Unexpected{TryRecvError{s_->senders.load(std::memory_order_acquire) == 0
                                           ? TryRecvError::Kind::Closed
                                           : TryRecvError::Kind::Empty,
                                       0}};
    }
  }
  /// Values sent but not yet received by this receiver (may exceed the capacity while lagging).
  /// Mirrors Receiver::len.
  std::size_t len() const {
    std::lock_guard lk(s_->mu);
    return static_cast<std::size_t>(s_->tail - next_);
  }
  bool is_empty() const { return len() == 0; }
  /// A new receiver that starts at the current tail (sees only values sent from now on).
  /// Mirrors Receiver::resubscribe.
  Receiver resubscribe() const {
    std::lock_guard lk(s_->mu);
    ++s_->receivers;
    return Receiver(s_, s_->tail);
  }

 private:
  void drop() noexcept {
    if (!s_) return;
    {
      std::lock_guard lk(s_->mu);
      s_->leave(next_);
    }
    s_.reset();
  }
  std::shared_ptr<detail::Shared<T>> s_;
  std::uint64_t next_;
};

/// The sending half; clone it for more producers. send() never waits: when the ring is full the
/// oldest value is overwritten and receivers that had not read it get RecvError::Lagged. When
/// every Sender is gone, receivers get Closed after draining. Thread-safe. Mirrors
/// tokio::sync::broadcast::Sender.
template <class T>
class Sender {
 public:
  explicit Sender(std::shared_ptr<detail::Shared<T>> s) noexcept : s_(std::move(s)) {}
  Sender(const Sender& o) noexcept : s_(o.s_) {
    s_->senders.fetch_add(1, std::memory_order_relaxed);  // copied from a live Sender: never 0
  }
  Sender(Sender&& o) noexcept = default;
  Sender& operator=(Sender o) noexcept {
    std::swap(s_, o.s_);
    return *this;
  }
  ~Sender() {
    if (!s_ || s_->senders.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
    sync::detail::WakeList wl;
    std::lock_guard lk(s_->mu);
    s_->wake_all(wl);
  }

  /// Sends `v` to every current receiver; returns how many there are, or SendError holding `v`
  /// when there are none (the value is not stored). Mirrors Sender::send.
  Result<std::size_t, SendError<T>> send(T v) {
    sync::detail::WakeList wl;
    std::lock_guard lk(s_->mu);
    if (s_->receivers == 0) return Unexpected{SendError<T>{std::move(v)}};
    auto& slot = s_->slots[s_->tail & s_->mask];
    slot.value.emplace(std::move(v));
    slot.pos = s_->tail;
    slot.rem = s_->receivers;
    ++s_->tail;
    s_->wake_all(wl);
    return s_->receivers;
  }
  /// A new receiver that sees values sent from now on. Mirrors Sender::subscribe.
  Receiver<T> subscribe() {
    std::lock_guard lk(s_->mu);
    ++s_->receivers;
    return Receiver<T>(s_, s_->tail);
  }
  /// Number of live receivers. Mirrors Sender::receiver_count.
  std::size_t receiver_count() const {
    std::lock_guard lk(s_->mu);
    return s_->receivers;
  }

 private:
  std::shared_ptr<detail::Shared<T>> s_;
};

/// Creates a broadcast channel retaining the last `capacity` values (rounded up to a power of
/// two); capacity 0 throws std::invalid_argument. T must be copyable (each receiver gets a
/// copy). Mirrors tokio::sync::broadcast::channel.
template <class T>
std::pair<Sender<T>, Receiver<T>> channel(std::size_t capacity) {
  static_assert(std::is_copy_constructible_v<T>, "broadcast values are cloned for each receiver");
  if (capacity == 0)
    throw std::invalid_argument("rill::sync::broadcast::channel: capacity must be > 0");
  if (capacity > (SIZE_MAX >> 2))
    throw std::invalid_argument("rill::sync::broadcast::channel: capacity too large");
  auto s = std::make_shared<detail::Shared<T>>(std::bit_ceil(capacity));
  return {Sender<T>(s), Receiver<T>(s, 0)};
}

}  // namespace rill::sync::broadcast

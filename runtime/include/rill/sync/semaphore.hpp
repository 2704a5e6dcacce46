// rill/sync/semaphore.hpp: a fair (FIFO) counting semaphore, the base of Mutex and RwLock.
// Mirrors tokio::sync::Semaphore (tokio/src/sync/batch_semaphore.rs).
#pragma once

#include <atomic>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <utility>

#include "rill/detail/adaptive_mutex.hpp"
#include "rill/detail/task_header.hpp"
#include "rill/result.hpp"
#include "rill/sync/detail/wait_list.hpp"

namespace rill::sync {

/// acquire() failed because the semaphore was closed. Mirrors tokio::sync::AcquireError.
struct AcquireError {
  const char* what() const noexcept { return "semaphore closed"; }
};

/// try_acquire() failed: the semaphore is closed, or not enough permits are available now.
/// Mirrors tokio::sync::TryAcquireError.
struct TryAcquireError {
  enum class Kind { Closed, NoPermits } kind;
  const char* what() const noexcept {
    return kind == Kind::Closed ? "semaphore closed" : "no permits available";
  }
};

class Semaphore;

namespace detail {

/// A queued acquirer: how many permits it still needs, and whether close() failed it. Guarded by
/// the semaphore's mutex (published to the poll hook through `done`).
struct SemWaiter : WaitNode {
  std::size_t remaining = 0;  ///< permits still to assign
  std::size_t assigned = 0;   ///< permits assigned so far (returned on cancel or close)
  bool closed = false;
};

/// The awaiter behind every semaphore acquisition (Semaphore::acquire, Mutex::lock, RwLock):
/// waits in FIFO order until `n` permits were assigned to it, or the semaphore is closed.
/// Follows the leaf-awaiter contract (docs/ARCHITECTURE.md): fast path in await_ready (spends one
/// unit of budget), queued with a task waker otherwise; permits released while it waits are
/// assigned to the queue head first (so a large request is not starved by small ones); the
/// destructor of a queued or granted-but-unconsumed acquire returns every permit it holds, so
/// cancellation loses nothing. await_resume() yields true when the permits are now owned by the
/// caller, false when the semaphore was closed. Not movable once awaited.
class [[nodiscard]] RawAcquire : private rill::detail::Leaf {
 public:
  RawAcquire(Semaphore* s, std::uint32_t n) noexcept : sem_(s), n_(n) {}
  RawAcquire(RawAcquire&& o) noexcept : rill::detail::Leaf(), sem_(o.sem_), n_(o.n_) {}
  RawAcquire(const RawAcquire&) = delete;
  RawAcquire& operator=(const RawAcquire&) = delete;
  ~RawAcquire() {
    if (state_ == State::Waiting || state_ == State::Acquired) cancel();
  }

  bool await_ready() noexcept;
  bool await_suspend(std::coroutine_handle<> h) noexcept;
  /// True: the caller now owns the permits. False: the semaphore is closed.
  bool await_resume() noexcept;

  std::uint32_t permits() const noexcept { return n_; }

 private:
  friend class rill::sync::Semaphore;
  enum class State : std::uint8_t { Init, Acquired, Closed, Waiting, Consumed };
  void cancel() noexcept;
  static void poll_fn(rill::detail::Resumable* self) noexcept;

  Semaphore* sem_;
  std::uint32_t n_;
  State state_ = State::Init;
  SemWaiter node_;
};

}  // namespace detail

/// Permits borrowed from a Semaphore; releasing them (destructor) hands them to the first
/// waiter or back to the semaphore. Must not outlive the Semaphore. Move-only; not
/// thread-safe (one owner). Mirrors tokio::sync::SemaphorePermit.
class SemaphorePermit {
 public:
  SemaphorePermit() noexcept = default;
  SemaphorePermit(Semaphore* s, std::uint32_t n) noexcept : sem_(s), n_(n) {}
  SemaphorePermit(SemaphorePermit&& o) noexcept
      : sem_(std::exchange(o.sem_, nullptr)), n_(std::exchange(o.n_, 0)) {}
  SemaphorePermit& operator=(SemaphorePermit&& o) noexcept {
    if (this != &o) {
      release();
      sem_ = std::exchange(o.sem_, nullptr);
      n_ = std::exchange(o.n_, 0);
    }
    return *this;
  }
  ~SemaphorePermit() { release(); }

  /// Drops the permits without returning them: the semaphore's capacity shrinks for good.
  /// Mirrors SemaphorePermit::forget.
  void forget() noexcept {
    sem_ = nullptr;
    n_ = 0;
  }
  /// How many permits this holds. Mirrors SemaphorePermit::num_permits.
  std::uint32_t num_permits() const noexcept { return n_; }
  /// Takes over the permits of `other` (which must come from the same semaphore; otherwise
  /// std::invalid_argument). Mirrors SemaphorePermit::merge.
  void merge(SemaphorePermit&& other);

 private:
  void release() noexcept;
  Semaphore* sem_ = nullptr;
  std::uint32_t n_ = 0;
};

/// Permits that keep their Semaphore alive (a shared_ptr), so they can move into spawned tasks.
/// Move-only; not thread-safe (one owner). Mirrors tokio::sync::OwnedSemaphorePermit.
class OwnedSemaphorePermit {
 public:
  OwnedSemaphorePermit() noexcept = default;
  OwnedSemaphorePermit(std::shared_ptr<Semaphore> s, std::uint32_t n) noexcept
      : sem_(std::move(s)), n_(n) {}
  OwnedSemaphorePermit(OwnedSemaphorePermit&& o) noexcept
      : sem_(std::move(o.sem_)), n_(std::exchange(o.n_, 0)) {}
  OwnedSemaphorePermit& operator=(OwnedSemaphorePermit&& o) noexcept {
    if (this != &o) {
      release();
      sem_ = std::move(o.sem_);
      n_ = std::exchange(o.n_, 0);
    }
    return *this;
  }
  ~OwnedSemaphorePermit() { release(); }

  /// Drops the permits without returning them. Mirrors OwnedSemaphorePermit::forget.
  void forget() noexcept {
    sem_.reset();
    n_ = 0;
  }
  std::uint32_t num_permits() const noexcept { return n_; }
  /// The semaphore the permits belong to.
  const std::shared_ptr<Semaphore>& semaphore() const noexcept { return sem_; }

 private:
  void release() noexcept;
  std::shared_ptr<Semaphore> sem_;
  std::uint32_t n_ = 0;
};

/// A counting semaphore with FIFO fairness: acquirers are served in the order they started
/// waiting, and a request for many permits is not overtaken by later small ones (released
/// permits are assigned to the first waiter until it is satisfied). close() makes pending and
/// future acquisitions fail with AcquireError. Every method is thread-safe; the permit counter is
/// an atomic (uncontended acquire and release take no lock) and the waiter queue is a mutex-
/// guarded intrusive list (no allocation per wait). The Semaphore must outlive its borrowed
/// permits and waiters (use acquire_owned with a shared_ptr otherwise). Not movable.
/// Mirrors tokio::sync::Semaphore.
class Semaphore {
 public:
  /// The largest number of permits a semaphore may hold (Tokio's MAX_PERMITS).
  static constexpr std::size_t MAX_PERMITS = SIZE_MAX >> 3;

  /// A semaphore with `permits` permits. Throws std::invalid_argument above MAX_PERMITS.
  explicit Semaphore(std::size_t permits);
  Semaphore(const Semaphore&) = delete;
  Semaphore& operator=(const Semaphore&) = delete;

  /// Permits available right now (0 while anyone is queued).
  std::size_t available_permits() const noexcept {
    return state_.load(std::memory_order_acquire) >> 1;
  }
  /// Adds `n` permits (waking waiters they satisfy). Throws std::invalid_argument when the
  /// total would exceed MAX_PERMITS. Mirrors Semaphore::add_permits.
  void add_permits(std::size_t n);
  /// Removes up to `n` available permits for good; returns how many were removed. Mirrors
  /// Semaphore::forget_permits.
  std::size_t forget_permits(std::size_t n) noexcept;
  /// Closes the semaphore: every queued acquire completes with AcquireError, and so does every
  /// later one; permits already held stay valid. Mirrors Semaphore::close.
  void close() noexcept;
  /// True once close() was called.
  bool is_closed() const noexcept { return state_.load(std::memory_order_acquire) & kClosed; }

  /// Awaitable of acquire(): yields Result<SemaphorePermit, AcquireError>. Cancel-safe: if it is
  /// destroyed while queued (or after being granted but before resuming), the permits it was
  /// assigned go to the next waiter. Spends one unit of coop budget when permits are available.
  class [[nodiscard]] Acquire {
   public:
    Acquire(Semaphore* s, std::uint32_t n) noexcept : raw_(s, n), sem_(s) {}
    bool await_ready() noexcept { return raw_.await_ready(); }
    bool await_suspend(std::coroutine_handle<> h) noexcept { return raw_.await_suspend(h); }
    Result<SemaphorePermit, AcquireError> await_resume() noexcept {
      if (!raw_.await_resume()) return Unexpected{AcquireError{}};
      return SemaphorePermit(sem_, raw_.permits());
    }

   private:
    detail::RawAcquire raw_;
    Semaphore* sem_;
  };

  /// Awaitable of acquire_owned(): like Acquire, yielding an OwnedSemaphorePermit.
  class [[nodiscard]] AcquireOwned {
   public:
    AcquireOwned(std::shared_ptr<Semaphore> s, std::uint32_t n) noexcept
        : raw_(s.get(), n), sem_(std::move(s)) {}
    bool await_ready() noexcept { return raw_.await_ready(); }
    bool await_suspend(std::coroutine_handle<> h) noexcept { return raw_.await_suspend(h); }
    Result<OwnedSemaphorePermit, AcquireError> await_resume() noexcept {
      if (!raw_.await_resume()) return Unexpected{AcquireError{}};
      return OwnedSemaphorePermit(sem_, raw_.permits());
    }

   private:
    detail::RawAcquire raw_;
    std::shared_ptr<Semaphore> sem_;
  };

  /// Waits for `n` permits (FIFO). `auto p = co_await sem.acquire();` yields the permit, or
  /// AcquireError once the semaphore is closed. A request for more permits than the semaphore
  /// will ever have waits forever (as in Tokio). Mirrors Semaphore::acquire / acquire_many.
  Acquire acquire(std::uint32_t n = 1) noexcept { return Acquire(this, n); }
  /// Takes `n` permits if they are available now (and nobody is queued). Mirrors
  /// Semaphore::try_acquire / try_acquire_many.
  Result<SemaphorePermit, TryAcquireError> try_acquire(std::uint32_t n = 1) noexcept;
  /// Like acquire() on a shared semaphore; the permit keeps it alive. Throws
  /// std::invalid_argument when `s` is null. Mirrors Semaphore::acquire_owned.
  static AcquireOwned acquire_owned(std::shared_ptr<Semaphore> s, std::uint32_t n = 1);
  /// Like try_acquire() on a shared semaphore. Mirrors Semaphore::try_acquire_owned.
  static Result<OwnedSemaphorePermit, TryAcquireError> try_acquire_owned(
      std::shared_ptr<Semaphore> s, std::uint32_t n = 1);

  /// Returns `n` permits taken without a permit object (used by Mutex/RwLock guards). Internal.
  void release(std::size_t n) noexcept;
  /// Takes `n` permits now if possible: 0 ok, 1 not enough, 2 closed. Internal.
  int try_take(std::size_t n) noexcept;

 private:
  friend class detail::RawAcquire;
  static constexpr std::size_t kClosed = 1;
  static constexpr std::size_t kShift = 1;

  /// Under mu_: assigns `n` permits to queued waiters in order; the rest become available.
  void add_permits_locked(std::size_t n, detail::WakeList& wl) noexcept;
  /// Under mu_: moves permits that fast-path releasers put in state_ to the queue head.
  void drain_to_waiters_locked(detail::WakeList& wl) noexcept;

  std::atomic<std::size_t> state_;  ///< permits << 1 | kClosed
  /// True while the queue is non-empty; releasers that see false skip the lock (Dekker pair
  /// with the acquirer that sets it and re-reads state_, both seq_cst).
  std::atomic<bool> has_waiters_{false};
  rill::detail::AdaptiveMutex mu_;
  detail::WaitList waiters_;
};

}  // namespace rill::sync

// rill/join_set.hpp: JoinSet<T>, a collection of spawned tasks awaited in completion order, and
// AbortHandle. Mirrors tokio::task::JoinSet and tokio::task::AbortHandle.
//
// Design: every member task's join waker is a per-member Waker (not a task waker) whose wake
// moves the member from the set's running list to its ready list and wakes the one task waiting
// in join_next() (Tokio's IdleNotifiedSet). join_next() therefore never polls the members: it
// pops the ready list. Members are reference counted (the set's list holds one reference, the
// registered waker one), so a completion racing with the set's destruction touches live memory.
#pragma once

#include <atomic>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <source_location>
#include <utility>
#include <vector>

#include "rill/detail/adaptive_mutex.hpp"
#include "rill/detail/task_cell.hpp"
#include "rill/error.hpp"
#include "rill/join_handle.hpp"
#include "rill/result.hpp"
#include "rill/runtime.hpp"
#include "rill/task.hpp"

namespace rill {

/// Cancels a spawned task without owning its output (JoinSet::spawn returns one). Copyable
/// (each copy holds a task reference); thread-safe. Mirrors tokio::task::AbortHandle.
class AbortHandle {
 public:
  AbortHandle() noexcept = default;
  /// Takes a new reference to `t`. Internal.
  explicit AbortHandle(detail::TaskHeader* t) noexcept : t_(t) {
    if (t_) detail::task_ref_inc(t_);
  }
  AbortHandle(const AbortHandle& o) noexcept : AbortHandle(o.t_) {}
  AbortHandle(AbortHandle&& o) noexcept : t_(std::exchange(o.t_, nullptr)) {}
  AbortHandle& operator=(AbortHandle o) noexcept {
    std::swap(t_, o.t_);
    return *this;
  }
  ~AbortHandle() {
    if (t_) detail::task_ref_dec(t_);
  }
  /// Requests cancellation (see JoinHandle::abort). Mirrors AbortHandle::abort.
  void abort() const noexcept {
    if (t_) detail::join_handle_abort(t_);
  }
  /// True once the task finished or was cancelled. Mirrors AbortHandle::is_finished.
  bool is_finished() const noexcept { return t_ && t_->is_complete(); }
  /// The task's id. Mirrors AbortHandle::id.
  std::uint64_t id() const noexcept { return t_ ? t_->id : 0; }

 private:
  detail::TaskHeader* t_ = nullptr;
};

template <class T>
class JoinSet;

namespace detail {

template <class T>
struct JoinSetShared;

/// One member of a JoinSet. Lists and `state` are guarded by the set's mutex; `handle` is only
/// touched by the set's owner.
template <class T>
struct JoinEntry {
  enum class State : std::uint8_t { Running, Ready, Removed };
  std::atomic<int> refs{2};  ///< the set's list + the registered join waker
  JoinEntry* prev = nullptr;
  JoinEntry* next = nullptr;
  State state = State::Running;
  JoinHandle<T> handle;
  std::shared_ptr<JoinSetShared<T>> shared;

  void unref() noexcept {
    if (refs.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }
  static void on_wake(void* p) noexcept;
  static constexpr WakerVTable kVTable{
      [](void* p) noexcept -> void* {
        static_cast<JoinEntry*>(p)->refs.fetch_add(1, std::memory_order_relaxed);
        return p;
      },
      [](void* p) noexcept {
        on_wake(p);
        static_cast<JoinEntry*>(p)->unref();
      },
      [](void* p) noexcept { on_wake(p); },
      [](void* p) noexcept { static_cast<JoinEntry*>(p)->unref(); },
  };
};

/// An intrusive FIFO list of entries (guarded by the set's mutex).
template <class T>
struct EntryList {
  JoinEntry<T>* head = nullptr;
  JoinEntry<T>* tail = nullptr;
  std::size_t len = 0;
  void push_back(JoinEntry<T>* e) noexcept {
    e->prev = tail;
    e->next = nullptr;
    if (tail)
      tail->next = e;
    else
      head = e;
    tail = e;
    ++len;
  }
  void unlink(JoinEntry<T>* e) noexcept {
    if (e->prev)
      e->prev->next = e->next;
    else
      head = e->next;
    if (e->next)
      e->next->prev = e->prev;
    else
      tail = e->prev;
    e->prev = e->next = nullptr;
    --len;
  }
};

template <class T>
struct JoinSetShared {
  rill::detail::AdaptiveMutex mu;
  EntryList<T> running;  ///< spawned, not finished
  EntryList<T> ready;    ///< finished, not yet returned by join_next()
  Waker join_waiter;     ///< the task in join_next()
  Waker spawn_waiter;    ///< the task in spawn() waiting for a slot
  std::size_t max_in_flight = SIZE_MAX;
};

template <class T>
void JoinEntry<T>::on_wake(void* p) noexcept {
  auto* e = static_cast<JoinEntry*>(p);
  auto& s = *e->shared;
  Waker a, b;
  {
    std::lock_guard lk(s.mu);
    if (e->state != State::Running) return;
    s.running.unlink(e);
    s.ready.push_back(e);
    e->state = State::Ready;
    a = std::move(s.join_waiter);
    b = std::move(s.spawn_waiter);
  }
  a.wake();
  b.wake();
}

}  // namespace detail

/// A set of tasks spawned on the current runtime, awaited in the order they finish.
/// `co_await set.spawn(task)` starts a task (with a max_in_flight limit it first waits until
/// fewer than that many members are running); `co_await set.join_next()` yields the next
/// finished task's outcome, or nullopt when the set is empty. Destroying the set aborts every
/// task still in it (Tokio's behavior); detach_all() releases them instead. A JoinSet belongs to
/// one task at a time (not thread-safe, like Tokio's `&mut self` methods); its members run on
/// any worker. Mirrors tokio::task::JoinSet.
template <class T>
class JoinSet {
 public:
  /// An empty set; `max_in_flight` > 0 bounds the number of running members (0 = unbounded).
  explicit JoinSet(std::size_t max_in_flight = 0)
      : s_(std::make_shared<detail::JoinSetShared<T>>()) {
    if (max_in_flight) s_->max_in_flight = max_in_flight;
  }
  JoinSet(JoinSet&&) noexcept = default;
  JoinSet& operator=(JoinSet&& o) noexcept {
    if (this != &o) {
      clear(true);
      s_ = std::move(o.s_);
    }
    return *this;
  }
  ~JoinSet() { clear(true); }

  /// Awaitable of spawn(): yields the AbortHandle of the started task. Cancel-safe: destroyed
  /// while waiting for a slot, it spawns nothing (the task is dropped unstarted).
  class [[nodiscard]] Spawn : private detail::Leaf {
   public:
    Spawn(JoinSet* set, Task<T> t, std::source_location loc) noexcept
        : set_(set), task_(std::move(t)), loc_(loc) {}
    Spawn(const Spawn&) = delete;
    ~Spawn() {
      if (registered_) {
        std::lock_guard lk(set_->s_->mu);
        set_->s_->spawn_waiter.reset();
      }
    }
    bool await_ready() {
      std::lock_guard lk(set_->s_->mu);
      return has_slot();
    }
    bool await_suspend(std::coroutine_handle<> h) {
      {
        std::lock_guard lk(set_->s_->mu);
        if (has_slot()) return false;
        set_->s_->spawn_waiter = detail::task_waker(detail::current_task());
        registered_ = true;
      }
      suspend_here(h, [](detail::Resumable* self) noexcept {
        auto* me = static_cast<Spawn*>(static_cast<detail::Leaf*>(self));
        bool ok;
        {
          std::lock_guard lk(me->set_->s_->mu);
          ok = me->has_slot();
        }
        if (ok) me->resume();
      });
      return true;
    }
    AbortHandle await_resume() {
      if (registered_) {
        std::lock_guard lk(set_->s_->mu);
        set_->s_->spawn_waiter.reset();
        registered_ = false;
      }
      return set_->spawn_now(std::move(task_), loc_);
    }

   private:
    bool has_slot() const noexcept { return set_->s_->running.len < set_->s_->max_in_flight; }
    JoinSet* set_;
    Task<T> task_;
    std::source_location loc_;
    bool registered_ = false;
  };

  /// Starts `task` on the current runtime as a member (see the class comment). Throws
  /// RuntimeError outside a runtime. Mirrors JoinSet::spawn.
  Spawn spawn(Task<T> task, std::source_location loc = std::source_location::current()) {
    return Spawn(this, std::move(task), loc);
  }

  /// Awaitable of join_next(): yields std::optional<Result<T, JoinError>>: nullopt when the set
  /// is empty; otherwise the outcome of a finished member (removed from the set): its value, or
  /// JoinError (is_cancelled() after abort; is_panic() with the exception it threw). Spends one
  /// unit of coop budget when a result is ready. Cancel-safe: a result is taken only on resume.
  class [[nodiscard]] JoinNext : private detail::Leaf {
   public:
    explicit JoinNext(JoinSet* set) noexcept : set_(set) {}
    JoinNext(const JoinNext&) = delete;
    ~JoinNext() {
      if (registered_) {
        std::lock_guard lk(set_->s_->mu);
        set_->s_->join_waiter.reset();
      }
    }
    bool await_ready() {
      bool ready;
      {
        std::lock_guard lk(set_->s_->mu);
        ready = ready_locked();
      }
      return ready && ready_spend();
    }
    bool await_suspend(std::coroutine_handle<> h) {
      if (must_yield) {
        suspend_yield(h);
        return true;
      }
      {
        std::lock_guard lk(set_->s_->mu);
        if (ready_locked()) return false;
        set_->s_->join_waiter = detail::task_waker(detail::current_task());
        registered_ = true;
      }
      suspend_here(h, [](detail::Resumable* self) noexcept {
        auto* me = static_cast<JoinNext*>(static_cast<detail::Leaf*>(self));
        bool ok;
        {
          std::lock_guard lk(me->set_->s_->mu);
          ok = me->ready_locked();
        }
        if (ok) me->resume();
      });
      return true;
    }
    std::optional<Result<T, JoinError>> await_resume() {
      if (registered_) {
        std::lock_guard lk(set_->s_->mu);
        set_->s_->join_waiter.reset();
        registered_ = false;
      }
      return set_->try_join_next();
    }

   private:
    bool ready_locked() const noexcept {
      return set_->s_->ready.len > 0 || set_->s_->running.len == 0;
    }
    JoinSet* set_;
    bool registered_ = false;
  };

  /// Waits for the next member to finish (see JoinNext). Mirrors JoinSet::join_next.
  JoinNext join_next() noexcept { return JoinNext(this); }

  /// The outcome of a member that already finished, without waiting; nullopt when none has.
  /// Mirrors JoinSet::try_join_next.
  std::optional<Result<T, JoinError>> try_join_next() {
    detail::JoinEntry<T>* e;
    {
      std::lock_guard lk(s_->mu);
      e = s_->ready.head;
      if (!e) return std::nullopt;
      s_->ready.unlink(e);
      e->state = detail::JoinEntry<T>::State::Removed;
    }
    JoinHandle<T> h = std::move(e->handle);
    e->unref();
    const auto id = h.id();
    try {
      if constexpr (std::is_void_v<T>) {
        h.await_resume();
        return Result<T, JoinError>();
      } else {
        return Result<T, JoinError>(h.await_resume());
      }
    } catch (const JoinError& je) {
      return Result<T, JoinError>(Unexpected{je});
    } catch (...) {
      return Result<T, JoinError>(Unexpected{JoinError::panic(id, std::current_exception())});
    }
  }

  /// Requests cancellation of every running member; they stay in the set and join_next() then
  /// reports them (JoinError::cancelled unless they finished first). Mirrors JoinSet::abort_all.
  void abort_all() {
    std::vector<detail::JoinEntry<T>*> v;
    {
      std::lock_guard lk(s_->mu);
      for (auto* e = s_->running.head; e; e = e->next)
        v.push_back(e);
    }
    // Entries leave the set only through this (owning) task, so they stay valid here.
    for (auto* e : v)
      e->handle.abort();
  }
  /// Aborts every member and waits until all have finished (their outcomes are dropped).
  /// Mirrors JoinSet::shutdown.
  Task<void> shutdown() {
    abort_all();
    while (co_await join_next()) {
    }
  }
  /// Waits for every member and returns their values in completion order; rethrows the first
  /// failure (the task's exception, or JoinError for a cancelled member) after aborting the
  /// rest. Mirrors JoinSet::join_all.
  Task<std::vector<detail::Stored<T>>> join_all() {
    std::vector<detail::Stored<T>> out;
    while (auto r = co_await join_next()) {
      if (!r->has_value()) {
        abort_all();
        JoinError e = r->error();
        if (e.is_panic()) e.resume_panic();
        throw e;
      }
      if constexpr (std::is_void_v<T>)
        out.emplace_back();
      else
        out.push_back(std::move(**r));
    }
    co_return out;
  }
  /// Removes every member without aborting it (they keep running detached). Mirrors
  /// JoinSet::detach_all.
  void detach_all() { clear(false); }

  /// Members not yet returned by join_next() (running or finished). Mirrors JoinSet::len.
  std::size_t len() const {
    std::lock_guard lk(s_->mu);
    return s_->running.len + s_->ready.len;
  }
  bool is_empty() const { return len() == 0; }
  /// The configured bound on running members (SIZE_MAX when unbounded).
  std::size_t max_in_flight() const noexcept { return s_->max_in_flight; }

 private:
  AbortHandle spawn_now(Task<T> t, std::source_location loc) {
    auto* sched = detail::current_scheduler_raw();
    if (!sched) detail::throw_no_runtime("rill::JoinSet::spawn");
    auto [cell, jh] = detail::new_task(std::move(t), loc);
    auto* e = new detail::JoinEntry<T>();
    e->handle = std::move(jh);
    e->shared = s_;
    {
      std::lock_guard lk(s_->mu);
      s_->running.push_back(e);
    }
    // Not bound yet, so it cannot have completed: the waker is stored.
    (void)detail::join_register(cell, detail::Waker(&detail::JoinEntry<T>::kVTable, e));
    detail::bind_task(sched, cell);
    return AbortHandle(cell);  // the entry's JoinHandle keeps the cell alive until here
  }

  void clear(bool abort) noexcept {
    if (!s_) return;
    std::vector<detail::JoinEntry<T>*> v;
    {
      std::lock_guard lk(s_->mu);
      for (auto* list : {&s_->running, &s_->ready}) {
        while (auto* e = list->head) {
          list->unlink(e);
          e->state = detail::JoinEntry<T>::State::Removed;
          v.push_back(e);
        }
      }
      s_->join_waiter.reset();
      s_->spawn_waiter.reset();
    }
    for (auto* e : v) {
      if (abort) e->handle.abort();
      JoinHandle<T> h = std::move(e->handle);
      e->unref();
      // h drops here: detaches the task and releases the entry's join waker
    }
  }

  std::shared_ptr<detail::JoinSetShared<T>> s_;
};

}  // namespace rill

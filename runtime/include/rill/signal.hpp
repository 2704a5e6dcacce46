// rill/signal.hpp: awaiting process signals (SIGINT, SIGTERM, ...) from tasks.
//
// The first listener for a signal installs a process-wide handler (sigaction, SA_RESTART) that
// only bumps a per-signal counter and writes one byte to a self-pipe (async-signal-safe). A
// dedicated "rill-signal" thread reads the pipe and wakes every task waiting for that signal.
// Handlers stay installed for the life of the process, as in Tokio. A handler installed before
// ours (by a library, or the runtime's long-poll detector on SIGURG) keeps being called: ours
// chains to it, like signal-hook-registry under tokio::signal. Mirrors tokio::signal.
#pragma once

#include <coroutine>
#include <cstdint>
#include <memory>

#include "rill/detail/task_header.hpp"
#include "rill/sync/detail/wait_list.hpp"

namespace rill::signal {

namespace detail {
struct Registration;
std::shared_ptr<Registration> register_signal(int signo);
std::uint64_t deliveries(const Registration& r) noexcept;
/// Queues `n` (its waker set) among the waiters; returns false (and queues nothing) if
/// deliveries() already exceeds `seen`.
bool add_waiter(Registration& r, std::uint64_t seen, rill::sync::detail::WaitNode* n);
/// Unlinks `n` if it is still queued (a cancelled wait).
void remove_waiter(Registration& r, rill::sync::detail::WaitNode* n) noexcept;
/// Test hook: the number of tasks waiting for `signo` (0 when nobody listens for it).
std::size_t waiter_count(int signo);
}  // namespace detail

/// A stream of deliveries of one Unix signal. `co_await sig.recv()` completes once for each
/// delivery that happened after the Signal was created (deliveries that arrive faster than they
/// are received are coalesced, like Tokio's); deliveries that arrived while no Signal for that
/// signal existed (after the handler was installed) go to the next Signal created, as in Tokio,
/// whose driver hands a delivery to the listeners present when it next runs. Creating it installs the handler, so the process
/// no longer takes the signal's default action (e.g. SIGTERM no longer terminates it). Throws
/// std::system_error if the handler cannot be installed (e.g. SIGKILL), and RuntimeError at once
/// when created outside a rill runtime (Tokio panics). Thread-safe to create; each Signal is
/// awaited by one task at a time. Mirrors tokio::signal::unix::Signal.
class Signal {
 public:
  explicit Signal(int signo);

  /// Awaitable that completes at the next delivery. This method is cancel safe: a destroyed
  /// awaiter consumes no delivery and leaves no waiter behind.
  class [[nodiscard]] Recv : private rill::detail::Leaf {
   public:
    explicit Recv(Signal* s) noexcept : s_(s) {}
    Recv(const Recv&) = delete;
    ~Recv() {
      if (registered_) detail::remove_waiter(*s_->reg_, &node_);
    }
    bool await_ready() noexcept {
      return detail::deliveries(*s_->reg_) > s_->seen_ && ready_spend();
    }
    bool await_suspend(std::coroutine_handle<> h) {
      if (must_yield) {
        suspend_yield(h);
        return true;
      }
      node_.waker = rill::detail::task_waker(rill::detail::current_task());
      if (!detail::add_waiter(*s_->reg_, s_->seen_, &node_)) {
        node_.waker.reset();
        return false;
      }
      registered_ = true;
      suspend_here(h, [](rill::detail::Resumable* self) noexcept {
        auto* me = static_cast<Recv*>(static_cast<rill::detail::Leaf*>(self));
        if (detail::deliveries(*me->s_->reg_) > me->s_->seen_) me->resume();
      });
      return true;
    }
    void await_resume() noexcept {
      if (registered_) {
        detail::remove_waiter(*s_->reg_, &node_);
        registered_ = false;
      }
      s_->seen_ = detail::deliveries(*s_->reg_);
    }

   private:
    Signal* s_;
    rill::sync::detail::WaitNode node_;
    bool registered_ = false;
  };
  /// Waits for the next delivery. Mirrors Signal::recv.
  Recv recv() noexcept { return Recv(this); }
  /// The signal number.
  int signo() const noexcept { return signo_; }

 private:
  int signo_;
  std::shared_ptr<detail::Registration> reg_;
  std::uint64_t seen_;
};

/// Awaitable that completes when the process receives SIGINT (Ctrl-C). Mirrors
/// tokio::signal::ctrl_c. Usage: `co_await rill::signal::ctrl_c();`
class CtrlC {
 public:
  CtrlC() : sig_(2 /* SIGINT */), recv_(sig_.recv()) {}
  CtrlC(const CtrlC&) = delete;  // recv_ points into sig_
  bool await_ready() noexcept { return recv_.await_ready(); }
  bool await_suspend(std::coroutine_handle<> h) { return recv_.await_suspend(h); }
  void await_resume() noexcept { recv_.await_resume(); }

 private:
  Signal sig_;
  Signal::Recv recv_;
};
inline CtrlC ctrl_c() {
  return CtrlC();
}

}  // namespace rill::signal

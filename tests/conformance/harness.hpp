// Shared helpers for the conformance suite (tests ported from Tokio 1.24's integration tests).
//
// Tokio's sync tests drive futures by hand with tokio_test::task::spawn: poll once, check
// Pending/Ready, act, poll again. rill has no hand-polled mock task, so the suite uses the same
// shape on a current_thread runtime: `Polled` spawns the awaitable in its own task, and
// `settle()` yields the driving task until every runnable task has run. On a current_thread
// runtime this is deterministic: a spawned task that has not finished after settle() is Pending,
// one that has is Ready.
#pragma once

#include <gtest/gtest.h>
#include <rill/rill.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <utility>

namespace conformance {

using namespace std::chrono_literals;

/// Runs `t` to completion on a fresh current_thread runtime (Tokio's #[tokio::test]).
template <class T>
T block_on(rill::Task<T> t) {
  auto rt = rill::Builder::new_current_thread().build();
  return rt.block_on(std::move(t));
}

/// Runs `t` on a fresh current_thread runtime whose clock starts paused
/// (#[tokio::test(start_paused = true)]).
template <class T>
T block_on_paused(rill::Task<T> t) {
  auto rt = rill::Builder::new_current_thread().start_paused(true).build();
  return rt.block_on(std::move(t));
}

/// Lets every runnable task of the current runtime run (current_thread: until all are parked).
inline rill::Task<void> settle(int rounds = 16) {
  for (int i = 0; i < rounds; ++i)
    co_await rill::yield_now();
}

/// A spawned awaitable observed from outside, as tokio_test::task::spawn(fut) with poll().
/// Dropping it aborts the task, as dropping a tokio_test::task::Spawn drops its future.
template <class T>
struct Polled {
  explicit Polled(rill::JoinHandle<T> jh) : h(std::move(jh)) {}
  Polled(Polled&&) noexcept = default;
  Polled& operator=(Polled&& o) noexcept {
    h.abort();
    h = std::move(o.h);
    return *this;
  }
  ~Polled() { h.abort(); }
  rill::JoinHandle<T> h;
  bool is_ready() const { return h.is_finished(); }
  /// The output (only after is_ready()).
  rill::Task<T> take() { co_return co_await h; }
};

/// Drops hand-polled tasks the way Tokio's tests do at the end of their scope, and waits until
/// their cancellation has run. Dropping a Polled only aborts its task: the task is cancelled
/// (its awaiter leaves the lock's or Notify's wait list) when the runtime next runs it, which
/// for a task still pending at the end of a test body would be after the body's locals (the
/// lock it waits on) are destroyed. Call this first when a Polled may still be pending then.
template <class... P>
rill::Task<void> drop_pending(P&... p) {
  (p.h.abort(), ...);
  co_await settle();
}

template <class T>
Polled<T> poll(rill::Task<T> t) {
  return Polled<T>(rill::spawn(std::move(t)));
}

}  // namespace conformance

/// assert_pending!/assert_ready! after letting the runtime run: use inside a coroutine.
#define CONF_ASSERT_PENDING(p)      \
  do {                              \
    co_await conformance::settle(); \
    EXPECT_FALSE((p).is_ready());   \
  } while (0)
#define CONF_ASSERT_READY(p)        \
  do {                              \
    co_await conformance::settle(); \
    EXPECT_TRUE((p).is_ready());    \
  } while (0)

namespace conformance {
/// futures::future::pending(): never completes (until cancelled).
inline rill::Task<void> pending_forever() {
  rill::sync::Notify never;
  co_await never.notified();
}
}  // namespace conformance

/// ASSERT_TRUE/ASSERT_FALSE for coroutine bodies (gtest's ASSERT_* use `return;`).
#define CO_ASSERT_TRUE(c)                    \
  do {                                       \
    if (!(c)) {                              \
      ADD_FAILURE() << "expected true: " #c; \
      co_return;                             \
    }                                        \
  } while (0)
#define CO_ASSERT_FALSE(c)                    \
  do {                                        \
    if (c) {                                  \
      ADD_FAILURE() << "expected false: " #c; \
      co_return;                              \
    }                                         \
  } while (0)

namespace conformance {
/// Polls `t` exactly once (registers whatever it waits for), then drops it: futures::poll!.
/// Returns true when it completed in that one poll.
inline rill::Task<bool> poll_once(rill::Task<void> t) {
  co_return (co_await rill::timeout_at(rill::Instant::min(), std::move(t))).has_value();
}
/// `co_await *s` in a task of its own (to poll a Sleep that outlives the poll).
inline rill::Task<void> await_sleep(rill::Sleep* s) {
  co_await *s;
}
}  // namespace conformance

namespace conformance {
/// tokio::io::copy: reads `rd` to end-of-stream, writing everything to `wr`; the byte count.
template <class R, class W>
rill::Task<rill::io::Result<std::uint64_t>> copy(R* rd, W* wr) {
  std::array<char, 4096> buf;
  std::uint64_t total = 0;
  for (;;) {
    auto n = co_await rd->read(std::span<char>(buf));
    if (!n) co_return rill::Unexpected{n.error()};
    if (*n == 0) co_return total;
    auto w = co_await wr->write_all(std::span<const char>(buf.data(), *n));
    if (!w) co_return rill::Unexpected{w.error()};
    total += *n;
  }
}
}  // namespace conformance

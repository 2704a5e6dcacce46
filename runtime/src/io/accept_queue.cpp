// io/accept_queue.cpp: Queue mode, a listener's multishot accept.
//
// An io_uring listener keeps one multishot accept in flight (IORING_OP_ACCEPT with
// IORING_ACCEPT_MULTISHOT): each connection the kernel accepts arrives as a CQE with
// IORING_CQE_F_MORE, without a new SQE per accept (before Linux 5.19, or with
// RILL_MULTISHOT_ACCEPT=0, a single-shot accept owned by the queue in the same way). The listener's
// AcceptQueue hands each fd to the accept() waiting for it, or queues it for the next accept() (so
// an accept cancelled by a select/timeout loses no connection: Tokio's accept is cancel-safe the
// same way). At most kAcceptQueueMax connections are queued: beyond that the multishot accept is
// cancelled, and the next accept() that finds the queue empty re-arms it, so an application that
// stops accepting leaves connections in the kernel's backlog as with single-shot accepts. A CQE
// without F_MORE (an error such as EMFILE, or a cancel) ends the multishot accept; an error is
// delivered to the next accept() and the one after that re-arms.
//
// Ownership: the AcceptQueue belongs to the listener's IoHandle and, while it is in flight, to
// the multishot op (`refs` counts both, under `mu`). The multishot op is owned by the queue and
// freed by its last CQE. Closing the listener closes every queued fd and cancels the multishot
// op; a connection accepted after that is closed when its CQE arrives.
#include "io/op_internal.hpp"

#include <sys/socket.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <utility>

namespace rill::detail {

namespace {

constexpr std::size_t kAcceptQueueMax = 128;

/// Stores an accept outcome in a Queue-mode op (peer address by getpeername, since a
/// multishot accept has no per-connection address buffer).
void fill_accept(IoOp* op, std::int64_t v) noexcept {
  op->res = v;
  op->addrlen = 0;
  if (v >= 0) {
    socklen_t len = sizeof op->addr;
    if (::getpeername(static_cast<int>(v), reinterpret_cast<sockaddr*>(&op->addr), &len) == 0)
      op->addrlen = len;
  }
}

/// Hands `v` to the waiting accept (its waker goes to `w`, woken by the caller after unlocking)
/// or queues it. Caller holds q->mu.
void accept_deliver(AcceptQueue* q, std::int64_t v, Waker& w) noexcept {
  if (IoOp* op = std::exchange(q->waiter, nullptr)) {
    fill_accept(op, v);
    w = std::move(op->waker);
    op->state.store(opstate::DONE, std::memory_order_release);
    return;
  }
  try {
    q->ready.push_back(v);
  } catch (...) {  // out of memory: refuse the connection rather than lose track of the fd
    if (v >= 0) ::close(static_cast<int>(v));
  }
}

}  // namespace

/// A new multishot accept op for `q`, owned by it; the caller submits it. Caller holds q->mu.
IoOp* accept_new_op(AcceptQueue* q) noexcept {
  IoOp* ms = op_alloc(0);
  ms->kind = OpKind::AcceptMulti;
  ms->mode = OpMode::Uring;
  ms->fd = q->fd;
  ms->aq = q;
  ms->state.store(opstate::PENDING, std::memory_order_relaxed);
  q->ms = ms;
  q->cancelling = false;
  ++q->refs;
  return ms;
}

namespace {

/// Cancels the multishot op of `q` from any thread. Caller holds q->mu.
void accept_cancel(AcceptQueue* q) noexcept {
  if (!q->ms || q->cancelling) return;
  q->cancelling = true;
  cancel_uring(q->ms->drv, q->ms->key());
}

}  // namespace

/// Takes the oldest queued outcome into `op` (DONE). Caller holds q->mu.
bool accept_pop(AcceptQueue* q, IoOp* op) noexcept {
  if (q->ready.empty()) return false;
  fill_accept(op, q->ready.front());
  q->ready.pop_front();
  op->state.store(opstate::DONE, std::memory_order_release);
  return true;
}

void accept_multi_cqe(Driver* d, IoOp* ms, std::int32_t res, std::uint32_t flags) noexcept {
  AcceptQueue* q = ms->aq;
  const bool more = flags & IORING_CQE_F_MORE;
  Waker w;
  bool free_q = false;
  {
    std::lock_guard lk(q->mu);
    if (res >= 0) {
      if (q->closed)
        ::close(res);
      else
        accept_deliver(q, res, w);
    } else if (res != -ECANCELED && !q->closed) {
      accept_deliver(q, res, w);
    }
    if (!more) {
      q->ms = nullptr;
      q->cancelling = false;
      free_q = --q->refs == 0;
      // An accept is still waiting (the op ended without a connection for it): start again on
      // this ring (we are its owner thread).
      if (!free_q && q->waiter && !q->closed && !d->shutting_down()) {
        IoOp* again = accept_new_op(q);
        again->drv = d;
        d->push(again);
      }
    } else if (q->ready.size() >= kAcceptQueueMax) {
      accept_cancel(q);  // backpressure: leave further connections in the kernel's backlog
    }
  }
  if (!more) op_free(ms);
  if (free_q) delete q;
  w.wake();
}

/// Multishot accept needs Linux 5.19; RILL_MULTISHOT_ACCEPT=0 turns it off: the listener's
/// queue then keeps one single-shot accept in flight instead (still cancel-safe).
bool multishot_accept_supported() noexcept {
  static const bool ok = [] {
    if (const char* e = std::getenv("RILL_MULTISHOT_ACCEPT"); e && e[0] == '0') return false;
    utsname u{};
    int major = 0, minor = 0;
    if (::uname(&u) != 0 || std::sscanf(u.release, "%d.%d", &major, &minor) != 2) return false;
    return major > 5 || (major == 5 && minor >= 19);
  }();
  return ok;
}

AcceptQueue* accept_queue(IoHandle* h) {
  AcceptQueue* q = h->accept_q.load(std::memory_order_acquire);
  if (q) return q;
  auto* fresh = new AcceptQueue;
  fresh->fd = h->fd;
  if (h->accept_q.compare_exchange_strong(q, fresh, std::memory_order_acq_rel)) return fresh;
  delete fresh;  // another accept created it first
  return q;
}

void accept_queue_close(AcceptQueue* q) noexcept {
  bool free_q;
  {
    std::lock_guard lk(q->mu);
    q->closed = true;
    for (std::int64_t v : q->ready)
      if (v >= 0) ::close(static_cast<int>(v));
    q->ready.clear();
    if (q->ms) {
      // The in-flight multishot accept holds its own reference to the socket, so closing our
      // fd would leave it listening until the cancel is processed: stop listening now (which
      // also ends the multishot accept), so a connect after the close is refused at once.
      ::shutdown(q->fd, SHUT_RDWR);
      accept_cancel(q);
    }
    free_q = --q->refs == 0;
  }
  if (free_q) delete q;
}

}  // namespace rill::detail

// io/op_ready.cpp: Ready mode, the epoll backend's way to run a socket operation (Tokio's
// readiness model). A socket's Registration holds readiness bits (optimistically readable and
// writable until a syscall says EAGAIN) and one waker per direction. ready_try runs the syscall
// while the bit is set; on EAGAIN it clears the bit with a CAS that fails if an edge arrived
// meanwhile (the driver bumps a tick above the bits), so an edge is never lost between the failed
// syscall and the clear. On a byte-stream socket a short read means the receive queue is empty
// and a short write that the send buffer is full, so the bit is cleared the same way after one
// (Tokio's PollEvented does the same): the next operation waits for the edge instead of spending
// a syscall on EAGAIN. The closed bits (peer shut down, hang-up, error) are never cleared and
// count as ready, so an end of stream whose edge came before a short read is still seen. The
// awaiter registers its waker, then tries once more, since an edge may have arrived between its
// first try and registering. Nothing is in flight in the kernel, so a cancelled Ready op has
// nothing to orphan: releasing it only drops its waker.
#include "io/op_internal.hpp"

#include <cerrno>
#include <utility>

#include "scheduler/scheduler.hpp"

namespace rill::detail {

void clear_waker(IoOp* op) noexcept {
  Registration* r = op->h->reg;
  Waker w;
  r->lk();
  w = std::move(r->waker[op->dir]);
  r->unlk();
}

bool ready_try(IoOp* op) noexcept {
  Registration* r = op->h->reg;
  const std::uint64_t want = op->dir ? kWritable : kReadable;
  const std::uint64_t closed = op->dir ? kWriteClosed : kReadClosed;
  for (;;) {
    std::uint64_t cur = r->readiness.load(std::memory_order_acquire);
    if (!(cur & (want | closed))) return false;
    const std::int64_t res = exec_sync(op);
    if (res == -EAGAIN || res == -EWOULDBLOCK) {
      // Not ready after all (or, for an `all` op, drained by a short transfer): clear the bit
      // unless an event arrived meanwhile (tick moved). A closed bit alone never retries here:
      // the awaiter waits for the next edge rather than spin on EAGAIN.
      if (r->readiness.compare_exchange_strong(cur, cur & ~want, std::memory_order_acq_rel) ||
          (cur & closed))
        return false;
      continue;
    }
    // A short transfer on a stream socket drained (filled) it: clear the bit the same way, so
    // the next operation waits for the edge. A failed CAS means an edge came: the bit stays.
    if (res > 0 && static_cast<std::uint64_t>(res) < op->len && drained_by(op))
      r->readiness.compare_exchange_strong(cur, cur & ~want, std::memory_order_acq_rel);
    op->res = res;
    op->state.store(opstate::DONE, std::memory_order_release);
    return true;
  }
}

void register_waker(IoOp* op, TaskHeader* t) noexcept {
  Registration* r = op->h->reg;
  Waker w = task_waker(t);
  r->lk();
  std::swap(w, r->waker[op->dir]);
  r->unlk();
}
}  // namespace rill::detail

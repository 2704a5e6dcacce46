// io/op_ready.cpp: Ready mode, the epoll backend's way to run a socket operation (Tokio's
// readiness model). A socket's Registration holds readiness bits (optimistically readable and
// writable until a syscall says EAGAIN) and one waker per direction. ready_try runs the syscall
// while the bit is set; on EAGAIN it clears the bit with a CAS that fails if an edge arrived
// meanwhile (the driver bumps a tick above the bits), so an edge is never lost between the failed
// syscall and the clear. The awaiter registers its waker, then tries once more, since an edge may
// have arrived between its first try and registering. Nothing is in flight in the kernel, so a
// cancelled Ready op has nothing to orphan: releasing it only drops its waker.
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
  for (;;) {
    std::uint64_t cur = r->readiness.load(std::memory_order_acquire);
    if (!(cur & want)) return false;
    const std::int64_t res = exec_sync(op);
    if (res == -EAGAIN || res == -EWOULDBLOCK) {
      // Not ready after all: clear the bit unless an event arrived meanwhile (tick moved).
      if (r->readiness.compare_exchange_strong(cur, cur & ~want, std::memory_order_acq_rel))
        return false;
      continue;
    }
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

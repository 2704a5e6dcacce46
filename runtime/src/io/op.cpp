// io/op.cpp: the IoOp life cycle seen from its awaiter (rill/io.hpp's IoAwaiter): try (complete
// without suspending: Sync mode, a ready socket under epoll, a queued connection), arm (start the
// op in its mode and register the waiter's waker), poll (re-check after a wake), release (the
// awaiter is destroyed), and completion by the kernel or a pool thread (op_complete).
//
// State machine (op.hpp): INIT -arm-> PENDING -completion-> DONE (the awaiter consumes and frees
// it); PENDING -awaiter dropped-> ORPHANED (the completion frees it). For Uring and Blocking ops
// the kernel or a pool thread owns the op while PENDING, so release orphans it (and cancels a
// Uring op) instead of freeing it; completion and release race through one CAS, and exactly one
// side frees the op. An fd result (accept, open) nobody took is closed by whichever side frees.
#include "io/op_internal.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <mutex>
#include <utility>

#include "scheduler/scheduler.hpp"

namespace rill::detail {

namespace {

void run_job(BlockingJob* j) noexcept {
  auto* op = reinterpret_cast<IoOp*>(reinterpret_cast<std::byte*>(j) - offsetof(IoOp, job));
  op_complete(op, exec_sync(op));
}
void cancel_job(BlockingJob* j) noexcept {
  auto* op = reinterpret_cast<IoOp*>(reinterpret_cast<std::byte*>(j) - offsetof(IoOp, job));
  op_complete(op, -ECANCELED);
}

}  // namespace

void op_complete(IoOp* op, std::int64_t res) noexcept {
  op->res = res;
  Waker w = std::move(op->waker);
  std::uint32_t exp = opstate::PENDING;
  if (op->state.compare_exchange_strong(exp, opstate::DONE, std::memory_order_acq_rel)) {
    w.wake();  // `op` may be freed by its awaiter from here on
    return;
  }
  // Orphaned: nobody will consume the result (a socket keeps what its reads received).
  if (op->ss) sock_orphan_done(op, res);
  if ((op->kind == OpKind::Accept || op->kind == OpKind::OpenAt) && res >= 0)
    ::close(static_cast<int>(res));
  if (op->kind == OpKind::OpenRead && op->fd >= 0) ::close(op->fd);
  op_free(op);
  g_orphans.fetch_sub(1, std::memory_order_release);
}

// ---- the awaiter protocol
// ---------------------------------------------------------------------------

bool io_op_try(IoOp* op) noexcept {
  if (op->state.load(std::memory_order_acquire) == opstate::DONE) return true;
  if (sock_try(op)) return true;  // bytes a cancelled read left on the socket
  switch (op->mode) {
    case OpMode::Sync:
      op->res = exec_sync(op);
      op->state.store(opstate::DONE, std::memory_order_release);
      return true;
    case OpMode::Ready:
      return ready_try(op);
    case OpMode::Queue: {
      std::lock_guard lk(op->aq->mu);
      return accept_pop(op->aq, op);
    }
    case OpMode::Uring:
    case OpMode::Blocking:
      return false;
  }
  return false;
}

namespace {
/// A file op about to reach the kernel or the blocking pool holds its file open (IoOp::keep).
void keep_file(IoOp* op) noexcept {
  if (op->h && !op->h->socket) op->keep = op->h->weak_from_this().lock();
}
}  // namespace

bool io_op_arm(IoOp* op) noexcept {
  TaskHeader* t = current_task();
  Scheduler* s = t_ctx.sched ? t_ctx.sched : (t ? t->sched : nullptr);
  if (!t || !s) {
    op->res = enc(io::Errc::not_in_runtime);
    op->state.store(opstate::DONE, std::memory_order_release);
    return false;
  }
  switch (op->mode) {
    case OpMode::Uring: {
      // A socket read waits behind its socket's orphaned reads (or takes what they left).
      if (const int r = sock_arm(op, t); r != 0) return r == 2;
      op->waker = task_waker(t);
      keep_file(op);
      op->state.store(opstate::PENDING, std::memory_order_relaxed);
      submit_uring(s, op);
      return true;
    }
    case OpMode::Blocking: {
      op->waker = task_waker(t);
      keep_file(op);
      op->state.store(opstate::PENDING, std::memory_order_relaxed);
      op->job.run = &run_job;
      op->job.cancel = &cancel_job;
      if (!s->blocking().spawn(&op->job)) {
        op->waker.reset();
        op->res = enc(io::Errc::shutdown);
        op->state.store(opstate::DONE, std::memory_order_release);
        return false;
      }
      return true;
    }
    case OpMode::Ready:
      register_waker(op, t);
      op->state.store(opstate::PENDING, std::memory_order_relaxed);
      if (ready_try(op)) {  // an edge may have come between the first try and registering
        clear_waker(op);
        return false;
      }
      return true;
    case OpMode::Queue: {
      AcceptQueue* q = op->aq;
      std::lock_guard lk(q->mu);
      if (accept_pop(q, op)) return false;
      op->waker = task_waker(t);
      op->state.store(opstate::PENDING, std::memory_order_relaxed);
      q->waiter = op;
      if (!q->ms)  // not armed (first accept, or it ended): start the multishot accept
        submit_uring(s, accept_new_op(q));
      return true;
    }
    case OpMode::Sync:
      return false;
  }
  return false;
}

bool io_op_poll(IoOp* op) noexcept {
  if (op->mode != OpMode::Ready) return op->state.load(std::memory_order_acquire) == opstate::DONE;
  if (op->state.load(std::memory_order_relaxed) == opstate::DONE) return true;
  if (ready_try(op)) {
    clear_waker(op);
    return true;
  }
  register_waker(op, current_task());  // the wake consumed it
  if (ready_try(op)) {
    clear_waker(op);
    return true;
  }
  return false;
}

void io_op_release(IoOp* op) noexcept {
  if (op->mode == OpMode::Queue) {
    AcceptQueue* q = op->aq;
    {
      std::lock_guard lk(q->mu);
      if (q->waiter == op) {
        q->waiter = nullptr;  // cancelled while waiting
      } else if (op->state.load(std::memory_order_acquire) == opstate::DONE && !op->taken &&
                 op->res >= 0) {
        // Accepted for an awaiter that never resumed: the next accept() gets it (closed when
        // the listener is gone, or when there is no memory to queue it).
        bool kept = false;
        if (!q->closed) {
          try {
            q->ready.push_front(op->res);
            kept = true;
          } catch (...) {
          }
        }
        if (!kept) ::close(static_cast<int>(op->res));
      }
    }
    op_free(op);
    return;
  }
  std::uint32_t s = op->state.load(std::memory_order_acquire);
  if (s == opstate::PENDING && op->mode == OpMode::Uring && op->h && op->h->socket) {
    // A socket op: orphaned under its socket's state (which keeps what it receives).
    if (sock_orphan(op)) return;
    s = op->state.load(std::memory_order_acquire);  // completed meanwhile: DONE
  }
  if (s == opstate::PENDING && (op->mode == OpMode::Uring || op->mode == OpMode::Blocking)) {
    // The kernel (or a pool thread) still owns the op: orphan it; its completion frees it.
    const std::uint64_t key = op->key();
    Driver* d = op->drv;
    const bool uring = op->mode == OpMode::Uring;
    g_orphans.fetch_add(
        1, std::memory_order_relaxed);  // before the CAS: the completion may free at once
    if (op->state.compare_exchange_strong(s, opstate::ORPHANED, std::memory_order_acq_rel)) {
      if (uring) cancel_uring(d, key);
      return;
    }
    g_orphans.fetch_sub(1, std::memory_order_relaxed);
    // Completed meanwhile (s == DONE): ours to free.
  }
  if (op->mode == OpMode::Ready && s == opstate::PENDING) clear_waker(op);
  sock_release_read(op, s);  // bytes received and never consumed go to the next read
  if (s == opstate::DONE && !op->taken && op->res >= 0 &&
      (op->kind == OpKind::Accept || op->kind == OpKind::OpenAt))
    ::close(static_cast<int>(op->res));  // woken but never resumed: the fd is nobody's
  if (op->kind == OpKind::OpenRead && s == opstate::DONE && op->fd >= 0)
    ::close(op->fd);  // not taken by the awaiter
  op_free(op);
}

std::int64_t io_op_result(IoOp* op) noexcept {
  op->taken = true;
  if (op->kind == OpKind::Recv && op->mode == OpMode::Uring && op->h)  // the awaiter holds h
    op->h->recv_poll_first.store(op->res > 0 && !(op->cqe_flags & IORING_CQE_F_SOCK_NONEMPTY),
                                 std::memory_order_relaxed);
  return op->res;
}
std::byte* io_op_data(IoOp* op) noexcept {
  return op->data();
}
const void* io_op_addr(const IoOp* op, std::uint32_t* len) noexcept {
  *len = op->addrlen;
  return &op->addr;
}

std::error_code io_error(std::int64_t res) noexcept {
  if (res <= kErrBase) return io::make_error_code(static_cast<io::Errc>(kErrBase - res));
  return {static_cast<int>(-res), std::system_category()};
}

}  // namespace rill::detail

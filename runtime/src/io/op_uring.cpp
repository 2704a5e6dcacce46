// io/op_uring.cpp: Uring mode. An op is queued on the ring of the core the submitting thread runs
// (or, from a thread without a core, handed to some core's ring through its remote queue), and
// only that ring's owner thread prepares its SQE (op_prep) and handles its CQEs (op_on_cqe). The
// op's key (address + generation) is the SQE's user_data. A partial write_all / read_exact
// (or a read to the end of a file, io_read_to_end) resubmits itself on the same ring until done,
// and an open-read (io_open_read) resubmits itself as its read after the open's CQE;
// everything else completes with its first CQE (op_complete, op.cpp), except a file handle's close
// (close_on_ring), which nobody awaits: its CQE just frees it. Cancelling from any thread issues
// IORING_OP_ASYNC_CANCEL on the op's ring (locally, or through the remote queue); the op is freed
// by its own final CQE. CQEs of a listener's multishot accept go to accept_queue.cpp.
#include "io/op_internal.hpp"

#include <fcntl.h>
#include <sys/stat.h>

#include <atomic>

#include "scheduler/scheduler.hpp"

namespace rill::detail {

namespace {
std::atomic<std::uint32_t> g_rr{0};
}  // namespace

Core* pick_core(Scheduler* s) noexcept {
  return &s->core(g_rr.fetch_add(1, std::memory_order_relaxed) % s->num_workers());
}

/// Queues io_uring op `op` on the ring of the core this thread runs for `s` (submitted with its
/// next poll()/park()), else hands it to some core's ring through its remote queue. Sets drv.
void submit_uring(Scheduler* s, IoOp* op) noexcept {
  Core* c = t_ctx.core;
  if (c && c->sched == s) {
    op->drv = &c->driver;
    op->drv->push(op);
  } else {
    op->drv = &pick_core(s)->driver;
    op->drv->submit_remote(op);
  }
}

/// Issues an async cancel of the op with user_data `key` on `d`, from any thread.
void cancel_uring(Driver* d, std::uint64_t key) noexcept {
  if (t_ctx.core && &t_ctx.core->driver == d)
    d->cancel_local(key);
  else
    d->cancel_remote(key);
}

void op_prep(IoOp* op, io_uring_sqe* sqe) noexcept {
  auto* base = op->data();
  const int fd = op->fd;
  switch (op->kind) {
    case OpKind::Recv:
      io_uring_prep_recv(sqe, fd, base + op->done, op->len - op->done, 0);
      // The socket was drained by the last receive (or this one is continuing after a partial
      // read_exact): wait for data before trying, which saves a failed receive attempt.
      if (op->flags != 0 || op->done != 0) sqe->ioprio |= IORING_RECVSEND_POLL_FIRST;
      break;
    case OpKind::Send:
      io_uring_prep_send(sqe, fd, base + op->done, op->len - op->done, MSG_NOSIGNAL);
      break;
    case OpKind::ReadAt:
      io_uring_prep_read(sqe, fd, base + op->done, op->len - op->done,
                         op->off < 0 ? static_cast<__u64>(-1) : op->off + op->done);
      break;
    case OpKind::WriteAt:
      io_uring_prep_write(sqe, fd, base + op->done, op->len - op->done,
                          op->off < 0 ? static_cast<__u64>(-1) : op->off + op->done);
      break;
    case OpKind::Accept:
      op->addrlen = sizeof op->addr;
      io_uring_prep_accept(sqe, fd, reinterpret_cast<sockaddr*>(&op->addr), &op->addrlen,
                           SOCK_CLOEXEC);
      break;
    case OpKind::Connect:
      io_uring_prep_connect(sqe, fd, reinterpret_cast<sockaddr*>(&op->addr), op->addrlen);
      break;
    case OpKind::RecvFrom:
      op->iov = {base, op->cap};
      op->msg = {};
      op->msg.msg_name = &op->addr;
      op->msg.msg_namelen = sizeof op->addr;
      op->msg.msg_iov = &op->iov;
      op->msg.msg_iovlen = 1;
      io_uring_prep_recvmsg(sqe, fd, &op->msg, 0);
      break;
    case OpKind::SendTo:
      op->iov = {base, op->len};
      op->msg = {};
      op->msg.msg_name = &op->addr;
      op->msg.msg_namelen = op->addrlen;
      op->msg.msg_iov = &op->iov;
      op->msg.msg_iovlen = 1;
      io_uring_prep_sendmsg(sqe, fd, &op->msg, MSG_NOSIGNAL);
      break;
    case OpKind::Shutdown:
      io_uring_prep_shutdown(sqe, fd, op->flags);
      break;
    case OpKind::Fsync:
      io_uring_prep_fsync(sqe, fd, op->flags ? IORING_FSYNC_DATASYNC : 0);
      break;
    case OpKind::Statx:
      io_uring_prep_statx(sqe, op->h ? fd : AT_FDCWD, path1(op), op->flags, op->mode_bits,
                          reinterpret_cast<struct statx*>(base));
      break;
    case OpKind::OpenAt:
      io_uring_prep_openat(sqe, AT_FDCWD, path1(op), op->flags | O_CLOEXEC, op->mode_bits);
      break;
    case OpKind::MkdirAt:
      io_uring_prep_mkdirat(sqe, AT_FDCWD, path1(op), op->mode_bits);
      break;
    case OpKind::UnlinkAt:
      io_uring_prep_unlinkat(sqe, AT_FDCWD, path1(op), op->flags);
      break;
    case OpKind::RenameAt:
      io_uring_prep_renameat(sqe, AT_FDCWD, path1(op), AT_FDCWD, path1(op) + op->path2, 0);
      break;
    case OpKind::Close:
      io_uring_prep_close(sqe, fd);
      break;
    case OpKind::OpenRead:
      if (fd < 0)
        io_uring_prep_openat(sqe, AT_FDCWD, path1(op), op->flags | O_CLOEXEC, 0);
      else
        io_uring_prep_read(sqe, fd, base + op->done, op->len - op->done, static_cast<__u64>(-1));
      break;
    case OpKind::AcceptMulti:
      if (multishot_accept_supported())
        io_uring_prep_multishot_accept(sqe, fd, nullptr, nullptr, SOCK_CLOEXEC);
      else  // one connection per SQE; the queue re-arms it while an accept() waits
        io_uring_prep_accept(sqe, fd, nullptr, nullptr, SOCK_CLOEXEC);
      break;
  }
}

bool close_on_ring(int fd) noexcept {
  Core* c = t_ctx.core;
  if (!c) return false;
  Driver* d = &c->driver;
  if (d->kind() != DriverKind::Uring || d->shutting_down() || !d->supports(IORING_OP_CLOSE))
    return false;
  IoOp* op;
  try {
    op = op_alloc(0);
  } catch (...) {
    return false;
  }
  op->kind = OpKind::Close;
  op->mode = OpMode::Uring;
  op->fd = fd;
  op->drv = d;
  d->push(op);
  return true;
}

void op_on_cqe(Driver* d, IoOp* op, std::int32_t res, std::uint32_t flags) noexcept {
  if (op->kind == OpKind::AcceptMulti) {
    accept_multi_cqe(d, op, res, flags);
    return;
  }
  if (op->kind == OpKind::Close) {  // nobody waits for it (close_on_ring); errors are dropped
    op_free(op);                    // like close(2)'s in a destructor
    return;
  }
  if (op->kind == OpKind::OpenRead && op->fd < 0) {  // the open's CQE
    if (res < 0) {
      op_complete(op, res);
      return;
    }
    op->fd = res;
    if (op->state.load(std::memory_order_acquire) == opstate::PENDING) {
      d->push(op);  // now the read, on this ring
      return;
    }
    op_complete(op, 0);  // the awaiter is gone: the completion closes the fd
    return;
  }
  op->cqe_flags = flags;
  if (op->kind == OpKind::RecvFrom) op->addrlen = op->msg.msg_namelen;  // set by the kernel
  if (!op->all) {
    op_complete(op, res);
    return;
  }
  if (res > 0) {
    op->done += static_cast<std::uint32_t>(res);
    // Partial transfer: continue on this ring (unless the awaiter is gone).
    if (op->done < op->len && op->state.load(std::memory_order_acquire) == opstate::PENDING) {
      d->push(op);
      return;
    }
    op_complete(op, op->done);
    return;
  }
  if (res == 0 && op->to_eof)
    op_complete(op, op->done);  // end of file: what was read so far
  else if (res == 0)
    op_complete(op,
                enc(is_stream_write(op->kind) ? io::Errc::write_zero : io::Errc::unexpected_eof));
  else
    op_complete(op, res);
}

}  // namespace rill::detail

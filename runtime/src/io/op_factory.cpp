// io/op_factory.cpp: building an IoOp for each operation (io_recv, io_send, io_accept, ...) and
// choosing its execution mode from the current thread's runtime: Uring when the driver is an
// io_uring whose kernel supports the opcode, Ready for sockets registered with epoll, Blocking
// (the blocking pool) for files under epoll and opcodes the ring lacks, Sync for shutdown(2) and
// for work that is already done (a 0-byte read_exact / write_all, an immediate connect). Outside a
// runtime the op is born DONE with Errc::not_in_runtime. Data to send is copied into the op, so
// the caller's buffer need not outlive a cancelled operation.
#include "io/op_internal.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "scheduler/scheduler.hpp"

namespace rill::detail {

Driver* any_driver() noexcept {
  if (Core* c = t_ctx.core) return &c->driver;
  if (Scheduler* s = t_ctx.sched) return &pick_core(s)->driver;
  if (TaskHeader* t = current_task(); t && t->sched) return &pick_core(t->sched)->driver;
  return nullptr;
}

namespace {

std::uint8_t uring_opcode(OpKind k) noexcept {
  switch (k) {
    case OpKind::Recv:
      return IORING_OP_RECV;
    case OpKind::Send:
      return IORING_OP_SEND;
    case OpKind::Accept:
      return IORING_OP_ACCEPT;
    case OpKind::Connect:
      return IORING_OP_CONNECT;
    case OpKind::RecvFrom:
      return IORING_OP_RECVMSG;
    case OpKind::SendTo:
      return IORING_OP_SENDMSG;
    case OpKind::Shutdown:
      return IORING_OP_SHUTDOWN;
    case OpKind::ReadAt:
      return IORING_OP_READ;
    case OpKind::WriteAt:
      return IORING_OP_WRITE;
    case OpKind::Fsync:
      return IORING_OP_FSYNC;
    case OpKind::Statx:
      return IORING_OP_STATX;
    case OpKind::OpenAt:
      return IORING_OP_OPENAT;
    case OpKind::MkdirAt:
      return IORING_OP_MKDIRAT;
    case OpKind::UnlinkAt:
      return IORING_OP_UNLINKAT;
    case OpKind::RenameAt:
      return IORING_OP_RENAMEAT;
    case OpKind::AcceptMulti:
      return IORING_OP_ACCEPT;
    case OpKind::Close:
      return IORING_OP_CLOSE;
    case OpKind::OpenRead:
      return IORING_OP_OPENAT;  // then IORING_OP_READ, as old as OPENAT (Linux 5.6)
  }
  return 0;
}

bool is_socket_kind(OpKind k) noexcept {
  return k == OpKind::Recv || k == OpKind::Send || k == OpKind::Accept || k == OpKind::Connect ||
         k == OpKind::RecvFrom || k == OpKind::SendTo;
}

IoOp* new_op(OpKind k, IoHandle* h, std::size_t cap) {
  if (cap > 0xFFFF'0000u) cap = 0xFFFF'0000u;
  IoOp* op = op_alloc(static_cast<std::uint32_t>(cap));
  op->kind = k;
  op->h = h;
  op->fd = h ? h->fd : -1;
  op->dir = (k == OpKind::Send || k == OpKind::Connect || k == OpKind::SendTo) ? 1 : 0;
  Driver* d = any_driver();
  if (!d) {
    op->mode = OpMode::Sync;
    op->res = enc(io::Errc::not_in_runtime);
    op->state.store(opstate::DONE, std::memory_order_relaxed);
    return op;
  }
  if (k == OpKind::Shutdown)
    op->mode = OpMode::Sync;
  else if (d->kind() == DriverKind::Uring && (!h || h->kind == DriverKind::Uring))
    op->mode = d->supports(uring_opcode(k)) ? OpMode::Uring : OpMode::Blocking;
  else if (is_socket_kind(k) && h && h->reg)
    op->mode = OpMode::Ready;
  else
    op->mode = OpMode::Blocking;
  return op;
}

/// write_all / read_exact of nothing: done at once (a 0-byte transfer would read as EOF).
void finish_if_empty(IoOp* op) noexcept {
  if (op->len != 0 || op->state.load(std::memory_order_relaxed) == opstate::DONE) return;
  op->mode = OpMode::Sync;
  op->res = 0;
  op->state.store(opstate::DONE, std::memory_order_relaxed);
}

void copy_path(IoOp* op, std::size_t at, const char* p, std::size_t n) noexcept {
  std::memcpy(op->data() + at, p, n);
  op->data()[at + n] = std::byte{0};
}

}  // namespace

IoOp* io_recv(IoHandle* h, std::size_t cap, bool exact) {
  IoOp* op = new_op(OpKind::Recv, h, cap);
  op->len = static_cast<std::uint32_t>(std::min<std::size_t>(cap, op->cap));
  op->all = exact;
  if (op->mode == OpMode::Uring && h && h->recv_poll_first.load(std::memory_order_relaxed))
    op->flags = 1;  // op_prep: IORING_RECVSEND_POLL_FIRST
  if (exact) finish_if_empty(op);
  return op;
}

IoOp* io_send(IoHandle* h, const void* data, std::size_t len, bool all) {
  IoOp* op = new_op(OpKind::Send, h, len);
  op->len = static_cast<std::uint32_t>(std::min<std::size_t>(len, op->cap));
  if (op->len) std::memcpy(op->data(), data, op->len);
  op->all = all;
  if (all) finish_if_empty(op);
  return op;
}

IoOp* io_accept(IoHandle* h) {
  IoOp* op = new_op(OpKind::Accept, h, 0);
  if (op->mode == OpMode::Uring && h) {
    op->mode = OpMode::Queue;
    op->aq = accept_queue(h);
  }
  return op;
}

IoOp* io_connect(IoHandle* h, const void* a, std::uint32_t len) {
  IoOp* op = new_op(OpKind::Connect, h, 0);
  std::memcpy(&op->addr, a, std::min<std::size_t>(len, sizeof op->addr));
  op->addrlen = len;
  if (op->mode == OpMode::Ready) {
    // Start the connection now; readiness (writable) reports the outcome. Clear the optimistic
    // writable bit first: only an edge after connect() says it is done, and the driver that
    // delivers it may run on another thread, before connect() even returns here (clearing the
    // bit afterwards would erase that edge and leave the connect waiting forever). An edge that
    // predates connect() may set the bit again; the readiness check (poll + SO_ERROR) tells.
    h->reg->readiness.fetch_and(~kWritable, std::memory_order_acq_rel);
    if (::connect(h->fd, static_cast<const sockaddr*>(a), len) == 0) {
      op->mode = OpMode::Sync;
      op->res = 0;
      op->state.store(opstate::DONE, std::memory_order_relaxed);
    } else if (errno != EINPROGRESS) {
      op->mode = OpMode::Sync;
      op->res = -errno;
      op->state.store(opstate::DONE, std::memory_order_relaxed);
    }
  }
  return op;
}

IoOp* io_recv_from(IoHandle* h, std::size_t cap) {
  IoOp* op = new_op(OpKind::RecvFrom, h, cap);
  op->len = static_cast<std::uint32_t>(std::min<std::size_t>(cap, op->cap));
  op->cap = op->len;
  return op;
}

IoOp* io_send_to(IoHandle* h, const void* data, std::size_t len, const void* a, std::uint32_t al) {
  IoOp* op = new_op(OpKind::SendTo, h, len);
  op->len = static_cast<std::uint32_t>(std::min<std::size_t>(len, op->cap));
  if (op->len) std::memcpy(op->data(), data, op->len);
  std::memcpy(&op->addr, a, std::min<std::size_t>(al, sizeof op->addr));
  op->addrlen = al;
  return op;
}

IoOp* io_shutdown(IoHandle* h, int how) {
  IoOp* op = new_op(OpKind::Shutdown, h, 0);
  op->flags = how;
  return op;
}

IoOp* io_read_at(IoHandle* h, std::size_t cap, std::int64_t off, bool exact) {
  IoOp* op = new_op(OpKind::ReadAt, h, cap);
  op->len = static_cast<std::uint32_t>(std::min<std::size_t>(cap, op->cap));
  op->off = off;
  op->all = exact;
  if (exact) finish_if_empty(op);
  return op;
}

IoOp* io_read_to_end(IoHandle* h, std::size_t cap) {
  IoOp* op = io_read_at(h, cap, -1, true);
  op->to_eof = true;
  return op;
}

IoOp* io_write_at(IoHandle* h, const void* data, std::size_t len, std::int64_t off) {
  IoOp* op = new_op(OpKind::WriteAt, h, len);
  op->len = static_cast<std::uint32_t>(std::min<std::size_t>(len, op->cap));
  if (op->len) std::memcpy(op->data(), data, op->len);
  op->off = off;
  op->all = true;
  finish_if_empty(op);
  return op;
}

IoOp* io_fsync(IoHandle* h, bool datasync) {
  IoOp* op = new_op(OpKind::Fsync, h, 0);
  op->flags = datasync ? 1 : 0;
  return op;
}

IoOp* io_statx(IoHandle* h, const char* path, bool follow) {
  const std::size_t n = std::strlen(path);
  IoOp* op = new_op(OpKind::Statx, h, 256 + n + 1);
  copy_path(op, 256, path, n);
  op->flags = (follow ? 0 : AT_SYMLINK_NOFOLLOW) | (h && n == 0 ? AT_EMPTY_PATH : 0);
  op->mode_bits = STATX_BASIC_STATS | STATX_BTIME;
  return op;
}

IoOp* io_openat(const char* path, int flags, unsigned mode) {
  const std::size_t n = std::strlen(path);
  IoOp* op = new_op(OpKind::OpenAt, nullptr, n + 1);
  copy_path(op, 0, path, n);
  op->flags = flags;
  op->mode_bits = mode;
  return op;
}

IoOp* io_open_read(const char* path, std::size_t cap) {
  const std::size_t n = std::strlen(path);
  IoOp* op = new_op(OpKind::OpenRead, nullptr, std::max(cap, n + 1));
  copy_path(op, 0, path, n);  // the read overwrites it: the kernel copied it at the open
  op->flags = O_RDONLY;
  op->len = static_cast<std::uint32_t>(std::min<std::size_t>(cap, op->cap));
  op->off = -1;
  op->all = true;
  op->to_eof = true;
  return op;
}

IoOp* io_mkdir(const char* path, unsigned mode) {
  const std::size_t n = std::strlen(path);
  IoOp* op = new_op(OpKind::MkdirAt, nullptr, n + 1);
  copy_path(op, 0, path, n);
  op->mode_bits = mode;
  return op;
}

IoOp* io_unlink(const char* path, bool dir) {
  const std::size_t n = std::strlen(path);
  IoOp* op = new_op(OpKind::UnlinkAt, nullptr, n + 1);
  copy_path(op, 0, path, n);
  op->flags = dir ? AT_REMOVEDIR : 0;
  return op;
}

IoOp* io_rename(const char* from, const char* to) {
  const std::size_t a = std::strlen(from), b = std::strlen(to);
  IoOp* op = new_op(OpKind::RenameAt, nullptr, a + b + 2);
  copy_path(op, 0, from, a);
  copy_path(op, a + 1, to, b);
  op->path2 = static_cast<std::uint32_t>(a + 1);
  return op;
}

}  // namespace rill::detail

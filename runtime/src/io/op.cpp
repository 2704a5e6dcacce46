// io/op.cpp: the IoOp life cycle (allocation, submission, completion, cancellation) for the
// three execution modes, and the synchronous bodies used by epoll and the blocking pool.
#include "io/op.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <mutex>
#include <new>
#include <utility>
#include <vector>

#include "scheduler/scheduler.hpp"

namespace rill::detail {

// ---- allocation ---------------------------------------------------------------------------------

namespace {
constexpr std::uint32_t kClassCap[] = {256, 4096, 16384, 65536};
constexpr std::uint8_t kNoClass = 255;
#if defined(__SANITIZE_ADDRESS__)
constexpr std::size_t kCacheMax = 0;  // let ASan see every free
#else
constexpr std::size_t kCacheMax = 128;
#endif

struct Cached {
  void* mem;
  std::uint16_t gen;
};
struct OpCache {
  std::vector<Cached> free[4];
  ~OpCache() {
    for (auto& v : free)
      for (auto& c : v)
        ::operator delete(c.mem);
  }
};
thread_local OpCache t_cache;
std::atomic<std::uint16_t> g_gen{1};
std::atomic<std::size_t> g_orphans{0};
}  // namespace

std::size_t io_orphaned_ops() noexcept {
  return g_orphans.load(std::memory_order_acquire);
}

IoOp* op_alloc(std::uint32_t cap) {
  std::uint8_t cls = kNoClass;
  for (std::uint8_t i = 0; i < 4; ++i)
    if (cap <= kClassCap[i]) {
      cls = i;
      cap = kClassCap[i];
      break;
    }
  void* mem = nullptr;
  std::uint16_t gen;
  if (cls != kNoClass && !t_cache.free[cls].empty()) {
    Cached c = t_cache.free[cls].back();
    t_cache.free[cls].pop_back();
    mem = c.mem;
    gen = static_cast<std::uint16_t>(c.gen + 1);
  } else {
    mem = ::operator new(sizeof(IoOp) + cap);
    gen = g_gen.fetch_add(1, std::memory_order_relaxed);
  }
  auto* op = new (mem) IoOp;  // default-init: no 400-byte zero fill per operation
  op->cls = cls;
  op->cap = cap;
  op->gen = gen;
  return op;
}

void op_free(IoOp* op) noexcept {
  const std::uint8_t cls = op->cls;
  const std::uint16_t gen = op->gen;
  op->~IoOp();
  if (cls != kNoClass && t_cache.free[cls].size() < kCacheMax) {
    try {
      t_cache.free[cls].push_back({op, gen});
      return;
    } catch (...) {
    }
  }
  ::operator delete(op);
}

// ---- synchronous bodies (epoll readiness, blocking pool)
// ------------------------------------------

namespace {

char* path1(IoOp* op) noexcept {
  return reinterpret_cast<char*>(op->data() + (op->kind == OpKind::Statx ? 256 : 0));
}

bool is_stream_write(OpKind k) noexcept {
  return k == OpKind::Send || k == OpKind::WriteAt;
}

/// Runs the operation's syscall(s) on the calling thread. Sockets under epoll are
/// non-blocking, so this returns -EAGAIN when not ready (progress of an `all` op is kept).
std::int64_t exec_sync(IoOp* op) noexcept {
  auto* base = op->data();
  for (;;) {
    ssize_t n = 0;
    switch (op->kind) {
      case OpKind::Recv:
        n = ::recv(op->fd, base + op->done, op->len - op->done, 0);
        break;
      case OpKind::Send:
        n = ::send(op->fd, base + op->done, op->len - op->done, MSG_NOSIGNAL);
        break;
      case OpKind::ReadAt:
        n = op->off < 0 ? ::read(op->fd, base + op->done, op->len - op->done)
                        : ::pread(op->fd, base + op->done, op->len - op->done, op->off + op->done);
        break;
      case OpKind::WriteAt:
        n = op->off < 0 ? ::write(op->fd, base + op->done, op->len - op->done)
                        : ::pwrite(op->fd, base + op->done, op->len - op->done, op->off + op->done);
        break;
      case OpKind::Accept: {
        op->addrlen = sizeof op->addr;
        const int fl = SOCK_CLOEXEC | (op->mode == OpMode::Ready ? SOCK_NONBLOCK : 0);
        const int fd = ::accept4(op->fd, reinterpret_cast<sockaddr*>(&op->addr), &op->addrlen, fl);
        if (fd < 0 && errno == EINTR) continue;
        return fd < 0 ? -errno : fd;
      }
      case OpKind::Connect: {
        pollfd p{op->fd, POLLOUT, 0};
        const int pr = ::poll(&p, 1, 0);
        if (pr == 0) return -EAGAIN;
        int err = 0;
        socklen_t l = sizeof err;
        if (::getsockopt(op->fd, SOL_SOCKET, SO_ERROR, &err, &l) < 0) return -errno;
        return err ? -err : 0;
      }
      case OpKind::RecvFrom:
        op->addrlen = sizeof op->addr;
        n = ::recvfrom(op->fd, base, op->cap, 0, reinterpret_cast<sockaddr*>(&op->addr),
                       &op->addrlen);
        if (n < 0 && errno == EINTR) continue;
        return n < 0 ? -errno : n;
      case OpKind::SendTo:
        n = ::sendto(op->fd, base, op->len, MSG_NOSIGNAL, reinterpret_cast<sockaddr*>(&op->addr),
                     op->addrlen);
        if (n < 0 && errno == EINTR) continue;
        return n < 0 ? -errno : n;
      case OpKind::Shutdown:
        return ::shutdown(op->fd, op->flags) < 0 ? -errno : 0;
      case OpKind::Fsync:
        return (op->flags ? ::fdatasync(op->fd) : ::fsync(op->fd)) < 0 ? -errno : 0;
      case OpKind::Statx: {
        const int dfd = op->h ? op->fd : AT_FDCWD;
        return ::statx(dfd, path1(op), op->flags, op->mode_bits,
                       reinterpret_cast<struct statx*>(base)) < 0
                   ? -errno
                   : 0;
      }
      case OpKind::OpenAt: {
        const int fd = ::openat(AT_FDCWD, path1(op), op->flags | O_CLOEXEC, op->mode_bits);
        return fd < 0 ? -errno : fd;
      }
      case OpKind::MkdirAt:
        return ::mkdirat(AT_FDCWD, path1(op), op->mode_bits) < 0 ? -errno : 0;
      case OpKind::UnlinkAt:
        return ::unlinkat(AT_FDCWD, path1(op), op->flags) < 0 ? -errno : 0;
      case OpKind::RenameAt:
        return ::renameat(AT_FDCWD, path1(op), AT_FDCWD, path1(op) + op->path2) < 0 ? -errno : 0;
      case OpKind::AcceptMulti:
        return -EINVAL;  // io_uring only
    }
    // Byte-stream kinds.
    if (n < 0) {
      if (errno == EINTR) continue;
      return -errno;
    }
    if (n == 0 && op->len > op->done) {
      if (!op->all) return op->done;  // EOF (reads) or a 0-byte write
      return enc(is_stream_write(op->kind) ? io::Errc::write_zero : io::Errc::unexpected_eof);
    }
    op->done += static_cast<std::uint32_t>(n);
    if (!op->all || op->done >= op->len) return op->done;
  }
}

// ---- epoll readiness --------------------------------------------------------------------------

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

std::atomic<std::uint32_t> g_rr{0};

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

void run_job(BlockingJob* j) noexcept {
  auto* op = reinterpret_cast<IoOp*>(reinterpret_cast<std::byte*>(j) - offsetof(IoOp, job));
  op_complete(op, exec_sync(op));
}
void cancel_job(BlockingJob* j) noexcept {
  auto* op = reinterpret_cast<IoOp*>(reinterpret_cast<std::byte*>(j) - offsetof(IoOp, job));
  op_complete(op, -ECANCELED);
}

}  // namespace

// ---- multishot accept ---------------------------------------------------------------------------
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

struct AcceptQueue {
  std::mutex mu;
  std::deque<std::int64_t> ready;  // accepted fds (>= 0) and errors (< 0), oldest first
  IoOp* waiter = nullptr;          // the Queue-mode accept() waiting (PENDING), if any
  IoOp* ms = nullptr;              // the multishot op in flight (ms->drv: its ring); null when
                                   // not armed
  bool cancelling = false;         // an async cancel of `ms` was issued
  bool closed = false;             // the listener is gone
  int refs = 1;                    // the handle, plus one while `ms` is in flight
  int fd = -1;                     // the listening socket
};

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

/// Cancels the multishot op of `q` from any thread. Caller holds q->mu.
void accept_cancel(AcceptQueue* q) noexcept {
  if (!q->ms || q->cancelling) return;
  q->cancelling = true;
  cancel_uring(q->ms->drv, q->ms->key());
}

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

}  // namespace

// ---- io_uring
// -------------------------------------------------------------------------------------

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
    case OpKind::AcceptMulti:
      if (multishot_accept_supported())
        io_uring_prep_multishot_accept(sqe, fd, nullptr, nullptr, SOCK_CLOEXEC);
      else  // one connection per SQE; the queue re-arms it while an accept() waits
        io_uring_prep_accept(sqe, fd, nullptr, nullptr, SOCK_CLOEXEC);
      break;
  }
}

void op_on_cqe(Driver* d, IoOp* op, std::int32_t res, std::uint32_t flags) noexcept {
  if (op->kind == OpKind::AcceptMulti) {
    accept_multi_cqe(d, op, res, flags);
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
  if (res == 0)
    op_complete(op,
                enc(is_stream_write(op->kind) ? io::Errc::write_zero : io::Errc::unexpected_eof));
  else
    op_complete(op, res);
}

void op_complete(IoOp* op, std::int64_t res) noexcept {
  op->res = res;
  Waker w = std::move(op->waker);
  std::uint32_t exp = opstate::PENDING;
  if (op->state.compare_exchange_strong(exp, opstate::DONE, std::memory_order_acq_rel)) {
    w.wake();  // `op` may be freed by its awaiter from here on
    return;
  }
  // Orphaned: nobody will consume the result.
  if ((op->kind == OpKind::Accept || op->kind == OpKind::OpenAt) && res >= 0)
    ::close(static_cast<int>(res));
  op_free(op);
  g_orphans.fetch_sub(1, std::memory_order_release);
}

// ---- the awaiter protocol
// ---------------------------------------------------------------------------

bool io_op_try(IoOp* op) noexcept {
  if (op->state.load(std::memory_order_acquire) == opstate::DONE) return true;
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
      op->waker = task_waker(t);
      op->state.store(opstate::PENDING, std::memory_order_relaxed);
      submit_uring(s, op);
      return true;
    }
    case OpMode::Blocking: {
      op->waker = task_waker(t);
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
  if (s == opstate::DONE && !op->taken && op->res >= 0 &&
      (op->kind == OpKind::Accept || op->kind == OpKind::OpenAt))
    ::close(static_cast<int>(op->res));  // woken but never resumed: the fd is nobody's
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

// ---- factories
// ------------------------------------------------------------------------------------

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
    // Start the connection now; readiness (writable) reports the outcome.
    if (::connect(h->fd, static_cast<const sockaddr*>(a), len) == 0) {
      op->mode = OpMode::Sync;
      op->res = 0;
      op->state.store(opstate::DONE, std::memory_order_relaxed);
    } else if (errno != EINPROGRESS) {
      op->mode = OpMode::Sync;
      op->res = -errno;
      op->state.store(opstate::DONE, std::memory_order_relaxed);
    } else {
      // Clear the optimistic writable bit: only the connect's edge says it is done.
      h->reg->readiness.fetch_and(~kWritable, std::memory_order_acq_rel);
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

// ---- handles
// ----------------------------------------------------------------------------------------

IoHandle::~IoHandle() {
  if (AcceptQueue* q = accept_q.load(std::memory_order_acquire)) accept_queue_close(q);
  if (reg) registration_close(reg);
  if (fd >= 0) ::close(fd);
}

int handle_fd(const IoHandle* h) noexcept {
  return h ? h->fd : -1;
}

io::Result<std::shared_ptr<IoHandle>> make_handle(int fd, bool socket) {
  Driver* d = any_driver();
  if (!d) {
    ::close(fd);
    return Unexpected{io::make_error_code(io::Errc::not_in_runtime)};
  }
  auto h = std::make_shared<IoHandle>();
  h->fd = fd;
  h->kind = d->kind();
  h->socket = socket;
  if (socket && h->kind == DriverKind::Epoll) {
    const int fl = ::fcntl(fd, F_GETFL);
    if (fl < 0 || ::fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
      return Unexpected{std::error_code(errno, std::system_category())};
    auto* r = new Registration();
    r->fd = fd;
    if (int rc = d->add(r); rc < 0) {
      delete r;
      return Unexpected{std::error_code(-rc, std::system_category())};
    }
    h->reg = r;
  }
  return h;
}

}  // namespace rill::detail

namespace rill::io {

namespace {
class IoCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "rill.io"; }
  std::string message(int c) const override {
    switch (static_cast<Errc>(c)) {
      case Errc::unexpected_eof:
        return "unexpected end of file";
      case Errc::write_zero:
        return "write returned zero bytes";
      case Errc::not_in_runtime:
        return "I/O must be awaited inside a rill runtime task";
      case Errc::invalid_address:
        return "invalid socket address";
      case Errc::shutdown:
        return "the runtime is shutting down";
    }
    return "unknown rill.io error";
  }
};
}  // namespace

const std::error_category& category() noexcept {
  static const IoCategory c;
  return c;
}

IoBackend current_backend() {
  detail::Driver* d = detail::any_driver();
  if (!d) detail::throw_no_runtime("rill::io::current_backend");
  return d->kind() == detail::DriverKind::Uring ? IoBackend::IoUring : IoBackend::Epoll;
}

}  // namespace rill::io

// io/sock_state.cpp: cancel-safe socket reads. Cancel safety is a property of the socket, not of
// the awaiter: what the kernel delivered to a read whose awaiter is gone belongs to the socket and
// goes to its next read, in order, on both backends.
//
// A read can lose data three ways when its awaiter is destroyed (a select or timeout it lost, an
// abort): (1) on io_uring the op is still in the kernel and its cancel races with data arriving,
// so its CQE may carry bytes nobody will consume; (2) on either backend the op completed and woke
// the task, but the task dropped the awaiter before resuming it; (3) a read_exact had read part
// of its buffer. In every case the bytes go to the socket's SockState stash (one chunk per
// datagram on message sockets, with the source address), and the next read takes from the stash
// before it asks the kernel. An error such a read received is kept for the next read too.
//
// Ordering on io_uring: the next read must not overtake an orphaned read still in the kernel
// (whose bytes come first). So while a socket has orphans (`orphans` > 0), a new Uring read parks
// as the socket's `waiter` instead of being submitted; the last orphan's completion then serves it
// from the stash or submits it on the orphan's ring (the completion runs on that ring's owner
// thread). At most one read is in the kernel per socket. Tokio's reads are cancel-safe in the
// same sense (readiness-based: nothing is read until the reader is polled); rill keeps the
// io_uring model and makes its completions the socket's property.
//
// Closing: the SockState is created by the first cancellation on the socket and owned by the
// handle plus its orphans (freed by whichever is last, under `mu`). An orphaned op holds a kernel
// reference to the socket, so close(2) alone would not close it until the cancel is processed,
// which on a current_thread runtime waits until the runtime runs again. When the handle is
// destroyed with orphans in flight, the socket is shut down first (shutdown(SHUT_RDWR)): the peer
// sees the close at once and the orphans complete.
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <new>
#include <utility>

#include "io/op_internal.hpp"
#include "scheduler/scheduler.hpp"

namespace rill::detail {

SockState* sock_state(IoHandle* h) noexcept {
  SockState* ss = h->sock.load(std::memory_order_acquire);
  if (ss) return ss;
  auto* fresh = new (std::nothrow) SockState;
  if (!fresh) return nullptr;
  int type = 0;
  socklen_t len = sizeof type;
  if (::getsockopt(h->fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0)
    fresh->dgram = type == SOCK_DGRAM || type == SOCK_SEQPACKET;
  if (h->sock.compare_exchange_strong(ss, fresh, std::memory_order_acq_rel)) return fresh;
  delete fresh;  // another thread created it first
  return ss;
}

bool sock_take_locked(SockState* ss, IoOp* op) noexcept {
  if (ss->stash.empty()) {
    if (ss->err == 0 || op->done != 0) return false;
    op->res = std::exchange(ss->err, 0);
    return true;
  }
  op->cqe_flags = IORING_CQE_F_SOCK_NONEMPTY;  // more may be queued: try before polling
  if (op->kind == OpKind::RecvFrom || ss->dgram) {
    SockState::Chunk& c = ss->stash.front();
    const std::size_t room = op->kind == OpKind::RecvFrom ? op->cap : op->len;
    const std::size_t n = std::min(c.bytes.size(), room);  // like recv(2): the excess is dropped
    if (n) std::memcpy(op->data(), c.bytes.data(), n);
    if (op->kind == OpKind::RecvFrom) {
      std::memcpy(&op->addr, &c.addr, c.addrlen);
      op->addrlen = c.addrlen;
    }
    ss->stash.pop_front();
    op->done = 0;
    op->res = static_cast<std::int64_t>(n);
    return true;
  }
  if (op->len <= op->done) return false;  // a 0-byte read: the kernel answers it
  while (op->done < op->len && !ss->stash.empty()) {
    SockState::Chunk& c = ss->stash.front();
    const std::size_t n = std::min<std::size_t>(c.bytes.size() - c.off, op->len - op->done);
    std::memcpy(op->data() + op->done, c.bytes.data() + c.off, n);
    c.off += n;
    op->done += static_cast<std::uint32_t>(n);
    if (c.off == c.bytes.size()) ss->stash.pop_front();
  }
  if (op->all && op->done < op->len) return false;  // read_exact: the rest from the kernel
  op->res = op->done;
  if (!op->all) op->done = 0;
  return true;
}

void sock_keep_locked(SockState* ss, IoOp* op, std::int64_t res, bool front) noexcept {
  if (ss->closed) return;
  const bool msg = op->kind == OpKind::RecvFrom || ss->dgram;
  // Bytes in the op's buffer: a read_exact's progress, else the outcome of one receive.
  const std::size_t n = op->all ? op->done : (res > 0 ? static_cast<std::size_t>(res) : 0);
  if (n > 0 || (msg && res >= 0)) {
    try {
      SockState::Chunk c;
      c.bytes.assign(op->data(), op->data() + n);
      if (op->kind == OpKind::RecvFrom) {
        std::memcpy(&c.addr, &op->addr, op->addrlen);
        c.addrlen = op->addrlen;
      }
      if (front)
        ss->stash.push_front(std::move(c));
      else
        ss->stash.push_back(std::move(c));
    } catch (...) {  // out of memory: nothing better to do than drop them
    }
    return;
  }
  // An error (not our own cancel, not a rill-encoded outcome) the next read should see.
  if (res < 0 && res != -ECANCELED && res > kErrBase && ss->err == 0) ss->err = res;
}

bool sock_try(IoOp* op) noexcept {
  if (!is_read_kind(op->kind) || !op->h) return false;
  SockState* ss = op->h->sock.load(std::memory_order_acquire);
  if (!ss) return false;
  std::lock_guard lk(ss->mu);
  if (!sock_take_locked(ss, op)) return false;
  op->state.store(opstate::DONE, std::memory_order_release);
  return true;
}

int sock_arm(IoOp* op, TaskHeader* t) noexcept {
  if (!is_read_kind(op->kind) || !op->h) return 0;
  SockState* ss = op->h->sock.load(std::memory_order_acquire);
  if (!ss) return 0;
  std::lock_guard lk(ss->mu);
  if (sock_take_locked(ss, op)) {  // an orphan delivered bytes since io_op_try
    op->state.store(opstate::DONE, std::memory_order_release);
    return 1;
  }
  if (ss->orphans == 0 || ss->waiter) return 0;
  op->waker = task_waker(t);
  op->state.store(opstate::PENDING, std::memory_order_relaxed);
  ss->waiter = op;
  return 2;
}

bool sock_orphan(IoOp* op) noexcept {
  SockState* ss = sock_state(op->h);
  if (!ss) return false;
  std::unique_lock lk(ss->mu);
  if (ss->waiter == op) {  // parked, never submitted: nobody else knows it
    ss->waiter = nullptr;
    lk.unlock();
    op_free(op);
    return true;
  }
  std::uint32_t s = opstate::PENDING;
  op->ss = ss;
  const std::uint64_t key = op->key();
  Driver* d = op->drv;  // read under mu: a completion that submitted a parked waiter set it
  g_orphans.fetch_add(1, std::memory_order_relaxed);
  if (!op->state.compare_exchange_strong(s, opstate::ORPHANED, std::memory_order_acq_rel)) {
    g_orphans.fetch_sub(1, std::memory_order_relaxed);
    op->ss = nullptr;
    return false;  // completed meanwhile
  }
  ++ss->orphans;
  lk.unlock();
  cancel_uring(d, key);
  return true;
}

void sock_release_read(IoOp* op, std::uint32_t state) noexcept {
  if (!is_read_kind(op->kind) || !op->h || !op->h->socket) return;
  std::int64_t res;
  if (state == opstate::DONE) {
    if (op->taken) return;
    res = op->res;
  } else {
    if (op->done == 0) return;
    res = -ECANCELED;  // a read_exact's partial progress
  }
  // An end of stream needs no keeping (the next read sees it again).
  if (res == 0 && !op->all && op->kind == OpKind::Recv && !op->h->sock.load()) return;
  SockState* ss = sock_state(op->h);
  if (!ss) return;
  std::lock_guard lk(ss->mu);
  sock_keep_locked(ss, op, res, true);
}

void sock_orphan_done(IoOp* op, std::int64_t res) noexcept {
  SockState* ss = op->ss;
  Waker wake;
  bool free_ss;
  {
    std::lock_guard lk(ss->mu);
    if (is_read_kind(op->kind)) sock_keep_locked(ss, op, res, false);
    --ss->orphans;
    if (ss->orphans == 0 && ss->waiter) {
      IoOp* w = std::exchange(ss->waiter, nullptr);
      Driver* d = op->drv;  // this completion runs on its owner thread
      if (sock_take_locked(ss, w)) {
        wake = std::move(w->waker);
        w->state.store(opstate::DONE, std::memory_order_release);
      } else if (d->shutting_down()) {
        w->res = enc(io::Errc::shutdown);
        wake = std::move(w->waker);
        w->state.store(opstate::DONE, std::memory_order_release);
      } else {
        w->drv = d;
        d->push(w);
      }
    }
    free_ss = ss->closed && ss->orphans == 0 && !ss->waiter;
  }
  wake.wake();
  if (free_ss) delete ss;
}

void sock_state_close(SockState* ss, int fd) noexcept {
  bool free_ss;
  {
    std::lock_guard lk(ss->mu);
    ss->closed = true;
    ss->stash.clear();
    ss->err = 0;
    if (ss->orphans > 0) ::shutdown(fd, SHUT_RDWR);
    free_ss = ss->orphans == 0 && !ss->waiter;
  }
  if (free_ss) delete ss;
}

}  // namespace rill::detail

// io/op_internal.hpp: what the files implementing IoOp share with each other (not used outside
// io/). The op's life cycle is split by concern:
//   op.cpp           the awaiter protocol (try, arm, poll, release) and completion
//   op_alloc.cpp     per-thread size-class caches and generations of op memory
//   op_sync.cpp      the synchronous syscall bodies (epoll readiness, blocking pool, Sync mode)
//   op_ready.cpp     Ready mode: epoll readiness and the registration's wakers
//   op_uring.cpp     Uring mode: SQE preparation, CQE handling, submit/cancel from any thread
//   accept_queue.cpp Queue mode: a listener's multishot accept and its queue of connections
//   sock_state.cpp   what cancelled socket operations leave behind (cancel-safe reads)
//   op_factory.cpp   building an op for each operation kind and choosing its mode
//   handle.cpp       IoHandle (an fd and its registration) and the rill.io error category
#pragma once

#include <sys/socket.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <vector>

#include "io/op.hpp"

namespace rill::detail {

struct Core;
class Scheduler;
struct TaskHeader;

// ---- op_alloc.cpp
/// Ops orphaned by their awaiter whose completion has not arrived yet (io_orphaned_ops()).
extern std::atomic<std::size_t> g_orphans;

// ---- op_sync.cpp
/// The first path stored in the op's data (statx keeps its result buffer before it).
char* path1(IoOp* op) noexcept;
bool is_stream_write(OpKind k) noexcept;
/// A Recv or Send in Ready mode on a byte-stream socket: a short transfer drained (filled) it.
bool drained_by(const IoOp* op) noexcept;
/// Runs the operation's syscall(s) on the calling thread. Sockets under epoll are
/// non-blocking, so this returns -EAGAIN when not ready (progress of an `all` op is kept).
std::int64_t exec_sync(IoOp* op) noexcept;

// ---- op_ready.cpp
/// Drops the waker `op` left in its registration.
void clear_waker(IoOp* op) noexcept;
/// Runs `op` if its registration says ready; true (DONE) when it completed.
bool ready_try(IoOp* op) noexcept;
/// Stores `t`'s waker in `op`'s registration slot (reader or writer).
void register_waker(IoOp* op, TaskHeader* t) noexcept;

// ---- op_uring.cpp
/// Some core of `s`, round-robin.
Core* pick_core(Scheduler* s) noexcept;
/// Queues io_uring op `op` on the ring of the core this thread runs for `s` (submitted with its
/// next poll()/park()), else hands it to some core's ring through its remote queue. Sets drv.
void submit_uring(Scheduler* s, IoOp* op) noexcept;
/// Issues an async cancel of the op with user_data `key` on `d`, from any thread.
void cancel_uring(Driver* d, std::uint64_t key) noexcept;

// ---- accept_queue.cpp (the mechanism is described there)
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

/// Takes the oldest queued outcome into `op` (DONE). Caller holds q->mu.
bool accept_pop(AcceptQueue* q, IoOp* op) noexcept;
/// A new multishot accept op for `q`, owned by it; the caller submits it. Caller holds q->mu.
IoOp* accept_new_op(AcceptQueue* q) noexcept;
/// Handles one CQE of a listener's multishot accept op (on its ring's owner thread).
void accept_multi_cqe(Driver* d, IoOp* ms, std::int32_t res, std::uint32_t flags) noexcept;
/// Multishot accept needs Linux 5.19; RILL_MULTISHOT_ACCEPT=0 turns it off.
bool multishot_accept_supported() noexcept;
/// The listener's queue, created by its first accept.
AcceptQueue* accept_queue(IoHandle* h);
/// The listener is gone: closes queued fds and cancels the multishot accept.
void accept_queue_close(AcceptQueue* q) noexcept;

// ---- sock_state.cpp (the mechanism is described there)
struct SockState {
  /// Bytes (a stream) or one datagram that a read received and nobody consumed.
  struct Chunk {
    std::vector<std::byte> bytes;
    std::size_t off = 0;    // stream: bytes of this chunk already handed out
    sockaddr_storage addr;  // datagrams received by recv_from: the source
    socklen_t addrlen = 0;
  };
  std::mutex mu;
  std::deque<Chunk> stash;  // oldest first
  std::int64_t err = 0;     // an error a cancelled read received, for the next read (-errno)
  IoOp* waiter = nullptr;   // a Uring read parked until the orphaned ops below are done
  int orphans = 0;          // Uring ops of this socket whose awaiter is gone, still in the kernel
  bool closed = false;      // the socket's handle is gone (the last orphan frees this)
  bool dgram = false;       // message boundaries (SOCK_DGRAM, SOCK_SEQPACKET): a chunk per message
};
/// True for the operation kinds that receive data (Recv, RecvFrom).
inline bool is_read_kind(OpKind k) noexcept {
  return k == OpKind::Recv || k == OpKind::RecvFrom;
}
/// The state of socket `h`, created on first use; null when out of memory.
SockState* sock_state(IoHandle* h) noexcept;
/// Serves read `op` from the stash (and a kept error). True when `op` is satisfied (op->res set,
/// state untouched); a read_exact may take some bytes (op->done) and continue. Caller holds mu.
bool sock_take_locked(SockState* ss, IoOp* op) noexcept;
/// Keeps what read `op` received and nobody consumed (outcome `res`) for the next read: at the
/// front of the stash (`front`: a released op's bytes come before any stashed ones) or the back.
/// Caller holds mu.
void sock_keep_locked(SockState* ss, IoOp* op, std::int64_t res, bool front) noexcept;
/// io_op_try for reads: serves `op` from its socket's stash; true when DONE.
bool sock_try(IoOp* op) noexcept;
/// io_op_arm for Uring reads. Returns 0 when the caller submits the op, 1 when DONE from the stash,
/// 2 when parked as the socket's waiter (PENDING, submitted when the orphans are done).
int sock_arm(IoOp* op, TaskHeader* t) noexcept;
/// io_op_release for a PENDING Uring op on a socket: unparks a parked waiter (then frees it), or
/// orphans the op under its socket's state and cancels it. False when the op completed
/// meanwhile (DONE: the caller frees it as usual).
bool sock_orphan(IoOp* op) noexcept;
/// io_op_release for a read that is not in the kernel: keeps any bytes it received (DONE but
/// never consumed, or a read_exact's partial progress) for the next read.
void sock_release_read(IoOp* op, std::uint32_t state) noexcept;
/// The completion of an orphaned op (op->ss set): keeps its bytes, and once no orphan is left
/// serves or submits the parked waiter. Frees the state after the handle and the last orphan.
void sock_orphan_done(IoOp* op, std::int64_t res) noexcept;
/// The socket's handle is being destroyed (before its fd is closed): drops the stash and, when
/// operations are still in the kernel (which keep the socket alive after close(2)), shuts the
/// socket down so the peer sees the close at once.
void sock_state_close(SockState* ss, int fd) noexcept;

}  // namespace rill::detail

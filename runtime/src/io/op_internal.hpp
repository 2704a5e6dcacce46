// io/op_internal.hpp: what the files implementing IoOp share with each other (not used outside
// io/). The op's life cycle is split by concern:
//   op.cpp           the awaiter protocol (try, arm, poll, release) and completion
//   op_alloc.cpp     per-thread size-class caches and generations of op memory
//   op_sync.cpp      the synchronous syscall bodies (epoll readiness, blocking pool, Sync mode)
//   op_ready.cpp     Ready mode: epoll readiness and the registration's wakers
//   op_uring.cpp     Uring mode: SQE preparation, CQE handling, submit/cancel from any thread
//   accept_queue.cpp Queue mode: a listener's multishot accept and its queue of connections
//   op_factory.cpp   building an op for each operation kind and choosing its mode
//   handle.cpp       IoHandle (an fd and its registration) and the rill.io error category
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>

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

}  // namespace rill::detail

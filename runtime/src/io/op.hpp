// io/op.hpp: one I/O operation (IoOp), socket/file handles and epoll registrations.
//
// An IoOp is a heap object (from per-thread size-class caches) that owns everything the kernel
// may touch while it runs: its data buffer, the socket address, the msghdr. Its user_data is its
// address with a 16-bit generation in the top bits (so a late cancel never hits a recycled op).
//
// State machine (atomic, because completion and cancellation may race on two threads):
//   INIT ──arm──▶ PENDING ──completion──▶ DONE       (the awaiter consumes and frees it)
//                    └──awaiter dropped──▶ ORPHANED  (the completion frees it)
// The completion moves the Waker out before publishing DONE; the awaiter reads neither after
// orphaning, so exactly one side frees the op.
//
// Modes: Uring (an SQE on the current core's ring), Ready (epoll: non-blocking syscall when the
// socket's registration says ready, else wait for the edge), Blocking (the runtime's blocking
// pool runs the syscall: files under epoll, or opcodes the kernel lacks), Sync (done at once:
// shutdown(2)).
#pragma once

#include <sys/socket.h>
#include <sys/uio.h>

#include <atomic>
#include <cstdint>
#include <memory>

#include "blocking/pool.hpp"
#include "io/driver.hpp"
#include "rill/detail/waker.hpp"
#include "rill/io.hpp"

namespace rill::detail {

struct AcceptQueue;
struct SockState;

enum class OpKind : std::uint8_t {
  Recv,
  Send,
  Accept,
  Connect,
  RecvFrom,
  SendTo,
  Shutdown,
  ReadAt,
  WriteAt,
  Fsync,
  Statx,
  OpenAt,
  MkdirAt,
  UnlinkAt,
  RenameAt,
  AcceptMulti,  // a listener's multishot accept (owned by its AcceptQueue, not by an awaiter)
  Close,        // a file handle's close, owned by the driver (close_on_ring), never awaited
  OpenRead,     // fs::read's first step: OPENAT, then a read to the end on the new fd (op->fd)
};
/// Uring: an SQE on a ring. Ready: epoll readiness + non-blocking syscall. Blocking: the
/// blocking pool. Sync: done at once. Queue: an accept served from the listener's multishot
/// accept queue (AcceptQueue).
enum class OpMode : std::uint8_t { Uring, Ready, Blocking, Sync, Queue };

namespace opstate {
inline constexpr std::uint32_t INIT = 0, PENDING = 1, DONE = 2, ORPHANED = 3;
}

/// Encoded non-errno errors in an op result (negative, below any errno).
inline constexpr std::int64_t kErrBase = -(1 << 20);
inline std::int64_t enc(io::Errc e) noexcept {
  return kErrBase - static_cast<int>(e);
}

/// Readiness bits of an epoll registration (low byte); a tick counter lives above bit 16.
inline constexpr std::uint64_t kReadable = 1, kWritable = 2, kReadClosed = 4, kWriteClosed = 8;
inline constexpr std::uint64_t kTickOne = 1u << 16;

/// A socket registered with an epoll driver (Tokio's ScheduledIo): readiness + one reader and
/// one writer waker. Freed by the driver (deferred) or, after the driver is gone, by its handle.
struct Registration {
  int fd = -1;
  std::atomic<std::uint64_t> readiness{kReadable | kWritable};  // optimistic until EAGAIN
  std::atomic<bool> lock{false};
  Waker waker[2];         // [0] reader, [1] writer; guarded by `lock`
  Driver* drv = nullptr;  // guarded by the global registration mutex; null once the driver died
  Registration* prev = nullptr;
  Registration* next = nullptr;

  void lk() noexcept {
    while (lock.exchange(true, std::memory_order_acquire))
      while (lock.load(std::memory_order_relaxed))
        __builtin_ia32_pause();
  }
  void unlk() noexcept { lock.store(false, std::memory_order_release); }
};

/// Closes `r`'s registration (deregisters from its driver, or frees it if the driver is gone).
void registration_close(Registration* r) noexcept;

/// An open fd plus how the runtime drives it. Owned by a shared_ptr in the public types and by
/// every operation on a file while the kernel or a pool thread may still use its fd
/// (IoOp::keep); the destructor deregisters and closes the fd.
struct IoHandle : std::enable_shared_from_this<IoHandle> {
  int fd = -1;
  DriverKind kind = DriverKind::Uring;
  bool socket = false;
  /// A byte-stream socket (TCP, Unix stream): on epoll, a read that returns fewer bytes than it
  /// asked for drained the socket and a short write filled it (op_ready.cpp).
  bool stream = false;
  Registration* reg = nullptr;  // epoll sockets
  /// io_uring sockets: the last recv left the socket empty (its CQE lacked
  /// IORING_CQE_F_SOCK_NONEMPTY), so the next recv arms the poll first instead of trying a
  /// receive that would fail with EAGAIN (IORING_RECVSEND_POLL_FIRST). A hint: relaxed.
  std::atomic<bool> recv_poll_first{false};
  /// io_uring listeners: the multishot accept state, created by the first accept (accept_queue.cpp).
  std::atomic<AcceptQueue*> accept_q{nullptr};
  /// Sockets: what cancelled operations left behind (bytes for the next read, operations still
  /// in the kernel), created by the first cancellation that leaves something (sock_state.cpp).
  std::atomic<SockState*> sock{nullptr};
  ~IoHandle();
};

struct IoOp {
  std::atomic<std::uint32_t> state{opstate::INIT};
  OpKind kind{};
  OpMode mode{};
  bool all = false;       // write_all / read_exact: keep going until len bytes
  bool to_eof = false;    // with `all` (file reads): end of file ends the read, not an error
  bool taken = false;     // an fd result was handed out
  std::uint8_t dir = 0;   // Ready mode: 0 read, 1 write
  std::uint8_t cls = 0;   // allocation class
  std::uint16_t gen = 0;  // bumped on every allocation of this memory
  int fd = -1;
  int flags = 0;                // msg / open / statx / unlink flags, shutdown how
  std::uint32_t mode_bits = 0;  // open/mkdir mode, statx mask
  std::int64_t res = 0;
  std::uint32_t cqe_flags = 0;
  std::uint32_t len = 0;    // requested bytes
  std::uint32_t done = 0;   // bytes moved so far (all)
  std::uint32_t cap = 0;    // data capacity
  std::uint32_t path2 = 0;  // offset of the second path in data (rename)
  std::int64_t off = -1;    // file offset (-1: current position)
  Waker waker;
  Driver* drv = nullptr;
  IoHandle* h = nullptr;
  AcceptQueue* aq = nullptr;  // Queue-mode accepts and the multishot op itself
  SockState* ss = nullptr;    // an orphaned socket op: its socket's state (outlives the handle)
  sockaddr_storage addr;      // left uninitialized (default-init): written before use
  socklen_t addrlen = 0;
  msghdr msg;
  iovec iov;
  BlockingJob job;
  /// A file operation in the kernel or on the blocking pool keeps its file's handle (so its fd
  /// stays open) until it completes: an SQE or a queued blocking job names the fd by number, and
  /// a close before the kernel took the file would let a new open reuse the number and this
  /// operation (one that is still queued, or a read_exact continuing after a partial read) act
  /// on that other file. Sockets are shut down and closed at once instead (sock_state.cpp).
  std::shared_ptr<IoHandle> keep;

  std::byte* data() noexcept { return reinterpret_cast<std::byte*>(this + 1); }
  std::uint64_t key() const noexcept {
    return reinterpret_cast<std::uintptr_t>(this) | (std::uint64_t{gen} << 48);
  }
  static IoOp* from_key(std::uint64_t k) noexcept {
    return reinterpret_cast<IoOp*>(static_cast<std::uintptr_t>(k & ((std::uint64_t{1} << 48) - 1)));
  }
};

/// A file read at the current position that keeps reading (inside the driver, or in one blocking
/// job) until `cap` bytes are in or a read returns 0 (end of file); its result is the bytes read,
/// which is fewer than `cap` only at the end of the file. fs::read uses it.
IoOp* io_read_to_end(IoHandle* h, std::size_t cap);
/// Opens `path` read-only and reads up to `cap` bytes from it as io_read_to_end does, in one
/// operation: on io_uring the driver submits the read from the open's CQE (no task resume in
/// between); on the blocking pool both run in one job. The result is the bytes read (or the
/// error); the new fd is in op->fd (-1 when the open failed), owned by the op until the awaiter
/// takes it (sets op->fd to -1): an op released or orphaned with an fd closes it.
IoOp* io_open_read(const char* path, std::size_t cap);

/// Closes file `fd` with an IORING_OP_CLOSE on the ring of the core this thread drives, without
/// waiting: the SQE goes out with the ring's next submission (this tick, the next park, or the
/// end of a current_thread block_on) and its CQE frees the op. The fd number stays taken until
/// then, so nothing can reuse it early. False (the caller closes with close(2)) off a worker, on
/// epoll, on a ring that is shutting down or lacks the opcode, or when out of memory.
bool close_on_ring(int fd) noexcept;

/// Allocates an op with `cap` bytes of data (per-thread cache; any thread may free it).
IoOp* op_alloc(std::uint32_t cap);
void op_free(IoOp* op) noexcept;

/// Fills `sqe` for `op` (Uring mode), continuing after op->done bytes.
void op_prep(IoOp* op, io_uring_sqe* sqe) noexcept;
/// Called by the owning driver for each CQE of an op. May resubmit (partial write_all).
void op_on_cqe(Driver* d, IoOp* op, std::int32_t res, std::uint32_t flags) noexcept;
/// Completes `op` with `res`: wakes the waiter, or frees an orphaned op.
void op_complete(IoOp* op, std::int64_t res) noexcept;

/// A driver of the current thread's runtime (its core's, else one picked round-robin); null
/// outside a runtime.
Driver* any_driver() noexcept;

}  // namespace rill::detail

// rill/io.hpp: what every rill I/O resource shares: io::Result, the I/O error codes, the backend
// query, and the leaf awaiter behind every socket and file operation.
//
// Ownership rule: an operation owns its buffer until the kernel is done with it. Reads land in a
// buffer owned by the operation and are copied into the caller's span when the awaiting
// coroutine resumes; writes copy the caller's bytes into the operation when it starts. So when a
// task waiting on I/O is cancelled (JoinHandle::abort, timeout, a select loser, runtime shutdown)
// the operation is handed to the driver, an async cancel is issued, and the operation (with its
// buffer) is freed only when its completion arrives: the kernel never writes into freed memory.
// A cancelled read loses no data that was not already handed out: bytes the kernel delivered to a
// cancelled read are dropped with it (like dropping a Tokio read future after it completed inside
// the kernel) — stream users that need every byte must not cancel reads mid-stream.
#pragma once

#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

#include "rill/detail/task_header.hpp"
#include "rill/result.hpp"
#include "rill/runtime.hpp"

namespace rill::io {

/// The result of an I/O operation: a value, or a std::error_code (an errno value in
/// std::system_category(), or an io::Errc in io::category()). Mirrors std::io::Result.
template <class T>
using Result = rill::Result<T, std::error_code>;

/// rill's own I/O error conditions (the ones that are not an errno). Mirrors the matching
/// std::io::ErrorKind values.
enum class Errc : int {
  unexpected_eof = 1,   ///< the peer closed before read_exact filled the buffer (UnexpectedEof)
  write_zero = 2,       ///< a write accepted 0 bytes (WriteZero)
  not_in_runtime = 3,   ///< the operation was awaited outside a rill task / runtime
  invalid_address = 4,  ///< an address string could not be parsed (InvalidInput)
  shutdown = 5,         ///< the runtime's I/O driver has shut down
};

/// The error category of io::Errc ("rill.io").
const std::error_category& category() noexcept;
/// Makes an error_code from an io::Errc.
inline std::error_code make_error_code(Errc e) noexcept {
  return {static_cast<int>(e), category()};
}

/// The bytes of a text argument to a write: exactly the characters of `s`.
inline std::span<const std::byte> text_bytes(std::string_view s) noexcept {
  return std::as_bytes(std::span<const char>(s.data(), s.size()));
}
/// The bytes of a string literal without its terminating NUL ("PONG\n" is 5 bytes; embedded
/// NULs are kept). Every write of rill (sockets, halves, fs::File, io::BufWriter) has overloads
/// that route `const char[N]` here, so a literal never sends its NUL by accident.
template <std::size_t N>
std::span<const std::byte> text_bytes(const char (&s)[N]) noexcept {
  const std::size_t n = (N > 0 && s[N - 1] == '\0') ? N - 1 : N;
  return std::as_bytes(std::span<const char>(s, n));
}

/// The I/O backend of the current thread's runtime (IoUring or Epoll; never Auto). Throws
/// RuntimeError outside a runtime.
IoBackend current_backend();

}  // namespace rill::io

template <>
struct std::is_error_code_enum<rill::io::Errc> : std::true_type {};

namespace rill::detail {

struct IoOp;
struct IoHandle;

// Out-of-line operation protocol (runtime/src/io/op.cpp and the files it names). An IoOp is created by one of the
// io_* factories, then driven by IoLeaf; see docs/ARCHITECTURE.md "Writing a leaf awaiter".
/// True when `op` is complete (it may be completed right here: an epoll-mode socket operation
/// tries its non-blocking syscall when the socket is ready; a synchronous one runs).
bool io_op_try(IoOp* op) noexcept;
/// Submits the operation (or registers for readiness) with the current task's waker. Returns
/// false when it completed meanwhile (then the awaiter resumes at once).
bool io_op_arm(IoOp* op) noexcept;
/// The poll hook: true when complete (an epoll-mode operation retries here).
bool io_op_poll(IoOp* op) noexcept;
/// Drops the operation: frees it, or orphans it and issues an async cancel when the kernel
/// still owns it (it is then freed when its completion arrives).
void io_op_release(IoOp* op) noexcept;
/// The outcome: >= 0 a value (bytes, fd), < 0 an encoded error (see io_error()). Takes
/// ownership of an fd result (accept, open): an fd never taken is closed by io_op_release.
std::int64_t io_op_result(IoOp* op) noexcept;
/// The operation's buffer (read data, statx output, ...).
std::byte* io_op_data(IoOp* op) noexcept;
/// The peer / source address an accept or recv_from stored (sockaddr_storage*), and its length.
const void* io_op_addr(const IoOp* op, std::uint32_t* len) noexcept;
/// Converts an encoded error result to an error_code.
std::error_code io_error(std::int64_t res) noexcept;
/// Operations whose awaiter is gone but whose completion has not arrived yet (process-wide;
/// each is freed by its completion). For tests and metrics: proves cancelled operations stay
/// alive until the kernel is done, and are then freed.
std::size_t io_orphaned_ops() noexcept;

// Operation factories (runtime/src/io/op_factory.cpp). Each copies what it needs (bytes to write, the
// address, paths) into the operation; none keeps a pointer into the caller's memory.
IoOp* io_recv(IoHandle* h, std::size_t cap, bool exact);
IoOp* io_send(IoHandle* h, const void* data, std::size_t len, bool all);
IoOp* io_accept(IoHandle* h);
IoOp* io_connect(IoHandle* h, const void* addr, std::uint32_t len);
IoOp* io_recv_from(IoHandle* h, std::size_t cap);
IoOp* io_send_to(IoHandle* h, const void* data, std::size_t len, const void* addr,
                 std::uint32_t addr_len);
IoOp* io_shutdown(IoHandle* h, int how);
IoOp* io_read_at(IoHandle* h, std::size_t cap, std::int64_t off, bool exact);
IoOp* io_write_at(IoHandle* h, const void* data, std::size_t len, std::int64_t off);
IoOp* io_fsync(IoHandle* h, bool datasync);
IoOp* io_statx(IoHandle* h, const char* path, bool follow);
IoOp* io_openat(const char* path, int flags, unsigned mode);
IoOp* io_mkdir(const char* path, unsigned mode);
IoOp* io_unlink(const char* path, bool dir);
IoOp* io_rename(const char* from, const char* to);
/// Wraps an fd in a handle for the current runtime (epoll sockets: made non-blocking and
/// registered). `stream`: a byte-stream socket (TCP, Unix stream), whose short reads and writes
/// tell that it was drained or filled. On failure the fd is closed and the error returned.
/// Outside a runtime: io::Errc::not_in_runtime.
io::Result<std::shared_ptr<IoHandle>> make_handle(int fd, bool socket, bool stream);
/// The fd of a handle (-1 when empty).
int handle_fd(const IoHandle* h) noexcept;

/// Base of every rill I/O awaiter: holds the operation and follows the leaf contract (the
/// operation is created and tried in await_ready, armed in await_suspend, re-checked by the poll
/// hook, released by the destructor, consumed in await_resume by the derived class). Movable
/// until it is awaited (so combinators can own it); never move one a coroutine is suspended on.
class IoLeaf : protected Leaf {
 public:
  IoLeaf() noexcept = default;
  IoLeaf(IoLeaf&& o) noexcept : Leaf(), op_(std::exchange(o.op_, nullptr)) {}
  IoLeaf(const IoLeaf&) = delete;
  IoLeaf& operator=(const IoLeaf&) = delete;
  ~IoLeaf() {
    if (op_) io_op_release(op_);
  }

  bool await_suspend(std::coroutine_handle<> h) noexcept {
    if (must_yield) {
      must_yield = false;
      suspend_yield(h);
      return true;
    }
    if (!io_op_arm(op_)) return false;
    suspend_here(h, [](Resumable* self) noexcept {
      auto* me = static_cast<IoLeaf*>(static_cast<Leaf*>(self));
      if (io_op_poll(me->op_)) me->resume();
    });
    return true;
  }

 protected:
  /// await_ready helper: adopts `op` and reports whether it completed without suspending
  /// (spending one unit of budget, like every rill leaf).
  bool start(IoOp* op) noexcept {
    op_ = op;
    if (io_op_try(op_)) return ready_spend();
    return false;
  }
  std::int64_t result() noexcept { return io_op_result(op_); }
  IoOp* op_ = nullptr;
};

}  // namespace rill::detail

namespace rill::io {

/// Awaitable read of up to `buf.size()` bytes (a socket read, or a file read at an offset).
/// Yields the number of bytes read (0: end of stream, or an empty buffer) or the error. With
/// `exact`, keeps reading until the buffer is full (io::Errc::unexpected_eof when the stream ends
/// first). The bytes are copied into `buf` when the awaiting coroutine resumes, so `buf` must stay
/// valid until then; if the awaiter is destroyed first (cancellation) nothing is written to `buf`.
/// Built by TcpStream::read, File::read and friends. Mirrors tokio's AsyncReadExt::read/read_exact.
class [[nodiscard]] ReadOp : public detail::IoLeaf {
 public:
  /// `off`: -2 stream read (recv), -1 file read at the current position, >= 0 a file offset.
  ReadOp(detail::IoHandle* h, std::span<std::byte> buf, bool exact, std::int64_t off = -2) noexcept
      : h_(h), buf_(buf), exact_(exact), off_(off) {}
  bool await_ready() {
    return start(off_ == -2 ? detail::io_recv(h_, buf_.size(), exact_)
                            : detail::io_read_at(h_, buf_.size(), off_, exact_));
  }
  io::Result<std::size_t> await_resume() noexcept {
    const std::int64_t r = result();
    if (r < 0) return Unexpected{detail::io_error(r)};
    if (r > 0) std::memcpy(buf_.data(), detail::io_op_data(op_), static_cast<std::size_t>(r));
    return static_cast<std::size_t>(r);
  }

 private:
  detail::IoHandle* h_;
  std::span<std::byte> buf_;
  bool exact_;
  std::int64_t off_;
};

/// Awaitable write of `buf` (copied into the operation when it starts: `buf` may be freed as
/// soon as the await begins). `All = false`: one write, yields the bytes written (maybe fewer
/// than buf.size()). `All = true`: writes everything (partial writes continue inside the driver)
/// and yields nothing; io::Errc::write_zero if the peer accepts no bytes. File writes always
/// write everything. Mirrors tokio's AsyncWriteExt::write/write_all.
template <bool All>
class [[nodiscard]] WriteOp : public detail::IoLeaf {
 public:
  /// `off`: -2 stream write (send), -1 file write at the current position, >= 0 a file offset.
  WriteOp(detail::IoHandle* h, std::span<const std::byte> buf, std::int64_t off = -2) noexcept
      : h_(h), buf_(buf), off_(off) {}
  bool await_ready() {
    return start(off_ == -2 ? detail::io_send(h_, buf_.data(), buf_.size(), All)
                            : detail::io_write_at(h_, buf_.data(), buf_.size(), off_));
  }
  auto await_resume() noexcept {
    const std::int64_t r = result();
    if constexpr (All) {
      if (r < 0) return io::Result<void>(Unexpected{detail::io_error(r)});
      return io::Result<void>();
    } else {
      if (r < 0) return io::Result<std::size_t>(Unexpected{detail::io_error(r)});
      return io::Result<std::size_t>(static_cast<std::size_t>(r));
    }
  }

 private:
  detail::IoHandle* h_;
  std::span<const std::byte> buf_;
  std::int64_t off_;
};

/// Awaitable for a ready-made operation (created eagerly; destroying the awaiter before the
/// await releases it). Yields the raw result: >= 0 a value, < 0 an encoded error (convert with
/// detail::io_error). data() exposes the operation's buffer (statx output) until the awaiter is
/// destroyed. Building block of rill::fs and the socket types.
class [[nodiscard]] RawOp : public detail::IoLeaf {
 public:
  explicit RawOp(detail::IoOp* op) noexcept { op_ = op; }
  bool await_ready() noexcept { return start(op_); }
  std::int64_t await_resume() noexcept { return result(); }
  std::byte* data() noexcept { return detail::io_op_data(op_); }
};

/// Awaitable for an operation whose only outcome is success or an error (shutdown, connect,
/// fsync, mkdir, unlink, rename). Yields io::Result<void>.
class [[nodiscard]] UnitOp : public detail::IoLeaf {
 public:
  explicit UnitOp(detail::IoOp* op) noexcept { op_ = op; }
  bool await_ready() noexcept { return start(op_); }
  io::Result<void> await_resume() noexcept {
    const std::int64_t r = result();
    if (r < 0) return Unexpected{detail::io_error(r)};
    return {};
  }
};

}  // namespace rill::io

// io/op_sync.cpp: the synchronous bodies of operations: one syscall (or a loop of them for
// write_all / read_exact) run on the calling thread. Three modes use them: Ready (epoll: the
// socket is non-blocking and its registration said ready, so a body returns -EAGAIN when the
// readiness was stale, keeping the progress of an `all` op), Blocking (a blocking-pool thread
// runs the body: files under epoll, or opcodes the ring lacks) and Sync (done at once, e.g.
// shutdown(2)). Results follow io_uring's convention: >= 0 on success, -errno, or an encoded
// rill error (enc()).
#include "io/op_internal.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

namespace rill::detail {

char* path1(IoOp* op) noexcept {
  return reinterpret_cast<char*>(op->data() + (op->kind == OpKind::Statx ? 256 : 0));
}

bool is_stream_write(OpKind k) noexcept {
  return k == OpKind::Send || k == OpKind::WriteAt;
}

bool drained_by(const IoOp* op) noexcept {
  return op->mode == OpMode::Ready && (op->kind == OpKind::Recv || op->kind == OpKind::Send) &&
         op->h && op->h->stream;
}

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
      case OpKind::Close:
        return ::close(op->fd) < 0 ? -errno : 0;
      case OpKind::OpenRead:
        if (op->fd < 0) {
          const int fd = ::openat(AT_FDCWD, path1(op), op->flags | O_CLOEXEC, 0);
          if (fd < 0) return -errno;
          op->fd = fd;
        }
        n = ::read(op->fd, base + op->done, op->len - op->done);
        break;
    }
    // Byte-stream kinds.
    if (n < 0) {
      if (errno == EINTR) continue;
      return -errno;
    }
    if (n == 0 && op->len > op->done) {
      if (!op->all || op->to_eof) return op->done;  // EOF (reads) or a 0-byte write
      return enc(is_stream_write(op->kind) ? io::Errc::write_zero : io::Errc::unexpected_eof);
    }
    const bool short_transfer = static_cast<std::uint32_t>(n) < op->len - op->done;
    op->done += static_cast<std::uint32_t>(n);
    if (!op->all || op->done >= op->len) return op->done;
    // write_all / read_exact on an epoll stream socket: a short transfer drained (or filled) the
    // socket, so the next attempt waits for readiness instead of a syscall that would return
    // EAGAIN (op_ready.cpp).
    if (short_transfer && drained_by(op)) return -EAGAIN;
  }
}

}  // namespace rill::detail

// io/handle.cpp: IoHandle, an open fd plus how the runtime drives it (an epoll Registration, or a
// listener's accept queue on io_uring), shared by the public socket and file types. Destroying the
// handle closes the accept queue, deregisters, and closes the fd. Also the rill.io error category
// and io::current_backend().
#include "io/op_internal.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <string>

#include "scheduler/scheduler.hpp"

namespace rill::detail {

IoHandle::~IoHandle() {
  if (AcceptQueue* q = accept_q.load(std::memory_order_acquire)) accept_queue_close(q);
  if (SockState* ss = sock.exchange(nullptr, std::memory_order_acq_rel)) sock_state_close(ss, fd);
  if (reg) registration_close(reg);
  // A file on io_uring: the close rides the ring's next submission instead of a syscall of its
  // own (the kernel does the same work either way; io_uring saves the system call).
  if (fd >= 0 && !(kind == DriverKind::Uring && !socket && close_on_ring(fd))) ::close(fd);
}

void handle_shutdown_write(IoHandle* h) noexcept {
  if (h && h->fd >= 0) ::shutdown(h->fd, SHUT_WR);
}

int handle_fd(const IoHandle* h) noexcept {
  return h ? h->fd : -1;
}

io::Result<std::shared_ptr<IoHandle>> make_handle(int fd, bool socket, bool stream) {
  Driver* d = any_driver();
  if (!d) {
    ::close(fd);
    return Unexpected{io::make_error_code(io::Errc::not_in_runtime)};
  }
  auto h = std::make_shared<IoHandle>();
  h->fd = fd;
  h->kind = d->kind();
  h->socket = socket;
  h->stream = socket && stream;
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

#include "io/driver.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "rill/error.hpp"

namespace rill::detail {

namespace {
constexpr std::uint64_t kWakeToken = 1;

bool uring_forced_off() noexcept {
  const char* v = std::getenv("RILL_IO_BACKEND");
  return v && (std::string_view(v) == "epoll" || std::string_view(v) == "poll");
}
}  // namespace

Driver::Driver() {
  // Blocking on purpose: io_uring completes a read of an O_NONBLOCK fd at once with EAGAIN
  // instead of waiting, which would turn parking into spinning.
  event_fd_ = ::eventfd(0, EFD_CLOEXEC);
  if (event_fd_ < 0)
    throw RuntimeError(std::string("rill: eventfd() failed: ") + std::strerror(errno));
  if (uring_forced_off()) return;
  io_uring_params p{};
  p.flags = IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG;
  int rc = io_uring_queue_init_params(256, &ring_, &p);
  if (rc == -EINVAL) {  // older kernel: no COOP_TASKRUN
    p = {};
    rc = io_uring_queue_init_params(256, &ring_, &p);
  }
  if (rc < 0) return;  // ENOSYS, EPERM, ENOMEM...: fall back to poll(2)
  backend_ = IoBackend::Uring;
  io_uring_register_ring_fd(&ring_);  // best effort: saves an fd lookup per enter
}

Driver::~Driver() {
  if (backend_ == IoBackend::Uring) io_uring_queue_exit(&ring_);
  if (event_fd_ >= 0) ::close(event_fd_);
}

void Driver::arm_wake_read() noexcept {
  if (wake_armed_) return;
  io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
  if (!sqe) {
    io_uring_submit(&ring_);
    sqe = io_uring_get_sqe(&ring_);
    if (!sqe) return;
  }
  io_uring_prep_read(sqe, event_fd_, &wake_buf_, sizeof wake_buf_, 0);
  io_uring_sqe_set_data64(sqe, kWakeToken);
  wake_armed_ = true;
}

void Driver::reap() noexcept {
  io_uring_cqe* cqe;
  unsigned head, n = 0;
  io_uring_for_each_cqe(&ring_, head, cqe) {
    if (cqe->user_data == kWakeToken) {
      wake_armed_ = false;  // re-armed by the next park()
    } else {
      ++ready_count_;
      if (inflight_) --inflight_;
    }
    ++n;
  }
  if (n) io_uring_cq_advance(&ring_, n);
}

void Driver::park(std::int64_t timeout_ns) noexcept {
  if (backend_ == IoBackend::Poll) {
    pollfd pfd{event_fd_, POLLIN, 0};
    const int ms = timeout_ns < 0 ? -1 : static_cast<int>((timeout_ns + 999'999) / 1'000'000);
    if (::poll(&pfd, 1, ms) > 0 && (pfd.revents & POLLIN)) {
      std::uint64_t v;  // one read returns and resets the whole counter
      [[maybe_unused]] auto rc = ::read(event_fd_, &v, sizeof v);
    }
    return;
  }
  arm_wake_read();
  io_uring_cqe* cqe = nullptr;
  if (timeout_ns == 0) {
    io_uring_submit(&ring_);
  } else if (timeout_ns < 0) {
    io_uring_submit_and_wait(&ring_, 1);
  } else {
    __kernel_timespec ts{};
    ts.tv_sec = timeout_ns / 1'000'000'000;
    ts.tv_nsec = timeout_ns % 1'000'000'000;
    io_uring_submit_and_wait_timeout(&ring_, &cqe, 1, &ts, nullptr);
  }
  reap();
}

void Driver::unpark() noexcept {
  const std::uint64_t one = 1;
  [[maybe_unused]] auto rc = ::write(event_fd_, &one, sizeof one);
}

void Driver::poll() noexcept {
  if (backend_ != IoBackend::Uring || inflight_ == 0) return;
  if (IO_URING_READ_ONCE(*ring_.sq.kflags) & IORING_SQ_TASKRUN) io_uring_get_events(&ring_);
  reap();
}

}  // namespace rill::detail

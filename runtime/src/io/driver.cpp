// io/driver.cpp: ring / epoll set-up, parking, submission batching, completion dispatch,
// cross-thread requests and shutdown draining. See driver.hpp.
#include "io/driver.hpp"

#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "io/op.hpp"
#include "rill/error.hpp"

namespace rill::detail {

namespace {
constexpr std::uint64_t kWakeToken = 1;
constexpr std::uint64_t kCancelToken = 2;
constexpr unsigned kSqEntries = 1024;
constexpr unsigned kCqEntries = 8192;
// liburing's INT_FLAG_REG_RING (src/int_flags.h): the ring fd was registered by some thread.
constexpr std::uint8_t kIntFlagRegRing = 1;

std::uint64_t this_tid() noexcept {
  thread_local const std::uint64_t tid = static_cast<std::uint64_t>(::syscall(SYS_gettid));
  return tid;
}

bool env_forces_epoll() noexcept {
  const char* v = std::getenv("RILL_IO_BACKEND");
  return v && (std::string_view(v) == "epoll" || std::string_view(v) == "poll");
}

int setup_ring(io_uring* ring) noexcept {
  io_uring_params p{};
  p.flags = IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG | IORING_SETUP_CQSIZE;
  p.cq_entries = kCqEntries;
  int rc = io_uring_queue_init_params(kSqEntries, ring, &p);
  if (rc == -EINVAL) {  // older kernel: no COOP_TASKRUN
    p = {};
    p.flags = IORING_SETUP_CQSIZE;
    p.cq_entries = kCqEntries;
    rc = io_uring_queue_init_params(kSqEntries, ring, &p);
  }
  return rc;
}

/// Global lock for registration lists (registrations are created and closed from any thread;
/// the lock also orders a driver's death against handles closed later).
std::mutex g_reg_mu;
}  // namespace

DriverKind Driver::choose(IoBackend requested) {
  if (requested == IoBackend::Epoll) return DriverKind::Epoll;
  if (requested == IoBackend::Auto && env_forces_epoll()) return DriverKind::Epoll;
  static const int probe = [] {
    io_uring r{};
    int rc = setup_ring(&r);
    if (rc >= 0) io_uring_queue_exit(&r);
    return rc;
  }();
  if (probe >= 0) return DriverKind::Uring;
  if (requested == IoBackend::IoUring)
    throw RuntimeError(std::string("rill: io_uring requested but the kernel refused it: ") +
                       std::strerror(-probe));
  return DriverKind::Epoll;  // ENOSYS, EPERM (seccomp), kernel.io_uring_disabled, ENOMEM
}

Driver::Driver(DriverKind kind) : kind_(kind) {
  // Blocking on purpose: io_uring completes a read of an O_NONBLOCK fd at once with EAGAIN
  // instead of waiting, which would turn parking into spinning.
  event_fd_ = ::eventfd(0, EFD_CLOEXEC);
  if (event_fd_ < 0)
    throw RuntimeError(std::string("rill: eventfd() failed: ") + std::strerror(errno));
  if (kind_ == DriverKind::Uring) {
    int rc = setup_ring(&ring_);
    if (rc < 0) {
      ::close(event_fd_);
      throw RuntimeError(std::string("rill: io_uring_queue_init failed: ") + std::strerror(-rc));
    }
    ring_ok_ = true;
    if (io_uring_probe* pr = io_uring_get_probe_ring(&ring_)) {
      for (int op = 0; op < 256 && op <= pr->last_op; ++op)
        if (io_uring_opcode_supported(pr, op)) probe_[op / 64] |= std::uint64_t{1} << (op % 64);
      io_uring_free_probe(pr);
    }
    return;
  }
  epfd_ = ::epoll_create1(EPOLL_CLOEXEC);
  if (epfd_ < 0) {
    const int e = errno;
    ::close(event_fd_);
    throw RuntimeError(std::string("rill: epoll_create1 failed: ") + std::strerror(e));
  }
  epoll_event ev{};
  ev.events = EPOLLIN;  // level-triggered; park() reads the counter
  ev.data.ptr = nullptr;
  ::epoll_ctl(epfd_, EPOLL_CTL_ADD, event_fd_, &ev);
}

Driver::~Driver() {
  shutdown();
  if (ring_ok_) {
    if ((ring_.int_flags & kIntFlagRegRing) && owner_tid_ == this_tid())
      io_uring_unregister_ring_fd(&ring_);
    io_uring_queue_exit(&ring_);
  }
  if (epfd_ >= 0) ::close(epfd_);
  if (event_fd_ >= 0) ::close(event_fd_);
}

bool Driver::supports(std::uint8_t opcode) const noexcept {
  return (probe_[opcode / 64] >> (opcode % 64)) & 1;
}

// ---- io_uring ----------------------------------------------------------------------------------

void Driver::enter_thread() noexcept {
  // Registered ring fds are per thread: register from the thread that drives the core, and stop
  // using the registration if another thread takes the core over (block_in_place, shutdown).
  const std::uint64_t tid = this_tid();
  if (tid == owner_tid_ || reg_fd_off_) return;
  if (owner_tid_ == 0) {
    owner_tid_ = tid;
    io_uring_register_ring_fd(&ring_);  // best effort: saves an fd lookup per enter
    return;
  }
  reg_fd_off_ = true;
  ring_.int_flags &= static_cast<std::uint8_t>(~kIntFlagRegRing);
  ring_.enter_ring_fd = ring_.ring_fd;
}

io_uring_sqe* Driver::sqe() noexcept {
  io_uring_sqe* s = io_uring_get_sqe(&ring_);
  while (!s) {
    enter_thread();
    io_uring_submit(&ring_);
    s = io_uring_get_sqe(&ring_);
    if (!s) reap();  // the CQ is backed up: make room
  }
  return s;
}

void Driver::push(IoOp* op) noexcept {
  io_uring_sqe* s = sqe();
  op_prep(op, s);
  io_uring_sqe_set_data64(s, op->key());
  ++inflight_;
}

void Driver::cancel_local(std::uint64_t key) noexcept {
  io_uring_sqe* s = sqe();
  io_uring_prep_cancel64(s, key, 0);
  io_uring_sqe_set_data64(s, kCancelToken);
}

void Driver::submit_remote(IoOp* op) noexcept {
  {
    std::lock_guard lk(remote_mu_);
    remote_submit_.push_back(op);
  }
  remote_pending_.store(true, std::memory_order_release);
  unpark();
}

void Driver::cancel_remote(std::uint64_t key) noexcept {
  {
    std::lock_guard lk(remote_mu_);
    remote_cancel_.push_back(key);
  }
  remote_pending_.store(true, std::memory_order_release);
  unpark();
}

void Driver::drain_remote() noexcept {
  if (!remote_pending_.load(std::memory_order_acquire)) return;
  std::vector<IoOp*> subs;
  std::vector<std::uint64_t> cancels;
  {
    std::lock_guard lk(remote_mu_);
    remote_pending_.store(false, std::memory_order_relaxed);
    subs.swap(remote_submit_);
    cancels.swap(remote_cancel_);
  }
  // Submissions first: a cancel queued after its own submission must follow it in the SQ.
  for (IoOp* op : subs)
    push(op);
  for (std::uint64_t k : cancels)
    cancel_local(k);
}

void Driver::arm_wake_read() noexcept {
  if (wake_armed_) return;
  io_uring_sqe* s = sqe();
  io_uring_prep_read(s, event_fd_, &wake_buf_, sizeof wake_buf_, 0);
  io_uring_sqe_set_data64(s, kWakeToken);
  wake_armed_ = true;
}

void Driver::reap() noexcept {
  for (;;) {
    io_uring_cqe* cqe;
    unsigned head, n = 0, ready = 0;
    io_uring_for_each_cqe(&ring_, head, cqe) {
      const std::uint64_t ud = cqe->user_data;
      if (ud == kWakeToken) {
        wake_armed_ = false;  // re-armed by the next park()
      } else if (ud != kCancelToken) {
        ++ready;
        if (!(cqe->flags & IORING_CQE_F_MORE) && inflight_) --inflight_;
        op_on_cqe(this, IoOp::from_key(ud), cqe->res, cqe->flags);
      }
      ++n;
    }
    if (ready)
      ready_count_.store(ready_count_.load(std::memory_order_relaxed) + ready,
                         std::memory_order_relaxed);
    if (n) io_uring_cq_advance(&ring_, n);
    // Completions the kernel could not post (CQ full) wait in its overflow list: flush them.
    if (!(IO_URING_READ_ONCE(*ring_.sq.kflags) & IORING_SQ_CQ_OVERFLOW)) return;
    io_uring_get_events(&ring_);
  }
}

// ---- epoll -------------------------------------------------------------------------------------

int Driver::add(Registration* r) noexcept {
  std::lock_guard lk(g_reg_mu);
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
  ev.data.ptr = r;
  if (::epoll_ctl(epfd_, EPOLL_CTL_ADD, r->fd, &ev) < 0) return -errno;
  r->drv = this;
  r->next = reg_head_;
  if (reg_head_) reg_head_->prev = r;
  reg_head_ = r;
  ++registrations_;
  return 0;
}

void Driver::remove(Registration* r) noexcept {
  // Caller holds g_reg_mu (registration_close).
  ::epoll_ctl(epfd_, EPOLL_CTL_DEL, r->fd, nullptr);
  if (r->prev)
    r->prev->next = r->next;
  else
    reg_head_ = r->next;
  if (r->next) r->next->prev = r->prev;
  r->prev = r->next = nullptr;
  --registrations_;
  release_.push_back(r);
}

void registration_close(Registration* r) noexcept {
  Waker w0, w1;
  {
    std::lock_guard lk(g_reg_mu);
    r->lk();
    w0 = std::move(r->waker[0]);
    w1 = std::move(r->waker[1]);
    r->unlk();
    if (r->drv) {
      r->drv->remove(r);
      r = nullptr;
    }
  }
  delete r;  // only when the driver is gone
}

void Driver::dispatch_epoll(int timeout_ms) noexcept {
  // Registrations removed before this wait cannot be returned by it: free them afterwards.
  std::vector<Registration*> to_free;
  {
    std::lock_guard lk(g_reg_mu);
    to_free.swap(release_);
  }
  epoll_event evs[256];
  const int n = ::epoll_wait(epfd_, evs, 256, timeout_ms);
  for (int i = 0; i < n; ++i) {
    auto* r = static_cast<Registration*>(evs[i].data.ptr);
    if (!r) {
      std::uint64_t v;  // one read returns and resets the whole counter
      [[maybe_unused]] auto rc = ::read(event_fd_, &v, sizeof v);
      continue;
    }
    ready_count_.store(ready_count_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    const std::uint32_t e = evs[i].events;
    std::uint64_t bits = 0;
    if (e & (EPOLLIN | EPOLLPRI)) bits |= kReadable;
    if (e & EPOLLOUT) bits |= kWritable;
    if (e & EPOLLRDHUP) bits |= kReadable | kReadClosed;
    if (e & (EPOLLHUP | EPOLLERR)) bits |= kReadable | kWritable | kReadClosed | kWriteClosed;
    auto cur = r->readiness.load(std::memory_order_acquire);
    while (!r->readiness.compare_exchange_weak(cur, (cur | bits) + kTickOne,
                                               std::memory_order_acq_rel)) {
    }
    Waker w0, w1;
    r->lk();
    if (bits & kReadable) w0 = std::move(r->waker[0]);
    if (bits & kWritable) w1 = std::move(r->waker[1]);
    r->unlk();
    w0.wake();
    w1.wake();
  }
  for (Registration* r : to_free)
    delete r;
}

// ---- parking -----------------------------------------------------------------------------------

void Driver::park(std::int64_t timeout_ns) noexcept {
  if (kind_ == DriverKind::Epoll) {
    const int ms = timeout_ns < 0 ? -1 : static_cast<int>((timeout_ns + 999'999) / 1'000'000);
    dispatch_epoll(ms);
    return;
  }
  enter_thread();
  drain_remote();
  arm_wake_read();
  io_uring_cqe* cqe = nullptr;
  if (timeout_ns == 0) {
    io_uring_submit(&ring_);
    if (IO_URING_READ_ONCE(*ring_.sq.kflags) & IORING_SQ_TASKRUN) io_uring_get_events(&ring_);
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
  if (kind_ == DriverKind::Epoll) {
    if (registrations_.load(std::memory_order_relaxed) == 0) return;
    dispatch_epoll(0);
    return;
  }
  drain_remote();
  if (io_uring_sq_ready(&ring_) > 0) {
    enter_thread();
    io_uring_submit(&ring_);  // one enter for every SQE queued since the last tick
  } else if (inflight_ == 0) {
    return;
  }
  if (IO_URING_READ_ONCE(*ring_.sq.kflags) & IORING_SQ_TASKRUN) {
    enter_thread();
    io_uring_get_events(&ring_);
  }
  reap();
}

void Driver::flush() noexcept {
  if (kind_ != DriverKind::Uring || !ring_ok_ || io_uring_sq_ready(&ring_) == 0) return;
  enter_thread();
  io_uring_submit(&ring_);
}

void Driver::shutdown() noexcept {
  if (shut_) return;
  shut_ = true;
  if (kind_ == DriverKind::Epoll) {
    std::vector<Registration*> to_free;
    {
      std::lock_guard lk(g_reg_mu);
      for (Registration* r = reg_head_; r; r = r->next)
        r->drv = nullptr;  // handles free them
      reg_head_ = nullptr;
      registrations_.store(0, std::memory_order_relaxed);
      to_free.swap(release_);
    }
    for (Registration* r : to_free)
      delete r;
    return;
  }
  if (!ring_ok_) return;
  enter_thread();
  drain_remote();
  if (inflight_ > 0) {
    // Every task is gone, so every op still in flight is orphaned: cancel them all and wait for
    // their completions, which free them. Never free an op the kernel may still write into.
    io_uring_sqe* s = sqe();
    io_uring_prep_cancel64(s, 0, IORING_ASYNC_CANCEL_ANY);
    io_uring_sqe_set_data64(s, kCancelToken);
    io_uring_submit(&ring_);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    while (inflight_ > 0 && std::chrono::steady_clock::now() < deadline) {
      __kernel_timespec ts{0, 50'000'000};
      io_uring_cqe* cqe = nullptr;
      io_uring_submit_and_wait_timeout(&ring_, &cqe, 1, &ts, nullptr);
      reap();
      drain_remote();
    }
    // Whatever is still in flight (an uncancellable disk read) is leaked on purpose.
  }
}

}  // namespace rill::detail

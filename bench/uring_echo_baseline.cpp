// uring_echo_baseline: the physical reference for rill's echo server: a minimal single-threaded
// raw liburing TCP echo loop (no runtime, no tasks, no allocation per message). Serves the same
// interface as `rill-peer-suite echo-server ADDR` so ../shared/peers/compare.sh-style rounds can
// measure it: per connection, recv (4 KiB buffer) -> send everything -> recv again; one
// io_uring_submit_and_wait per loop iteration batches every connection's SQEs.
//   uring_echo_baseline ADDR          e.g. 127.0.0.1:7300
//   URING_BASELINE_SETUP=coop|defer   ring flags: COOP_TASKRUN (rill's) or
//                                     SINGLE_ISSUER|DEFER_TASKRUN (default: defer)
//   URING_BASELINE_RECV=plain|pollfirst|multishot
//                                     how connections receive: one recv per message (default),
//                                     the same with IORING_RECVSEND_POLL_FIRST, or one multishot
//                                     recv per connection into a provided-buffer ring
#include <arpa/inet.h>
#include <liburing.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

enum Kind : unsigned { kAccept = 0, kRecv = 1, kSend = 2 };
enum class RecvMode { Plain, PollFirst, Multishot };
RecvMode g_mode = RecvMode::Plain;

// Multishot mode: one provided-buffer ring (group 0) of kBufs buffers of kBufSize bytes.
constexpr unsigned kBufs = 4096, kBufSize = 4096;
io_uring_buf_ring* g_br = nullptr;
char* g_bufs = nullptr;
void buf_return(unsigned bid) {
  io_uring_buf_ring_add(g_br, g_bufs + std::size_t{bid} * kBufSize, kBufSize, bid,
                        io_uring_buf_ring_mask(kBufs), 0);
  io_uring_buf_ring_advance(g_br, 1);
}

struct Conn {
  int fd = -1;
  unsigned len = 0, sent = 0;
  int bid = -1;  // multishot: the provided buffer being echoed
  char buf[4096];
  char* data() { return bid >= 0 ? g_bufs + std::size_t(bid) * kBufSize : buf; }
};

std::uint64_t ud(Kind k, unsigned idx) {
  return (std::uint64_t{idx} << 2) | k;
}

io_uring ring;
std::vector<Conn*> conns;

io_uring_sqe* get_sqe() {
  io_uring_sqe* s = io_uring_get_sqe(&ring);
  while (!s) {
    io_uring_submit(&ring);
    s = io_uring_get_sqe(&ring);
  }
  return s;
}

void post_recv(unsigned i) {
  io_uring_sqe* s = get_sqe();
  if (g_mode == RecvMode::Multishot) {
    io_uring_prep_recv_multishot(s, conns[i]->fd, nullptr, 0, 0);
    s->flags |= IOSQE_BUFFER_SELECT;
    s->buf_group = 0;
  } else {
    io_uring_prep_recv(s, conns[i]->fd, conns[i]->buf, sizeof conns[i]->buf, 0);
    if (g_mode == RecvMode::PollFirst) s->ioprio |= IORING_RECVSEND_POLL_FIRST;
  }
  io_uring_sqe_set_data64(s, ud(kRecv, i));
}
void post_send(unsigned i) {
  Conn* c = conns[i];
  io_uring_sqe* s = get_sqe();
  io_uring_prep_send(s, c->fd, c->data() + c->sent, c->len - c->sent, MSG_NOSIGNAL);
  io_uring_sqe_set_data64(s, ud(kSend, i));
}
void post_accept(int lfd) {
  io_uring_sqe* s = get_sqe();
  io_uring_prep_accept(s, lfd, nullptr, nullptr, SOCK_CLOEXEC);
  io_uring_sqe_set_data64(s, ud(kAccept, 0));
}
void drop(unsigned i) {
  ::close(conns[i]->fd);
  delete conns[i];
  conns[i] = nullptr;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s echo-server ADDR | ADDR\n", argv[0]);
    return 2;
  }
  std::string addr = argv[argc - 1];
  const auto colon = addr.rfind(':');
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  if (colon == std::string::npos ||
      inet_pton(AF_INET, addr.substr(0, colon).c_str(), &sa.sin_addr) != 1) {
    std::fprintf(stderr, "uring_echo_baseline: ADDR must be IPv4:port\n");
    return 2;
  }
  sa.sin_port = htons(static_cast<unsigned short>(std::atoi(addr.c_str() + colon + 1)));
  const int lfd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  ::setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::bind(lfd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) < 0 || ::listen(lfd, 1024) < 0) {
    std::perror("uring_echo_baseline: bind/listen");
    return 1;
  }
  io_uring_params p{};
  const char* setup = std::getenv("URING_BASELINE_SETUP");
  if (setup && std::string(setup) == "coop")
    p.flags = IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG;
  else
    p.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
  if (int rc = io_uring_queue_init_params(1024, &ring, &p); rc < 0) {
    std::fprintf(stderr, "uring_echo_baseline: io_uring: %s\n", std::strerror(-rc));
    return 1;
  }
  io_uring_register_ring_fd(&ring);
  if (const char* m = std::getenv("URING_BASELINE_RECV")) {
    if (std::string(m) == "pollfirst") g_mode = RecvMode::PollFirst;
    if (std::string(m) == "multishot") g_mode = RecvMode::Multishot;
  }
  if (g_mode == RecvMode::Multishot) {
    // liburing 2.3 has no io_uring_setup_buf_ring: map the ring ourselves and register it.
    void* mem = mmap(nullptr, kBufs * sizeof(io_uring_buf), PROT_READ | PROT_WRITE,
                     MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
    g_br = static_cast<io_uring_buf_ring*>(mem);
    g_bufs = static_cast<char*>(std::aligned_alloc(4096, std::size_t{kBufs} * kBufSize));
    io_uring_buf_reg reg{};
    reg.ring_addr = reinterpret_cast<std::uint64_t>(mem);
    reg.ring_entries = kBufs;
    reg.bgid = 0;
    if (mem == MAP_FAILED || !g_bufs || io_uring_register_buf_ring(&ring, &reg, 0) != 0) {
      std::fprintf(stderr, "uring_echo_baseline: cannot register the buffer ring\n");
      return 1;
    }
    for (unsigned b = 0; b < kBufs; ++b)
      io_uring_buf_ring_add(g_br, g_bufs + std::size_t{b} * kBufSize, kBufSize, b,
                            io_uring_buf_ring_mask(kBufs), static_cast<int>(b));
    io_uring_buf_ring_advance(g_br, kBufs);
  }
  std::printf("listening %s\n", addr.c_str());
  std::fflush(stdout);
  post_accept(lfd);
  for (;;) {
    io_uring_submit_and_wait(&ring, 1);
    io_uring_cqe* cqe;
    unsigned head, n = 0;
    io_uring_for_each_cqe(&ring, head, cqe) {
      ++n;
      const auto k = static_cast<Kind>(cqe->user_data & 3);
      const auto i = static_cast<unsigned>(cqe->user_data >> 2);
      const int res = cqe->res;
      if (k == kAccept) {
        post_accept(lfd);
        if (res < 0) continue;
        ::setsockopt(res, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        auto* c = new Conn;
        c->fd = res;
        conns.push_back(c);
        post_recv(static_cast<unsigned>(conns.size() - 1));
      } else if (k == kRecv) {
        if (g_mode == RecvMode::Multishot) {
          if (res <= 0) {
            if (res == -ENOBUFS) {  // the ring ran dry: re-arm
              post_recv(i);
              continue;
            }
            drop(i);
            continue;
          }
          // One message in flight per connection (the echo load's closed loop), so one buffer
          // per connection; a pipelining client is outside this reference loop's scope.
          if (conns[i]->bid >= 0) {
            std::fprintf(stderr,
                         "uring_echo_baseline: multishot mode needs one message in "
                         "flight per connection\n");
            return 1;
          }
          conns[i]->bid = static_cast<int>(cqe->flags >> IORING_CQE_BUFFER_SHIFT);
          conns[i]->len = static_cast<unsigned>(res);
          conns[i]->sent = 0;
          post_send(i);
          if (!(cqe->flags & IORING_CQE_F_MORE)) post_recv(i);
          continue;
        }
        if (res <= 0) {
          drop(i);
          continue;
        }
        conns[i]->len = static_cast<unsigned>(res);
        conns[i]->sent = 0;
        post_send(i);
      } else {
        if (res <= 0) {
          drop(i);
          continue;
        }
        conns[i]->sent += static_cast<unsigned>(res);
        if (conns[i]->sent < conns[i]->len) {
          post_send(i);
        } else if (g_mode == RecvMode::Multishot) {
          buf_return(static_cast<unsigned>(conns[i]->bid));
          conns[i]->bid = -1;
        } else {
          post_recv(i);
        }
      }
    }
    io_uring_cq_advance(&ring, n);
  }
}

// Cancel safety of every socket read (TcpStream, UnixStream, their halves, UdpSocket): thousands
// of reads lose a select against short timers or yields while the peer streams data, and the
// bytes (or datagrams) that arrive must be exactly the ones sent, in order. Also: a socket whose
// cancelled operation is still in the kernel is closed promptly when dropped, and dropping an
// OwnedWriteHalf shuts the write side down. Both flavors, both backends.
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <rill/net/tcp.hpp>
#include <rill/net/udp.hpp>
#include <rill/net/unix.hpp>
#include <rill/rill.hpp>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using rill::net::TcpListener;
using rill::net::TcpStream;
using rill::net::UdpSocket;
using rill::net::UnixStream;

namespace {

#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
constexpr std::size_t kScale = 4;
#else
constexpr std::size_t kScale = 1;
#endif

enum class Method {
  TcpRead,
  TcpReadExact,
  TcpSplitRead,
  TcpSplitReadExact,
  TcpOwnedRead,
  TcpOwnedReadExact,
  UnixRead,
  UnixReadExact,
  UnixOwnedRead,
  UdpRecvFrom,
  UdpRecv,
};

const char* method_name(Method m) {
  switch (m) {
    case Method::TcpRead:
      return "TcpStream_read";
    case Method::TcpReadExact:
      return "TcpStream_read_exact";
    case Method::TcpSplitRead:
      return "ReadHalf_read";
    case Method::TcpSplitReadExact:
      return "ReadHalf_read_exact";
    case Method::TcpOwnedRead:
      return "OwnedReadHalf_read";
    case Method::TcpOwnedReadExact:
      return "OwnedReadHalf_read_exact";
    case Method::UnixRead:
      return "UnixStream_read";
    case Method::UnixReadExact:
      return "UnixStream_read_exact";
    case Method::UnixOwnedRead:
      return "UnixOwnedReadHalf_read";
    case Method::UdpRecvFrom:
      return "UdpSocket_recv_from";
    case Method::UdpRecv:
      return "UdpSocket_recv";
  }
  return "?";
}

struct Cfg {
  Method method;
  bool multi;
  rill::IoBackend backend;
};

rill::Runtime make_rt(bool multi, rill::IoBackend backend) {
  auto b = multi ? rill::Builder::new_multi_thread() : rill::Builder::new_current_thread();
  if (multi) b.worker_threads(2);
  b.io_backend(backend);
  return b.build();
}

/// The loser of the race: a short timer or a couple of yields, varied so that reads are cancelled
/// at every stage (not yet submitted, in flight, completed but not yet resumed).
rill::Task<void> short_timer(std::size_t i) {
  switch (i % 4) {
    case 0:
      co_await rill::yield_now();
      break;
    case 1:
      co_await rill::sleep(0ms);
      break;
    case 2:
      co_await rill::yield_now();
      co_await rill::yield_now();
      break;
    default:
      co_await rill::sleep(1ms);
      break;
  }
}

std::byte pattern_byte(std::size_t i) {
  return static_cast<std::byte>((i * 131 + (i >> 9)) & 0xFF);
}

/// What the reader observed: bytes in arrival order, how many reads lost a race.
struct Observed {
  std::vector<std::byte> bytes;
  std::size_t cancelled = 0;
  std::size_t reads = 0;
  bool error = false;
};

/// Reads `total` bytes with `read(buf)` (a stream method), each read racing short_timer.
template <class ReadFn>
rill::Task<void> stream_reader(ReadFn read, std::size_t total, std::size_t chunk, Observed* out) {
  std::vector<std::byte> buf(chunk);
  std::size_t i = 0;
  while (out->bytes.size() < total) {
    auto r = co_await rill::select(read(std::span<std::byte>(buf)), short_timer(i++));
    ++out->reads;
    if (r.index() == 1) {
      ++out->cancelled;
      continue;
    }
    auto& res = std::get<0>(r);
    if (!res || *res == 0) {
      out->error = true;
      co_return;
    }
    out->bytes.insert(out->bytes.end(), buf.begin(), buf.begin() + static_cast<long>(*res));
  }
}

/// Writes `total` pattern bytes in bursts of varying size, yielding between bursts.
template <class WriteFn>
rill::Task<void> stream_writer(WriteFn write_all, std::size_t total) {
  std::vector<std::byte> data(total);
  for (std::size_t i = 0; i < total; ++i)
    data[i] = pattern_byte(i);
  std::size_t off = 0, k = 0;
  while (off < total) {
    const std::size_t n = std::min<std::size_t>(total - off, 512 + (k * 7919) % 12000);
    auto w = co_await write_all(std::span<const std::byte>(data.data() + off, n));
    if (!w) {
      ADD_FAILURE() << "write_all: " << w.error().message();
      co_return;
    }
    off += n;
    if (++k % 3 == 0)
      co_await rill::sleep(0ms);
    else
      co_await rill::yield_now();
  }
}

void check_stream(const Observed& o, std::size_t total) {
  ASSERT_FALSE(o.error);
  ASSERT_EQ(o.bytes.size(), total);
  std::size_t bad = 0;
  for (std::size_t i = 0; i < total; ++i)
    if (o.bytes[i] != pattern_byte(i)) {
      ++bad;
      if (bad == 1) ADD_FAILURE() << "first mismatch at byte " << i;
    }
  EXPECT_EQ(bad, 0u);
}

class ReadStorm : public ::testing::TestWithParam<Cfg> {};

std::vector<Cfg> all_cfgs() {
  std::vector<Cfg> v;
  for (Method m :
       {Method::TcpRead, Method::TcpReadExact, Method::TcpSplitRead, Method::TcpSplitReadExact,
        Method::TcpOwnedRead, Method::TcpOwnedReadExact, Method::UnixRead, Method::UnixReadExact,
        Method::UnixOwnedRead, Method::UdpRecvFrom, Method::UdpRecv})
    for (bool multi : {true, false})
      for (auto b : {rill::IoBackend::Auto, rill::IoBackend::Epoll})
        v.push_back({m, multi, b});
  return v;
}

INSTANTIATE_TEST_SUITE_P(Net, ReadStorm, ::testing::ValuesIn(all_cfgs()), [](const auto& i) {
  return std::string(method_name(i.param.method)) + (i.param.multi ? "_multi_" : "_current_") +
         (i.param.backend == rill::IoBackend::Epoll ? "epoll" : "auto");
});

// Two connected stream sockets of the method's family.
template <class S>
struct Pair {
  S reader, writer;
};
rill::Task<std::optional<Pair<TcpStream>>> tcp_pair() {
  auto l = TcpListener::bind("127.0.0.1:0");
  if (!l) co_return std::nullopt;
  auto connecting = rill::spawn(TcpStream::connect(*l->local_addr()));
  auto a = co_await l->accept();
  auto c = co_await connecting;
  if (!a || !c) co_return std::nullopt;
  co_return Pair<TcpStream>{std::move(a->first), std::move(*c)};
}

constexpr std::size_t kStreamTotal = 2 * 1000 * 1000 / kScale;  // a multiple of kExactChunk
constexpr std::size_t kExactChunk = 1000;

template <class S, class Reader>
rill::Task<void> run_stream_storm(S writer, Reader read, std::size_t chunk, Observed* out) {
  auto w = rill::spawn([](S s) -> rill::Task<void> {
    co_await stream_writer([&s](std::span<const std::byte> b) { return s.write_all(b); },
                           kStreamTotal);
  }(std::move(writer)));
  co_await stream_reader(read, kStreamTotal, chunk, out);
  co_await w;
}

// Datagrams: each carries its sequence number; the sender waits for the receiver to catch up
// every few datagrams, so the kernel's receive buffer never overflows (UDP may drop then).
constexpr std::size_t kDatagrams = 5000 / kScale;

rill::Task<void> run_udp_storm(bool connected, Observed* out, std::size_t* got_seq_ok) {
  auto rx = UdpSocket::bind("127.0.0.1:0");
  auto tx = UdpSocket::bind("127.0.0.1:0");
  if (!rx || !tx) {
    ADD_FAILURE() << "bind";
    co_return;
  }
  const auto rx_addr = *rx->local_addr();
  const auto tx_addr = *tx->local_addr();
  if (connected) (void)rx->connect(tx_addr);
  std::atomic<std::size_t> received{0};
  auto sender = rill::spawn([](UdpSocket s, rill::net::SocketAddr to,
                               std::atomic<std::size_t>* received) -> rill::Task<void> {
    std::uint8_t msg[64];
    for (std::size_t i = 0; i < kDatagrams; ++i) {
      while (i >= received->load() + 64)
        co_await rill::yield_now();
      const std::size_t len = 8 + i % 50;
      for (std::size_t k = 0; k < len; ++k)
        msg[k] = static_cast<std::uint8_t>(i >> (8 * (k % 8)));
      auto r = co_await s.send_to(std::as_bytes(std::span<const std::uint8_t>(msg, len)), to);
      if (!r) {
        ADD_FAILURE() << "send_to: " << r.error().message();
        co_return;
      }
    }
  }(std::move(*tx), rx_addr, &received));
  std::byte buf[64];
  std::size_t expect = 0, i = 0, idle = 0;
  while (expect < kDatagrams) {
    if (++idle > 5000) {  // nothing for thousands of rounds: the next datagram was lost
      ADD_FAILURE() << "datagram " << expect << " never arrived";
      break;
    }
    std::optional<std::size_t> n;
    if (connected) {
      auto r = co_await rill::select(
          [](UdpSocket* s, std::span<std::byte> b) -> rill::Task<rill::io::Result<std::size_t>> {
            co_return co_await s->recv(b);
          }(&*rx, buf),
          short_timer(i++));
      ++out->reads;
      if (r.index() == 1) {
        ++out->cancelled;
        continue;
      }
      if (!std::get<0>(r)) break;
      n = *std::get<0>(r);
    } else {
      auto r = co_await rill::select(
          [](UdpSocket* s, std::span<std::byte> b)
              -> rill::Task<rill::io::Result<std::pair<std::size_t, rill::net::SocketAddr>>> {
            co_return co_await s->recv_from(b);
          }(&*rx, buf),
          short_timer(i++));
      ++out->reads;
      if (r.index() == 1) {
        ++out->cancelled;
        continue;
      }
      if (!std::get<0>(r)) break;
      n = std::get<0>(r)->first;
      EXPECT_EQ(std::get<0>(r)->second.port(), tx_addr.port());
    }
    // The datagram must be the next one in sequence, whole.
    const std::size_t len = 8 + expect % 50;
    bool ok = *n == len;
    for (std::size_t k = 0; ok && k < len; ++k)
      ok = buf[k] == static_cast<std::byte>(static_cast<std::uint8_t>(expect >> (8 * (k % 8))));
    if (!ok) {
      ADD_FAILURE() << "datagram " << expect << " lost or damaged (got " << *n << " bytes)";
      break;
    }
    ++expect;
    idle = 0;
    received.store(expect);
  }
  *got_seq_ok = expect;
  received.store(kDatagrams + 64);  // release the sender if we stopped early
  co_await sender;
}

TEST_P(ReadStorm, BytesSurviveCancelledReads) {
  const Cfg c = GetParam();
  auto rt = make_rt(c.multi, c.backend);
  Observed o;
  std::size_t udp_ok = 0;
  rt.block_on([](Cfg c, Observed* o, std::size_t* udp_ok) -> rill::Task<void> {
    using B = std::span<std::byte>;
    switch (c.method) {
      case Method::TcpRead:
      case Method::TcpReadExact: {
        auto p = co_await tcp_pair();
        if (!p) break;
        const bool exact = c.method == Method::TcpReadExact;
        TcpStream* r = &p->reader;
        co_await run_stream_storm(
            std::move(p->writer),
            [r, exact](B b) -> rill::Task<rill::io::Result<std::size_t>> {
              if (exact) co_return co_await r->read_exact(b);
              co_return co_await r->read(b);
            },
            exact ? kExactChunk : 4096, o);
        break;
      }
      case Method::TcpSplitRead:
      case Method::TcpSplitReadExact: {
        auto p = co_await tcp_pair();
        if (!p) break;
        const bool exact = c.method == Method::TcpSplitReadExact;
        auto halves = p->reader.split();
        auto* rh = &halves.first;
        co_await run_stream_storm(
            std::move(p->writer),
            [rh, exact](B b) -> rill::Task<rill::io::Result<std::size_t>> {
              if (exact) co_return co_await rh->read_exact(b);
              co_return co_await rh->read(b);
            },
            exact ? kExactChunk : 4096, o);
        break;
      }
      case Method::TcpOwnedRead:
      case Method::TcpOwnedReadExact: {
        auto p = co_await tcp_pair();
        if (!p) break;
        const bool exact = c.method == Method::TcpOwnedReadExact;
        auto [rh, wh] = std::move(p->reader).into_split();
        auto* r = &rh;
        co_await run_stream_storm(
            std::move(p->writer),
            [r, exact](B b) -> rill::Task<rill::io::Result<std::size_t>> {
              if (exact) co_return co_await r->read_exact(b);
              co_return co_await r->read(b);
            },
            exact ? kExactChunk : 4096, o);
        break;
      }
      case Method::UnixRead:
      case Method::UnixReadExact:
      case Method::UnixOwnedRead: {
        auto p = UnixStream::pair();
        if (!p) {
          ADD_FAILURE() << "pair";
          break;
        }
        const bool exact = c.method == Method::UnixReadExact;
        if (c.method == Method::UnixOwnedRead) {
          auto [rh, wh] = std::move(p->first).into_split();
          auto* r = &rh;
          co_await run_stream_storm(
              std::move(p->second),
              [r](B b) -> rill::Task<rill::io::Result<std::size_t>> {
                co_return co_await r->read(b);
              },
              4096, o);
        } else {
          UnixStream* r = &p->first;
          co_await run_stream_storm(
              std::move(p->second),
              [r, exact](B b) -> rill::Task<rill::io::Result<std::size_t>> {
                if (exact) co_return co_await r->read_exact(b);
                co_return co_await r->read(b);
              },
              exact ? kExactChunk : 4096, o);
        }
        break;
      }
      case Method::UdpRecvFrom:
      case Method::UdpRecv:
        co_await run_udp_storm(c.method == Method::UdpRecv, o, udp_ok);
        break;
    }
  }(c, &o, &udp_ok));
  RecordProperty("reads", static_cast<int>(o.reads));
  RecordProperty("cancelled", static_cast<int>(o.cancelled));
  if (c.method == Method::UdpRecvFrom || c.method == Method::UdpRecv) {
    EXPECT_EQ(udp_ok, kDatagrams);
    EXPECT_GT(o.cancelled, 0u);
  } else {
    check_stream(o, kStreamTotal);
    if (o.bytes.size() != kStreamTotal)
      std::printf(
          "lost %zd bytes of %zu (%zu reads, %zu cancelled)\n",
          static_cast<std::ptrdiff_t>(kStreamTotal) - static_cast<std::ptrdiff_t>(o.bytes.size()),
          kStreamTotal, o.reads, o.cancelled);
  }
}

}  // namespace

namespace {

class SocketLifetime : public ::testing::TestWithParam<std::pair<bool, rill::IoBackend>> {};
INSTANTIATE_TEST_SUITE_P(Net, SocketLifetime,
                         ::testing::Values(std::pair{true, rill::IoBackend::Auto},
                                           std::pair{false, rill::IoBackend::Auto},
                                           std::pair{true, rill::IoBackend::Epoll},
                                           std::pair{false, rill::IoBackend::Epoll}),
                         [](const auto& i) {
                           return std::string(i.param.first ? "multi_" : "current_") +
                                  (i.param.second == rill::IoBackend::Epoll ? "epoll" : "auto");
                         });

/// Waits (outside any runtime) until `fd` reads end-of-stream; false after `ms` milliseconds.
bool sees_eof(int fd, int ms) {
  char b[16];
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, ms) <= 0) return false;
    const ssize_t n = ::recv(fd, b, sizeof b, MSG_DONTWAIT);
    if (n == 0) return true;
    if (n < 0 && errno != EAGAIN && errno != EINTR) return true;  // reset counts as closed
  }
}

// Dropping a socket whose read was cancelled (its cancel may still be queued for the kernel)
// closes it at once: the peer sees end-of-stream even though the runtime no longer runs.
TEST_P(SocketLifetime, DroppedAfterCancelledReadClosesAtOnce) {
  auto [multi, backend] = GetParam();
  auto rt = make_rt(multi, backend);
  int peer = -1;
  rt.block_on([](int* peer) -> rill::Task<void> {
    auto p = co_await tcp_pair();
    if (!p) {
      ADD_FAILURE() << "tcp_pair";
      co_return;
    }
    *peer = ::dup(p->writer.as_raw_fd());
    TcpStream s = std::move(p->reader);
    auto r = co_await rill::timeout(1ms, [](TcpStream* s) -> rill::Task<void> {
      char buf[64];
      (void)co_await s->read(std::span<char>(buf));
    }(&s));
    EXPECT_FALSE(r);  // the read lost
    // `s` is dropped here, right after the cancelled read, and the task ends.
  }(&peer));
  ASSERT_GE(peer, 0);
  EXPECT_TRUE(sees_eof(peer, 5000));
  ::close(peer);
}

// Tokio's tcp_into_split `drop_write`: dropping the OwnedWriteHalf shuts the write side down
// (the peer reads end-of-stream and closes), while the read half keeps working.
TEST_P(SocketLifetime, DropWrite) {
  auto [multi, backend] = GetParam();
  auto rt = make_rt(multi, backend);
  rt.block_on([]() -> rill::Task<void> {
    static constexpr char kMsg[] = "split";
    auto l = TcpListener::bind("127.0.0.1:0");
    if (!l) {
      ADD_FAILURE() << "bind";
      co_return;
    }
    auto addr = *l->local_addr();
    const int lfd = ::dup(l->as_raw_fd());
    // The peer: a plain blocking socket on its own thread, as in Tokio's test.
    std::atomic<int> peer_result{-1};
    std::thread peer([lfd, &peer_result] {
      pollfd p{lfd, POLLIN, 0};  // the listener may be non-blocking (epoll backend)
      const int c = ::poll(&p, 1, 10000) == 1 ? ::accept(lfd, nullptr, nullptr) : -1;
      ::close(lfd);
      if (c < 0) return peer_result.store(1);
      (void)::send(c, kMsg, 5, MSG_NOSIGNAL);
      timeval tv{10, 0};
      ::setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      char b[32];
      const ssize_t n = ::recv(c, b, sizeof b, 0);
      peer_result.store(n == 0 || (n < 0 && errno == ECONNRESET) ? 0 : 2);
      ::close(c);
    });
    auto s = co_await TcpStream::connect(addr);
    if (!s) {
      ADD_FAILURE() << "connect";
      peer.join();
      co_return;
    }
    auto [rh, wh] = std::move(*s).into_split();
    char buf[32];
    auto n = co_await rill::timeout(
        10s,
        [](rill::net::OwnedReadHalf* rh, char* buf) -> rill::Task<rill::io::Result<std::size_t>> {
          co_return co_await rh->read(std::span<char>(buf, 32));
        }(&rh, buf));
    EXPECT_TRUE(n && *n && **n == 5 && std::memcmp(buf, kMsg, 5) == 0);
    {
      auto drop = std::move(wh);  // dropped while the read half lives
    }
    auto r = co_await rill::timeout(
        10s,
        [](rill::net::OwnedReadHalf* rh, char* buf) -> rill::Task<rill::io::Result<std::size_t>> {
          co_return co_await rh->read(std::span<char>(buf, 32));
        }(&rh, buf));
    if (!r)
      ADD_FAILURE() << "the peer never saw end-of-stream";
    else
      EXPECT_TRUE(!*r ? r->error() == std::errc::connection_reset : **r == 0);
    peer.join();
    EXPECT_EQ(peer_result.load(), 0);
  }());
}

}  // namespace

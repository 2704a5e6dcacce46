// Tests for rill::net TCP: echo on both flavors and both backends, EOF / reset / refused
// errors, halves, options, and the cancellation storms (abort, timeout, shutdown while reads
// are in flight) that must stay ASan/TSan-clean.
#include <gtest/gtest.h>
#include <rill/net/tcp.hpp>
#include <rill/rill.hpp>

#include <atomic>
#include <chrono>
#include <cstring>
#include <optional>
#include <string>
#include <utility>
#include <vector>

using namespace std::chrono_literals;
using rill::net::SocketAddr;
using rill::net::TcpListener;
using rill::net::TcpStream;

// gtest's ASSERT_* return from the function; in a coroutine, fail and co_return instead.
#define CO_ASSERT_TRUE(c)                 \
  if (!(c)) {                             \
    ADD_FAILURE() << "assertion: " << #c; \
    co_return;                            \
  }                                       \
  static_assert(true)
#define CO_ASSERT_LT(a, b) CO_ASSERT_TRUE((a) < (b))

namespace {

#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
constexpr int kScale = 4;
#else
constexpr int kScale = 1;
#endif

struct Cfg {
  bool multi;
  rill::IoBackend backend;
};

rill::Runtime make_rt(const Cfg& c) {
  auto b = c.multi ? rill::Builder::new_multi_thread() : rill::Builder::new_current_thread();
  if (c.multi) b.worker_threads(2);
  b.io_backend(c.backend);
  return b.build();
}

class Tcp : public ::testing::TestWithParam<Cfg> {};
INSTANTIATE_TEST_SUITE_P(Net, Tcp,
                         ::testing::Values(Cfg{true, rill::IoBackend::Auto},
                                           Cfg{false, rill::IoBackend::Auto},
                                           Cfg{true, rill::IoBackend::Epoll},
                                           Cfg{false, rill::IoBackend::Epoll}),
                         [](const auto& i) {
                           return std::string(i.param.multi ? "multi_" : "current_") +
                                  (i.param.backend == rill::IoBackend::Epoll ? "epoll" : "auto");
                         });

rill::Task<void> echo_conn(TcpStream s) {
  char buf[4096];
  for (;;) {
    auto n = co_await s.read(std::span<char>(buf));
    if (!n || *n == 0) co_return;
    auto w = co_await s.write_all(std::span<const char>(buf, *n));
    if (!w) co_return;
  }
}

rill::Task<void> echo_server(TcpListener l, int conns) {
  for (int i = 0; i < conns; ++i) {
    auto a = co_await l.accept();
    if (!a) continue;
    (void)a->first.set_nodelay(true);
    (void)rill::spawn(echo_conn(std::move(a->first)));
  }
}

std::string pattern(int id, int seq, std::size_t n) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i)
    s[i] = static_cast<char>((id * 7 + seq * 31 + i) & 0xff);
  return s;
}

// A connected loopback pair: the connecting end and the accepted end (nullopt if either failed).
rill::Task<std::optional<std::pair<TcpStream, TcpStream>>> connected_pair() {
  auto l = TcpListener::bind("127.0.0.1:0");
  if (!l) co_return std::nullopt;
  auto c = co_await TcpStream::connect(*l->local_addr());
  auto a = co_await l->accept();
  if (!c || !a) co_return std::nullopt;
  co_return std::pair<TcpStream, TcpStream>(std::move(*c), std::move(a->first));
}

rill::Task<bool> echo_client(SocketAddr addr, int id, int msgs, std::size_t size) {
  auto s = co_await TcpStream::connect(addr);
  if (!s) co_return false;
  std::string in(size, '\0');
  for (int m = 0; m < msgs; ++m) {
    const std::string out = pattern(id, m, size);
    if (!co_await s->write_all(std::span<const char>(out))) co_return false;
    if (!co_await s->read_exact(std::span<char>(in))) co_return false;
    if (in != out) co_return false;
  }
  co_return true;
}

}  // namespace

TEST(SocketAddrTest, ParseAndFormat) {
  auto a = SocketAddr::parse("127.0.0.1:8080");
  ASSERT_TRUE(a);
  EXPECT_TRUE(a->is_ipv4());
  EXPECT_EQ(a->port(), 8080);
  EXPECT_EQ(a->to_string(), "127.0.0.1:8080");
  auto b = SocketAddr::parse("[::1]:443");
  ASSERT_TRUE(b);
  EXPECT_TRUE(b->is_ipv6());
  EXPECT_EQ(b->to_string(), "[::1]:443");
  for (const char* bad : {"", "1.2.3.4", "1.2.3.4:", "1.2.3.4:65536", "::1:80", "x.y:1", "[::1]80"})
    EXPECT_EQ(SocketAddr::parse(bad).error(),
              rill::io::make_error_code(rill::io::Errc::invalid_address))
        << bad;
  EXPECT_EQ(SocketAddr::v4(127, 0, 0, 1, 9), *SocketAddr::parse("127.0.0.1:9"));
}

TEST(NetOutsideRuntime, BindFailsCleanly) {
  auto l = TcpListener::bind(SocketAddr::localhost_v4());
  ASSERT_FALSE(l);
  EXPECT_EQ(l.error(), rill::io::make_error_code(rill::io::Errc::not_in_runtime));
}

TEST_P(Tcp, EchoManyClients) {
  auto rt = make_rt(GetParam());
  const bool ok = rt.block_on([]() -> rill::Task<bool> {
    auto l = TcpListener::bind("127.0.0.1:0");
    if (!l) co_return false;
    auto addr = *l->local_addr();
    EXPECT_NE(addr.port(), 0);
    const int n = 32;
    (void)rill::spawn(echo_server(std::move(*l), n));
    std::vector<rill::JoinHandle<bool>> hs;
    for (int i = 0; i < n; ++i)
      hs.push_back(rill::spawn(echo_client(addr, i, 20, 1 + i * 97)));
    bool all = true;
    for (auto& h : hs)
      all = (co_await h) && all;
    co_return all;
  }());
  EXPECT_TRUE(ok);
}

TEST_P(Tcp, LargeWriteAllAndReadExact) {
  auto rt = make_rt(GetParam());
  rt.block_on([]() -> rill::Task<void> {
    auto l = TcpListener::bind("127.0.0.1:0");
    auto addr = *l->local_addr();
    (void)rill::spawn(echo_server(std::move(*l), 1));
    auto s = co_await TcpStream::connect(addr);
    EXPECT_TRUE(s);
    auto [rd, wr] = s->split();
    const std::string big = pattern(3, 4, 3 << 20);  // larger than socket buffers: partial writes
    auto writer = rill::spawn([](rill::net::WriteHalf w, const std::string* b) -> rill::Task<bool> {
      co_return static_cast<bool>(co_await w.write_all(std::span<const char>(*b)));
    }(wr, &big));
    std::string in(big.size(), '\0');
    auto r = co_await rd.read_exact(std::span<char>(in));
    EXPECT_TRUE(r);
    EXPECT_TRUE(co_await writer);
    EXPECT_TRUE(in == big);
  }());
}

TEST_P(Tcp, EofResetAndRefused) {
  auto rt = make_rt(GetParam());
  rt.block_on([]() -> rill::Task<void> {
    auto l = TcpListener::bind("127.0.0.1:0");
    auto addr = *l->local_addr();
    // EOF: the peer shuts its write side; read yields 0, read_exact unexpected_eof.
    {
      auto c = co_await TcpStream::connect(addr);
      auto a = co_await l->accept();
      EXPECT_TRUE(c && a);
      EXPECT_EQ(a->second, *c->local_addr());
      EXPECT_EQ(*c->peer_addr(), addr);
      EXPECT_TRUE(co_await c->write_all(std::span<const char>()));  // nothing: success
      EXPECT_TRUE(co_await a->first.read_exact(std::span<char>()));
      EXPECT_TRUE(co_await c->write_all(std::span<const char>("abc", 3)));
      EXPECT_TRUE(co_await c->shutdown());
      char buf[8];
      auto n = co_await a->first.read_exact(std::span<char>(buf, 3));
      EXPECT_TRUE(n && *n == 3);
      auto z = co_await a->first.read(std::span<char>(buf));
      EXPECT_TRUE(z && *z == 0);
      auto e = co_await a->first.read_exact(std::span<char>(buf, 1));
      EXPECT_EQ(e.error(), rill::io::make_error_code(rill::io::Errc::unexpected_eof));
    }
    // Reset: the peer closes with SO_LINGER 0; reads and writes report errors, no crash.
    {
      auto c = co_await TcpStream::connect(addr);
      auto a = co_await l->accept();
      EXPECT_TRUE(c && a);
      EXPECT_TRUE(c->set_linger(0));
      *c = TcpStream();  // RST
      char buf[8];
      auto r = co_await a->first.read(std::span<char>(buf));
      EXPECT_FALSE(r);
      if (!r) EXPECT_EQ(r.error(), std::error_code(ECONNRESET, std::system_category()));
      bool write_failed = false;
      for (int i = 0; i < 10 && !write_failed; ++i)
        write_failed = !(co_await a->first.write_all(std::span<const char>("xyz", 3)));
      EXPECT_TRUE(write_failed);
    }
    // Refused: nothing listens on the port any more.
    *l = TcpListener();
    auto c = co_await TcpStream::connect(addr);
    EXPECT_FALSE(c);
    if (!c) EXPECT_EQ(c.error(), std::error_code(ECONNREFUSED, std::system_category()));
  }());
}

// A read that returns less than its buffer drained the socket (on epoll the next read waits for
// the next edge instead of a recv that would fail with EAGAIN): data written later still arrives,
// and so does the end of the stream, also when the driver took the end's edge before the short
// read that precedes it (the end's closed bit must count as readable).
TEST_P(Tcp, ShortReadsSeeLaterDataAndTheEnd) {
  auto rt = make_rt(GetParam());
  rt.block_on([]() -> rill::Task<void> {
    auto pair = co_await connected_pair();
    CO_ASSERT_TRUE(pair);
    auto* c = &pair->first;
    auto& srv = pair->second;
    char buf[64];
    for (int round = 0; round < 20; ++round) {
      CO_ASSERT_TRUE(co_await c->write_all(std::span<const char>("0123456789", 10)));
      auto n = co_await srv.read(std::span<char>(buf));
      CO_ASSERT_TRUE(n && *n == 10);
      // Written only after the reader waits: the next edge must wake it.
      auto late = rill::spawn([](TcpStream* c) -> rill::Task<bool> {
        co_await rill::sleep(1ms);
        co_return (co_await c->write_all(std::span<const char>("abcde", 5))).has_value();
      }(c));
      auto m = co_await rill::timeout(5s, srv.read(std::span<char>(buf)));
      CO_ASSERT_TRUE(m && *m && **m == 5);
      EXPECT_EQ(std::string(buf, 5), "abcde");
      CO_ASSERT_TRUE(co_await std::move(late));
    }
    // The end of the stream behind data, its edge taken by the driver before the read.
    CO_ASSERT_TRUE(co_await c->write_all(std::span<const char>("tail", 4)));
    CO_ASSERT_TRUE(co_await c->shutdown());
    co_await rill::sleep(20ms);  // every worker parks and polls its driver meanwhile
    auto n = co_await rill::timeout(5s, srv.read(std::span<char>(buf)));
    CO_ASSERT_TRUE(n && *n && **n == 4);
    auto z = co_await rill::timeout(5s, srv.read(std::span<char>(buf)));
    CO_ASSERT_TRUE(z);  // not elapsed: the end was seen
    EXPECT_TRUE(*z && **z == 0);
  }());
}

// A write that moves less than it was given filled the send buffer (on epoll the next write
// waits for the next edge): once the peer reads, the writer goes on, and every byte arrives once
// and in order.
TEST_P(Tcp, ShortWritesWaitForRoomAndLoseNothing) {
  auto rt = make_rt(GetParam());
  rt.block_on([]() -> rill::Task<void> {
    auto pair = co_await connected_pair();
    CO_ASSERT_TRUE(pair);
    auto* c = &pair->first;
    std::vector<char> chunk(64 * 1024);
    std::size_t sent = 0;
    bool short_write = false;
    // Fill the buffers with plain writes until one moves less than it was given.
    for (int i = 0; i < 4096 && !short_write; ++i) {
      for (std::size_t k = 0; k < chunk.size(); ++k)
        chunk[k] = static_cast<char>((sent + k) * 131 % 251);
      auto w = co_await rill::timeout(1s, c->write(std::span<const char>(chunk)));
      if (!w) break;  // elapsed: the buffer is full and stays full
      CO_ASSERT_TRUE(*w && **w > 0);
      short_write = **w < chunk.size();
      sent += **w;
    }
    CO_ASSERT_TRUE(short_write);
    // A reader drains everything while the writer adds a last megabyte with write_all.
    auto reader = rill::spawn([](TcpStream s, std::size_t expect) -> rill::Task<bool> {
      std::vector<char> in(32 * 1024);
      std::size_t got = 0;
      for (;;) {
        auto n = co_await s.read(std::span<char>(in));
        if (!n) co_return false;
        if (*n == 0) break;
        for (std::size_t k = 0; k < *n; ++k)
          if (in[k] != static_cast<char>((got + k) * 131 % 251)) co_return false;
        got += *n;
      }
      co_return got == expect;
    }(std::move(pair->second), sent + (1 << 20)));
    std::vector<char> last(1 << 20);
    for (std::size_t k = 0; k < last.size(); ++k)
      last[k] = static_cast<char>((sent + k) * 131 % 251);
    auto w = co_await rill::timeout(10s, c->write_all(std::span<const char>(last)));
    CO_ASSERT_TRUE(w && *w);
    CO_ASSERT_TRUE(co_await c->shutdown());
    auto ok = co_await rill::timeout(10s, std::move(reader));
    CO_ASSERT_TRUE(ok && *ok);
  }());
}

TEST_P(Tcp, SocketOptionsAndIntoSplit) {
  auto rt = make_rt(GetParam());
  rt.block_on([]() -> rill::Task<void> {
    auto sock = rill::net::TcpSocket::new_v4();
    EXPECT_TRUE(sock);
    EXPECT_TRUE(sock->set_reuseaddr(true));
    EXPECT_TRUE(sock->set_reuseport(true));
    EXPECT_TRUE(sock->set_recv_buffer_size(1 << 16));
    EXPECT_GE(*sock->recv_buffer_size(), 1u << 16);
    EXPECT_TRUE(sock->bind(SocketAddr::localhost_v4()));
    auto l = std::move(*sock).listen(16);
    EXPECT_TRUE(l);
    auto addr = *l->local_addr();
    auto cs = rill::net::TcpSocket::new_v4();
    EXPECT_TRUE(cs->set_nodelay(true));
    auto c = co_await rill::net::TcpSocket::connect(std::move(*cs), addr);
    EXPECT_TRUE(c);
    EXPECT_TRUE(*c->nodelay());
    auto a = co_await l->accept();
    auto [rd, wr] = std::move(a->first).into_split();
    // Reader and writer halves in two tasks.
    auto reader = rill::spawn([](rill::net::OwnedReadHalf r) -> rill::Task<std::string> {
      std::string got;
      char buf[64];
      for (;;) {
        auto n = co_await r.read(std::span<char>(buf));
        if (!n || *n == 0) co_return got;
        got.append(buf, *n);
      }
    }(std::move(rd)));
    auto writer = rill::spawn([](rill::net::OwnedWriteHalf w) -> rill::Task<void> {
      (void)co_await w.write_all(std::span<const char>("pong", 4));
    }(std::move(wr)));
    co_await writer;
    EXPECT_TRUE(co_await c->write_all(std::span<const char>("ping", 4)));
    char buf[4];
    EXPECT_TRUE(co_await c->read_exact(std::span<char>(buf)));
    EXPECT_EQ(std::string(buf, 4), "pong");
    EXPECT_TRUE(co_await c->shutdown());
    EXPECT_EQ(co_await reader, "ping");
  }());
}

// ---- cancellation safety ----------------------------------------------------------------------

namespace {
/// A read that waits forever (the peer never writes); its buffer is in the frame.
rill::Task<void> stuck_read(TcpStream* s, std::atomic<int>* started) {
  char buf[512];
  started->fetch_add(1);
  auto r = co_await s->read(std::span<char>(buf));
  ADD_FAILURE() << "read completed: " << (r ? std::to_string(*r) : r.error().message());
}
}  // namespace

TEST_P(Tcp, AbortStormOfPendingReads) {
  auto rt = make_rt(GetParam());
  rt.block_on([]() -> rill::Task<void> {
    auto l = TcpListener::bind("127.0.0.1:0");
    auto addr = *l->local_addr();
    const int conns = 16;
    std::vector<TcpStream> clients, servers;
    for (int i = 0; i < conns; ++i) {
      auto c = co_await TcpStream::connect(addr);
      auto a = co_await l->accept();
      clients.push_back(std::move(*c));
      servers.push_back(std::move(a->first));
    }
    for (int round = 0; round < 200 / kScale; ++round) {
      std::atomic<int> started{0};
      std::vector<rill::JoinHandle<void>> hs;
      for (auto& s : servers)
        hs.push_back(rill::spawn(stuck_read(&s, &started)));
      if (round % 2)
        co_await rill::yield_now();
      else
        while (started.load() < conns)
          co_await rill::yield_now();
      for (auto& h : hs)
        h.abort();
      for (auto& h : hs) {
        try {
          co_await h;
        } catch (const rill::JoinError& e) {
          EXPECT_TRUE(e.is_cancelled());
        }
      }
    }
    // Every cancelled read is freed once its (cancel) completion arrives; none leaks.
    for (int i = 0; i < 2000 && rill::detail::io_orphaned_ops() > 0; ++i)
      co_await rill::sleep(1ms);
    EXPECT_EQ(rill::detail::io_orphaned_ops(), 0u);
    // After the storm the sockets still work: data written now arrives intact.
    for (int i = 0; i < conns; ++i) {
      const std::string msg = pattern(i, 0, 100);
      EXPECT_TRUE(co_await clients[i].write_all(std::span<const char>(msg)));
      std::string in(100, '\0');
      auto r = co_await servers[i].read_exact(std::span<char>(in));
      EXPECT_TRUE(r);
      EXPECT_EQ(in, msg);
    }
  }());
}

TEST_P(Tcp, AbortStormWhileDataArrives) {
  // The peer streams while reads are aborted: some cancelled reads complete in the kernel with
  // data (written into the orphaned operation's own buffer, never into the dead frame).
  auto rt = make_rt(GetParam());
  rt.block_on([]() -> rill::Task<void> {
    auto l = TcpListener::bind("127.0.0.1:0");
    auto addr = *l->local_addr();
    auto c = co_await TcpStream::connect(addr);
    auto a = co_await l->accept();
    std::atomic<bool> stop{false};
    auto writer = rill::spawn([](TcpStream* s, std::atomic<bool>* stop) -> rill::Task<long> {
      const std::string chunk(1000, 'x');
      long sent = 0;
      while (!stop->load()) {
        if (!co_await s->write_all(std::span<const char>(chunk))) break;
        sent += 1000;
        co_await rill::yield_now();
      }
      co_return sent;
    }(&*c, &stop));
    long got = 0;
    for (int round = 0; round < 400 / kScale; ++round) {
      auto h = rill::spawn([](TcpStream* s) -> rill::Task<long> {
        std::vector<char> buf(700);
        auto n = co_await s->read(std::span<char>(buf));
        for (std::size_t i = 0; n && i < *n; ++i)
          if (buf[i] != 'x') co_return -1;
        co_return n ? static_cast<long>(*n) : 0;
      }(&a->first));
      if (round % 3) h.abort();
      try {
        const long n = co_await h;
        EXPECT_GE(n, 0);
        got += n;
      } catch (const rill::JoinError& e) {
        EXPECT_TRUE(e.is_cancelled());
      }
    }
    stop = true;
    a->first = TcpStream();  // a writer blocked on a full socket buffer now fails instead
    const long sent = co_await writer;
    EXPECT_GT(got, 0);
    EXPECT_LE(got, sent);
    for (int i = 0; i < 2000 && rill::detail::io_orphaned_ops() > 0; ++i)
      co_await rill::sleep(1ms);
    EXPECT_EQ(rill::detail::io_orphaned_ops(), 0u);
  }());
}

TEST_P(Tcp, TimeoutStormOfPendingReads) {
  auto rt = make_rt(GetParam());
  rt.block_on([]() -> rill::Task<void> {
    auto l = TcpListener::bind("127.0.0.1:0");
    auto addr = *l->local_addr();
    auto c = co_await TcpStream::connect(addr);
    auto a = co_await l->accept();
    auto& srv = a->first;
    int elapsed = 0;
    for (int i = 0; i < 100 / kScale; ++i) {
      auto r = co_await rill::timeout(1ms, [](TcpStream* s) -> rill::Task<std::size_t> {
        std::vector<char> heap(1024);  // the read buffer dies with the frame
        auto n = co_await s->read(std::span<char>(heap));
        co_return n ? *n : 0;
      }(&srv));
      elapsed += !r;
    }
    EXPECT_EQ(elapsed, 100 / kScale);
    EXPECT_TRUE(co_await c->write_all(std::span<const char>("late", 4)));
    char buf[4];
    EXPECT_TRUE(co_await srv.read_exact(std::span<char>(buf)));
    EXPECT_EQ(std::string(buf, 4), "late");
  }());
}

TEST_P(Tcp, ShutdownWithReadsInFlight) {
  for (int round = 0; round < 20 / kScale; ++round) {
    auto rt = make_rt(GetParam());
    std::vector<TcpStream> keep;
    rt.block_on([&]() -> rill::Task<void> {
      auto l = TcpListener::bind("127.0.0.1:0");
      auto addr = *l->local_addr();
      for (int i = 0; i < 8; ++i) {
        auto c = co_await TcpStream::connect(addr);
        auto a = co_await l->accept();
        keep.push_back(std::move(*c));
        // Detached readers that never complete: cancelled by the runtime's shutdown.
        (void)rill::spawn([](TcpStream s) -> rill::Task<void> {
          std::vector<char> buf(2048);
          (void)co_await s.read(std::span<char>(buf));
          ADD_FAILURE() << "read completed";
        }(std::move(a->first)));
      }
      co_await rill::sleep(1ms);
    }());
    // `rt` is destroyed here with 8 reads in flight; `keep` (client sockets) outlives it and then
    // sends data that no freed buffer may receive.
    rt = make_rt(GetParam());
    EXPECT_EQ(rill::detail::io_orphaned_ops(), 0u);  // shutdown drained every cancelled read
    for (auto& c : keep)
      ::send(c.as_raw_fd(), "zzzz", 4, MSG_NOSIGNAL);
  }
}

TEST_P(Tcp, SelectLoserStyleCancelOnSameWorker) {
  // A read and a short sleep race; the read loses every time and is dropped on the worker that
  // submitted it (the local async-cancel path), then the socket is reused.
  auto rt = make_rt(GetParam());
  rt.block_on([]() -> rill::Task<void> {
    auto l = TcpListener::bind("127.0.0.1:0");
    auto addr = *l->local_addr();
    auto c = co_await TcpStream::connect(addr);
    auto a = co_await l->accept();
    for (int i = 0; i < 300 / kScale; ++i) {
      auto r = co_await rill::timeout(0ms, [](TcpStream* s) -> rill::Task<void> {
        char buf[256];
        (void)co_await s->read(std::span<char>(buf));
      }(&a->first));
      EXPECT_FALSE(r);
    }
    EXPECT_TRUE(co_await c->write_all(std::span<const char>("ok", 2)));
    char buf[2];
    EXPECT_TRUE(co_await a->first.read_exact(std::span<char>(buf)));
  }());
}

// A listener on a free loopback port that has accepted one connection (so on io_uring its
// multishot accept is armed), with both ends of that connection.
struct ArmedListener {
  TcpListener l;
  SocketAddr addr;
  TcpStream server, client;
};
rill::Task<std::optional<ArmedListener>> armed_listener() {
  auto l = TcpListener::bind("127.0.0.1:0");
  if (!l) co_return std::nullopt;
  auto addr = *l->local_addr();
  auto connecting = rill::spawn(TcpStream::connect(addr));
  auto a = co_await l->accept();
  auto c = co_await connecting;
  if (!a || !c) co_return std::nullopt;
  co_return ArmedListener{std::move(*l), addr, std::move(a->first), std::move(*c)};
}

// Accept (multishot on io_uring): connections that arrive while nobody accepts -- more than the
// listener's accept queue holds (128), so the multishot accept is cancelled for backpressure and
// re-armed -- are all delivered later, each to exactly one accept, with its peer address.
TEST_P(Tcp, AcceptBurstBeyondTheQueueLosesNothing) {
  auto rt = make_rt(GetParam());
  rt.block_on([]() -> rill::Task<void> {
    auto armed = co_await armed_listener();  // armed before the burst
    CO_ASSERT_TRUE(armed);
    auto& l = armed->l;
    const auto addr = armed->addr;
    const int n = 300 / kScale;
    std::vector<rill::JoinHandle<bool>> clients;
    for (int i = 0; i < n; ++i)
      clients.push_back(rill::spawn([](SocketAddr addr, std::uint32_t id) -> rill::Task<bool> {
        auto c = co_await TcpStream::connect(addr);
        if (!c) co_return false;
        if (!co_await c->write_all(std::span<const char>(reinterpret_cast<char*>(&id), 4)))
          co_return false;
        std::uint32_t back = 0;
        if (!co_await c->read_exact(std::span<char>(reinterpret_cast<char*>(&back), 4)))
          co_return false;
        co_return back == id + 1;
      }(addr, static_cast<std::uint32_t>(i))));
    co_await rill::sleep(50ms);  // let the burst queue up: in our queue and the kernel backlog
    std::vector<int> seen(n, 0);
    for (int i = 0; i < n; ++i) {
      auto a = co_await l.accept();
      CO_ASSERT_TRUE(a);
      EXPECT_TRUE(a->second.is_ipv4());
      EXPECT_NE(a->second.port(), 0);
      std::uint32_t id = 0;
      CO_ASSERT_TRUE(
          co_await a->first.read_exact(std::span<char>(reinterpret_cast<char*>(&id), 4)));
      CO_ASSERT_LT(id, static_cast<std::uint32_t>(n));
      ++seen[id];
      ++id;
      EXPECT_TRUE(
          co_await a->first.write_all(std::span<const char>(reinterpret_cast<char*>(&id), 4)));
    }
    for (int i = 0; i < n; ++i)
      EXPECT_EQ(seen[i], 1) << "connection " << i;
    for (auto& h : clients)
      EXPECT_TRUE(co_await h);
  }());
}

// Accept is cancel-safe: an accept dropped by a timeout loses no connection (the connection goes
// to the next accept), however the timeouts and the arrivals interleave.
TEST_P(Tcp, AcceptCancelledByTimeoutsLosesNoConnection) {
  auto rt = make_rt(GetParam());
  rt.block_on([]() -> rill::Task<void> {
    auto l = TcpListener::bind("127.0.0.1:0");
    CO_ASSERT_TRUE(l);
    auto addr = *l->local_addr();
    const int n = 40 / kScale;
    auto connector = rill::spawn([](SocketAddr addr, int n) -> rill::Task<int> {
      std::vector<TcpStream> keep;
      for (int i = 0; i < n; ++i) {
        auto c = co_await TcpStream::connect(addr);
        if (c) keep.push_back(std::move(*c));
        co_await rill::sleep(std::chrono::microseconds(100 * (i % 7)));
      }
      co_await rill::sleep(300ms);  // keep them open until the server counted them
      co_return static_cast<int>(keep.size());
    }(addr, n));
    int accepted = 0, timeouts = 0;
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (accepted < n && std::chrono::steady_clock::now() < deadline) {
      auto r = co_await rill::timeout(300us, [](TcpListener* l) -> rill::Task<bool> {
        auto a = co_await l->accept();
        co_return static_cast<bool>(a);
      }(&*l));
      if (!r)
        ++timeouts;
      else if (*r)
        ++accepted;
    }
    EXPECT_EQ(accepted, n);
    EXPECT_GT(timeouts, 0);
    EXPECT_EQ(co_await connector, n);
  }());
}

// Dropping a listener closes the connections it accepted but nobody took (the peers see EOF or a
// reset, no fd leaks) and stops listening at once.
TEST_P(Tcp, DroppedListenerClosesUntakenConnections) {
  auto rt = make_rt(GetParam());
  rt.block_on([]() -> rill::Task<void> {
    auto armed = co_await armed_listener();
    CO_ASSERT_TRUE(armed);
    const auto addr = armed->addr;
    std::vector<TcpStream> cs;
    for (int i = 0; i < 5; ++i) {
      auto c = co_await TcpStream::connect(addr);
      CO_ASSERT_TRUE(c);
      cs.push_back(std::move(*c));
    }
    co_await rill::sleep(20ms);
    armed->l = TcpListener();
    for (auto& c : cs) {
      char b;
      auto r = co_await rill::timeout(5s, [](TcpStream* c, char* b) -> rill::Task<bool> {
        auto n = co_await c->read(std::span<char>(b, 1));
        co_return !n || *n == 0;  // EOF or reset
      }(&c, &b));
      CO_ASSERT_TRUE(r);  // else a queued connection was left open
      EXPECT_TRUE(*r);
    }
    auto late = co_await TcpStream::connect(addr);
    EXPECT_FALSE(late);
  }());
}

TEST_P(Tcp, ConnectFromAThreadThatDoesNotDriveTheSocket) {
  // After block_in_place the task runs on a thread that gave its core away: the socket it
  // creates is registered with a driver another thread is polling at that very moment, so the
  // connection's completion can be seen by that thread before connect() has even returned here.
  // Every connect must still complete (none may wait forever for an edge already consumed).
  if (!GetParam().multi) GTEST_SKIP() << "block_in_place needs a multi_thread runtime";
  auto rt = make_rt(GetParam());
  rt.block_on([]() -> rill::Task<void> {
    auto l = TcpListener::bind(SocketAddr::parse("127.0.0.1:0").value());
    CO_ASSERT_TRUE(l.has_value());
    const auto addr = l->local_addr().value();
    constexpr int kConns = 400 / kScale;
    auto acceptor = rill::spawn([](TcpListener l) -> rill::Task<int> {
      int n = 0;
      while (n < kConns) {
        auto a = co_await l.accept();
        if (!a) break;
        ++n;
      }
      co_return n;
    }(std::move(*l)));
    int stuck = 0, failed = 0;
    for (int i = 0; i < kConns; ++i) {
      rill::block_in_place([] {});  // hand this worker's core to a new thread
      auto c = co_await rill::timeout(3s, TcpStream::connect(addr));
      if (!c.has_value()) {
        if (++stuck == 3) break;  // enough to show it; each costs the whole timeout
      } else if (!c->has_value())
        ++failed;
    }
    EXPECT_EQ(stuck, 0);
    EXPECT_EQ(failed, 0);
    if (stuck == 0) EXPECT_EQ(co_await acceptor, kConns - failed);
  }());
}

TEST(TcpBackend, ExplicitEpollReportsEpoll) {
  auto rt = rill::Builder::new_current_thread().io_backend(rill::IoBackend::Epoll).build();
  EXPECT_EQ(
      rt.block_on([]() -> rill::Task<rill::IoBackend> { co_return rill::io::current_backend(); }()),
      rill::IoBackend::Epoll);
  auto rt2 = rill::Builder::new_current_thread().build();
  const char* env = std::getenv("RILL_IO_BACKEND");
  const bool forced = env && std::string(env) == "epoll";
  EXPECT_EQ(rt2.block_on(
                []() -> rill::Task<rill::IoBackend> { co_return rill::io::current_backend(); }()),
            forced ? rill::IoBackend::Epoll : rill::IoBackend::IoUring);
}

// rill::io: the AsyncRead/AsyncWrite concepts, BufReader, BufWriter, copy, copy_bidirectional,
// duplex and split, and host names in TcpStream::connect / TcpListener::bind.
#include <gtest/gtest.h>
#include <rill/fs.hpp>
#include <rill/io/buf_reader.hpp>
#include <rill/io/buf_writer.hpp>
#include <rill/io/duplex.hpp>
#include <rill/io/util.hpp>
#include <rill/net/tcp.hpp>
#include <rill/net/unix.hpp>
#include <rill/rill.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using rill::Task;
namespace io = rill::io;
namespace net = rill::net;

static_assert(io::AsyncRead<net::TcpStream> && io::AsyncWrite<net::TcpStream>);
static_assert(io::AsyncRead<net::UnixStream> && io::AsyncWrite<net::UnixStream>);
static_assert(io::AsyncRead<net::ReadHalf> && io::AsyncWrite<net::WriteHalf>);
static_assert(io::AsyncRead<net::OwnedReadHalf> && io::AsyncWrite<net::OwnedWriteHalf>);
static_assert(io::AsyncRead<rill::fs::File> && io::AsyncWrite<rill::fs::File>);
static_assert(io::AsyncRead<io::DuplexStream> && io::AsyncWrite<io::DuplexStream>);
static_assert(io::AsyncRead<io::BufReader<io::DuplexStream>>);
static_assert(io::AsyncWrite<io::BufWriter<io::DuplexStream>>);
static_assert(io::AsyncRead<io::ReadHalf<io::DuplexStream>>);
static_assert(io::AsyncWrite<io::WriteHalf<io::DuplexStream>>);
static_assert(!io::AsyncRead<net::OwnedWriteHalf> && !io::AsyncWrite<net::OwnedReadHalf>);

namespace {
template <class R>
Task<std::string> read_to_end(R& r) {
  std::string out;
  char buf[256];
  for (;;) {
    auto n = co_await r.read(std::span<char>(buf));
    if (!n || *n == 0) co_return out;
    out.append(buf, *n);
  }
}
rill::Runtime ct() { return rill::Builder::new_current_thread().build(); }
}  // namespace

TEST(BufReader, ReadLineReadUntilLinesAndFillBuf) {
  auto rt = ct();
  rt.block_on([]() -> Task<void> {
    auto [a, b] = io::duplex(7);  // smaller than a line: lines arrive in pieces
    auto writer = rill::spawn([](io::DuplexStream a) -> Task<void> {
      (void)co_await a.write_all("first line\nsecond\r\nk=v;rest\nlast without newline");
      (void)co_await a.shutdown();
    }(std::move(a)));
    io::BufReader<io::DuplexStream> r(std::move(b), 4);
    std::string line;
    auto n = co_await r.read_line(line);
    EXPECT_TRUE(n && *n == 11);
    EXPECT_EQ(line, "first line\n");
    auto lines = r.lines();
    auto l2 = co_await lines.next_line();
    EXPECT_TRUE(l2 && *l2 == std::optional<std::string>("second"));
    std::string key;
    auto k = co_await r.read_until('=', key);
    EXPECT_TRUE(k && *k == 2);
    EXPECT_EQ(key, "k=");
    auto buf = co_await r.fill_buf();
    EXPECT_TRUE(buf && !buf->empty());
    EXPECT_EQ(static_cast<char>((*buf)[0]), 'v');
    r.consume(1);
    auto l3 = co_await lines.next_line();
    EXPECT_TRUE(l3 && *l3 == std::optional<std::string>(";rest"));
    auto l4 = co_await lines.next_line();
    EXPECT_TRUE(l4 && *l4 == std::optional<std::string>("last without newline"));
    auto l5 = co_await lines.next_line();
    EXPECT_TRUE(l5 && !l5->has_value());  // end of stream
    std::string none;
    auto z = co_await r.read_line(none);
    EXPECT_TRUE(z && *z == 0);
    co_await writer;
  }());
}

TEST(BufReader, ACancelledNextLineLosesNothing) {
  auto rt = ct();
  rt.block_on([]() -> Task<void> {
    auto [a, b] = io::duplex(64);
    io::BufReader<io::DuplexStream> r(std::move(b));
    auto lines = r.lines();
    (void)co_await a.write_all("par");
    auto t = co_await rill::timeout(5ms, lines.next_line());  // no '\n' yet: times out
    EXPECT_FALSE(t.has_value());
    (void)co_await a.write_all("tial\n");
    auto l = co_await lines.next_line();
    EXPECT_TRUE(l && *l == std::optional<std::string>("partial"));
  }());
}

TEST(BufWriter, BuffersUntilFlushAndPassesLargeWritesThrough) {
  auto rt = ct();
  rt.block_on([]() -> Task<void> {
    auto [a, b] = io::duplex(1 << 16);
    io::BufWriter<io::DuplexStream&> w(a, 16);
    EXPECT_TRUE(co_await w.write_all("hello "));
    auto n = co_await w.write(std::string("world"));
    EXPECT_TRUE(n && *n == 5);
    EXPECT_EQ(w.buffer().size(), 11u);
    char c[32];
    auto early = co_await rill::timeout(5ms, b.read(std::span<char>(c)));
    EXPECT_FALSE(early.has_value());  // nothing reached the peer before flush
    EXPECT_TRUE(co_await w.flush());
    EXPECT_TRUE(w.buffer().empty());
    auto got = co_await b.read(std::span<char>(c));
    EXPECT_TRUE(got && *got == 11);
    EXPECT_EQ(std::string(c, 11), "hello world");
    const std::string big(40, 'x');  // larger than the buffer: written through
    EXPECT_TRUE(co_await w.write_all("<"));
    EXPECT_TRUE(co_await w.write_all(big));
    EXPECT_TRUE(co_await w.shutdown());
    EXPECT_EQ(co_await read_to_end(b), "<" + big);
  }());
}

TEST(Duplex, BackpressureEndOfStreamAndBrokenPipe) {
  auto rt = rill::Builder::new_multi_thread().worker_threads(2).build();
  rt.block_on([]() -> Task<void> {
    auto [a, b] = io::duplex(4);
    auto w = rill::spawn([](io::DuplexStream a) -> Task<bool> {
      const bool ok = (co_await a.write_all("0123456789")).has_value();  // waits for the reader
      co_return ok;
    }(std::move(a)));
    EXPECT_EQ(co_await read_to_end(b), "0123456789");  // the writer's drop ends the stream
    EXPECT_TRUE(co_await w);
    auto r = co_await b.write("x");
    EXPECT_FALSE(r.has_value());
    EXPECT_EQ(r.error(), std::errc::broken_pipe);
  }());
}

TEST(IoUtil, CopySplitAndCopyBidirectional) {
  auto rt = rill::Builder::new_multi_thread().worker_threads(2).build();
  rt.block_on([]() -> Task<void> {
    // copy: a unix socket into a duplex.
    auto p = net::UnixStream::pair();
    EXPECT_TRUE(p.has_value());
    auto& [s1, s2] = *p;
    std::string payload;
    for (int i = 0; i < 5000; ++i) payload += std::to_string(i) + ",";
    EXPECT_TRUE(co_await s1.write_all(payload));
    EXPECT_TRUE(co_await s1.shutdown());
    auto [d1, d2] = io::duplex(1 << 20);
    auto n = co_await io::copy(s2, d1);
    EXPECT_TRUE(n && *n == payload.size());
    (void)co_await d1.shutdown();
    EXPECT_EQ(co_await read_to_end(d2), payload);

    // split: a reader task and a writer task on the two halves of one duplex end.
    auto [x, y] = io::duplex(16);
    auto [xr, xw] = io::split(std::move(x));
    EXPECT_TRUE(xr.is_pair_of(xw));
    auto echo = rill::spawn([](io::DuplexStream y) -> Task<void> {
      io::BufReader<io::DuplexStream&> r(y);
      std::string line;
      while ((co_await r.read_line(line)).value_or(0) > 0) {
        (void)co_await y.write_all(line);
        line.clear();
      }
    }(std::move(y)));
    auto sender = rill::spawn([](io::WriteHalf<io::DuplexStream> w) -> Task<void> {
      for (int i = 0; i < 20; ++i) (void)co_await w.write_all("ping\n");
      (void)co_await w.shutdown();
    }(std::move(xw)));
    const std::string echoed = co_await read_to_end(xr);
    EXPECT_EQ(echoed.size(), 20u * 5u);
    co_await sender;
    co_await echo;

    // copy_bidirectional: a proxy between two duplex pairs.
    auto [client, proxy_in] = io::duplex(8);
    auto [proxy_out, server] = io::duplex(8);
    auto proxy = rill::spawn(
        [](io::DuplexStream a, io::DuplexStream b) -> Task<io::Result<std::pair<std::uint64_t, std::uint64_t>>> {
          co_return co_await io::copy_bidirectional(a, b);
        }(std::move(proxy_in), std::move(proxy_out)));
    auto srv = rill::spawn([](io::DuplexStream s) -> Task<void> {
      auto got = co_await read_to_end(s);
      (void)co_await s.write_all("got " + got);
      (void)co_await s.shutdown();
    }(std::move(server)));
    EXPECT_TRUE(co_await client.write_all("request"));
    EXPECT_TRUE(co_await client.shutdown());
    EXPECT_EQ(co_await read_to_end(client), "got request");
    auto counts = co_await proxy;
    EXPECT_TRUE(counts.has_value());
    EXPECT_EQ(counts->first, 7u);
    EXPECT_EQ(counts->second, 11u);
    co_await srv;
  }());
}

class HostNames : public ::testing::TestWithParam<bool> {};
INSTANTIATE_TEST_SUITE_P(Net, HostNames, ::testing::Values(false, true),
                         [](const auto& i) { return i.param ? "multi_thread" : "current_thread"; });

TEST_P(HostNames, BindAndConnectResolveLocalhost) {
  auto rt = GetParam() ? rill::Builder::new_multi_thread().worker_threads(2).build()
                       : rill::Builder::new_current_thread().build();
  rt.block_on([]() -> Task<void> {
    auto l = net::TcpListener::bind("localhost:0");
    EXPECT_TRUE(l.has_value());
    if (!l) co_return;
    const auto port = l->local_addr()->port();
    auto acc = rill::spawn([](net::TcpListener* l) -> Task<std::string> {
      auto s = co_await l->accept();
      if (!s) co_return s.error().message();
      co_return co_await read_to_end(s->first);
    }(&*l));
    auto c = co_await net::TcpStream::connect("localhost:" + std::to_string(port));
    EXPECT_TRUE(c.has_value());
    if (!c) co_return;
    EXPECT_TRUE(co_await c->write_all("by name"));
    EXPECT_TRUE(co_await c->shutdown());
    EXPECT_EQ(co_await acc, "by name");

    auto bad = net::TcpListener::bind("localhost");  // no port
    EXPECT_FALSE(bad.has_value());
    EXPECT_EQ(bad.error(), rill::io::make_error_code(rill::io::Errc::invalid_address));
    auto bad2 = co_await net::TcpStream::connect("no-port");
    EXPECT_FALSE(bad2.has_value());
  }());
}

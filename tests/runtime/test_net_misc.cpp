// Tests for UdpSocket, UnixListener/UnixStream and lookup_host, on both backends.
#include <gtest/gtest.h>
#include <unistd.h>
#include <rill/net/lookup.hpp>
#include <rill/net/udp.hpp>
#include <rill/net/unix.hpp>
#include <rill/rill.hpp>

#include <cstring>
#include <string>

using rill::net::SocketAddr;

namespace {
class Backends : public ::testing::TestWithParam<rill::IoBackend> {};
INSTANTIATE_TEST_SUITE_P(Net, Backends,
                         ::testing::Values(rill::IoBackend::Auto, rill::IoBackend::Epoll),
                         [](const auto& i) {
                           return i.param == rill::IoBackend::Epoll ? "epoll" : "auto";
                         });
rill::Runtime make_rt(rill::IoBackend b) {
  return rill::Builder::new_multi_thread().worker_threads(2).io_backend(b).build();
}
std::string temp_path(const char* tag) {
  return "/tmp/rill-test-" + std::to_string(::getpid()) + "-" + tag;
}
}  // namespace

TEST_P(Backends, UdpSendToRecvFromAndConnected) {
  auto rt = make_rt(GetParam());
  rt.block_on([]() -> rill::Task<void> {
    auto a = rill::net::UdpSocket::bind("127.0.0.1:0");
    auto b = rill::net::UdpSocket::bind(SocketAddr::localhost_v4());
    EXPECT_TRUE(a && b);
    auto aa = *a->local_addr(), ba = *b->local_addr();
    // b waits first (suspends), then a sends.
    auto rx =
        rill::spawn([](rill::net::UdpSocket* s) -> rill::Task<std::pair<std::string, SocketAddr>> {
          char buf[64];
          auto r = co_await s->recv_from(std::span<char>(buf));
          if (!r) co_return {r.error().message(), SocketAddr()};
          co_return {std::string(buf, r->first), r->second};
        }(&*b));
    co_await rill::sleep(std::chrono::milliseconds(2));
    auto n = co_await a->send_to(std::span<const char>("hello", 5), ba);
    EXPECT_TRUE(n && *n == 5);
    auto [msg, from] = co_await rx;
    EXPECT_EQ(msg, "hello");
    EXPECT_EQ(from, aa);
    // Connected sockets: send/recv.
    EXPECT_TRUE(a->connect(ba));
    EXPECT_TRUE(b->connect(aa));
    EXPECT_EQ(*a->peer_addr(), ba);
    EXPECT_TRUE(co_await b->send(std::span<const char>("pong!", 5)));
    char buf[16];
    auto got = co_await a->recv(std::span<char>(buf));
    EXPECT_TRUE(got && *got == 5);
    EXPECT_EQ(std::string(buf, 5), "pong!");
    // Truncation: a datagram larger than the buffer yields the buffer's worth.
    EXPECT_TRUE(co_await b->send(std::span<const char>("0123456789", 10)));
    auto t = co_await a->recv_from(std::span<char>(buf, 4));
    EXPECT_TRUE(t && t->first == 4);
  }());
}

// A datagram shorter than the buffer says nothing about the datagrams behind it (unlike a short
// stream read, which drained the socket): queued datagrams are each read at once, also after the
// driver took their edge before the first read.
TEST_P(Backends, UdpShortDatagramsQueuedBehindEachOtherAreAllRead) {
  auto rt = make_rt(GetParam());
  rt.block_on([]() -> rill::Task<void> {
    auto a = rill::net::UdpSocket::bind("127.0.0.1:0");
    auto b = rill::net::UdpSocket::bind("127.0.0.1:0");
    EXPECT_TRUE(a && b);
    if (!a || !b) co_return;
    EXPECT_TRUE(a->connect(*b->local_addr()));
    EXPECT_TRUE(b->connect(*a->local_addr()));
    for (const char* m : {"one", "two", "three"})
      EXPECT_TRUE(co_await b->send(std::span<const char>(m, std::strlen(m))));
    co_await rill::sleep(std::chrono::milliseconds(20));  // the workers poll their drivers
    for (const char* m : {"one", "two", "three"}) {
      char buf[64];
      auto r = co_await rill::timeout(std::chrono::seconds(5), a->recv(std::span<char>(buf)));
      EXPECT_TRUE(r && *r);
      if (!r || !*r) co_return;
      EXPECT_EQ(std::string(buf, **r), m);
    }
  }());
}

TEST_P(Backends, UnixListenerStreamAndPair) {
  auto rt = make_rt(GetParam());
  const std::string path = temp_path(GetParam() == rill::IoBackend::Epoll ? "ue" : "ua");
  ::unlink(path.c_str());
  rt.block_on([](std::string path) -> rill::Task<void> {
    auto l = rill::net::UnixListener::bind(path);
    EXPECT_TRUE(l);
    EXPECT_EQ(*l->local_addr(), path);
    auto again = rill::net::UnixListener::bind(path);
    EXPECT_EQ(again.error(), std::error_code(EADDRINUSE, std::system_category()));
    auto c = co_await rill::net::UnixStream::connect(path);
    auto a = co_await l->accept();
    EXPECT_TRUE(c && a);
    EXPECT_EQ(*c->peer_addr(), path);
    EXPECT_TRUE(co_await c->write_all(std::span<const char>("unix!", 5)));
    char buf[5];
    EXPECT_TRUE(co_await a->first.read_exact(std::span<char>(buf)));
    EXPECT_EQ(std::string(buf, 5), "unix!");
    auto missing = co_await rill::net::UnixStream::connect(path + ".missing");
    EXPECT_EQ(missing.error(), std::error_code(ENOENT, std::system_category()));
    auto toolong = co_await rill::net::UnixStream::connect(std::string(200, 'x'));
    EXPECT_EQ(toolong.error(), std::error_code(ENAMETOOLONG, std::system_category()));
    auto p = rill::net::UnixStream::pair();
    EXPECT_TRUE(p);
    EXPECT_TRUE(co_await p->first.write_all(std::span<const char>("pair", 4)));
    EXPECT_TRUE(co_await p->first.shutdown());
    std::string all;
    for (;;) {
      auto n = co_await p->second.read(std::span<char>(buf));
      if (!n || *n == 0) break;
      all.append(buf, *n);
    }
    EXPECT_EQ(all, "pair");
  }(path));
  ::unlink(path.c_str());
}

TEST(Lookup, NumericLocalhostAndBad) {
  auto rt = rill::Builder::new_current_thread().build();
  rt.block_on([]() -> rill::Task<void> {
    auto n = co_await rill::net::lookup_host("127.0.0.1:80");
    EXPECT_TRUE(n && n->size() == 1 && n->front().port() == 80);
    auto l = co_await rill::net::lookup_host("localhost:8080");
    EXPECT_TRUE(l);
    bool loop = false;
    if (l)
      for (auto& a : *l)
        loop =
            loop || a == SocketAddr::v4(127, 0, 0, 1, 8080) || a == SocketAddr::localhost_v6(8080);
    EXPECT_TRUE(loop);
    auto bad = co_await rill::net::lookup_host("no-port-here");
    EXPECT_EQ(bad.error(), rill::io::make_error_code(rill::io::Errc::invalid_address));
    auto none = co_await rill::net::lookup_host("name.invalid:80");
    EXPECT_FALSE(none);
  }());
}

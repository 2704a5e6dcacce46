// Port of tokio-1.24.2/tests/tcp_connect.rs. Left out: connect_addr_ip_port_tuple,
// connect_addr_ip_str_port_tuple, connect_addr_host_str_port_tuple (no tuple addresses in rill)
// and poll_hup (an #[ignore]d test). futures::join!(server, client) is a spawned client and the
// accept.
#include "harness.hpp"

#include <string>

using namespace conformance;
using rill::net::TcpListener;
using rill::net::TcpStream;

namespace {
rill::Task<void> connect_v(const char* bind_addr, bool v6) {
  auto srv = TcpListener::bind(bind_addr);
  CO_ASSERT_TRUE(srv);
  auto addr = srv->local_addr().value();
  EXPECT_TRUE(v6 ? addr.is_ipv6() : addr.is_ipv4());
  auto [tx, rx] = rill::sync::oneshot::channel<TcpStream>();
  (void)rill::spawn(
      [](TcpListener srv, rill::sync::oneshot::Sender<TcpStream> tx) -> rill::Task<void> {
        auto acc = co_await srv.accept();
        CO_ASSERT_TRUE(acc);
        EXPECT_TRUE(acc->second == acc->first.peer_addr().value());
        EXPECT_TRUE(std::move(tx).send(std::move(acc->first)));
      }(std::move(*srv), std::move(tx)));
  auto mine = co_await TcpStream::connect(addr);
  CO_ASSERT_TRUE(mine);
  auto theirs = co_await rx;
  CO_ASSERT_TRUE(theirs);
  EXPECT_TRUE(mine->local_addr().value() == theirs->peer_addr().value());
  EXPECT_TRUE(theirs->local_addr().value() == mine->peer_addr().value());
}

/// Tokio's connect takes ToSocketAddrs and tries each resolved address in turn; rill's
/// connect(string) takes an IP literal, and names go through lookup_host first.
rill::Task<rill::io::Result<TcpStream>> connect_host(std::string addr) {
  auto parsed = rill::net::SocketAddr::parse(addr);
  if (parsed) co_return co_await TcpStream::connect(*parsed);
  auto addrs = co_await rill::net::lookup_host(addr);
  if (!addrs) co_return rill::Unexpected{addrs.error()};
  std::error_code last = std::make_error_code(std::errc::host_unreachable);
  for (auto& a : *addrs) {
    auto s = co_await TcpStream::connect(a);
    if (s) co_return s;
    last = s.error();
  }
  co_return rill::Unexpected{last};
}

rill::Task<void> connect_string(std::string host) {
  auto srv = TcpListener::bind("127.0.0.1:0");
  CO_ASSERT_TRUE(srv);
  auto addr = host + ":" + std::to_string(srv->local_addr().value().port());
  auto client = rill::spawn(connect_host(addr));
  auto a = co_await srv->accept();
  EXPECT_TRUE(a);
  EXPECT_TRUE(co_await client);
}
}  // namespace

TEST(tcp_connect, connect_v4) {
  block_on(connect_v("127.0.0.1:0", false));
}

TEST(tcp_connect, connect_v6) {
  block_on(connect_v("[::1]:0", true));
}

TEST(tcp_connect, connect_addr_ip_string) {
  block_on(connect_string("127.0.0.1"));
}

TEST(tcp_connect, connect_addr_ip_str_slice) {
  block_on(connect_string("127.0.0.1"));
}

TEST(tcp_connect, connect_addr_host_string) {
  block_on(connect_string("localhost"));
}

// Port of tokio-1.24.2/tests/tcp_accept.rs. Left out: str_port_tuple and ip_port_tuple (rill
// binds a string or a SocketAddr, no tuples), no_extra_poll (counts poll_accept calls) and
// accept_many (checks that one connection wakes all 50 pending acceptors, a poll-level property
// that a coroutine cannot observe).
#include "harness.hpp"

using namespace conformance;
using rill::net::SocketAddr;
using rill::net::TcpListener;
using rill::net::TcpStream;

namespace {
rill::Task<void> test_accept(rill::io::Result<TcpListener> listener) {
  CO_ASSERT_TRUE(listener);
  auto addr = listener->local_addr().value();
  auto [tx, rx] = rill::sync::oneshot::channel<TcpStream>();
  (void)rill::spawn(
      [](TcpListener listener, rill::sync::oneshot::Sender<TcpStream> tx) -> rill::Task<void> {
        auto acc = co_await listener.accept();
        CO_ASSERT_TRUE(acc);
        EXPECT_TRUE(std::move(tx).send(std::move(acc->first)));
      }(std::move(*listener), std::move(tx)));
  auto cli = co_await TcpStream::connect(addr);
  CO_ASSERT_TRUE(cli);
  auto srv = co_await rx;
  CO_ASSERT_TRUE(srv);
  EXPECT_TRUE(cli->local_addr().value() == srv->peer_addr().value());
}
}  // namespace

TEST(tcp_accept, ip_str) {
  block_on([]() -> rill::Task<void> { co_await test_accept(TcpListener::bind("127.0.0.1:0")); }());
}

TEST(tcp_accept, host_str) {
  // Tokio's bind takes ToSocketAddrs (binds the first resolved address); rill's bind takes an IP
  // literal, and names go through lookup_host first.
  block_on([]() -> rill::Task<void> {
    auto addrs = co_await rill::net::lookup_host("localhost:0");
    CO_ASSERT_TRUE(addrs && !addrs->empty());
    co_await test_accept(TcpListener::bind(addrs->front()));
  }());
}

TEST(tcp_accept, socket_addr) {
  block_on([]() -> rill::Task<void> {
    co_await test_accept(TcpListener::bind(SocketAddr::parse("127.0.0.1:0").value()));
  }());
}

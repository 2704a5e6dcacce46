// Port of tokio-1.24.2/tests/tcp_socket.rs. Left out: basic_linger (TcpSocket::linger and
// set_linger are not in rill).
#include "harness.hpp"

using namespace conformance;
using rill::net::SocketAddr;
using rill::net::TcpSocket;

namespace {
rill::Task<void> basic_usage(bool v6, bool bind_client) {
  auto any = SocketAddr::parse(v6 ? "[::1]:0" : "127.0.0.1:0");
  CO_ASSERT_TRUE(any);
  auto srv = v6 ? TcpSocket::new_v6() : TcpSocket::new_v4();
  CO_ASSERT_TRUE(srv);
  CO_ASSERT_TRUE(srv->bind(*any));
  auto listener = std::move(*srv).listen(128);
  CO_ASSERT_TRUE(listener);
  auto addr = listener->local_addr().value();
  auto cli = v6 ? TcpSocket::new_v6() : TcpSocket::new_v4();
  CO_ASSERT_TRUE(cli);
  if (bind_client) CO_ASSERT_TRUE(cli->bind(*any));
  auto conn = co_await TcpSocket::connect(std::move(*cli), addr);
  EXPECT_TRUE(conn);
  EXPECT_TRUE(co_await listener->accept());
}
}  // namespace

TEST(tcp_socket, basic_usage_v4) {
  block_on(basic_usage(false, false));
}

TEST(tcp_socket, basic_usage_v6) {
  block_on(basic_usage(true, false));
}

TEST(tcp_socket, bind_before_connect) {
  block_on(basic_usage(false, true));
}

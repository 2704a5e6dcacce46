// Port of tokio-1.24.2/tests/tcp_shutdown.rs (tokio::io::copy is conformance::copy).
#include "harness.hpp"

using namespace conformance;
using rill::net::TcpListener;
using rill::net::TcpStream;

TEST(tcp_shutdown, shutdown) {
  block_on([]() -> rill::Task<void> {
    auto srv = TcpListener::bind("127.0.0.1:0");
    CO_ASSERT_TRUE(srv);
    auto addr = srv->local_addr();
    CO_ASSERT_TRUE(addr);
    auto client = rill::spawn([](rill::net::SocketAddr addr) -> rill::Task<void> {
      auto stream = co_await TcpStream::connect(addr);
      CO_ASSERT_TRUE(stream);
      EXPECT_TRUE(co_await stream->shutdown());
      std::array<char, 1> buf{};
      auto n = co_await stream->read(std::span<char>(buf));
      CO_ASSERT_TRUE(n);
      EXPECT_EQ(*n, 0u);
    }(*addr));
    {
      auto acc = co_await srv->accept();
      CO_ASSERT_TRUE(acc);
      auto [rd, wr] = acc->first.split();
      auto n = co_await copy(&rd, &wr);
      CO_ASSERT_TRUE(n);
      EXPECT_EQ(*n, 0u);
    }  // Tokio's test returns here, dropping the stream: the client's read sees end-of-stream
    co_await client;
  }());
}

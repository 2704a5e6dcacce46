// Port of tokio-1.24.2/tests/tcp_echo.rs (tokio::io::copy is conformance::copy).
#include "harness.hpp"

#include <cstring>
#include <string_view>

using namespace conformance;
using rill::net::TcpListener;
using rill::net::TcpStream;

TEST(tcp_echo, echo_server) {
  block_on([]() -> rill::Task<void> {
    constexpr std::size_t ITER = 1024;
    auto [tx, rx] = rill::sync::oneshot::channel<int>();
    auto srv = TcpListener::bind("127.0.0.1:0");
    CO_ASSERT_TRUE(srv);
    auto addr = srv->local_addr();
    CO_ASSERT_TRUE(addr);
    static constexpr std::string_view msg = "foo bar baz";
    auto client = rill::spawn(
        [](rill::net::SocketAddr addr, rill::sync::oneshot::Sender<int> tx) -> rill::Task<void> {
          auto stream = co_await TcpStream::connect(addr);
          CO_ASSERT_TRUE(stream);
          for (std::size_t i = 0; i < ITER; ++i) {
            EXPECT_TRUE(co_await stream->write_all(std::span<const char>(msg.data(), msg.size())));
            std::array<char, 11> buf{};
            EXPECT_TRUE(co_await stream->read_exact(std::span<char>(buf)));
            EXPECT_EQ(std::string_view(buf.data(), buf.size()), msg);
          }
          EXPECT_TRUE(std::move(tx).send(1));
        }(*addr, std::move(tx)));
    auto acc = co_await srv->accept();
    CO_ASSERT_TRUE(acc);
    auto& stream = acc->first;
    auto [rd, wr] = stream.split();
    auto n = co_await copy(&rd, &wr);
    CO_ASSERT_TRUE(n);
    EXPECT_EQ(*n, ITER * msg.size());
    EXPECT_TRUE(co_await rx);
    co_await client;
  }());
}

// Port of tokio-1.24.2/tests/udp.rs. Left out: the poll_* variants (send_recv_poll,
// send_to_recv_from_poll, send_to_peek_from_poll, split_chan_poll, poll_ready), peek_from
// (send_to_peek_from), and the try_* / readiness tests (try_send_spawn, try_send_recv,
// try_send_to_recv_from, try_recv_buf, try_recv_buf_from): rill's UdpSocket has no poll,
// peek, try_send/try_recv or readable()/writable() API.
#include "harness.hpp"

#include <memory>
#include <string_view>
#include <vector>

using namespace conformance;
using rill::net::SocketAddr;
using rill::net::UdpSocket;

namespace {
constexpr std::string_view MSG = "hello";
std::span<const char> msg() {
  return {MSG.data(), MSG.size()};
}
}  // namespace

TEST(udp, send_recv) {
  block_on([]() -> rill::Task<void> {
    auto sender = UdpSocket::bind("127.0.0.1:0");
    auto receiver = UdpSocket::bind("127.0.0.1:0");
    CO_ASSERT_TRUE(sender && receiver);
    CO_ASSERT_TRUE(sender->connect(receiver->local_addr().value()));
    CO_ASSERT_TRUE(receiver->connect(sender->local_addr().value()));
    CO_ASSERT_TRUE(co_await sender->send(msg()));
    std::array<char, 32> recv_buf{};
    auto len = co_await receiver->recv(std::span<char>(recv_buf));
    CO_ASSERT_TRUE(len);
    EXPECT_EQ(std::string_view(recv_buf.data(), *len), MSG);
  }());
}

TEST(udp, send_to_recv_from) {
  block_on([]() -> rill::Task<void> {
    auto sender = UdpSocket::bind("127.0.0.1:0");
    auto receiver = UdpSocket::bind("127.0.0.1:0");
    CO_ASSERT_TRUE(sender && receiver);
    auto receiver_addr = receiver->local_addr().value();
    CO_ASSERT_TRUE(co_await sender->send_to(msg(), receiver_addr));
    std::array<char, 32> recv_buf{};
    auto r = co_await receiver->recv_from(std::span<char>(recv_buf));
    CO_ASSERT_TRUE(r);
    EXPECT_EQ(std::string_view(recv_buf.data(), r->first), MSG);
    EXPECT_TRUE(r->second == sender->local_addr().value());
  }());
}

TEST(udp, split) {
  block_on([]() -> rill::Task<void> {
    auto socket = UdpSocket::bind("127.0.0.1:0");
    CO_ASSERT_TRUE(socket);
    auto s = std::make_shared<UdpSocket>(std::move(*socket));
    auto r = s;
    auto addr = s->local_addr().value();
    (void)rill::spawn([](std::shared_ptr<UdpSocket> s, SocketAddr addr) -> rill::Task<void> {
      EXPECT_TRUE(co_await s->send_to(msg(), addr));
    }(std::move(s), addr));
    std::array<char, 32> recv_buf{};
    auto res = co_await r->recv_from(std::span<char>(recv_buf));
    CO_ASSERT_TRUE(res);
    EXPECT_EQ(std::string_view(recv_buf.data(), res->first), MSG);
  }());
}

TEST(udp, split_chan) {
  block_on([]() -> rill::Task<void> {
    auto socket = UdpSocket::bind("127.0.0.1:0");
    CO_ASSERT_TRUE(socket);
    auto addr = socket->local_addr().value();
    auto s = std::make_shared<UdpSocket>(std::move(*socket));
    auto r = s;
    using Item = std::pair<std::vector<char>, SocketAddr>;
    auto [tx, rx] = rill::sync::mpsc::channel<Item>(1000);
    auto echo = rill::spawn(
        [](std::shared_ptr<UdpSocket> s, rill::sync::mpsc::Receiver<Item> rx) -> rill::Task<void> {
          while (auto item = co_await rx.recv())
            EXPECT_TRUE(co_await s->send_to(std::span<const char>(item->first), item->second));
        }(std::move(s), std::move(rx)));
    auto pump = rill::spawn(
        [](std::shared_ptr<UdpSocket> r, rill::sync::mpsc::Sender<Item> tx) -> rill::Task<void> {
          std::array<char, 32> buf{};
          for (;;) {
            auto res = co_await r->recv_from(std::span<char>(buf));
            CO_ASSERT_TRUE(res);
            EXPECT_TRUE(co_await tx.send(
                Item{std::vector<char>(buf.data(), buf.data() + res->first), res->second}));
          }
        }(std::move(r), std::move(tx)));
    auto sender = UdpSocket::bind("127.0.0.1:0");
    CO_ASSERT_TRUE(sender);
    CO_ASSERT_TRUE(co_await sender->send_to(msg(), addr));
    std::array<char, 32> recv_buf{};
    auto res = co_await sender->recv_from(std::span<char>(recv_buf));
    CO_ASSERT_TRUE(res);
    EXPECT_EQ(std::string_view(recv_buf.data(), res->first), MSG);
    pump.abort();
    echo.abort();
  }());
}

// Port of tokio-1.24.2/tests/tcp_into_split.rs. Left out: split (uses OwnedReadHalf::peek) and
// reunite (OwnedReadHalf::reunite): neither is in rill.
#include "harness.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string_view>
#include <thread>

using namespace conformance;
using rill::net::TcpStream;

namespace {
/// A blocking std::net::TcpListener on 127.0.0.1:0: (fd, port).
std::pair<int, std::uint16_t> std_listener() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  EXPECT_EQ(::listen(fd, 16), 0);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  return {fd, ntohs(a.sin_port)};
}
}  // namespace

// Test that dropping the write half actually closes the stream.
TEST(tcp_into_split, drop_write) {
  static constexpr std::string_view MSG = "split";
  auto [lfd, port] = std_listener();
  std::thread handle([lfd = lfd] {
    int s = ::accept(lfd, nullptr, nullptr);
    EXPECT_EQ(::write(s, MSG.data(), MSG.size()), static_cast<ssize_t>(MSG.size()));
    char read_buf[32];
    EXPECT_EQ(::read(s, read_buf, sizeof read_buf), 0) << "Unexpected read";
    ::close(s);
  });
  block_on([](std::uint16_t port) -> rill::Task<void> {
    auto stream = co_await TcpStream::connect("127.0.0.1:" + std::to_string(port));
    CO_ASSERT_TRUE(stream);
    auto [read_half, write_half] = std::move(*stream).into_split();
    std::array<char, 32> read_buf{};
    auto read_len = co_await read_half.read(std::span<char>(read_buf));
    CO_ASSERT_TRUE(read_len);
    EXPECT_EQ(std::string_view(read_buf.data(), *read_len), MSG);
    // drop it while the read is in progress
    std::thread dropper([w = std::move(write_half)]() mutable {
      std::this_thread::sleep_for(10ms);
      auto drop = std::move(w);
    });
    auto r = co_await read_half.read(std::span<char>(read_buf));
    dropper.join();
    EXPECT_TRUE(r);
    if (r) EXPECT_EQ(*r, 0u) << "Unexpected read";
  }(port));
  handle.join();
  ::close(lfd);
}

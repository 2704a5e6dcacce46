// Text writes: every write (stream sockets, their halves, UDP, fs::File) takes text, and a string
// literal sends exactly its characters, never its terminating NUL.
#include <gtest/gtest.h>
#include <unistd.h>
#include <rill/fs.hpp>
#include <rill/net/udp.hpp>
#include <rill/net/unix.hpp>
#include <rill/rill.hpp>

#include <array>
#include <string>
#include <string_view>
#include <vector>

namespace {
class Text : public ::testing::TestWithParam<rill::IoBackend> {};
INSTANTIATE_TEST_SUITE_P(Io, Text, ::testing::Values(rill::IoBackend::Auto, rill::IoBackend::Epoll),
                         [](const auto& i) {
                           return i.param == rill::IoBackend::Epoll ? "epoll" : "auto";
                         });

// Reads until `n` bytes arrived or the peer closed.
template <class R>
rill::Task<std::string> read_all(R& r) {
  std::string out;
  char buf[64];
  for (;;) {
    auto n = co_await r.read(std::span<char>(buf));
    if (!n || *n == 0) co_return out;
    out.append(buf, *n);
  }
}
}  // namespace

TEST_P(Text, LiteralsAndStringsSendExactlyTheirCharacters) {
  auto rt = rill::Builder::new_current_thread().io_backend(GetParam()).build();
  rt.block_on([]() -> rill::Task<void> {
    auto p = rill::net::UnixStream::pair();
    EXPECT_TRUE(p.has_value());
    auto& [a, b] = *p;
    const std::string s = "str|";
    std::string_view sv = "view|";
    char arr[3] = {'x', 'y', 'z'};  // a non-const array is a buffer: all of it is sent
    std::vector<char> v{'v', '|'};
    EXPECT_TRUE(co_await a.write_all("PONG\n"));
    EXPECT_TRUE(co_await a.write_all(s));
    EXPECT_TRUE(co_await a.write_all(sv));
    EXPECT_TRUE(co_await a.write_all(std::string("tmp|")));
    EXPECT_TRUE(co_await a.write_all(arr));
    EXPECT_TRUE(co_await a.write_all(v));
    auto n = co_await a.write("w|");
    EXPECT_TRUE(n && *n == 2);
    auto [rh, wh] = a.split();
    EXPECT_TRUE(co_await wh.write_all("half|"));
    auto [orh, owh] = std::move(a).into_split();
    EXPECT_TRUE(co_await owh.write_all("owned"));
    EXPECT_TRUE(co_await owh.shutdown());
    const std::string got = co_await read_all(b);
    EXPECT_EQ(got, std::string_view("PONG\nstr|view|tmp|xyzv|w|half|owned"));
    EXPECT_EQ(got.find('\0'), std::string::npos);
  }());
}

TEST_P(Text, EmbeddedNulInALiteralIsKept) {
  auto rt = rill::Builder::new_current_thread().io_backend(GetParam()).build();
  rt.block_on([]() -> rill::Task<void> {
    auto p = rill::net::UnixStream::pair();
    EXPECT_TRUE(p.has_value());
    auto& [a, b] = *p;
    EXPECT_TRUE(co_await a.write_all("a\0b"));
    EXPECT_TRUE(co_await a.shutdown());
    const std::string got = co_await read_all(b);
    EXPECT_EQ(got, std::string("a\0b", 3));
  }());
}

TEST_P(Text, UdpAndFileWritesTakeText) {
  auto rt = rill::Builder::new_current_thread().io_backend(GetParam()).build();
  const std::string path = "/tmp/rill-test-text-" + std::to_string(::getpid()) +
                           (GetParam() == rill::IoBackend::Epoll ? "-e" : "-u");
  rt.block_on([](std::string path) -> rill::Task<void> {
    auto a = rill::net::UdpSocket::bind("127.0.0.1:0");
    auto b = rill::net::UdpSocket::bind("127.0.0.1:0");
    EXPECT_TRUE(a && b);
    auto sent = co_await a->send_to("dgram", *b->local_addr());
    EXPECT_TRUE(sent && *sent == 5);
    char buf[16];
    auto r = co_await b->recv_from(std::span<char>(buf));
    EXPECT_TRUE(r && r->first == 5);

    auto f = co_await rill::fs::File::create(path);
    EXPECT_TRUE(f.has_value());
    EXPECT_TRUE(co_await f->write_all("0123"));
    EXPECT_TRUE(co_await f->write_at("ab", 1));
    auto text = co_await rill::fs::read_to_string(path);
    EXPECT_TRUE(text.has_value());
    EXPECT_EQ(*text, "0ab3");
    EXPECT_TRUE(co_await rill::fs::remove_file(path));
  }(path));
}

// The 10k-connection echo soak (bounded in time): a client process opens 10,000 loopback
// connections to the rill echo server in this process, holds them all open at once, exchanges a
// few checked messages on each, and closes; nothing may be lost or corrupted. Runs on both
// backends. The client is a forked process (one process cannot hold 20k fds under the 20k
// RLIMIT_NOFILE hard limit); it forks before this process starts any runtime thread.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <rill/net/tcp.hpp>
#include <rill/rill.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>

using namespace std::chrono_literals;
using rill::net::TcpListener;
using rill::net::TcpStream;

namespace {

#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
constexpr int kConns = 2000;
#else
constexpr int kConns = 10000;
#endif
constexpr int kMsgs = 3;

std::string pattern(int id, int seq) {
  std::string s(static_cast<std::size_t>(16 + (id * 7 + seq * 13) % 240), '\0');
  for (std::size_t i = 0; i < s.size(); ++i)
    s[i] = static_cast<char>((id * 31 + seq * 7 + i) & 0xff);
  return s;
}

// ---- client process -----------------------------------------------------------------------------

rill::Task<int> client_conn(rill::net::SocketAddr addr, int id, std::atomic<int>* connected) {
  rill::io::Result<TcpStream> s = rill::Unexpected{std::error_code()};
  for (int attempt = 0; attempt < 50; ++attempt) {  // SYN backlog overflow: retry
    s = co_await TcpStream::connect(addr);
    if (s) break;
    co_await rill::sleep(20ms);
  }
  if (!s) {
    std::fprintf(stderr, "soak client %d: connect: %s\n", id, s.error().message().c_str());
    co_return 1;
  }
  connected->fetch_add(1);
  while (connected->load() < kConns)
    co_await rill::sleep(5ms);  // all 10k open at once
  for (int m = 0; m < kMsgs; ++m) {
    const std::string out = pattern(id, m);
    std::string in(out.size(), '\0');
    if (!co_await s->write_all(std::span<const char>(out))) co_return 1;
    auto r = co_await s->read_exact(std::span<char>(in));
    if (!r || in != out) {
      std::fprintf(stderr, "soak client %d: %s\n", id,
                   r ? "corrupted echo" : r.error().message().c_str());
      co_return 1;
    }
  }
  (void)co_await s->shutdown();
  char b;
  auto eof = co_await s->read(std::span<char>(&b, 1));  // the server closes first
  co_return (eof && *eof == 0) ? 0 : 1;
}

[[noreturn]] void run_client(std::uint16_t port, rill::IoBackend backend) {
  int failures = 0;
  {
    auto rt = rill::Builder::new_multi_thread().worker_threads(1).io_backend(backend).build();
    failures = rt.block_on([](std::uint16_t port) -> rill::Task<int> {
      std::atomic<int> connected{0};
      const auto addr = rill::net::SocketAddr::v4(127, 0, 0, 1, port);
      std::vector<rill::JoinHandle<int>> hs;
      hs.reserve(kConns);
      for (int i = 0; i < kConns; ++i) {
        hs.push_back(rill::spawn(client_conn(addr, i, &connected)));
        if (i % 512 == 511) co_await rill::sleep(1ms);  // pace the SYNs a little
      }
      int bad = 0;
      for (auto& h : hs)
        bad += co_await h;
      co_return bad;
    }(port));
  }
  std::fflush(stderr);
  ::_exit(failures == 0 ? 0 : 1);
}

// ---- server (this process)
// -----------------------------------------------------------------------

struct Stats {
  std::atomic<int> accepted{0};
  std::atomic<int> closed_clean{0};
  std::atomic<long> bytes{0};
};

rill::Task<void> serve(TcpStream s, Stats* st) {
  char buf[1024];
  for (;;) {
    auto n = co_await s.read(std::span<char>(buf));
    if (!n) co_return;
    if (*n == 0) {
      st->closed_clean.fetch_add(1);
      co_return;  // closing here: the server side takes TIME_WAIT, not the client's ports
    }
    st->bytes.fetch_add(static_cast<long>(*n));
    if (!co_await s.write_all(std::span<const char>(buf, *n))) co_return;
  }
}

class Soak : public ::testing::TestWithParam<rill::IoBackend> {};
INSTANTIATE_TEST_SUITE_P(Net, Soak,
                         ::testing::Values(rill::IoBackend::Auto, rill::IoBackend::Epoll),
                         [](const auto& i) {
                           return i.param == rill::IoBackend::Epoll ? "epoll" : "auto";
                         });

}  // namespace

TEST_P(Soak, TenThousandConnectionsLoseNothing) {
  rlimit rl{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &rl), 0);
  if (rl.rlim_max < static_cast<rlim_t>(kConns + 200))
    GTEST_SKIP() << "RLIMIT_NOFILE hard limit " << rl.rlim_max << " is below " << kConns + 200;
  rl.rlim_cur = rl.rlim_max;
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &rl), 0);

  // Listening socket first (plain syscalls: no runtime thread may exist when we fork).
  const int lfd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(lfd, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof sa;
  ASSERT_EQ(::bind(lfd, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
  ASSERT_EQ(::listen(lfd, 4096), 0);
  ASSERT_EQ(::getsockname(lfd, reinterpret_cast<sockaddr*>(&sa), &len), 0);
  const std::uint16_t port = ntohs(sa.sin_port);

  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(lfd);
    run_client(port, GetParam());
  }

  Stats st;
  int status = -1;
  {
    auto rt = rill::Builder::new_multi_thread().worker_threads(1).io_backend(GetParam()).build();
    status = rt.block_on([](int lfd, pid_t child, Stats* st) -> rill::Task<int> {
      auto l = TcpListener::from_raw_fd(lfd);
      EXPECT_TRUE(l);
      auto acceptor = rill::spawn([](TcpListener l, Stats* st) -> rill::Task<void> {
        for (;;) {
          auto a = co_await l.accept();
          if (!a) {
            ADD_FAILURE() << "accept: " << a.error().message();
            co_return;
          }
          st->accepted.fetch_add(1);
          (void)rill::spawn(serve(std::move(a->first), st));
        }
      }(std::move(*l), st));
      // Bounded: the client must finish within 120 s.
      auto waited = co_await rill::timeout(120s, [](pid_t child) -> rill::Task<int> {
        co_return co_await rill::spawn_blocking([child] {
          int s = 0;
          return ::waitpid(child, &s, 0) == child ? s : -1;
        });
      }(child));
      acceptor.abort();
      if (!waited) {
        ::kill(child, SIGKILL);
        int s;
        ::waitpid(child, &s, 0);
        ADD_FAILURE() << "soak client did not finish in 120 s";
        co_return -1;
      }
      // Let the last FIN/close round trips settle.
      for (int i = 0; i < 200 && st->closed_clean.load() < kConns; ++i)
        co_await rill::sleep(5ms);
      co_return *waited;
    }(lfd, child, &st));
  }
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "client status " << status;
  EXPECT_EQ(st.accepted.load(), kConns);
  EXPECT_EQ(st.closed_clean.load(), kConns);
  long want = 0;
  for (int id = 0; id < kConns; ++id)
    for (int m = 0; m < kMsgs; ++m)
      want += static_cast<long>(pattern(id, m).size());
  EXPECT_EQ(st.bytes.load(), want);
}

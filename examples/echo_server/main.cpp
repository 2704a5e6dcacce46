// examples/echo_server: a TCP echo server on rill, the "hello world" of network services.
//
//   echo_server [PORT] [--idle-timeout-ms N] [--max-connections N]
//                             (PORT: default 7000, 0 picks a free one; 127.0.0.1 only)
//   printf 'hi\n' | nc -q1 127.0.0.1 7000
//
// One task per connection reads whatever arrives and writes it back, and closes the connection
// when the peer sent nothing for the idle timeout (default 75 s, nginx's keepalive_timeout). A
// semaphore bounds the connections served at once (the accept loop waits for a permit). When
// the process runs out of file descriptors (EMFILE/ENFILE) the accept loop backs off (10 ms
// doubling to 500 ms) instead of retrying at once, and logs once per episode. Ctrl-C stops the
// server: the accept loop ends and open connections are cancelled with the runtime.
#include <rill/net/tcp.hpp>
#include <rill/rill.hpp>
#include <rill/signal.hpp>

#include <fmt/format.h>

#include <cerrno>
#include <algorithm>
#include <charconv>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "../common/accept_backoff.hpp"

using namespace std::chrono_literals;

namespace {

// Echoes until the peer closes its side (read yields 0), an error (e.g. a reset) happens, or
// the peer sent nothing for `idle`. The permit is held for the connection's lifetime and
// released when the task ends.
rill::Task<void> echo(rill::net::TcpStream stream, rill::sync::OwnedSemaphorePermit,
                      std::chrono::milliseconds idle) {
  std::vector<char> buf(16 * 1024);  // on the heap: the coroutine frame stays small
  for (;;) {
    auto r = co_await rill::timeout(idle, stream.read(std::span<char>(buf)));
    if (!r) co_return;  // idle for too long
    auto& n = *r;
    if (!n || *n == 0) co_return;
    auto w = co_await stream.write_all(std::span<const char>(buf.data(), *n));
    if (!w) co_return;
  }
}

rill::Task<int> serve(std::uint16_t port, std::chrono::milliseconds idle, std::size_t max_conns) {
  // Created before the loop: a Ctrl-C that arrives between two awaits is not lost.
  rill::signal::Signal sigint(SIGINT);
  auto listener = rill::net::TcpListener::bind(rill::net::SocketAddr::localhost_v4(port));
  if (!listener) {
    fmt::print(stderr, "echo_server: cannot listen on 127.0.0.1:{}: {}\n", port,
               listener.error().message());
    co_return 1;
  }
  auto addr = listener->local_addr();
  fmt::print("echo_server listening on {} (Ctrl-C to stop)\n", addr ? addr->to_string() : "?");

  auto limit = std::make_shared<rill::sync::Semaphore>(max_conns);  // connections at once
  std::uint64_t served = 0;
  examples::AcceptBackoff backoff("echo_server");
  for (;;) {
    auto permit = co_await rill::sync::Semaphore::acquire_owned(limit);
    if (!permit) break;
    // Race the next connection against Ctrl-C: whichever comes first wins, the other is
    // cancelled (rill::select destroys the loser at its suspension point).
    auto next = co_await rill::select(listener->accept(), sigint.recv());
    if (next.index() == 1) break;
    auto& accepted = std::get<0>(next);
    if (!accepted) {
      // Transient errors (e.g. ECONNABORTED): accept again at once.
      if (!examples::AcceptBackoff::is_exhaustion(accepted.error())) continue;
      // Out of descriptors: the listener stays usable, but retrying at once would spin.
      auto slept =
          co_await rill::select(rill::sleep(backoff.on_exhausted(accepted.error())), sigint.recv());
      if (slept.index() == 1) break;
      continue;
    }
    backoff.on_accepted();
    ++served;
    (void)rill::spawn(echo(std::move(accepted->first), std::move(*permit), idle));
  }
  fmt::print("echo_server: stopping after {} connections\n", served);
  co_return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::uint16_t port = 7000;
  long idle_ms = 75000;  // nginx's keepalive_timeout
  std::size_t max_conns = 512;
  auto usage = [](std::string_view problem) {
    fmt::print(stderr,
               "echo_server: {}\nusage: echo_server [PORT] [--idle-timeout-ms N] "
               "[--max-connections N]\n",
               problem);
    return 2;
  };
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    auto number = [&](long& out, long lo, long hi) {
      if (i + 1 >= argc) return false;
      const std::string_view v = argv[++i];
      auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
      return ec == std::errc() && p == v.data() + v.size() && out >= lo && out <= hi;
    };
    long v = 0;
    if (a == "--idle-timeout-ms") {
      if (!number(idle_ms, 1, 86400000)) return usage("--idle-timeout-ms wants 1..86400000");
    } else if (a == "--max-connections") {
      if (!number(v, 1, 1000000)) return usage("--max-connections wants 1..1000000");
      max_conns = static_cast<std::size_t>(v);
    } else if (std::from_chars(a.data(), a.data() + a.size(), port).ec != std::errc()) {
      return usage(fmt::format("PORT: 0..65535, got '{}'", a));
    }
  }
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // lines appear at once, even into a pipe
  auto rt = rill::Builder::new_multi_thread().build();
  return rt.block_on(serve(port, std::chrono::milliseconds(idle_ms), max_conns));
}

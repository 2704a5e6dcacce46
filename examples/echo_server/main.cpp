// examples/echo_server: a TCP echo server on rill, the "hello world" of network services.
//
//   echo_server [PORT]        (default 7000; listens on 127.0.0.1 only)
//   printf 'hi\n' | nc -q1 127.0.0.1 7000
//
// One task per connection reads whatever arrives and writes it back. A semaphore bounds the
// connections served at once (the accept loop waits for a permit), and Ctrl-C stops the server:
// the accept loop ends and open connections are cancelled with the runtime.
#include <rill/net/tcp.hpp>
#include <rill/rill.hpp>
#include <rill/signal.hpp>

#include <fmt/format.h>

#include <charconv>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

namespace {

// Echoes until the peer closes its side (read yields 0) or an error (e.g. a reset) happens.
// The permit is held for the connection's lifetime and released when the task ends.
rill::Task<void> echo(rill::net::TcpStream stream, rill::sync::OwnedSemaphorePermit) {
  std::vector<char> buf(16 * 1024);  // on the heap: the coroutine frame stays small
  for (;;) {
    auto n = co_await stream.read(std::span<char>(buf));
    if (!n || *n == 0) co_return;
    auto w = co_await stream.write_all(std::span<const char>(buf.data(), *n));
    if (!w) co_return;
  }
}

rill::Task<rill::io::Result<std::pair<rill::net::TcpStream, rill::net::SocketAddr>>> accept_one(
    rill::net::TcpListener& l) {
  co_return co_await l.accept();
}

// Completes at the next delivery of `sig` (a Task, so rill::select can race it).
rill::Task<void> next_signal(rill::signal::Signal& sig) {
  co_await sig.recv();
}

rill::Task<int> serve(std::uint16_t port) {
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

  auto limit = std::make_shared<rill::sync::Semaphore>(512);  // at most 512 connections at once
  std::uint64_t served = 0;
  for (;;) {
    auto permit = co_await rill::sync::Semaphore::acquire_owned(limit);
    if (!permit) break;
    // Race the next connection against Ctrl-C: whichever comes first wins, the other is
    // cancelled (rill::select destroys the loser at its suspension point).
    auto next = co_await rill::select(accept_one(*listener), next_signal(sigint));
    if (next.index() == 1) break;
    auto& accepted = std::get<0>(next);
    if (!accepted) continue;  // e.g. EMFILE: the listener stays usable
    ++served;
    (void)rill::spawn(echo(std::move(accepted->first), std::move(*permit)));
  }
  fmt::print("echo_server: stopping after {} connections\n", served);
  co_return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::uint16_t port = 7000;
  if (argc > 1) {
    const std::string_view s = argv[1];
    if (std::from_chars(s.data(), s.data() + s.size(), port).ec != std::errc()) {
      fmt::print(stderr, "usage: echo_server [PORT]   (PORT: 0..65535, got '{}')\n", s);
      return 2;
    }
  }
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // lines appear at once, even into a pipe
  auto rt = rill::Builder::new_multi_thread().build();
  return rt.block_on(serve(port));
}

// examples/demo_server: an HTTP/1.1 service on rill whose endpoints are pitfalls from the field,
// each next to its fix (handlers.cpp). This file is the service skeleton: flags, the runtime
// with its long-poll detector, the accept loop (bounded by a semaphore), one task per
// connection (llhttp parsing, keep-alive, pipelining), and graceful shutdown on SIGINT/SIGTERM.
//
//   demo_server [--port N] [--workers N] [--long-poll-ms N] [--hash-concurrency N]
//               [--bcrypt-cost N] [--config FILE] [--max-connections N]
//
// It listens on 127.0.0.1 only and prints "demo_server listening on 127.0.0.1:PORT" once ready
// (port 0 picks a free port). See docs/demo.md.
#include <rill/net/tcp.hpp>
#include <rill/rill.hpp>
#include <rill/signal.hpp>
#if __has_include(<rill/diagnostics.hpp>)
#include <rill/diagnostics.hpp>
#define DEMO_HAVE_DIAGNOSTICS 1
#endif

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "handlers.hpp"
#include "http.hpp"

using namespace std::chrono_literals;

namespace {

/// Command-line settings (see usage()).
struct Options {
  int port = 8080;
  std::size_t workers = 0;  // 0: one per CPU
  int long_poll_ms = 10;
  std::size_t hash_concurrency = 0;  // 0: CPUs - 1 (at least 1)
  int bcrypt_cost = 10;
  std::size_t max_connections = 1024;
  std::string config_path = DEMO_CONFIG_PATH;
};

void usage(std::FILE* to) {
  fmt::print(to,
             "usage: demo_server [--port N] [--workers N] [--long-poll-ms N]\n"
             "                   [--hash-concurrency N] [--bcrypt-cost N] [--config FILE]\n"
             "                   [--max-connections N]\n"
             "  --port N              TCP port on 127.0.0.1 (default 8080; 0 picks a free one)\n"
             "  --workers N           runtime worker threads (default: one per CPU)\n"
             "  --long-poll-ms N      long-poll detector threshold in ms (default 10; 0 off)\n"
             "  --hash-concurrency N  concurrent /hash_offloaded jobs (default: CPUs - 1, >= 1)\n"
             "  --bcrypt-cost N       bcrypt work factor, 4..31 (default 10: $2b$10$)\n"
             "  --config FILE         file served by /config and /config_async\n"
             "  --max-connections N   connections served at once (default 1024)\n");
}

/// Parses a whole non-negative integer in [lo, hi]; nullopt otherwise.
std::optional<long> parse_int(std::string_view s, long lo, long hi) {
  long v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v < lo || v > hi) return std::nullopt;
  return v;
}

/// Parses argv; prints the problem and the usage and exits with status 2 on bad input.
Options parse_args(int argc, char** argv) {
  Options o;
  auto fail = [](const std::string& msg) {
    fmt::print(stderr, "demo_server: {}\n", msg);
    usage(stderr);
    std::exit(2);
  };
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      usage(stdout);
      std::exit(0);
    }
    std::string_view value;
    if (const auto eq = arg.find('='); eq != std::string_view::npos) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      fail(fmt::format("{} needs a value", arg));
    }
    auto number = [&](long lo, long hi) {
      auto v = parse_int(value, lo, hi);
      if (!v) fail(fmt::format("{} wants an integer in [{}, {}], got '{}'", arg, lo, hi, value));
      return *v;
    };
    if (arg == "--port")
      o.port = static_cast<int>(number(0, 65535));
    else if (arg == "--workers")
      o.workers = static_cast<std::size_t>(number(1, 1024));
    else if (arg == "--long-poll-ms")
      o.long_poll_ms = static_cast<int>(number(0, 60000));
    else if (arg == "--hash-concurrency")
      o.hash_concurrency = static_cast<std::size_t>(number(1, 1024));
    else if (arg == "--bcrypt-cost")
      o.bcrypt_cost = static_cast<int>(number(4, 31));
    else if (arg == "--max-connections")
      o.max_connections = static_cast<std::size_t>(number(1, 1000000));
    else if (arg == "--config")
      o.config_path = std::string(value);
    else
      fail(fmt::format("unknown flag '{}'", arg));
  }
  return o;
}

/// The shutdown latch: trigger() once a signal arrived; wait() completes then (at once if it
/// already happened). Thread-safe.
class Shutdown {
 public:
  void trigger() {
    stopping_.store(true, std::memory_order_release);
    notify_.notify_waiters();
  }
  bool stopping() const noexcept { return stopping_.load(std::memory_order_acquire); }
  rill::Task<void> wait() {
    for (;;) {
      auto notified = notify_.notified();  // created before the check: no lost wake-up
      if (stopping()) co_return;
      co_await notified;
    }
  }

 private:
  std::atomic<bool> stopping_{false};
  rill::sync::Notify notify_;
};

/// Live-connection count, so shutdown can wait for in-flight requests.
struct Connections {
  std::atomic<std::size_t> live{0};
  rill::sync::Notify changed;
};

/// Decrements the live count when a connection task ends (also when it is cancelled).
struct ConnectionGuard {
  explicit ConnectionGuard(Connections& c) : c_(c) { c_.live.fetch_add(1); }
  ~ConnectionGuard() {
    c_.live.fetch_sub(1);
    c_.changed.notify_waiters();
  }
  ConnectionGuard(const ConnectionGuard&) = delete;
  ConnectionGuard& operator=(const ConnectionGuard&) = delete;
  Connections& c_;
};

rill::Task<rill::io::Result<std::size_t>> read_some(rill::net::TcpStream& s, std::span<char> buf) {
  co_return co_await s.read(buf);
}

/// Serves one connection: reads, parses (llhttp), answers each request in order, keeps the
/// connection open while the client wants it and the server is not shutting down. A request
/// being handled when shutdown starts is finished and answered (with Connection: close); an
/// idle connection is closed at once.
rill::Task<void> serve_connection(demo::App& app, Shutdown& sd, Connections& conns,
                                  rill::net::TcpStream stream, rill::sync::OwnedSemaphorePermit) {
  ConnectionGuard guard(conns);
  demo::http::RequestParser parser;
  std::vector<char> buf(16 * 1024);
  for (;;) {
    auto st = parser.feed({});
    while (st == demo::http::RequestParser::Status::NeedMore) {
      auto r = co_await rill::select(read_some(stream, buf), sd.wait());
      if (r.index() == 1) co_return;  // shutdown while idle
      auto& n = std::get<0>(r);
      if (!n) co_return;  // reset by the peer
      if (*n == 0) {
        st = parser.finish();
        if (st == demo::http::RequestParser::Status::NeedMore) co_return;  // clean close
        break;
      }
      st = parser.feed(std::string_view(buf.data(), *n));
    }
    if (st == demo::http::RequestParser::Status::Error) {
      auto resp = demo::http::Response::text(parser.error_status(), parser.error_reason() + "\n");
      const std::string out = resp.serialize(false);
      (void)co_await stream.write_all(std::span<const char>(out));
      co_return;
    }
    demo::http::Request req = parser.take();
    const bool keep_alive_wanted = req.keep_alive;
    demo::http::Response resp = co_await demo::route(app, std::move(req));
    const bool keep_alive = keep_alive_wanted && !sd.stopping();
    const std::string out = resp.serialize(keep_alive);
    auto w = co_await stream.write_all(std::span<const char>(out));
    if (!w || !keep_alive) co_return;
  }
}

rill::Task<rill::io::Result<std::pair<rill::net::TcpStream, rill::net::SocketAddr>>> accept_one(
    rill::net::TcpListener& l) {
  co_return co_await l.accept();
}

rill::Task<void> recv_signal(rill::signal::Signal& s) {
  co_await s.recv();
}

/// Waits for SIGINT or SIGTERM and starts the shutdown.
rill::Task<void> watch_signals(rill::signal::Signal& sigint, rill::signal::Signal& sigterm,
                               Shutdown& sd) {
  auto r = co_await rill::select(recv_signal(sigint), recv_signal(sigterm), sd.wait());
  if (r.index() == 2) co_return;
  fmt::print("demo_server: {} received, shutting down\n", r.index() == 0 ? "SIGINT" : "SIGTERM");
  sd.trigger();
}

rill::Task<void> wait_drained(Connections& conns) {
  for (;;) {
    auto changed = conns.changed.notified();
    if (conns.live.load() == 0) co_return;
    co_await changed;
  }
}

rill::Task<int> run_server(const Options& opt, demo::App& app, rill::signal::Signal& sigint,
                           rill::signal::Signal& sigterm) {
  auto listener = rill::net::TcpListener::bind(
      rill::net::SocketAddr::localhost_v4(static_cast<std::uint16_t>(opt.port)));
  if (!listener) {
    fmt::print(stderr, "demo_server: cannot listen on 127.0.0.1:{}: {}\n", opt.port,
               listener.error().message());
    co_return 1;
  }
  auto local = listener->local_addr();
  Shutdown sd;
  Connections conns;
  auto signals = rill::spawn(watch_signals(sigint, sigterm, sd));
  fmt::print(
      "demo_server listening on {} (workers {}, long-poll threshold {} ms, hash permits {})\n",
      local ? local->to_string() : "?", rill::Handle::current().num_workers(), opt.long_poll_ms,
      app.hash_permits->available_permits());

  // The accept loop. Each connection holds a permit of `limit`, so at most max_connections
  // are served at once; the next accept waits for a permit (back-pressure into the kernel's
  // listen backlog instead of unbounded tasks).
  auto limit = std::make_shared<rill::sync::Semaphore>(opt.max_connections);
  for (;;) {
    auto permit = co_await rill::sync::Semaphore::acquire_owned(limit);
    if (!permit || sd.stopping()) break;
    auto r = co_await rill::select(accept_one(*listener), sd.wait());
    if (r.index() == 1) break;
    auto& accepted = std::get<0>(r);
    if (!accepted) {
      // EMFILE and friends: the listener stays usable; back off briefly.
      fmt::print(stderr, "demo_server: accept failed: {}\n", accepted.error().message());
      co_await rill::sleep(10ms);
      continue;
    }
    (void)accepted->first.set_nodelay(true);
    // Detached: the JoinHandle is dropped; the task keeps running (shutdown waits on `conns`).
    (void)rill::spawn(
        serve_connection(app, sd, conns, std::move(accepted->first), std::move(*permit)));
  }

  // Graceful shutdown: no new connections; in-flight requests finish (up to 5 s).
  listener = rill::net::TcpListener();
  const auto left = conns.live.load();
  auto drained = co_await rill::timeout(5s, wait_drained(conns));
  fmt::print("demo_server: stopped ({} connections open at shutdown, {}; {} requests served)\n",
             left, drained ? "all finished" : "timed out waiting for them", app.requests.load());
  co_await signals;
  co_return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const Options opt = parse_args(argc, argv);
  // Line-buffered stdout even into a file or pipe: the demo script waits for the "listening"
  // line, and coroutines then print without calling (blocking) fflush themselves.
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  const std::size_t cpus = std::max(1u, std::thread::hardware_concurrency());

  // Install the handlers before anything else: from here on SIGINT/SIGTERM start the graceful
  // shutdown instead of killing the process.
  rill::signal::Signal sigint(SIGINT);
  rill::signal::Signal sigterm(SIGTERM);

  auto builder = rill::Builder::new_multi_thread();
  builder.thread_name("demo-worker");
  if (opt.workers) builder.worker_threads(opt.workers);
  [[maybe_unused]] std::atomic<std::size_t> long_polls{0};
#ifdef DEMO_HAVE_DIAGNOSTICS
  builder.long_poll_threshold(std::chrono::milliseconds(opt.long_poll_ms));
  builder.on_long_poll([&long_polls](const rill::diagnostics::LongPollReport& report) {
    long_polls.fetch_add(1, std::memory_order_relaxed);
    // One write per report, with a marker line the demo script splits on.
    std::string text = "[long-poll] " + report.to_string();
    if (!text.ends_with('\n')) text += '\n';
    text += "[/long-poll]\n";
    (void)!::write(STDERR_FILENO, text.data(), text.size());
  });
#else
  if (opt.long_poll_ms)
    fmt::print(stderr,
               "demo_server: this rill build has no long-poll detector "
               "(rill/diagnostics.hpp); --long-poll-ms is ignored\n");
#endif

  demo::App app;
  app.config_path = opt.config_path;
  app.bcrypt_cost = opt.bcrypt_cost;
  app.hash_permits = std::make_unique<rill::sync::Semaphore>(
      opt.hash_concurrency ? opt.hash_concurrency : std::max<std::size_t>(1, cpus - 1));

  int rc = 0;
  try {
    auto rt = builder.build();
    rc = rt.block_on(run_server(opt, app, sigint, sigterm));
    std::move(rt).shutdown_timeout(5s);
  } catch (const std::exception& e) {
    fmt::print(stderr, "demo_server: {}\n", e.what());
    return 1;
  }
#ifdef DEMO_HAVE_DIAGNOSTICS
  fmt::print("demo_server: long polls reported: {}\n", long_polls.load());
#endif
  return rc;
}

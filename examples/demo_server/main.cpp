// examples/demo_server: an HTTP/1.1 service on rill whose endpoints are pitfalls from the field,
// each next to its fix (handlers.cpp). This file is the service skeleton: flags, the runtime
// with its long-poll detector, the accept loop, one task per connection (llhttp parsing,
// keep-alive, pipelining, timeouts), and graceful shutdown on SIGINT/SIGTERM with a
// CancellationToken and a TaskTracker.
//
//   demo_server [--port N] [--workers N] [--long-poll-ms N] [--hash-concurrency N]
//               [--bcrypt-cost N] [--config FILE] [--max-connections N]
//               [--header-timeout-ms N] [--body-timeout-ms N] [--keepalive-timeout-ms N]
//               [--send-timeout-ms N] [--drain-timeout-ms N]
//
// It listens on 127.0.0.1 only and prints "demo_server listening on 127.0.0.1:PORT" once ready
// (port 0 picks a free port). See docs/demo.md.
//
// Lifetimes: every spawned task owns what it uses (its socket, a permit, copies of the
// cancellation tokens and of the tracker) or borrows what outlives the runtime (`app` and the
// options live in main() and are destroyed after the runtime). No task refers to another
// task's frame: at shutdown the runtime destroys the frames in no particular order (see
// docs/runtime.md, "What shutdown destroys, and when").
#include <rill/diagnostics.hpp>
#include <rill/net/tcp.hpp>
#include <rill/rill.hpp>
#include <rill/signal.hpp>
#include <rill/sync/cancellation_token.hpp>
#include <rill/task_tracker.hpp>

#include <fmt/format.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <vector>

#include "../common/accept_backoff.hpp"
#include "handlers.hpp"
#include "http.hpp"

using namespace std::chrono_literals;

namespace {

using Clock = std::chrono::steady_clock;
using rill::sync::CancellationToken;

/// Command-line settings (see usage()). Timeouts follow nginx's defaults.
struct Options {
  int port = 8080;
  std::size_t workers = 0;  // 0: one per CPU
  int long_poll_ms = 10;
  std::size_t hash_concurrency = 0;  // 0: CPUs - 1 (at least 1)
  int bcrypt_cost = 10;
  std::size_t max_connections = 10000;
  std::string config_path = DEMO_CONFIG_PATH;
  /// The whole head of a request must arrive within this (nginx client_header_timeout).
  std::chrono::milliseconds header_timeout{60000};
  /// Longest pause between two reads of a body (nginx client_body_timeout).
  std::chrono::milliseconds body_timeout{60000};
  /// Longest wait for the next request on a kept-alive connection (nginx keepalive_timeout).
  std::chrono::milliseconds keepalive_timeout{75000};
  /// Longest time one response write may take (nginx send_timeout).
  std::chrono::milliseconds send_timeout{60000};
  /// At shutdown, how long requests in progress may take before they are answered 503.
  std::chrono::milliseconds drain_timeout{5000};
};

void usage(std::FILE* to) {
  fmt::print(to,
             "usage: demo_server [--port N] [--workers N] [--long-poll-ms N]\n"
             "                   [--hash-concurrency N] [--bcrypt-cost N] [--config FILE]\n"
             "                   [--max-connections N] [--header-timeout-ms N]\n"
             "                   [--body-timeout-ms N] [--keepalive-timeout-ms N]\n"
             "                   [--send-timeout-ms N] [--drain-timeout-ms N]\n"
             "  --port N                 TCP port on 127.0.0.1 (default 8080; 0 picks a free one)\n"
             "  --workers N              runtime worker threads (default: one per CPU)\n"
             "  --long-poll-ms N         long-poll detector threshold in ms (default 10; 0 off)\n"
             "  --hash-concurrency N     concurrent /hash_offloaded jobs (default: CPUs - 1,\n"
             "                           at least 1)\n"
             "  --bcrypt-cost N          bcrypt work factor, 4..31 (default 10: $2b$10$)\n"
             "  --config FILE            file served by /config and /config_async\n"
             "  --max-connections N      connections served at once; more get 503 (default 10000,\n"
             "                           lowered to fit the open-file limit)\n"
             "  --header-timeout-ms N    time to receive a request head (default 60000)\n"
             "  --body-timeout-ms N      longest pause while receiving a body (default 60000)\n"
             "  --keepalive-timeout-ms N idle time before a kept-alive connection is closed\n"
             "                           (default 75000)\n"
             "  --send-timeout-ms N      time to send one response (default 60000)\n"
             "  --drain-timeout-ms N     at shutdown, time left to requests in progress\n"
             "                           (default 5000)\n");
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
    else if (arg == "--header-timeout-ms")
      o.header_timeout = std::chrono::milliseconds(number(1, 86400000));
    else if (arg == "--body-timeout-ms")
      o.body_timeout = std::chrono::milliseconds(number(1, 86400000));
    else if (arg == "--keepalive-timeout-ms")
      o.keepalive_timeout = std::chrono::milliseconds(number(1, 86400000));
    else if (arg == "--send-timeout-ms")
      o.send_timeout = std::chrono::milliseconds(number(1, 86400000));
    else if (arg == "--drain-timeout-ms")
      o.drain_timeout = std::chrono::milliseconds(number(0, 86400000));
    else
      fail(fmt::format("unknown flag '{}'", arg));
  }
  return o;
}

/// The two stages of shutdown, as tokens every connection task holds a copy of.
struct Stop {
  /// Cancelled by SIGINT/SIGTERM: stop accepting, close idle connections, answer requests that
  /// have not started with 503 + Connection: close, finish the ones in progress.
  CancellationToken draining;
  /// Cancelled when the drain timeout has passed: requests still in progress are answered 503 +
  /// Connection: close at once. A child of `draining` (cancelling it implies draining).
  CancellationToken abandon = draining.child_token();
};

/// Writes `text`, giving up after `limit` (a peer that does not read). True when all was sent.
rill::Task<bool> send_within(rill::net::TcpStream& s, std::string text,
                             std::chrono::milliseconds limit) {
  auto r = co_await rill::timeout(limit, s.write_all(std::span<const char>(text)));
  co_return r && *r;
}

/// How one read of a connection ended.
enum class ReadEnd { Data, Eof, Error, TimedOut, Stopped };

/// Reads once into `buf`, giving up at `deadline`.
rill::Task<std::pair<ReadEnd, std::size_t>> read_until(rill::net::TcpStream& s, std::span<char> buf,
                                                       Clock::time_point deadline) {
  auto t = co_await rill::timeout_at(deadline, s.read(buf));
  if (!t) co_return std::pair{ReadEnd::TimedOut, std::size_t{0}};
  if (!*t) co_return std::pair{ReadEnd::Error, std::size_t{0}};
  co_return std::pair{**t == 0 ? ReadEnd::Eof : ReadEnd::Data, **t};
}

/// Reads once into `buf`, bounded by `deadline` and, when `stop` is given, by its cancellation.
rill::Task<std::pair<ReadEnd, std::size_t>> read_bounded(rill::net::TcpStream& s,
                                                         std::span<char> buf,
                                                         Clock::time_point deadline,
                                                         std::optional<CancellationToken> stop) {
  if (!stop) co_return co_await read_until(s, buf, deadline);
  auto r = co_await rill::select(read_until(s, buf, deadline), stop->cancelled());
  if (r.index() == 1) co_return std::pair{ReadEnd::Stopped, std::size_t{0}};
  co_return std::get<0>(r);
}

/// Closes a connection after an error answer the way nginx's lingering_close does: shut the
/// write side, then read and discard what the client still sends (up to 2 s or 1 MiB), so that
/// closing with unread input does not reset the connection before the client read the answer.
rill::Task<void> linger_close(rill::net::TcpStream& stream) {
  (void)co_await stream.shutdown();
  std::vector<char> buf(16 * 1024);
  const auto until = Clock::now() + 2s;
  for (std::size_t total = 0; total < 1024 * 1024;) {
    auto [end, n] = co_await read_until(stream, buf, until);
    if (end != ReadEnd::Data) co_return;
    total += n;
  }
}

/// Sends an error answer with Connection: close, then closes (lingering).
rill::Task<void> fail_and_close(rill::net::TcpStream& stream, demo::http::Response resp,
                                std::chrono::milliseconds send_timeout) {
  if (co_await send_within(stream, resp.serialize(false), send_timeout))
    co_await linger_close(stream);
}

/// Runs the handler unless the drain timeout passes first; then the request is answered 503.
rill::Task<demo::http::Response> handle(demo::App& app, demo::http::Request req,
                                        CancellationToken abandon) {
  auto r = co_await rill::select(demo::route(app, std::move(req)), abandon.cancelled());
  if (r.index() == 0) co_return std::move(std::get<0>(r));
  co_return demo::http::Response::text(503, "shutting down\n");
}

/// Serves one connection: reads, parses (llhttp), answers each request in order, keeps the
/// connection open while the client wants it and the server is not shutting down.
///   - idle between requests: closed after keepalive_timeout, or at once when draining starts;
///   - reading a head: 408 + close if it takes longer than header_timeout in all;
///   - reading a body: 408 + close after body_timeout without a byte;
///   - `Expect: 100-continue`: "100 Continue" is sent before the body is read;
///   - a request that starts after draining began (a pipelined one) is answered 503 + close;
///     one in progress is finished (Connection: close), or answered 503 once the drain timeout
///     passed.
/// Owns everything it uses except `app` and `opt`, which outlive the runtime.
rill::Task<void> serve_connection(demo::App& app, const Options& opt, Stop stop,
                                  rill::net::TcpStream stream, rill::sync::OwnedSemaphorePermit) {
  using Status = demo::http::RequestParser::Status;
  demo::http::RequestParser parser;
  std::vector<char> buf(16 * 1024);
  for (;;) {
    Clock::time_point head_start{};
    bool started_before_drain = false;
    auto st = parser.feed({});
    if (parser.head_started() || st != Status::NeedMore) {  // pipelined: already buffered
      head_start = Clock::now();
      started_before_drain = !stop.draining.is_cancelled();
    }
    Clock::time_point idle_deadline = Clock::now() + opt.keepalive_timeout;
    while (st == Status::NeedMore) {
      if (parser.take_expect_continue()) {
        if (!co_await send_within(stream, "HTTP/1.1 100 Continue\r\n\r\n", opt.send_timeout))
          co_return;
      }
      const bool idle = !parser.head_started() && !parser.in_body();
      Clock::time_point deadline = idle                   ? idle_deadline
                                   : parser.in_body()     ? Clock::now() + opt.body_timeout
                                                          : head_start + opt.header_timeout;
      // Only an idle connection stops at once when draining starts.
      auto [end, n] = co_await read_bounded(stream, buf, deadline,
                                            idle ? std::optional(stop.draining) : std::nullopt);
      if (end == ReadEnd::Stopped || end == ReadEnd::Error) co_return;
      if (end == ReadEnd::TimedOut) {
        if (!idle) {
          auto resp = demo::http::Response::text(408, parser.in_body()
                                                          ? "request body timed out\n"
                                                          : "request head timed out\n");
          co_await fail_and_close(stream, std::move(resp), opt.send_timeout);
        }
        co_return;  // an idle connection closes silently, like nginx's keepalive_timeout
      }
      if (end == ReadEnd::Eof) {
        st = parser.finish();
        if (st == Status::NeedMore) co_return;  // clean close
        break;
      }
      if (idle) {
        head_start = Clock::now();
        started_before_drain = !stop.draining.is_cancelled();
      }
      st = parser.feed(std::string_view(buf.data(), n));
    }
    if (st == Status::Error) {
      auto resp = demo::http::Response::text(parser.error_status(), parser.error_reason() + "\n");
      co_await fail_and_close(stream, std::move(resp), opt.send_timeout);
      co_return;
    }
    demo::http::Request req = parser.take();
    const bool head_only = req.method == "HEAD";
    const bool keep_alive_wanted = req.keep_alive;
    demo::http::Response resp =
        started_before_drain ? co_await handle(app, std::move(req), stop.abandon)
                             : demo::http::Response::text(503, "shutting down\n");
    const bool keep_alive = keep_alive_wanted && !stop.draining.is_cancelled();
    if (!co_await send_within(stream, resp.serialize(keep_alive, head_only), opt.send_timeout))
      co_return;
    if (keep_alive) continue;
    // Closing a connection the client wanted kept (draining): it may have pipelined more.
    if (keep_alive_wanted) co_await linger_close(stream);
    co_return;
  }
}

/// Answers a connection over the limit with 503 + Connection: close.
rill::Task<void> reject_busy(rill::net::TcpStream stream, rill::sync::OwnedSemaphorePermit) {
  co_await fail_and_close(stream, demo::http::Response::text(503, "too many connections\n"), 1s);
}

/// Waits for SIGINT or SIGTERM and starts draining; then, after the drain timeout, abandons
/// the requests still in progress. Owns its tokens and its signals.
rill::Task<void> watch_signals(rill::signal::Signal sigint, rill::signal::Signal sigterm, Stop stop,
                               std::chrono::milliseconds drain_timeout) {
  auto r = co_await rill::select(sigint.recv(), sigterm.recv(), stop.draining.cancelled());
  if (r.index() != 2)
    fmt::print("demo_server: {} received, shutting down\n", r.index() == 0 ? "SIGINT" : "SIGTERM");
  stop.draining.cancel();
  co_await rill::sleep(drain_timeout);
  stop.abandon.cancel();
}

rill::Task<int> run_server(const Options& opt, demo::App& app) {
  // Install the handlers before anything else: from here on SIGINT/SIGTERM start the graceful
  // shutdown instead of killing the process. A Signal is created inside the runtime.
  rill::signal::Signal sigint(SIGINT);
  rill::signal::Signal sigterm(SIGTERM);
  auto listener = rill::net::TcpListener::bind(
      rill::net::SocketAddr::localhost_v4(static_cast<std::uint16_t>(opt.port)));
  if (!listener) {
    fmt::print(stderr, "demo_server: cannot listen on 127.0.0.1:{}: {}\n", opt.port,
               listener.error().message());
    co_return 1;
  }
  auto local = listener->local_addr();
  Stop stop;
  rill::TaskTracker tracker;
  auto signals =
      rill::spawn(watch_signals(std::move(sigint), std::move(sigterm), stop, opt.drain_timeout));
  fmt::print(
      "demo_server listening on {} (workers {}, long-poll threshold {} ms, hash permits {}, "
      "max connections {})\n",
      local ? local->to_string() : "?", rill::Handle::current().num_workers(), opt.long_poll_ms,
      app.hash_permits->available_permits(), opt.max_connections);

  // The accept loop. Each connection holds a permit of `limit`; a connection over the limit is
  // answered 503 (by a short task holding a permit of `rejects`; past that, closed at once).
  // Out of file descriptors (EMFILE/ENFILE), the loop backs off and logs once per episode.
  auto limit = std::make_shared<rill::sync::Semaphore>(opt.max_connections);
  auto rejects = std::make_shared<rill::sync::Semaphore>(64);
  examples::AcceptBackoff backoff("demo_server");
  for (;;) {
    auto r = co_await rill::select(listener->accept(), stop.draining.cancelled());
    if (r.index() == 1) break;
    auto& accepted = std::get<0>(r);
    if (!accepted) {
      // Transient errors (e.g. ECONNABORTED): accept again at once.
      if (!examples::AcceptBackoff::is_exhaustion(accepted.error())) continue;
      auto slept = co_await rill::select(rill::sleep(backoff.on_exhausted(accepted.error())),
                                         stop.draining.cancelled());
      if (slept.index() == 1) break;
      continue;
    }
    backoff.on_accepted();
    auto stream = std::move(accepted->first);
    (void)stream.set_nodelay(true);
    if (auto permit = rill::sync::Semaphore::try_acquire_owned(limit)) {
      (void)tracker.spawn(serve_connection(app, opt, stop, std::move(stream), std::move(*permit)));
    } else if (auto busy = rill::sync::Semaphore::try_acquire_owned(rejects)) {
      (void)tracker.spawn(reject_busy(std::move(stream), std::move(*busy)));
    }  // else: dropped, which closes it
  }

  // Graceful shutdown: no new connections (the listener closes); idle connections close;
  // requests in progress finish, or are answered 503 once the drain timeout passed; queued
  // /hash_offloaded jobs are answered 503 at once (their semaphore closes).
  stop.draining.cancel();
  listener = rill::net::TcpListener();
  app.hash_permits->close();
  tracker.close();
  const auto left = tracker.len();
  // Every task answers within the drain timeout plus one send timeout; give up after that.
  auto drained = co_await rill::timeout(
      opt.drain_timeout + std::min<std::chrono::milliseconds>(opt.send_timeout, 5s),
      tracker.wait());
  fmt::print("demo_server: stopped ({} connections open at shutdown, {}; {} requests served)\n",
             left, drained ? "all finished" : "timed out waiting for them", app.requests.load());
  signals.abort();
  co_return 0;
}

/// Raises the soft limit on open files to the hard limit (as Go's runtime does) and returns the
/// limit now in force.
rlim_t raise_open_file_limit() {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return 1024;
  if (rl.rlim_cur < rl.rlim_max) {
    rlimit want = rl;
    want.rlim_cur = rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &want) == 0) rl = want;
  }
  return rl.rlim_cur;
}

}  // namespace

int main(int argc, char** argv) {
  Options opt = parse_args(argc, argv);
  // Line-buffered stdout even into a file or pipe: the demo script waits for the "listening"
  // line, and coroutines then print without calling (blocking) fflush themselves.
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  const std::size_t cpus = std::max(1u, std::thread::hardware_concurrency());

  auto builder = rill::Builder::new_multi_thread();
  builder.thread_name("demo-worker");
  if (opt.workers) builder.worker_threads(opt.workers);
  // Every connection needs a descriptor: fit the connection limit into the open-file limit
  // (leaving room for the listener, the runtime's rings and files the handlers open).
  const rlim_t nofile = raise_open_file_limit();
  if (nofile != RLIM_INFINITY && opt.max_connections + 64 > nofile) {
    const std::size_t fit = nofile > 128 ? static_cast<std::size_t>(nofile) - 64 : 64;
    fmt::print(stderr,
               "demo_server: the open-file limit is {}: serving at most {} connections "
               "(--max-connections {})\n",
               nofile, fit, opt.max_connections);
    opt.max_connections = fit;
  }
  std::atomic<std::size_t> long_polls{0};
  builder.long_poll_threshold(std::chrono::milliseconds(opt.long_poll_ms));
  builder.on_long_poll([&long_polls](const rill::diagnostics::LongPollReport& report) {
    long_polls.fetch_add(1, std::memory_order_relaxed);
    // One write per report, with a marker line the demo script splits on.
    std::string text = "[long-poll] " + report.to_string();
    if (!text.ends_with('\n')) text += '\n';
    text += "[/long-poll]\n";
    (void)!::write(STDERR_FILENO, text.data(), text.size());
  });

  demo::App app;
  app.config_path = opt.config_path;
  app.bcrypt_cost = opt.bcrypt_cost;
  app.hash_permits = std::make_unique<rill::sync::Semaphore>(
      opt.hash_concurrency ? opt.hash_concurrency : std::max<std::size_t>(1, cpus - 1));

  int rc = 0;
  try {
    auto rt = builder.build();
    rc = rt.block_on(run_server(opt, app));
    std::move(rt).shutdown_timeout(5s);
  } catch (const std::exception& e) {
    fmt::print(stderr, "demo_server: {}\n", e.what());
    return 1;
  }
  fmt::print("demo_server: long polls reported: {}\n", long_polls.load());
  return rc;
}

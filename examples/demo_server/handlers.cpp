// examples/demo_server/handlers.cpp: the endpoints. Every pitfall is written the way it shows
// up in real services, and its fix sits right below it. rill-lint (`rill-lint -p build
// examples/demo_server/handlers.cpp`) flags each PITFALL and none of the FIXes; the long-poll
// detector catches the blocking ones at run time (see docs/demo.md).
#include "handlers.hpp"

#include <arpa/inet.h>
#include <crypt.h>
#include <netdb.h>
#include <sys/socket.h>

#include <fmt/format.h>

#include <rill/fs.hpp>
#include <rill/net/lookup.hpp>
#include <rill/select.hpp>
#if __has_include(<rill/metrics.hpp>)
#include <rill/metrics.hpp>
#define DEMO_HAVE_METRICS 1
#endif

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>
#include <exception>
#include <fstream>
#include <iterator>
#include <ranges>
#include <sstream>
#include <string_view>
#include <vector>

using namespace std::chrono_literals;

namespace demo {
namespace {

using http::Request;
using http::Response;

// ------------------------------------------------------------------------------------------------
// Helpers shared by a pitfall and its fix (no blocking call in here).

/// A fresh `$2b$<cost>$` bcrypt salt from the kernel's CSPRNG (crypt_gensalt_rn reads 16 bytes
/// with getentropy, which does not block once the pool is initialized).
std::string bcrypt_salt(int cost) {
  std::array<char, CRYPT_GENSALT_OUTPUT_SIZE> salt{};
  if (!crypt_gensalt_rn("$2b$", static_cast<unsigned long>(cost), nullptr, 0, salt.data(),
                        static_cast<int>(salt.size())))
    throw std::runtime_error(fmt::format("crypt_gensalt_rn failed: {}", std::strerror(errno)));
  return salt.data();
}

/// The reply for a crypt_r() result ("*0"/"*1" or null mean failure).
Response hash_reply(const char* hashed) {
  if (hashed == nullptr || hashed[0] == '*') return Response::text(500, "bcrypt failed\n");
  return Response::text(200, fmt::format("{}\n", hashed));
}

/// Host names /lookup accepts: loopback only, so the demo never sends a DNS query out.
bool is_loopback_name(std::string_view host) {
  static constexpr std::array<std::string_view, 6> kNames = {
      "localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback", "::1", "127.0.0.1"};
  if (std::ranges::find(kNames, host) != kNames.end()) return true;
  in_addr a{};
  return inet_pton(AF_INET, std::string(host).c_str(), &a) == 1 && (ntohl(a.s_addr) >> 24) == 127;
}

/// True for 127.0.0.0/8 and ::1 (and ::ffff:127.x.y.z).
bool is_loopback_addr(const sockaddr* sa) {
  if (sa->sa_family == AF_INET)
    return (ntohl(reinterpret_cast<const sockaddr_in*>(sa)->sin_addr.s_addr) >> 24) == 127;
  if (sa->sa_family == AF_INET6) {
    const auto& a = reinterpret_cast<const sockaddr_in6*>(sa)->sin6_addr;
    return IN6_IS_ADDR_LOOPBACK(&a) || (IN6_IS_ADDR_V4MAPPED(&a) && a.s6_addr[12] == 127);
  }
  return false;
}

std::optional<std::string> checked_host(const Request& req, Response& err) {
  auto host = req.query_param("host");
  if (!host || host->empty()) {
    err = Response::text(400, "missing ?host=\n");
    return std::nullopt;
  }
  if (!is_loopback_name(*host)) {
    err = Response::text(403,
                         fmt::format("refusing to resolve \"{}\": loopback names only\n", *host));
    return std::nullopt;
  }
  return host;
}

/// Parses ?n= for the fan-out endpoints (1 ..= app.fanout_max_items).
std::optional<int> fanout_count(const App& app, const Request& req, Response& err) {
  const auto s = req.query_param("n");
  int n = 0;
  if (!s || std::from_chars(s->data(), s->data() + s->size(), n).ec != std::errc() || n < 1 ||
      n > app.fanout_max_items) {
    err = Response::text(400,
                         fmt::format("?n= must be an integer in [1, {}]\n", app.fanout_max_items));
    return std::nullopt;
  }
  return n;
}

/// One "backend call" of the fan-out: waits 1 ms (a stand-in for a request to another service)
/// and returns a value derived from i.
rill::Task<std::uint64_t> fetch_item(int i) {
  co_await rill::sleep(1ms);
  co_return static_cast<std::uint64_t>(i) * 2654435761u % 1000003u;
}

/// fetch_item(i) added into `sum` (the children of for_each_concurrent run on the awaiting
/// task's thread, one at a time, so the plain += is safe).
rill::Task<void> add_item(std::uint64_t& sum, int i) {
  sum += co_await fetch_item(i);
}

/// Renders the /report page into `out` (at most out.size() bytes); returns the length.
std::size_t render_report(const App& app, std::span<char> out, std::uint64_t counter) {
  std::size_t n = 0;
  auto put = [&](std::string_view line) {
    const std::size_t k = std::min(line.size(), out.size() - n);
    std::copy_n(line.data(), k, out.data() + n);
    n += k;
  };
  put("demo_server report\n");
  put(fmt::format("requests answered: {}\n", app.requests.load(std::memory_order_relaxed)));
  put(fmt::format("counter: {}\n", counter));
  put(fmt::format("bcrypt cost: {}, hash permits free: {}\n", app.bcrypt_cost,
                  app.hash_permits->available_permits()));
  // Pad to a realistic page size: a table of 1000 rows.
  for (int row = 0; row < 1000 && n + 64 < out.size(); ++row)
    put(fmt::format("row {:4}: {:>40}\n", row, row * 7919 % 104729));
  return n;
}

std::uint64_t read_counter(App& app) {
  std::lock_guard<std::mutex> guard(app.counter_mu);
  return app.counter;
}

// ================================================================================================
// POST /hash vs POST /hash_offloaded: CPU-heavy work (bcrypt, ~0.1 s at cost 10).

// PITFALL: bcrypt runs inline on the worker thread. For its whole duration the worker polls no
// other task: every request queued behind it waits (watch /healthz latency climb).
rill::Task<Response> hash_inline(App& app, std::string password) {
  const std::string salt = bcrypt_salt(app.bcrypt_cost);
  auto data = std::make_unique<crypt_data>();
  const char* hashed = crypt_r(password.c_str(), salt.c_str(), data.get());
  co_return hash_reply(hashed);
}

// FIX: the same call on the blocking pool (rill::spawn_blocking), and at most
// app.hash_permits of them at once: on a 2-core box unbounded offloading would only move the
// contention from the workers to the CPU (docs/demo.md explains the sizing).
rill::Task<Response> hash_offloaded(App& app, std::string password) {
  auto permit = co_await app.hash_permits->acquire();
  if (!permit) co_return Response::text(503, "shutting down\n");
  std::string salt = bcrypt_salt(app.bcrypt_cost);
  co_return co_await rill::spawn_blocking([pw = std::move(password), salt = std::move(salt)] {
    auto data = std::make_unique<crypt_data>();
    return hash_reply(crypt_r(pw.c_str(), salt.c_str(), data.get()));
  });
}

// ================================================================================================
// GET /config vs GET /config_async: file I/O.

// PITFALL: std::ifstream opens and reads with blocking syscalls on the worker (fast on a warm
// page cache, tens of milliseconds on a cold disk or a network file system).
rill::Task<Response> config_inline(App& app) {
  std::ifstream in(app.config_path);
  if (!in) co_return Response::text(500, fmt::format("cannot open {}\n", app.config_path));
  std::ostringstream text;
  text << in.rdbuf();
  co_return Response::text(200, text.str());
}

// FIX: rill::fs reads through io_uring (or the blocking pool), and the worker keeps polling.
rill::Task<Response> config_async(App& app) {
  auto text = co_await rill::fs::read_to_string(app.config_path);
  if (!text)
    co_return Response::text(
        500, fmt::format("cannot read {}: {}\n", app.config_path, text.error().message()));
  co_return Response::text(200, std::move(*text));
}

// ================================================================================================
// GET /lookup?host= vs GET /lookup_async?host=: name resolution (loopback names only).

// PITFALL: getaddrinfo() blocks on /etc/hosts, nsswitch and DNS (seconds when a resolver times
// out) on the worker.
rill::Task<Response> lookup_inline(App& app, Request req) {
  Response err;
  auto host = checked_host(req, err);
  if (!host) co_return err;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  const int rc = getaddrinfo(host->c_str(), nullptr, &hints, &res);
  if (rc != 0) co_return Response::text(502, fmt::format("{}: {}\n", *host, gai_strerror(rc)));
  std::string body;
  for (addrinfo* ai = res; ai; ai = ai->ai_next) {
    if (!is_loopback_addr(ai->ai_addr)) continue;
    auto addr = rill::net::SocketAddr::from_native(ai->ai_addr, ai->ai_addrlen);
    body += addr.ip() + "\n";
  }
  freeaddrinfo(res);
  co_return Response::text(body.empty() ? 502 : 200, body.empty() ? "no loopback address\n" : body);
}

// FIX: rill::net::lookup_host runs getaddrinfo on the blocking pool.
rill::Task<Response> lookup_async(App& app, Request req) {
  Response err;
  auto host = checked_host(req, err);
  if (!host) co_return err;
  const bool v6 = host->find(':') != std::string::npos;
  auto addrs = co_await rill::net::lookup_host(v6 ? "[" + *host + "]:0" : *host + ":0");
  if (!addrs)
    co_return Response::text(502, fmt::format("{}: {}\n", *host, addrs.error().message()));
  std::string body;
  for (const auto& a : *addrs)
    if (is_loopback_addr(a.native())) body += a.ip() + "\n";
  co_return Response::text(body.empty() ? 502 : 200, body.empty() ? "no loopback address\n" : body);
}

// ================================================================================================
// POST /fanout?n= vs POST /fanout_bounded?n=: one task per item.

// PITFALL: one spawned task per item, all at once: n = 100000 means 100000 live tasks, timers
// and frames, and a burst on whatever the items call.
rill::Task<Response> fanout_inline(App& app, Request req) {
  Response err;
  auto n = fanout_count(app, req, err);
  if (!n) co_return err;
  std::vector<rill::JoinHandle<std::uint64_t>> handles;
  handles.reserve(static_cast<std::size_t>(*n));
  for (int i = 0; i < *n; ++i)
    handles.push_back(rill::spawn(fetch_item(i)));
  std::uint64_t sum = 0;
  for (auto& h : handles)
    sum += co_await h;
  co_return Response::text(200, fmt::format("items {} sum {}\n", *n, sum));
}

// FIX: for_each_concurrent keeps at most app.fanout_limit items in flight.
rill::Task<Response> fanout_bounded(App& app, Request req) {
  Response err;
  auto n = fanout_count(app, req, err);
  if (!n) co_return err;
  std::uint64_t sum = 0;
  co_await rill::for_each_concurrent(std::views::iota(0, *n), app.fanout_limit,
                                     [&sum](int i) { return add_item(sum, i); });
  co_return Response::text(200, fmt::format("items {} sum {}\n", *n, sum));
}

// ================================================================================================
// GET /counter vs GET /counter_scoped: a std::mutex and co_await.

// PITFALL: the std::lock_guard lives across the co_await. Another request on the same worker
// then blocks that worker in lock(); if the holder's timer is on that worker, nothing ever
// resumes it (a deadlock), and the unlock may run on a different thread than the lock (UB).
rill::Task<Response> counter_inline(App& app) {
  std::lock_guard<std::mutex> guard(app.counter_mu);
  const std::uint64_t value = ++app.counter;
  co_await rill::sleep(1ms);  // "persist the new value" while still holding the lock
  co_return Response::text(200, fmt::format("{}\n", value));
}

// FIX: the guard's scope ends before the await.
rill::Task<Response> counter_scoped(App& app) {
  std::uint64_t value = 0;
  {
    std::lock_guard<std::mutex> guard(app.counter_mu);
    value = ++app.counter;
  }
  co_await rill::sleep(1ms);  // "persist the new value", lock released
  co_return Response::text(200, fmt::format("{}\n", value));
}

// ================================================================================================
// GET /report vs GET /report_heap: a 64 KiB buffer and co_await.

// PITFALL: the 64 KiB array lives across a co_await, so it is part of the coroutine frame: every
// in-flight /report allocates a 64+ KiB frame (rill-large-frame; the runtime's frame accounting
// flags the site too).
rill::Task<Response> report_inline(App& app) {
  std::array<char, 64 * 1024> page;
  co_await rill::yield_now();  // "gather the numbers" from other tasks
  const std::size_t n = render_report(app, page, read_counter(app));
  co_return Response::text(200, std::string(page.data(), n));
}

// FIX: the buffer is on the heap; the frame holds a pointer.
rill::Task<Response> report_heap(App& app) {
  auto page = std::make_unique<std::array<char, 64 * 1024>>();
  co_await rill::yield_now();
  const std::size_t n = render_report(app, *page, read_counter(app));
  co_return Response::text(200, std::string(page->data(), n));
}

// ================================================================================================

rill::Task<Response> metrics_text() {
#ifdef DEMO_HAVE_METRICS
  Response r = Response::text(200, rill::metrics::prometheus_text(rill::Handle::current()));
  r.content_type = "text/plain; version=0.0.4; charset=utf-8";
  co_return r;
#else
  co_return Response::text(501, "this rill build has no rill/metrics.hpp\n");
#endif
}

constexpr std::string_view kIndex =
    "demo_server: each pitfall next to its fix\n"
    "  POST /hash             POST /hash_offloaded      bcrypt inline vs spawn_blocking\n"
    "  GET  /config           GET  /config_async        std::ifstream vs rill::fs\n"
    "  GET  /lookup?host=     GET  /lookup_async?host=  getaddrinfo vs rill::net::lookup_host\n"
    "  POST /fanout?n=        POST /fanout_bounded?n=   spawn per item vs for_each_concurrent\n"
    "  GET  /counter          GET  /counter_scoped      std::mutex across co_await vs scoped\n"
    "  GET  /report           GET  /report_heap         64 KiB frame vs heap buffer\n"
    "  GET  /healthz          GET  /metrics\n";

rill::Task<Response> dispatch(App& app, Request req) {
  const std::string_view p = req.path;
  // HEAD is GET without the body (the connection loop leaves the body out).
  const bool get = req.method == "GET" || req.method == "HEAD", post = req.method == "POST";
  struct Route {
    std::string_view path;
    bool post;
  };
  static constexpr std::array<Route, 15> kRoutes = {{
      {"/", false},
      {"/healthz", false},
      {"/metrics", false},
      {"/hash", true},
      {"/hash_offloaded", true},
      {"/config", false},
      {"/config_async", false},
      {"/lookup", false},
      {"/lookup_async", false},
      {"/fanout", true},
      {"/fanout_bounded", true},
      {"/counter", false},
      {"/counter_scoped", false},
      {"/report", false},
      {"/report_heap", false},
  }};
  const auto it = std::ranges::find(kRoutes, p, &Route::path);
  if (it == kRoutes.end()) co_return Response::text(404, fmt::format("no route {}\n", p));
  if (it->post ? !post : !get) {
    Response r = Response::text(405, fmt::format("{} wants {}\n", p, it->post ? "POST" : "GET"));
    r.headers.emplace_back("Allow", it->post ? "POST" : "GET, HEAD");
    co_return r;
  }

  if (p == "/") co_return Response::text(200, std::string(kIndex));
  if (p == "/healthz") co_return Response::text(200, "ok\n");
  if (p == "/metrics") co_return co_await metrics_text();
  if (p == "/hash") co_return co_await hash_inline(app, std::move(req.body));
  if (p == "/hash_offloaded") co_return co_await hash_offloaded(app, std::move(req.body));
  if (p == "/config") co_return co_await config_inline(app);
  if (p == "/config_async") co_return co_await config_async(app);
  if (p == "/lookup") co_return co_await lookup_inline(app, std::move(req));
  if (p == "/lookup_async") co_return co_await lookup_async(app, std::move(req));
  if (p == "/fanout") co_return co_await fanout_inline(app, std::move(req));
  if (p == "/fanout_bounded") co_return co_await fanout_bounded(app, std::move(req));
  if (p == "/counter") co_return co_await counter_inline(app);
  if (p == "/counter_scoped") co_return co_await counter_scoped(app);
  if (p == "/report") co_return co_await report_inline(app);
  co_return co_await report_heap(app);
}

}  // namespace

rill::Task<Response> route(App& app, Request req) {
  Response resp;
  try {
    resp = co_await dispatch(app, std::move(req));
  } catch (const std::exception& e) {
    resp = Response::text(500, fmt::format("internal error: {}\n", e.what()));
  }
  app.requests.fetch_add(1, std::memory_order_relaxed);
  co_return resp;
}

}  // namespace demo

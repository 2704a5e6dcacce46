// bench/loadgen: a closed-loop HTTP/1.1 load generator on rill, for loopback targets only.
//
//   loadgen --url http://127.0.0.1:8080/hash [--method POST] [--body hunter2] [-c 4] [-d 10]
//           [--probe /healthz] [--probe-interval-ms 10] [--timeout-ms 30000] [--threads 1]
//           [--json FILE]
//
// Load: `-c` keep-alive connections, each sending the next request as soon as the previous
// response is complete (closed loop), for `-d` seconds. Probe (optional): one more connection
// that GETs `--probe` on a fixed schedule (every --probe-interval-ms); its latency is measured
// from the *scheduled* send time, so a stalled server shows its full stall instead of one slow
// sample (no coordinated omission, as in wrk2). Responses are parsed with llhttp; every status
// is checked (anything but 2xx counts as an error). Prints throughput and p50/p99/max latency;
// --json also writes them as one JSON object. Exit status: 0 when every request succeeded, 1 if
// any failed, 2 on bad arguments or a non-loopback target (refused: this tool only loads the
// machine it runs on).
#include <llhttp.h>

#include <rill/join_set.hpp>
#include <rill/net/lookup.hpp>
#include <rill/net/tcp.hpp>
#include <rill/rill.hpp>

#include <fmt/format.h>

#include <arpa/inet.h>
#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

struct Config {
  std::string host;  // as given in the URL
  std::uint16_t port = 80;
  std::string path = "/";
  std::string method = "GET";
  std::string body;
  std::size_t connections = 1;
  double duration_s = 10;
  std::optional<std::string> probe_path;
  std::chrono::milliseconds probe_interval{10};
  std::chrono::milliseconds timeout{30000};
  std::size_t threads = 1;
  std::string json_path;
  rill::net::SocketAddr addr;  // resolved, loopback
};

/// Latencies (µs) and outcomes of one stream of requests.
struct Stats {
  std::vector<std::uint32_t> latency_us;
  std::uint64_t ok = 0;
  std::uint64_t bad_status = 0;  // complete responses with a non-2xx status
  std::uint64_t io_errors = 0;   // connect/read/write errors, malformed responses, timeouts
  std::map<int, std::uint64_t> statuses;
  Clock::time_point last_done{};

  void merge(Stats&& o) {
    latency_us.insert(latency_us.end(), o.latency_us.begin(), o.latency_us.end());
    ok += o.ok;
    bad_status += o.bad_status;
    io_errors += o.io_errors;
    for (auto [k, v] : o.statuses)
      statuses[k] += v;
    last_done = std::max(last_done, o.last_done);
  }
};

// ---- Response parsing (llhttp, response mode) ----------------------------------------------

/// Feeds response bytes to llhttp until one response is complete. One per connection.
class ResponseParser {
 public:
  ResponseParser() {
    llhttp_settings_init(&settings_);
    settings_.on_message_complete = [](llhttp_t* p) -> int {
      auto* me = static_cast<ResponseParser*>(p->data);
      me->done_ = true;
      me->status_ = p->status_code;
      me->keep_alive_ = llhttp_should_keep_alive(p) != 0;
      return HPE_PAUSED;
    };
    reset();
  }
  ResponseParser(const ResponseParser&) = delete;
  ResponseParser& operator=(const ResponseParser&) = delete;

  void reset() {
    llhttp_init(&parser_, HTTP_RESPONSE, &settings_);
    parser_.data = this;
    done_ = false;
  }
  /// 1: complete, 0: need more, -1: malformed.
  int feed(const char* p, std::size_t n) {
    const llhttp_errno_t e = llhttp_execute(&parser_, p, n);
    if (e == HPE_OK) return done_ ? 1 : 0;
    if (e == HPE_PAUSED && done_) {
      llhttp_resume(&parser_);
      return 1;
    }
    return -1;
  }
  /// The peer closed: completes a response delimited by EOF.
  int finish() {
    const llhttp_errno_t e = llhttp_finish(&parser_);
    return done_ ? 1 : (e == HPE_OK ? 0 : -1);
  }
  int status() const noexcept { return status_; }
  bool keep_alive() const noexcept { return keep_alive_; }

 private:
  llhttp_settings_t settings_{};
  llhttp_t parser_{};
  bool done_ = false;
  int status_ = 0;
  bool keep_alive_ = false;
};

// ---- One connection ------------------------------------------------------------------------

struct Conn {
  std::optional<rill::net::TcpStream> stream;
  ResponseParser parser;
  std::vector<char> buf = std::vector<char>(64 * 1024);
};

/// Sends `request` and reads one response. Yields the status, or nullopt on an I/O error or a
/// malformed response (the connection is then dropped).
rill::Task<std::optional<int>> exchange(const Config& cfg, Conn& c, const std::string& request) {
  if (!c.stream) {
    auto s = co_await rill::net::TcpStream::connect(cfg.addr);
    if (!s) co_return std::nullopt;
    (void)s->set_nodelay(true);
    c.stream.emplace(std::move(*s));
  }
  c.parser.reset();
  if (!co_await c.stream->write_all(std::span<const char>(request))) {
    c.stream.reset();
    co_return std::nullopt;
  }
  for (;;) {
    auto n = co_await c.stream->read(std::span<char>(c.buf));
    const int r = !n ? -1 : (*n == 0 ? c.parser.finish() : c.parser.feed(c.buf.data(), *n));
    if (r == 1) break;
    if (r == -1 || *n == 0) {
      c.stream.reset();
      co_return std::nullopt;
    }
  }
  if (!c.parser.keep_alive()) c.stream.reset();
  co_return c.parser.status();
}

std::string build_request(const Config& cfg, std::string_view method, std::string_view path,
                          std::string_view body) {
  std::string r = fmt::format("{} {} HTTP/1.1\r\nHost: {}:{}\r\nUser-Agent: rill-loadgen\r\n",
                              method, path, cfg.host, cfg.port);
  if (!body.empty() || method == "POST" || method == "PUT")
    r += fmt::format("Content-Type: text/plain\r\nContent-Length: {}\r\n", body.size());
  r += "\r\n";
  r += body;
  return r;
}

/// One closed-loop (probe == false) or scheduled (probe == true) client until `deadline`.
/// Its results go to `st` (owned by run(), which outlives the client).
rill::Task<void> client(const Config& cfg, Clock::time_point start, Clock::time_point deadline,
                        bool probe, Stats& st) {
  Conn c;
  const std::string request = probe ? build_request(cfg, "GET", *cfg.probe_path, {})
                                    : build_request(cfg, cfg.method, cfg.path, cfg.body);
  auto next = start;
  for (;;) {
    Clock::time_point sched;
    if (probe) {
      if (next >= deadline) break;
      if (next > Clock::now()) co_await rill::sleep_until(next);
      sched = next;
      next += cfg.probe_interval;
    } else {
      sched = Clock::now();
      if (sched >= deadline) break;
    }
    auto r = co_await rill::timeout(cfg.timeout, exchange(cfg, c, request));
    const auto done = Clock::now();
    st.last_done = done;
    if (!r || !*r) {
      ++st.io_errors;
      if (!r) c.stream.reset();    // timed out: the connection's state is unknown
      co_await rill::sleep(10ms);  // do not spin on a dead server
      continue;
    }
    const int status = **r;
    ++st.statuses[status];
    if (status >= 200 && status < 300)
      ++st.ok;
    else
      ++st.bad_status;
    st.latency_us.push_back(static_cast<std::uint32_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(done - sched).count()));
  }
}

// ---- Reporting -----------------------------------------------------------------------------

struct Summary {
  std::uint64_t requests = 0, ok = 0, errors = 0;
  double seconds = 0, rps = 0, p50_ms = 0, p99_ms = 0, max_ms = 0;
  std::map<int, std::uint64_t> statuses;
};

/// Nearest-rank percentile of sorted microsecond samples, in ms (0 without samples).
double percentile_ms(const std::vector<std::uint32_t>& sorted, double p) {
  if (sorted.empty()) return 0;
  auto rank = static_cast<std::size_t>(p / 100.0 * static_cast<double>(sorted.size()) + 0.999999);
  rank = std::clamp<std::size_t>(rank, 1, sorted.size());
  return sorted[rank - 1] / 1000.0;
}

Summary summarize(Stats& st, Clock::time_point start) {
  Summary s;
  std::sort(st.latency_us.begin(), st.latency_us.end());
  s.requests = st.ok + st.bad_status + st.io_errors;
  s.ok = st.ok;
  s.errors = st.bad_status + st.io_errors;
  s.seconds = std::chrono::duration<double>(st.last_done - start).count();
  s.rps = s.seconds > 0 ? static_cast<double>(st.ok) / s.seconds : 0;
  s.p50_ms = percentile_ms(st.latency_us, 50);
  s.p99_ms = percentile_ms(st.latency_us, 99);
  s.max_ms = st.latency_us.empty() ? 0 : st.latency_us.back() / 1000.0;
  s.statuses = st.statuses;
  return s;
}

void print_summary(std::string_view what, const Summary& s) {
  std::string statuses;
  for (auto [k, v] : s.statuses)
    statuses += fmt::format(" {}x{}", v, k);
  fmt::print("{}: {} requests, {} ok, {} errors (statuses:{}) in {:.1f} s\n", what, s.requests,
             s.ok, s.errors, statuses.empty() ? " none" : statuses, s.seconds);
  fmt::print("  throughput {:.1f} req/s   latency p50 {:.2f} ms   p99 {:.2f} ms   max {:.2f} ms\n",
             s.rps, s.p50_ms, s.p99_ms, s.max_ms);
}

std::string summary_json(const Summary& s) {
  std::string statuses;
  for (auto [k, v] : s.statuses)
    statuses += fmt::format("{}\"{}\": {}", statuses.empty() ? "" : ", ", k, v);
  return fmt::format(
      "{{\"requests\": {}, \"ok\": {}, \"errors\": {}, \"seconds\": {:.3f}, \"rps\": {:.3f}, "
      "\"p50_ms\": {:.3f}, \"p99_ms\": {:.3f}, \"max_ms\": {:.3f}, \"statuses\": {{{}}}}}",
      s.requests, s.ok, s.errors, s.seconds, s.rps, s.p50_ms, s.p99_ms, s.max_ms, statuses);
}

std::string json_escape(std::string_view s) {
  std::string out;
  for (char ch : s) {
    if (ch == '"' || ch == '\\') out += '\\';
    if (static_cast<unsigned char>(ch) < 0x20) {
      out += fmt::format("\\u{:04x}", ch);
      continue;
    }
    out += ch;
  }
  return out;
}

// ---- Setup ---------------------------------------------------------------------------------

bool is_loopback(const rill::net::SocketAddr& a) {
  const sockaddr* sa = a.native();
  if (sa->sa_family == AF_INET)
    return (ntohl(reinterpret_cast<const sockaddr_in*>(sa)->sin_addr.s_addr) >> 24) == 127;
  const auto& v6 = reinterpret_cast<const sockaddr_in6*>(sa)->sin6_addr;
  return sa->sa_family == AF_INET6 && IN6_IS_ADDR_LOOPBACK(&v6);
}

rill::Task<int> run(Config& cfg) {
  // Resolve, and refuse anything that is not this machine.
  const bool v6 = cfg.host.find(':') != std::string::npos;
  auto addrs = co_await rill::net::lookup_host(v6 ? fmt::format("[{}]:{}", cfg.host, cfg.port)
                                                  : fmt::format("{}:{}", cfg.host, cfg.port));
  if (!addrs || addrs->empty()) {
    fmt::print(stderr, "loadgen: cannot resolve {}: {}\n", cfg.host,
               addrs ? "no address" : addrs.error().message());
    co_return 2;
  }
  for (const auto& a : *addrs) {
    if (!is_loopback(a)) {
      fmt::print(stderr,
                 "loadgen: refusing non-loopback target {} ({}): loadgen only loads the machine "
                 "it runs on\n",
                 cfg.host, a.to_string());
      co_return 2;
    }
  }
  cfg.addr = addrs->front();

  const auto start = Clock::now();
  const auto deadline = start + std::chrono::duration_cast<Clock::duration>(
                                    std::chrono::duration<double>(cfg.duration_s));
  // Every client is a member of one JoinSet, bounded by the number of clients we start.
  const std::size_t clients = cfg.connections + (cfg.probe_path ? 1 : 0);
  std::vector<Stats> results(clients);
  rill::JoinSet<void> set(clients);
  for (std::size_t i = 0; i < clients; ++i)
    co_await set.spawn(client(cfg, start, deadline, i == cfg.connections, results[i]));
  while (auto r = co_await set.join_next()) {
    if (!*r) {
      fmt::print(stderr, "loadgen: a client failed: {}\n", r->error().what());
      co_return 1;
    }
  }

  Stats load, probe;
  for (std::size_t i = 0; i < clients; ++i)
    (i == cfg.connections ? probe : load).merge(std::move(results[i]));
  const Summary ls = summarize(load, start);
  print_summary(fmt::format("{} http://{}:{}{} x{} connections", cfg.method, cfg.host, cfg.port,
                            cfg.path, cfg.connections),
                ls);
  std::optional<Summary> ps;
  if (cfg.probe_path) {
    ps = summarize(probe, start);
    print_summary(fmt::format("probe GET {} every {} ms (latency from the scheduled send time)",
                              *cfg.probe_path, cfg.probe_interval.count()),
                  *ps);
  }
  if (!cfg.json_path.empty()) {
    std::string json = fmt::format(
        "{{\"target\": \"{} {}\", \"connections\": {}, \"duration_s\": {:.3f}, \"load\": {}",
        cfg.method, json_escape(cfg.path), cfg.connections, cfg.duration_s, summary_json(ls));
    if (ps)
      json +=
          fmt::format(", \"probe_path\": \"{}\", \"probe_interval_ms\": {}, \"probe\": {}",
                      json_escape(*cfg.probe_path), cfg.probe_interval.count(), summary_json(*ps));
    json += "}\n";
    std::FILE* f = std::fopen(cfg.json_path.c_str(), "w");
    if (!f || std::fwrite(json.data(), 1, json.size(), f) != json.size() || std::fclose(f) != 0) {
      fmt::print(stderr, "loadgen: cannot write {}\n", cfg.json_path);
      co_return 1;
    }
  }
  const bool all_ok = ls.errors == 0 && (!ps || ps->errors == 0);
  if (!all_ok) fmt::print(stderr, "loadgen: some requests failed (see the statuses above)\n");
  co_return all_ok ? 0 : 1;
}

void usage(std::FILE* to) {
  fmt::print(to,
             "usage: loadgen --url http://HOST:PORT/PATH [options]   (loopback targets only)\n"
             "  --method M              request method (default GET)\n"
             "  --body TEXT             request body (sent with Content-Length)\n"
             "  -c, --connections N     closed-loop keep-alive connections (default 1)\n"
             "  -d, --duration S        seconds of load (default 10; fractions allowed)\n"
             "  --probe PATH            also GET PATH on one more connection on a fixed schedule\n"
             "  --probe-interval-ms N   the probe's period (default 10)\n"
             "  --timeout-ms N          per-request timeout (default 30000)\n"
             "  --threads N             rill worker threads of the generator (default 1)\n"
             "  --json FILE             also write the results as JSON\n");
}

[[noreturn]] void fail(const std::string& msg) {
  fmt::print(stderr, "loadgen: {}\n", msg);
  usage(stderr);
  std::exit(2);
}

long to_int(std::string_view flag, std::string_view v, long lo, long hi) {
  long x = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), x);
  if (ec != std::errc() || p != v.data() + v.size() || x < lo || x > hi)
    fail(fmt::format("{} wants an integer in [{}, {}], got '{}'", flag, lo, hi, v));
  return x;
}

/// Splits "http://host:port/path" (IPv6 hosts in brackets). Only http:// is supported.
void parse_url(std::string_view url, Config& cfg) {
  if (!url.starts_with("http://"))
    fail(fmt::format("--url must start with http://, got '{}'", url));
  url.remove_prefix(7);
  const auto slash = url.find('/');
  std::string_view hostport = url.substr(0, slash);
  cfg.path = slash == std::string_view::npos ? "/" : std::string(url.substr(slash));
  std::string_view port;
  if (hostport.starts_with("[")) {
    const auto close = hostport.find(']');
    if (close == std::string_view::npos) fail("unbalanced [ in --url");
    cfg.host = std::string(hostport.substr(1, close - 1));
    if (close + 1 < hostport.size() && hostport[close + 1] == ':')
      port = hostport.substr(close + 2);
  } else {
    const auto colon = hostport.rfind(':');
    cfg.host = std::string(hostport.substr(0, colon));
    if (colon != std::string_view::npos) port = hostport.substr(colon + 1);
  }
  if (cfg.host.empty()) fail("--url has no host");
  if (!port.empty()) cfg.port = static_cast<std::uint16_t>(to_int("port", port, 1, 65535));
}

Config parse_args(int argc, char** argv) {
  Config cfg;
  bool have_url = false;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "-h" || a == "--help") {
      usage(stdout);
      std::exit(0);
    }
    std::string_view v;
    if (auto eq = a.find('='); a.starts_with("--") && eq != std::string_view::npos) {
      v = a.substr(eq + 1);
      a = a.substr(0, eq);
    } else if (i + 1 < argc) {
      v = argv[++i];
    } else {
      fail(fmt::format("{} needs a value", a));
    }
    if (a == "--url") {
      parse_url(v, cfg);
      have_url = true;
    } else if (a == "--method") {
      cfg.method = std::string(v);
    } else if (a == "--body") {
      cfg.body = std::string(v);
    } else if (a == "-c" || a == "--connections") {
      cfg.connections = static_cast<std::size_t>(to_int(a, v, 1, 10000));
    } else if (a == "-d" || a == "--duration") {
      double d = 0;
      auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), d);
      if (ec != std::errc() || p != v.data() + v.size() || !(d > 0 && d <= 3600))
        fail(fmt::format("{} wants seconds in (0, 3600], got '{}'", a, v));
      cfg.duration_s = d;
    } else if (a == "--probe") {
      if (!v.starts_with("/")) fail("--probe wants a path starting with /");
      cfg.probe_path = std::string(v);
    } else if (a == "--probe-interval-ms") {
      cfg.probe_interval = std::chrono::milliseconds(to_int(a, v, 1, 60000));
    } else if (a == "--timeout-ms") {
      cfg.timeout = std::chrono::milliseconds(to_int(a, v, 1, 3600000));
    } else if (a == "--threads") {
      cfg.threads = static_cast<std::size_t>(to_int(a, v, 1, 64));
    } else if (a == "--json") {
      cfg.json_path = std::string(v);
    } else {
      fail(fmt::format("unknown flag '{}'", a));
    }
  }
  if (!have_url) fail("--url is required");
  for (char ch : cfg.method)
    if (ch < 'A' || ch > 'Z')
      fail(fmt::format("--method must be upper-case letters, got '{}'", cfg.method));
  return cfg;
}

}  // namespace

int main(int argc, char** argv) {
  Config cfg = parse_args(argc, argv);
  try {
    auto rt = rill::Builder::new_multi_thread()
                  .worker_threads(cfg.threads)
                  .thread_name("loadgen")
                  .build();
    return rt.block_on(run(cfg));
  } catch (const std::exception& e) {
    fmt::print(stderr, "loadgen: {}\n", e.what());
    return 1;
  }
}

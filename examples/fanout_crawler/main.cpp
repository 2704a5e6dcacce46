// examples/fanout_crawler: bounded fan-out, the fix for "spawn one task per URL".
//
//   fanout_crawler [PAGES] [CONCURRENCY]      (defaults: 500 pages, 8 requests in flight)
//
// It starts a small web site on 127.0.0.1 (page i links to pages 3i+1, 3i+2, 3i+3, up to PAGES
// pages) and crawls it from page 0, one breadth-first level at a time. Each level's pages are
// fetched with rill::for_each_concurrent, so at most CONCURRENCY requests are in flight however
// wide the level is; the site records the highest concurrency it saw, which the crawler prints
// next to its bound. Everything stays on loopback.
#include <rill/net/tcp.hpp>
#include <rill/rill.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

using namespace std::chrono_literals;

namespace {

// ---- The local site ------------------------------------------------------------------------

struct Site {
  int pages = 0;
  std::atomic<int> in_flight{0};
  std::atomic<int> max_in_flight{0};
};

/// The HTML of page `i`: links to its (up to) three children.
std::string page_body(const Site& site, int i) {
  std::string body = fmt::format("<h1>page {}</h1>\n", i);
  for (int c = 3 * i + 1; c <= 3 * i + 3 && c < site.pages; ++c)
    body += fmt::format("<a href=\"/page/{}\">page {}</a>\n", c, c);
  return body;
}

/// Answers one request per connection ("Connection: close"), after 2 ms of "work". The site is
/// shared: a page task may still run after the crawler has returned.
rill::Task<void> serve_page(std::shared_ptr<Site> site, rill::net::TcpStream s,
                            rill::sync::OwnedSemaphorePermit) {
  const int now = site->in_flight.fetch_add(1) + 1;
  int seen = site->max_in_flight.load();
  while (now > seen && !site->max_in_flight.compare_exchange_weak(seen, now)) {
  }
  // The request head, line by line, up to the empty line that ends it.
  rill::io::BufReader<rill::net::TcpStream&> reader(s);
  std::string req, line;
  while (req.size() < 8192) {
    line.clear();
    auto n = co_await reader.read_line(line);
    if (!n || *n == 0 || line == "\r\n") break;
    req += line;
  }
  co_await rill::sleep(2ms);
  int page = -1;
  std::string_view target = req;
  if (target.starts_with("GET /page/")) {
    target.remove_prefix(10);
    std::from_chars(target.data(), target.data() + target.size(), page);
  }
  const bool ok = page >= 0 && page < site->pages;
  const std::string body = ok ? page_body(*site, page) : "not found\n";
  const std::string resp = fmt::format(
      "HTTP/1.1 {}\r\nContent-Type: text/html\r\nContent-Length: {}\r\n"
      "Connection: close\r\n\r\n{}",
      ok ? "200 OK" : "404 Not Found", body.size(), body);
  (void)co_await s.write_all(resp);
  site->in_flight.fetch_sub(1);
}

rill::Task<void> run_site(std::shared_ptr<Site> site, rill::net::TcpListener listener) {
  auto limit = std::make_shared<rill::sync::Semaphore>(256);
  for (;;) {
    auto permit = co_await rill::sync::Semaphore::acquire_owned(limit);
    if (!permit) co_return;
    auto accepted = co_await listener.accept();
    if (!accepted) continue;
    (void)rill::spawn(serve_page(site, std::move(accepted->first), std::move(*permit)));
  }
}

// ---- The crawler ---------------------------------------------------------------------------

/// GETs `path` from `addr`; yields the body of a 200 response, nullopt otherwise.
rill::Task<std::optional<std::string>> fetch(rill::net::SocketAddr addr, std::string path) {
  auto connected = co_await rill::timeout(5s, rill::net::TcpStream::connect(addr));
  if (!connected || !*connected) co_return std::nullopt;  // timed out, or refused
  auto& s = *connected;
  const std::string req = fmt::format("GET {} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
                                      path, addr.to_string());
  if (!co_await s->write_all(req)) co_return std::nullopt;
  std::string resp;
  std::vector<char> buf(4096);
  for (;;) {
    auto n = co_await s->read(std::span<char>(buf));
    if (!n) co_return std::nullopt;
    if (*n == 0) break;
    resp.append(buf.data(), *n);
  }
  const auto head_end = resp.find("\r\n\r\n");
  if (!resp.starts_with("HTTP/1.1 200") || head_end == std::string::npos) co_return std::nullopt;
  co_return resp.substr(head_end + 4);
}

/// The /page/N links of an HTML body.
std::vector<int> links(std::string_view body) {
  std::vector<int> out;
  for (auto pos = body.find("href=\"/page/"); pos != std::string_view::npos;
       pos = body.find("href=\"/page/", pos + 1)) {
    int n = 0;
    const char* p = body.data() + pos + 12;
    if (std::from_chars(p, body.data() + body.size(), n).ec == std::errc()) out.push_back(n);
  }
  return out;
}

struct Crawl {
  rill::net::SocketAddr addr;
  std::set<int> seen;
  std::vector<int> next;
  int failed = 0;
};

/// Fetches page `i` and queues its unseen links for the next level. The children of
/// for_each_concurrent run on the crawling task's thread one at a time, so `c` needs no lock.
rill::Task<void> visit(Crawl& c, int i) {
  auto body = co_await fetch(c.addr, fmt::format("/page/{}", i));
  if (!body) {
    ++c.failed;
    co_return;
  }
  for (int l : links(*body))
    if (c.seen.insert(l).second) c.next.push_back(l);
}

rill::Task<int> run(int pages, std::size_t concurrency) {
  auto listener = rill::net::TcpListener::bind(rill::net::SocketAddr::localhost_v4(0));
  if (!listener) {
    fmt::print(stderr, "fanout_crawler: bind: {}\n", listener.error().message());
    co_return 1;
  }
  // Shared with the site's tasks, which outlive this coroutine (the server is only aborted).
  auto site = std::make_shared<Site>();
  site->pages = pages;
  Crawl crawl;
  crawl.addr = listener->local_addr().value();
  auto server = rill::spawn(run_site(site, std::move(*listener)));

  const auto t0 = std::chrono::steady_clock::now();
  std::vector<int> level = {0};
  crawl.seen.insert(0);
  int depth = 0;
  while (!level.empty()) {
    // The bounded fan-out: at most `concurrency` visits in flight for this level.
    co_await rill::for_each_concurrent(level, concurrency,
                                       [&crawl](int i) { return visit(crawl, i); });
    fmt::print("  level {}: {} pages\n", depth++, level.size());
    level = std::exchange(crawl.next, {});
  }
  const auto ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0);
  server.abort();
  fmt::print(
      "crawled {} of {} pages in {:.0f} ms ({} failed); most requests in flight at the "
      "site: {} (bound {})\n",
      crawl.seen.size(), pages, ms.count(), crawl.failed, site->max_in_flight.load(), concurrency);
  const bool ok = static_cast<int>(crawl.seen.size()) == pages && crawl.failed == 0 &&
                  site->max_in_flight.load() <= static_cast<int>(concurrency);
  co_return ok ? 0 : 1;
}

std::optional<long> arg(int argc, char** argv, int i, long fallback, long lo, long hi) {
  if (argc <= i) return fallback;
  long v = 0;
  const std::string_view s = argv[i];
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v < lo || v > hi) return std::nullopt;
  return v;
}

}  // namespace

int main(int argc, char** argv) {
  const auto pages = arg(argc, argv, 1, 500, 1, 100000);
  const auto concurrency = arg(argc, argv, 2, 8, 1, 1024);
  if (!pages || !concurrency) {
    fmt::print(stderr, "usage: fanout_crawler [PAGES 1..100000] [CONCURRENCY 1..1024]\n");
    return 2;
  }
  auto rt = rill::Builder::new_multi_thread().build();
  return rt.block_on(run(static_cast<int>(*pages), static_cast<std::size_t>(*concurrency)));
}

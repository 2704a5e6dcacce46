// Fixture for rill-blocking-call: string constants in the path-sensitive search. A string
// argument (a literal, a default argument, a std::string / std::string_view built from one, a
// field of a struct a parse helper returns) is folded into the helpers' branch conditions
// (`mode == "sync"`, `host.empty()`, `host.front() == '['`), and an address parser modeled by the
// rules (`address_parsers`: asio::ip::make_address) reports no error for a numeric IP literal, so
// a DNS fallback taken only when parsing fails is not followed for "0.0.0.0". Host names and
// values known only at run time still reach getaddrinfo.
#include <string>
#include <string_view>
#include <system_error>

#include <netdb.h>
#include <unistd.h>

#include "include/task_stub.hpp"

// A stand-in for asio's address parser (the rules model it by name).
namespace asio {
using error_code = std::error_code;
namespace ip {
struct address {
  unsigned char bytes[16] = {};
};
address make_address(std::string_view text, error_code& ec);
address make_address_v4(std::string_view text, error_code& ec);
}  // namespace ip
}  // namespace asio

namespace net {

struct endpoint {
  asio::ip::address addr;
  unsigned short port = 0;
};

// The DNS fallback.
inline endpoint resolve_host(const std::string& host, unsigned short port) {
  addrinfo* res = nullptr;
  ::getaddrinfo(host.c_str(), nullptr, nullptr, &res);
  if (res) ::freeaddrinfo(res);
  return {{}, port};
}

// A numeric address is parsed; only a host name is resolved.
inline endpoint to_endpoint(const std::string& host, unsigned short port) {
  std::error_code ec;
  auto addr = asio::ip::make_address(host, ec);
  if (!ec) return {addr, port};
  return resolve_host(host, port);
}

// The same with the error reported to the caller (an error_code out-parameter).
inline endpoint lookup(const std::string& host, unsigned short port, std::error_code& ec) {
  auto addr = asio::ip::make_address(host, ec);
  if (ec) {
    ec.clear();
    return resolve_host(host, port);
  }
  return {addr, port};
}

// Only IPv4 literals parse here: "::1" goes to the resolver.
inline endpoint lookup_v4(std::string_view host, unsigned short port) {
  asio::error_code ec;
  auto addr = asio::ip::make_address_v4(host, ec);
  if (ec.value() == 0) return {addr, port};
  return resolve_host(std::string(host), port);
}

void record_failure(std::error_code& ec);

// The error code goes through a function that may change it: nothing is known about it.
inline endpoint lookup_logged(const std::string& host, unsigned short port) {
  std::error_code ec;
  auto addr = asio::ip::make_address(host, ec);
  record_failure(ec);
  if (!ec) return {addr, port};
  return resolve_host(host, port);
}

// The error code is tested in a later block than the parse: every write to it decides.
inline endpoint to_endpoint_later(const std::string& host, unsigned short port, bool v6_first) {
  std::error_code ec;
  auto addr = asio::ip::make_address(host, ec);
  if (v6_first) port = static_cast<unsigned short>(port + 1);
  if (!ec) return {addr, port};
  return resolve_host(host, port);
}

// A lambda captures the error code and sets it: nothing is known about it.
inline endpoint lookup_checked(const std::string& host, unsigned short port, bool strict) {
  std::error_code ec;
  auto addr = asio::ip::make_address(host, ec);
  auto reject = [&ec] { ec = std::make_error_code(std::errc::invalid_argument); };
  if (strict) reject();
  if (!ec) return {addr, port};
  return resolve_host(host, port);
}

struct listen_spec {
  std::string host;
  unsigned short port = 0;
};

// "[v6]:port", a numeric address, or "host:port".
inline listen_spec parse_listen(std::string_view text, unsigned short default_port) {
  listen_spec spec{std::string(text), default_port};
  if (text.empty()) return spec;
  if (text.front() == '[') {
    spec.host = std::string(text.substr(1, text.find(']') - 1));
    return spec;
  }
  asio::error_code ec;
  (void)asio::ip::make_address(text, ec);
  if (!ec) {
    spec.host = std::string(text);
    return spec;
  }
  if (text.find(':') != std::string_view::npos) spec.host = std::string(text.substr(0, 4));
  return spec;
}

class Server {
 public:
  explicit Server(unsigned short port = 8080, std::string host = "0.0.0.0") {
    listen_on(host, port);
  }

 private:
  void listen_on(std::string_view host, unsigned short port) {
    auto spec = parse_listen(host, port);
    endpoint ep = to_endpoint(spec.host, spec.port);
    port_ = ep.port;
  }
  unsigned short port_ = 0;
};

// A server whose default listen address is a host name.
class LocalServer {
 public:
  explicit LocalServer(std::string host = "localhost") { port_ = to_endpoint(host, 80).port; }

 private:
  unsigned short port_ = 0;
};

}  // namespace net

// A journal that syncs each write in "sync" mode.
inline void append_record(int fd, std::string_view mode) {
  if (mode == "sync") ::fsync(fd);
}

inline void append_checked(int fd, const std::string& mode) {
  if (!mode.empty() && mode[0] == 'a') return;  // "async": buffered, no write
  ::fsync(fd);
}

// A path ending in '/' names a directory and a path with '*' a pattern: only a file is synced.
inline void sync_path(std::string_view path, int fd) {
  if (path.size() > 1 && path.back() == '/') return;
  if (path.find('*') != std::string_view::npos) return;
  ::fsync(fd);
}

std::string configured_host();

// ============================== must not flag ===============================================

rill::Task serve_default() {
  net::Server server;  // "0.0.0.0": parsed, never resolved
  net::Server local(9000, "127.0.0.1");
  net::Server v6(9000, "::1");
  std::string bind_all = "0.0.0.0";
  net::Server any(9000, bind_all);
  co_return;
}

rill::Task connect_numeric() {
  auto ep = net::to_endpoint("10.0.0.7", 443);
  std::error_code ec;
  auto other = net::lookup("192.168.1.20", 443, ec);
  auto v4 = net::lookup_v4("127.0.0.1", 80);
  net::listen_spec spec{"127.0.0.1", 8443};
  auto from_spec = net::to_endpoint(spec.host, spec.port);
  auto later = net::to_endpoint_later("127.0.0.1", 80, configured_host().empty());
  std::string gateway = "10.0.0.1";
  auto gw = net::to_endpoint(gateway, 80);
  (void)ep, (void)other, (void)v4, (void)from_spec, (void)later, (void)gw;
  co_return;
}

rill::Task journal_async(int fd) {
  append_record(fd, "async");
  append_checked(fd, "async");
  sync_path("/var/log/", fd);
  sync_path("logs/*.txt", fd);
  co_return;
}

// ============================== must flag ===================================================

rill::Task serve_named() {
  net::Server server(9000, "localhost");
  // CHECK-MESSAGES: :[[@LINE-1]]:15: warning: blocking DNS resolution 'getaddrinfo' reached through call to 'net::Server::Server' in coroutine 'serve_named'
  net::Server configured(9000, configured_host());
  // CHECK-MESSAGES: :[[@LINE-1]]:15: warning: blocking DNS resolution 'getaddrinfo' reached through call to 'net::Server::Server' in coroutine 'serve_named'
  net::LocalServer local;
  // CHECK-MESSAGES: :[[@LINE-1]]:20: warning: blocking DNS resolution 'getaddrinfo' reached through call to 'net::LocalServer::LocalServer' in coroutine 'serve_named'
  co_return;
}

rill::Task connect_named(std::string host) {
  auto ep = net::to_endpoint("db.internal", 5432);
  // CHECK-MESSAGES: :[[@LINE-1]]:13: warning: blocking DNS resolution 'getaddrinfo' reached through call to 'net::to_endpoint' in coroutine 'connect_named'
  std::error_code ec;
  auto other = net::lookup(host, 5432, ec);
  // CHECK-MESSAGES: :[[@LINE-1]]:16: warning: blocking DNS resolution 'getaddrinfo' reached through call to 'net::lookup' in coroutine 'connect_named'
  auto v6 = net::lookup_v4("::1", 80);
  // CHECK-MESSAGES: :[[@LINE-1]]:13: warning: blocking DNS resolution 'getaddrinfo' reached through call to 'net::lookup_v4' in coroutine 'connect_named'
  auto logged = net::lookup_logged("127.0.0.1", 80);
  // CHECK-MESSAGES: :[[@LINE-1]]:17: warning: blocking DNS resolution 'getaddrinfo' reached through call to 'net::lookup_logged' in coroutine 'connect_named'
  net::listen_spec spec{"127.0.0.1", 8443};
  spec.host = host;
  auto from_spec = net::to_endpoint(spec.host, spec.port);
  // CHECK-MESSAGES: :[[@LINE-1]]:20: warning: blocking DNS resolution 'getaddrinfo' reached through call to 'net::to_endpoint' in coroutine 'connect_named'
  auto checked = net::lookup_checked("127.0.0.1", 80, host.empty());
  // CHECK-MESSAGES: :[[@LINE-1]]:18: warning: blocking DNS resolution 'getaddrinfo' reached through call to 'net::lookup_checked' in coroutine 'connect_named'
  std::string backup = "10.0.0.";
  backup += host;
  auto bk = net::to_endpoint(backup, 80);
  // CHECK-MESSAGES: :[[@LINE-1]]:13: warning: blocking DNS resolution 'getaddrinfo' reached through call to 'net::to_endpoint' in coroutine 'connect_named'
  (void)ep, (void)other, (void)v6, (void)logged, (void)from_spec, (void)checked, (void)bk;
  co_return;
}

rill::Task journal(int fd) {
  append_record(fd, "sync");
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: blocking file I/O 'fsync' reached through call to 'append_record' in coroutine 'journal'
  append_checked(fd, "sync");
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: blocking file I/O 'fsync' reached through call to 'append_checked' in coroutine 'journal'
  sync_path("/var/log/app.log", fd);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: blocking file I/O 'fsync' reached through call to 'sync_path' in coroutine 'journal'
  co_return;
}

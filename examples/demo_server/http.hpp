// examples/demo_server/http.hpp: the small HTTP/1.1 layer of demo_server, on llhttp (the parser
// Node.js uses; Debian's node-llhttp ships its C sources, compiled into this example).
//
// RequestParser feeds bytes to llhttp and hands out one complete request at a time (pipelined
// requests wait in the parser until the previous one was answered); Response renders a reply
// with Content-Length. Nothing here does I/O: main.cpp owns the sockets.
#pragma once

#include <llhttp.h>

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace demo::http {

/// One parsed request. Header names are lower-cased; the target is split into path and query.
/// A plain value.
struct Request {
  std::string method;  ///< "GET", "POST", ...
  std::string target;  ///< the raw request target ("/lookup?host=localhost")
  std::string path;    ///< target up to '?' ("/lookup")
  std::string query;   ///< target after '?', without it ("host=localhost"); empty if none
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  bool keep_alive = true;  ///< llhttp_should_keep_alive(): HTTP/1.1 default, or keep-alive asked

  /// The value of query parameter `name` (percent-decoded, '+' as space), or nullopt.
  std::optional<std::string> query_param(std::string_view name) const;
  /// The first header named `name` (case-insensitive), or nullopt.
  std::optional<std::string_view> header(std::string_view name) const;
};

/// A reply. Rendered with Content-Length and the Connection header matching keep_alive.
struct Response {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  /// Extra header lines (name, value), e.g. {"Allow", "GET, HEAD"} on a 405.
  std::vector<std::pair<std::string, std::string>> headers;

  /// A text/plain reply.
  static Response text(int status, std::string body);
  /// Status line, headers and body as one buffer (one write per response). `head_only`: the
  /// answer to a HEAD request: the same headers (Content-Length of the body), no body.
  std::string serialize(bool keep_alive, bool head_only = false) const;
};

/// The reason phrase of an HTTP status code ("OK", "Bad Request", ...; "Unknown" otherwise).
std::string_view reason_phrase(int status);

/// Incremental request parser over llhttp. feed() consumes bytes until a request is complete or
/// the input ends; pending bytes of a pipelined request stay in the parser's internal buffer.
/// Limits: the head (every byte from the end of the previous request to the end of the header
/// block: request line, header lines, whitespace, line ends) up to `max_header_bytes`, bodies up
/// to `max_body_bytes`; beyond them the request fails with status 431 / 413. An HTTP/1.1 request
/// without Host fails with 400, an Expect other than 100-continue with 417. Not thread-safe; one
/// parser per connection. Not copyable or movable (llhttp keeps a pointer to it).
class RequestParser {
 public:
  explicit RequestParser(std::size_t max_header_bytes = 16 * 1024,
                         std::size_t max_body_bytes = 1024 * 1024);
  RequestParser(const RequestParser&) = delete;
  RequestParser& operator=(const RequestParser&) = delete;

  /// What feed() / finish() found.
  enum class Status {
    NeedMore,  ///< every byte consumed, no complete request yet
    Complete,  ///< a request is ready: take() it, then call feed() again (with no new bytes)
    Error,     ///< malformed or too large: answer error_status() and close the connection
  };

  /// Appends `data` to the pending input and parses as far as the next complete request.
  Status feed(std::string_view data);
  /// The peer closed its side: completes a request whose body runs to EOF, or reports Error
  /// when a request was cut off in the middle. NeedMore when nothing was pending.
  Status finish();
  /// The complete request (valid after feed() returned Complete).
  Request take();
  /// True from the first byte of a request head until its header block ended (the connection
  /// is then reading a head, not idle between requests).
  bool head_started() const noexcept { return in_head_ && head_bytes_ > 0; }
  /// True while the body of the current request is being read.
  bool in_body() const noexcept { return !in_head_ && !complete_; }
  /// True once per request whose head asked `Expect: 100-continue` and whose body has not
  /// arrived yet: the caller then sends "HTTP/1.1 100 Continue" (the flag is cleared).
  bool take_expect_continue() noexcept { return std::exchange(expect_continue_, false); }
  /// The status to answer after Error (400, 413 or 431) and a one-line reason.
  int error_status() const noexcept { return error_status_; }
  const std::string& error_reason() const noexcept { return error_reason_; }

 private:
  static int on_message_begin(llhttp_t* p);
  static int on_url(llhttp_t* p, const char* at, std::size_t len);
  static int on_header_field(llhttp_t* p, const char* at, std::size_t len);
  static int on_header_value(llhttp_t* p, const char* at, std::size_t len);
  static int on_headers_complete(llhttp_t* p);
  static int on_body(llhttp_t* p, const char* at, std::size_t len);
  static int on_message_complete(llhttp_t* p);
  Status fail(int status, std::string reason);

  std::unique_ptr<llhttp_settings_t> settings_;
  std::unique_ptr<llhttp_t> parser_;
  std::size_t max_header_bytes_;
  std::size_t max_body_bytes_;
  std::string pending_;           ///< bytes fed but not yet parsed (after a pause)
  Request current_;               ///< the request being parsed
  std::size_t header_bytes_ = 0;  ///< header field/value bytes of the current request so far
  std::size_t head_bytes_ = 0;    ///< every byte fed while in the head (the 431 limit)
  bool in_head_ = true;           ///< between requests or reading a head (not the body)
  bool expect_continue_ = false;  ///< see take_expect_continue()
  bool in_value_ = false;         ///< last header callback was a value
  bool complete_ = false;         ///< current_ is complete and not yet taken
  int limit_status_ = 0;          ///< 413/431 when a callback hit a limit
  int error_status_ = 400;
  std::string error_reason_;
};

}  // namespace demo::http

// examples/demo_server/http.cpp: RequestParser (llhttp callbacks) and Response rendering.
#include "http.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

namespace demo::http {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/// Percent-decodes a query component ('+' is a space); a malformed escape is kept as is.
std::string url_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out.push_back(' ');
    } else if (s[i] == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 &&
               hex_value(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

RequestParser* self(llhttp_t* p) {
  return static_cast<RequestParser*>(p->data);
}

}  // namespace

std::optional<std::string> Request::query_param(std::string_view name) const {
  std::string_view q = query;
  while (!q.empty()) {
    const std::size_t amp = q.find('&');
    std::string_view pair = q.substr(0, amp);
    q = amp == std::string_view::npos ? std::string_view() : q.substr(amp + 1);
    const std::size_t eq = pair.find('=');
    if (url_decode(pair.substr(0, eq)) != name) continue;
    return eq == std::string_view::npos ? std::string() : url_decode(pair.substr(eq + 1));
  }
  return std::nullopt;
}

std::optional<std::string_view> Request::header(std::string_view name) const {
  for (const auto& [k, v] : headers)
    if (iequals(k, name)) return std::string_view(v);
  return std::nullopt;
}

Response Response::text(int status, std::string body) {
  Response r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

std::string_view reason_phrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 100:
      return "Continue";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 413:
      return "Content Too Large";
    case 417:
      return "Expectation Failed";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    default:
      return "Unknown";
  }
}

std::string Response::serialize(bool keep_alive, bool head_only) const {
  std::string out =
      fmt::format("HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: {}\r\n",
                  status, reason_phrase(status), content_type, body.size(),
                  keep_alive ? "keep-alive" : "close");
  for (const auto& [name, value] : headers)
    out += fmt::format("{}: {}\r\n", name, value);
  out += "\r\n";
  if (!head_only) out += body;
  return out;
}

RequestParser::RequestParser(std::size_t max_header_bytes, std::size_t max_body_bytes)
    : settings_(std::make_unique<llhttp_settings_t>()),
      parser_(std::make_unique<llhttp_t>()),
      max_header_bytes_(max_header_bytes),
      max_body_bytes_(max_body_bytes) {
  llhttp_settings_init(settings_.get());
  settings_->on_message_begin = &on_message_begin;
  settings_->on_url = &on_url;
  settings_->on_header_field = &on_header_field;
  settings_->on_header_value = &on_header_value;
  settings_->on_headers_complete = &on_headers_complete;
  settings_->on_body = &on_body;
  settings_->on_message_complete = &on_message_complete;
  llhttp_init(parser_.get(), HTTP_REQUEST, settings_.get());
  parser_->data = this;
}

int RequestParser::on_message_begin(llhttp_t* p) {
  auto* me = self(p);
  me->current_ = Request{};
  me->header_bytes_ = 0;
  me->in_value_ = false;
  return 0;
}

int RequestParser::on_url(llhttp_t* p, const char* at, std::size_t len) {
  auto* me = self(p);
  me->header_bytes_ += len;
  if (me->header_bytes_ > me->max_header_bytes_) {
    me->limit_status_ = 431;
    return HPE_USER;
  }
  me->current_.target.append(at, len);
  return 0;
}

int RequestParser::on_header_field(llhttp_t* p, const char* at, std::size_t len) {
  auto* me = self(p);
  me->header_bytes_ += len;
  if (me->header_bytes_ > me->max_header_bytes_) {
    me->limit_status_ = 431;
    return HPE_USER;
  }
  if (me->in_value_ || me->current_.headers.empty()) me->current_.headers.emplace_back();
  me->in_value_ = false;
  for (std::size_t i = 0; i < len; ++i)
    me->current_.headers.back().first.push_back(
        static_cast<char>(std::tolower(static_cast<unsigned char>(at[i]))));
  return 0;
}

int RequestParser::on_header_value(llhttp_t* p, const char* at, std::size_t len) {
  auto* me = self(p);
  me->header_bytes_ += len;
  if (me->header_bytes_ > me->max_header_bytes_) {
    me->limit_status_ = 431;
    return HPE_USER;
  }
  me->in_value_ = true;
  if (me->current_.headers.empty()) me->current_.headers.emplace_back();
  me->current_.headers.back().second.append(at, len);
  return 0;
}

int RequestParser::on_headers_complete(llhttp_t* p) {
  auto* me = self(p);
  me->in_head_ = false;
  me->current_.method = llhttp_method_name(static_cast<llhttp_method_t>(p->method));
  const std::string& t = me->current_.target;
  const std::size_t q = t.find('?');
  me->current_.path = t.substr(0, q);
  me->current_.query = q == std::string::npos ? std::string() : t.substr(q + 1);
  if ((p->flags & F_CONTENT_LENGTH) && p->content_length > me->max_body_bytes_) {
    me->limit_status_ = 413;
    return -1;
  }
  if (p->http_major == 1 && p->http_minor >= 1 && !me->current_.header("host")) {
    me->limit_status_ = 400;  // RFC 9112 3.2: a client MUST send Host in HTTP/1.1
    return -1;
  }
  if (auto expect = me->current_.header("expect")) {
    if (!iequals(*expect, "100-continue")) {
      me->limit_status_ = 417;
      return -1;
    }
    // Only worth answering when a body follows.
    me->expect_continue_ = p->http_minor >= 1 && (p->flags & (F_CONTENT_LENGTH | F_CHUNKED)) &&
                           !((p->flags & F_CONTENT_LENGTH) && p->content_length == 0);
  }
  return 0;
}

int RequestParser::on_body(llhttp_t* p, const char* at, std::size_t len) {
  auto* me = self(p);
  if (me->current_.body.size() + len > me->max_body_bytes_) {
    me->limit_status_ = 413;
    return HPE_USER;
  }
  me->current_.body.append(at, len);
  return 0;
}

int RequestParser::on_message_complete(llhttp_t* p) {
  auto* me = self(p);
  me->in_head_ = true;  // the bytes after this request belong to the next head
  me->head_bytes_ = 0;
  me->expect_continue_ = false;  // the body is here: no 100 Continue needed any more
  me->current_.keep_alive = llhttp_should_keep_alive(p) != 0;
  me->complete_ = true;
  return HPE_PAUSED;  // hand the request out before parsing a pipelined one
}

RequestParser::Status RequestParser::fail(int status, std::string reason) {
  error_status_ = status;
  error_reason_ = std::move(reason);
  return Status::Error;
}

RequestParser::Status RequestParser::feed(std::string_view data) {
  if (complete_) return Status::Complete;  // the caller has not taken the last one yet
  pending_.append(data);
  if (pending_.empty()) return Status::NeedMore;
  const bool was_in_head = in_head_;
  const llhttp_errno_t err = llhttp_execute(parser_.get(), pending_.data(), pending_.size());
  if (err == HPE_OK) {
    // Every byte of a chunk that leaves the parser still in the head counts toward the head
    // limit: whitespace and line ends the callbacks never see included.
    if (was_in_head && in_head_) {
      head_bytes_ += pending_.size();
      if (head_bytes_ > max_header_bytes_) return fail(431, "request head too large");
    }
    pending_.clear();  // llhttp consumed everything (the callbacks copied what they need)
    return Status::NeedMore;
  }
  if (err == HPE_PAUSED && complete_) {
    const char* pos = llhttp_get_error_pos(parser_.get());
    const std::size_t used =
        pos ? static_cast<std::size_t>(pos - pending_.data()) : pending_.size();
    pending_.erase(0, std::min(used, pending_.size()));
    llhttp_resume(parser_.get());
    return Status::Complete;
  }
  switch (limit_status_) {
    case 0:
      break;
    case 400:
      return fail(400, "HTTP/1.1 request without Host");
    case 413:
      return fail(413, "request body too large");
    case 417:
      return fail(417, "unsupported Expect (only 100-continue)");
    default:
      return fail(limit_status_, "request head too large");
  }
  return fail(400, fmt::format("malformed request: {} ({})", llhttp_errno_name(err),
                               llhttp_get_error_reason(parser_.get())));
}

RequestParser::Status RequestParser::finish() {
  if (complete_) return Status::Complete;
  const llhttp_errno_t err = llhttp_finish(parser_.get());
  if (complete_) return Status::Complete;  // a body delimited by EOF
  if (err == HPE_OK || err == HPE_PAUSED) return Status::NeedMore;
  return fail(400, fmt::format("connection closed mid-request: {}", llhttp_errno_name(err)));
}

Request RequestParser::take() {
  complete_ = false;
  return std::move(current_);
}

}  // namespace demo::http

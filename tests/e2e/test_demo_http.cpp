// tests/e2e/test_demo_http.cpp: demo_server's HTTP layer (examples/demo_server/http.{hpp,cpp}):
// the llhttp-based RequestParser (split input, pipelining, keep-alive, limits, malformed input,
// EOF handling), query decoding and response rendering.
#include <gtest/gtest.h>

#include <string>

#include "http.hpp"

namespace {

using demo::http::Request;
using demo::http::RequestParser;
using demo::http::Response;
using Status = RequestParser::Status;

TEST(DemoHttp, ParsesARequestFedByteByByte) {
  RequestParser p;
  const std::string raw =
      "POST /hash?x=1 HTTP/1.1\r\nHost: a\r\nContent-Length: 7\r\nX-Test: v\r\n\r\nhunter2";
  Status st = Status::NeedMore;
  for (std::size_t i = 0; i < raw.size(); ++i) {
    st = p.feed(raw.substr(i, 1));
    if (i + 1 < raw.size()) ASSERT_EQ(st, Status::NeedMore) << "at byte " << i;
  }
  ASSERT_EQ(st, Status::Complete);
  Request r = p.take();
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.path, "/hash");
  EXPECT_EQ(r.query, "x=1");
  EXPECT_EQ(r.body, "hunter2");
  EXPECT_TRUE(r.keep_alive);
  ASSERT_TRUE(r.header("x-TEST"));
  EXPECT_EQ(*r.header("X-Test"), "v");
  EXPECT_EQ(p.feed({}), Status::NeedMore);
}

TEST(DemoHttp, HandsOutPipelinedRequestsOneAtATime) {
  RequestParser p;
  ASSERT_EQ(p.feed("GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\nGET /c HT"),
            Status::Complete);
  EXPECT_EQ(p.take().path, "/a");
  ASSERT_EQ(p.feed({}), Status::Complete);
  EXPECT_EQ(p.take().path, "/b");
  ASSERT_EQ(p.feed({}), Status::NeedMore);
  ASSERT_EQ(p.feed("TP/1.0\r\n\r\n"), Status::Complete);
  Request c = p.take();
  EXPECT_EQ(c.path, "/c");
  EXPECT_FALSE(c.keep_alive);  // HTTP/1.0 without keep-alive
}

TEST(DemoHttp, ConnectionCloseAndChunkedBodies) {
  RequestParser p;
  ASSERT_EQ(p.feed("POST /x HTTP/1.1\r\nHost: h\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n"
                   "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"),
            Status::Complete);
  Request r = p.take();
  EXPECT_EQ(r.body, "abcde");
  EXPECT_FALSE(r.keep_alive);
}

TEST(DemoHttp, MalformedRequestIs400) {
  RequestParser p;
  EXPECT_EQ(p.feed("GARBAGE\r\n\r\n"), Status::Error);
  EXPECT_EQ(p.error_status(), 400);
  EXPECT_FALSE(p.error_reason().empty());
}

TEST(DemoHttp, BodyAndHeadLimits) {
  RequestParser small_body(16 * 1024, 4);
  EXPECT_EQ(small_body.feed("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nabcde"), Status::Error);
  EXPECT_EQ(small_body.error_status(), 413);

  RequestParser chunked(16 * 1024, 4);
  EXPECT_EQ(chunked.feed("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nabcde\r\n"),
            Status::Error);
  EXPECT_EQ(chunked.error_status(), 413);

  RequestParser small_head(64, 1024);
  EXPECT_EQ(small_head.feed("GET /" + std::string(100, 'a') + " HTTP/1.1\r\n\r\n"), Status::Error);
  EXPECT_EQ(small_head.error_status(), 431);
}

TEST(DemoHttp, EveryByteOfTheHeadCounts) {
  // Whitespace inside a header value and bare line ends never reach a callback; they count.
  RequestParser spaces(1024, 1024);
  EXPECT_EQ(spaces.feed("GET / HTTP/1.1\r\nHost: h\r\nX: "), Status::NeedMore);
  Status st = Status::NeedMore;
  for (int i = 0; i < 100 && st == Status::NeedMore; ++i)
    st = spaces.feed(std::string(100, ' '));
  EXPECT_EQ(st, Status::Error);
  EXPECT_EQ(spaces.error_status(), 431);

  RequestParser lines(1024, 1024);
  st = lines.feed("GET / HTTP/1.1\r\nHost: h\r\n");
  for (int i = 0; i < 1000 && st == Status::NeedMore; ++i)
    st = lines.feed("A:\r\n");
  EXPECT_EQ(st, Status::Error);
  EXPECT_EQ(lines.error_status(), 431);

  // The count restarts with each request: many small pipelined requests are fine.
  RequestParser many(256, 1024);
  std::string in;
  for (int i = 0; i < 20; ++i)
    in += "GET /a HTTP/1.1\r\nHost: h\r\n\r\n";
  ASSERT_EQ(many.feed(in), Status::Complete);
  for (int i = 1; i < 20; ++i) {
    (void)many.take();
    ASSERT_EQ(many.feed({}), Status::Complete) << i;
  }
}

TEST(DemoHttp, HostIsRequiredInHttp11Only) {
  RequestParser no_host;
  EXPECT_EQ(no_host.feed("GET / HTTP/1.1\r\n\r\n"), Status::Error);
  EXPECT_EQ(no_host.error_status(), 400);
  RequestParser http10;
  EXPECT_EQ(http10.feed("GET / HTTP/1.0\r\n\r\n"), Status::Complete);
}

TEST(DemoHttp, ExpectContinue) {
  RequestParser p;
  EXPECT_FALSE(p.head_started());
  ASSERT_EQ(p.feed("POST /h HTTP/1.1\r\nHost: h\r\nExpect: 100-Continue\r\nContent-Length: 3\r\n\r\n"),
            Status::NeedMore);
  EXPECT_TRUE(p.in_body());
  EXPECT_TRUE(p.take_expect_continue());
  EXPECT_FALSE(p.take_expect_continue());  // once
  ASSERT_EQ(p.feed("abc"), Status::Complete);
  EXPECT_EQ(p.take().body, "abc");

  RequestParser whole;  // the body came with the head: nothing to announce
  ASSERT_EQ(whole.feed("POST /h HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\n"
                       "Content-Length: 3\r\n\r\nabc"),
            Status::Complete);
  EXPECT_FALSE(whole.take_expect_continue());

  RequestParser other;
  EXPECT_EQ(other.feed("POST /h HTTP/1.1\r\nHost: h\r\nExpect: something\r\n\r\n"),
            Status::Error);
  EXPECT_EQ(other.error_status(), 417);
}

TEST(DemoHttp, HeadStartedTracksTheHead) {
  RequestParser p;
  EXPECT_EQ(p.feed("GET / HT"), Status::NeedMore);
  EXPECT_TRUE(p.head_started());
  EXPECT_EQ(p.feed("TP/1.1\r\nHost: h\r\n\r\n"), Status::Complete);
  (void)p.take();
  EXPECT_FALSE(p.head_started());
  EXPECT_FALSE(p.in_body());
}

TEST(DemoHttp, EofInTheMiddleOfARequestIsAnError) {
  RequestParser idle;
  EXPECT_EQ(idle.finish(), Status::NeedMore);  // nothing pending: a clean close
  RequestParser cut;
  ASSERT_EQ(cut.feed("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\nabc"), Status::NeedMore);
  EXPECT_EQ(cut.finish(), Status::Error);
}

TEST(DemoHttp, QueryParametersAreDecoded) {
  Request r;
  r.query = "host=local%68ost&n=12&flag&sp=a+b&bad=%zz";
  EXPECT_EQ(r.query_param("host"), "localhost");
  EXPECT_EQ(r.query_param("n"), "12");
  EXPECT_EQ(r.query_param("flag"), "");
  EXPECT_EQ(r.query_param("sp"), "a b");
  EXPECT_EQ(r.query_param("bad"), "%zz");
  EXPECT_FALSE(r.query_param("missing"));
}

TEST(DemoHttp, HeadResponsesAndExtraHeaders) {
  Response r = Response::text(405, "no\n");
  r.headers.emplace_back("Allow", "GET, HEAD");
  const std::string full = r.serialize(true);
  EXPECT_NE(full.find("\r\nAllow: GET, HEAD\r\n"), std::string::npos) << full;
  EXPECT_TRUE(full.ends_with("\r\n\r\nno\n")) << full;
  const std::string head = r.serialize(true, true);
  EXPECT_NE(head.find("Content-Length: 3\r\n"), std::string::npos) << head;
  EXPECT_TRUE(head.ends_with("\r\n\r\n")) << head;
}

TEST(DemoHttp, ResponseSerialization) {
  Response r = Response::text(404, "no\n");
  EXPECT_EQ(r.serialize(true),
            "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain; charset=utf-8\r\n"
            "Content-Length: 3\r\nConnection: keep-alive\r\n\r\nno\n");
  EXPECT_NE(r.serialize(false).find("Connection: close\r\n"), std::string::npos);
}

}  // namespace

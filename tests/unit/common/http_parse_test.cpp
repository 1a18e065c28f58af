// Tests of the pure HTTP parsers: request targets, percent-encoding, route patterns, JSON
// bodies, raw requests under limits, client targets, response helpers and SSE framing.
#include "common/http_parse.hpp"

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/http.hpp"
#include "common/http_client.hpp"
#include "common/rng.hpp"

namespace weft {
namespace {

namespace asio = boost::asio;
using nlohmann::json;
using tcp = asio::ip::tcp;

std::span<const std::uint8_t> bytes_of(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

TEST(HttpParse, TargetDecodesSegmentsAndQuery) {
  auto t = parse_target("/ip/c%2F1/10.32.0.5?family=ipv4&ifname=eth0&x=a+b%21&flag&&=skip");
  ASSERT_TRUE(t) << t.error().to_string();
  EXPECT_EQ(t->path, "/ip/c%2F1/10.32.0.5");
  EXPECT_EQ(t->segments, (std::vector<std::string>{"ip", "c/1", "10.32.0.5"}));
  EXPECT_EQ(t->query,
            (QueryParams{{"family", "ipv4"}, {"ifname", "eth0"}, {"x", "a b!"}, {"flag", ""}}));
  auto plus = parse_target("/a+b?k=1&k=2");
  ASSERT_TRUE(plus);
  EXPECT_EQ(plus->segments, std::vector<std::string>{"a+b"});  // '+' is literal in paths
  EXPECT_EQ(plus->query.at("k"), "2");                         // last value wins
  auto root = parse_target("/");
  ASSERT_TRUE(root);
  EXPECT_TRUE(root->segments.empty());
  auto trailing = parse_target("/a/");
  ASSERT_TRUE(trailing);
  EXPECT_EQ(trailing->segments, (std::vector<std::string>{"a", ""}));
  auto absolute = parse_target("http://127.0.0.1:6784/status?x=1");
  ASSERT_TRUE(absolute);
  EXPECT_EQ(absolute->path, "/status");
  EXPECT_EQ(absolute->query.at("x"), "1");
  auto bare = parse_target("HTTP://host");
  ASSERT_TRUE(bare);
  EXPECT_EQ(bare->path, "/");
}

TEST(HttpParse, TargetRejectsBadEscapesNulsAndOddForms) {
  for (std::string_view bad :
       {"", "ip", "*", "http:///x", "/a%zz", "/a%4", "/a%", "/a%00", "/a b", "/a#frag", "/a/../b",
        "/%2e%2E", "/./x", "/q?x=%ZZ", "/q?x=%00", "/q?%0", "/\x7f"}) {
    auto t = parse_target(bad);
    EXPECT_FALSE(t) << "accepted: " << bad;
    if (!t) {
      EXPECT_EQ(t.error().code, make_error_code(Errc::kMalformed)) << bad;
    }
  }
  EXPECT_FALSE(parse_target(std::string_view("/a\0b", 4)));
  EXPECT_FALSE(parse_target("/a\x01"));
}

TEST(HttpParse, PercentEncodingRoundTripsRandomBytes) {
  SeededRng rng(7);
  for (int i = 0; i < 500; ++i) {
    std::string s(rng.uniform(40), '\0');
    for (auto& c : s) {
      c = static_cast<char>(1 + rng.uniform(255));  // no NUL: decoding rejects it
    }
    auto decoded = percent_decode(percent_encode(s), false);
    ASSERT_TRUE(decoded);
    ASSERT_EQ(*decoded, s);
  }
}

TEST(HttpParse, MatchRouteBindsParamsAndRejectsShapes) {
  auto m = match_route("/ip/{id}/{addr}", "/ip/abc/10.1.2.3");
  ASSERT_TRUE(m);
  EXPECT_EQ(*m, (RouteParams{{"id", "abc"}, {"addr", "10.1.2.3"}}));
  auto enc = match_route("/peer/{name}", "/peer/a%2Fb?x=1");
  ASSERT_TRUE(enc);
  EXPECT_EQ(enc->at("name"), "a/b");
  // ... which the server refuses before a handler sees it.
  auto refused = validate_route_params(*enc);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, make_error_code(Errc::kMalformed));
  EXPECT_NE(refused.error().message.find("{name}"), std::string::npos) << refused.error().message;
  EXPECT_TRUE(validate_route_params(RouteParams{{"id", "a b?c%d#e"}}));
  EXPECT_FALSE(match_route("/ip/{id}/{addr}", "/ip/abc"));
  EXPECT_FALSE(match_route("/ip/{id}/{addr}", "/ip/abc/1/2"));
  EXPECT_FALSE(match_route("/ip/{id}/{addr}", "/ip//1"));  // empty parameter
  EXPECT_FALSE(match_route("/ip/{id}", "/ipam/x"));
  EXPECT_FALSE(match_route("/status", "/status/"));
  EXPECT_TRUE(match_route("/", "/"));
  EXPECT_FALSE(match_route("/ip/{id}", "/ip/%zz"));  // bad path
  for (std::string_view bad : {"ip", "", "/{}", "/{a}/{a}", "/a{b}", "/{a b}", "/x}"}) {
    EXPECT_FALSE(parse_route_pattern(bad)) << bad;
  }
}

TEST(HttpParse, JsonBodyParsesAndRejectsWithMessages) {
  auto ok = parse_json_body(R"({"a": [1, 2.5, "x", null, true], "b": {"c": -3}})");
  ASSERT_TRUE(ok) << ok.error().to_string();
  EXPECT_EQ((*ok)["a"][2], "x");
  EXPECT_EQ((*ok)["b"]["c"], -3);
  auto bad = parse_json_body(R"({"a": tru})");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, make_error_code(Errc::kMalformed));
  EXPECT_NE(bad.error().message.find("parse error"), std::string::npos) << bad.error().message;
  EXPECT_FALSE(parse_json_body("{} x"));          // trailing bytes
  EXPECT_FALSE(parse_json_body(""));              // empty
  EXPECT_FALSE(parse_json_body("\"\xff\xfe\""));  // invalid UTF-8
  auto big = parse_json_body(std::string(100, ' ') + "1", kMaxJsonDepth, 50);
  ASSERT_FALSE(big);
  EXPECT_EQ(big.error().code, make_error_code(Errc::kTooLarge));
}

TEST(HttpParse, JsonBodyDepthLimit) {
  auto nested = [](std::size_t depth) {
    std::string s;
    for (std::size_t i = 0; i < depth; ++i) {
      s += i % 2 ? "{\"k\":" : "[";
    }
    s += "0";
    for (std::size_t i = depth; i-- > 0;) {
      s += i % 2 ? "}" : "]";
    }
    return s;
  };
  EXPECT_TRUE(parse_json_body(nested(64)));
  auto deep = parse_json_body(nested(65));
  ASSERT_FALSE(deep);
  EXPECT_NE(deep.error().message.find("deeper than 64"), std::string::npos);
  EXPECT_FALSE(parse_json_body(std::string(100000, '[')));
  EXPECT_TRUE(parse_json_body(nested(3), 3));
  EXPECT_FALSE(parse_json_body(nested(4), 3));
}

TEST(HttpParse, RequestBytesWithLimits) {
  HttpLimits limits;
  auto r =
      parse_request_bytes(bytes_of("POST /ip/abc?family=ipv4 HTTP/1.1\r\nHost: x\r\nX-Trace: 7\r\n"
                                   "Content-Length: 4\r\n\r\n{\"a\""),
                          limits);
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->method, Method::kPost);
  EXPECT_EQ(r->segments, (std::vector<std::string>{"ip", "abc"}));
  EXPECT_EQ(r->query_value("family"), "ipv4");
  EXPECT_EQ(r->header("x-trace"), "7");
  EXPECT_EQ(r->body, "{\"a\"");
  EXPECT_TRUE(r->keep_alive);
  auto chunked = parse_request_bytes(
      bytes_of(
          "PUT /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"),
      limits);
  ASSERT_TRUE(chunked) << chunked.error().to_string();
  EXPECT_EQ(chunked->body, "abcde");

  limits.max_header_bytes = 64;
  auto header = parse_request_bytes(
      bytes_of("GET / HTTP/1.1\r\nX: " + std::string(100, 'a') + "\r\n\r\n"), limits);
  ASSERT_FALSE(header);
  EXPECT_EQ(header.error().code, make_error_code(Errc::kTooLarge));
  limits = HttpLimits{};
  limits.max_body_bytes = 3;
  auto body =
      parse_request_bytes(bytes_of("POST / HTTP/1.1\r\nContent-Length: 4\r\n\r\nabcd"), limits);
  ASSERT_FALSE(body);
  EXPECT_EQ(body.error().code, make_error_code(Errc::kTooLarge));
  limits = HttpLimits{};
  EXPECT_EQ(parse_request_bytes(bytes_of("GET / HTTP/1.1\r\nHost: x\r\n"), limits).error().code,
            make_error_code(Errc::kMalformed));
  EXPECT_EQ(parse_request_bytes(bytes_of("BREW / HTTP/1.1\r\n\r\n"), limits).error().code,
            make_error_code(Errc::kUnsupported));
  EXPECT_EQ(parse_request_bytes(bytes_of("GET /%zz HTTP/1.1\r\n\r\n"), limits).error().code,
            make_error_code(Errc::kMalformed));
  EXPECT_FALSE(parse_request_bytes(bytes_of("GET / HTTP/1.1\r\nBad Header\r\n\r\n"), limits));
}

TEST(HttpParse, ClientTargets) {
  auto v4 = parse_http_target("127.0.0.1:6784");
  ASSERT_TRUE(v4);
  EXPECT_FALSE(v4->is_unix);
  EXPECT_EQ(v4->tcp, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 6784));
  auto v6 = parse_http_target("[::1]:6784");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->to_string(), "[::1]:6784");
  EXPECT_EQ(parse_http_target("http://localhost:80/")->to_string(), "127.0.0.1:80");
  auto sock = parse_http_target("/run/weft/weft.sock");
  ASSERT_TRUE(sock);
  EXPECT_TRUE(sock->is_unix);
  EXPECT_EQ(sock->unix_path, "/run/weft/weft.sock");
  EXPECT_EQ(parse_http_target("unix:weft.sock")->unix_path, "weft.sock");
  for (std::string_view bad : {"", "6784", "host:80", "::1:80", "1.2.3.4:0", "1.2.3.4:99999",
                               "[::1]6784", "1.2.3.4:x", "unix:"}) {
    EXPECT_FALSE(parse_http_target(bad)) << bad;
  }
}

TEST(HttpParse, ResponseHelpersAndSse) {
  auto r = Response::error(404, "no such peer \"x\"");
  EXPECT_EQ(r.content_type, "application/json");
  EXPECT_EQ(json::parse(r.body)["error"], "no such peer \"x\"");
  auto e = json_from_response(r);
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().code, make_error_code(Errc::kNotFound));
  EXPECT_EQ(e.error().message, "HTTP 404: no such peer \"x\"");
  EXPECT_EQ(json_from_response(Response::text(503, "not ready\n")).error().message,
            "HTTP 503: not ready");
  // Bad UTF-8 from untrusted input must not make dump() throw.
  EXPECT_NO_THROW(Response::json(200, json{{"id", std::string("\xff\xfe")}}));
  EXPECT_EQ(format_sse_event("tick", "a\nb"), "event: tick\ndata: a\ndata: b\n\n");
  EXPECT_EQ(format_sse_event("", ""), "data: \n\n");
  EXPECT_EQ(format_sse_event("x\ny", "1"), "event: xy\ndata: 1\n\n");
}

}  // namespace
}  // namespace weft

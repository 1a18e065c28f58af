// Tests of the HTTP server and client over TCP loopback and unix sockets: JSON round trips,
// routing, raw malformed bytes, keep-alive, streams, timeouts, limits and shutdown. The pure
// parsers are tested in http_parse_test.cpp.
#include "common/http.hpp"

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/http_client.hpp"
#include "common/http_parse.hpp"
#include "common/http_server.hpp"
#include "common/log.hpp"
#include "tests/support/coro.hpp"
#include <sys/stat.h>
#include <unistd.h>

namespace weft {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using nlohmann::json;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

// ---------------------------------------------------------------- server and client

struct StreamState {
  int started = 0;
  int ended = 0;
  int sent = 0;
};

// Reads from `s` until EOF, an error, or `limit` of real time.
asio::awaitable<std::string> read_until_eof(tcp::socket* s, std::chrono::milliseconds limit) {
  std::string out;
  asio::steady_timer timer(s->get_executor(), limit);
  timer.async_wait([s](boost::system::error_code ec) {
    if (!ec) {
      s->close();
    }
  });
  std::array<char, 4096> buf{};
  while (true) {
    auto [ec, n] =
        co_await s->async_read_some(asio::buffer(buf), asio::as_tuple(asio::use_awaitable));
    out.append(buf.data(), n);
    if (ec) {
      break;
    }
  }
  timer.cancel();
  co_return out;
}

// Connects, writes `bytes` and returns everything the server sends until it closes.
asio::awaitable<std::string> raw_exchange(tcp::endpoint ep, std::string bytes) {
  tcp::socket s(co_await asio::this_coro::executor);
  co_await s.async_connect(ep, asio::use_awaitable);
  co_await asio::async_write(s, asio::buffer(bytes), asio::use_awaitable);
  co_return co_await read_until_eof(&s, 5s);
}

// Reads more bytes into `acc` until it contains `needle`.
asio::awaitable<bool> read_until_contains(tcp::socket* s, std::string* acc, std::string needle) {
  std::array<char, 1024> buf{};
  while (acc->find(needle) == std::string::npos) {
    auto [ec, n] =
        co_await s->async_read_some(asio::buffer(buf), asio::as_tuple(asio::use_awaitable));
    if (ec) {
      co_return false;
    }
    acc->append(buf.data(), n);
  }
  co_return true;
}

asio::awaitable<void> sleep_ms(int ms) {
  asio::steady_timer t(co_await asio::this_coro::executor, std::chrono::milliseconds(ms));
  co_await t.async_wait(asio::use_awaitable);
}

class HttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           fmt::format("weft-http-{}-{}", ::getpid(),
                       ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    sock_path_ = (dir_ / "weft.sock").string();
  }

  void TearDown() override {
    if (server_) {
      test::run(io_, server_->stop(), 10s);
    }
    std::filesystem::remove_all(dir_);
  }

  void start_server(HttpLimits limits = {}) {
    server_ = std::make_unique<HttpServer>(io_.get_executor(), limits);
    add_routes(*server_, &stream_);
    auto ep = server_->listen_tcp(tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    ASSERT_TRUE(ep) << ep.error().to_string();
    ep_ = *ep;
    tcp_target_ = fmt::format("127.0.0.1:{}", ep_.port());
    auto u = server_->listen_unix(sock_path_, 0600);
    ASSERT_TRUE(u) << u.error().to_string();
    server_->start();
  }

  static void add_routes(HttpServer& s, StreamState* stream) {
    s.route(Method::kGet, "/status", [](Request) -> asio::awaitable<Response> {
      co_return Response::json(200, json{{"ready", true}});
    });
    s.route(Method::kPost, "/echo", [](Request req) -> asio::awaitable<Response> {
      auto body = parse_json_body(req.body);
      if (!body) {
        co_return Response::error(400, body.error().message);
      }
      co_return Response::json(200, json{{"got", *body}});
    });
    s.route(Method::kPut, "/ip/{id}/{addr}", [](Request req) -> asio::awaitable<Response> {
      co_return Response::json(200, json{{"id", req.param("id")},
                                         {"addr", req.param("addr")},
                                         {"family", req.query_value("family").value_or("")},
                                         {"ifname", req.query_value("ifname").value_or("")}});
    });
    s.route(Method::kDelete, "/peer/{name}", [](Request req) -> asio::awaitable<Response> {
      co_return Response::json(200, json{{"deleted", req.param("name")}});
    });
    s.route(Method::kGet, "/boom", [](Request) -> asio::awaitable<Response> {
      throw std::runtime_error("handler exploded");
      co_return Response::text(200, "unreachable");
    });
    s.route(Method::kGet, "/framing", [](Request) -> asio::awaitable<Response> {
      Response r = Response::text(200, "ok");
      r.headers = {{"Content-Length", "999"}, {"X-Evil", "a\r\nSet-Cookie: x"}, {"X-Good", "1"}};
      co_return r;
    });
    s.route(Method::kGet, "/big", [](Request) -> asio::awaitable<Response> {
      co_return Response::text(200, std::string(100 * 1024, 'b'));
    });
    s.route(Method::kGet, "/slow", [](Request) -> asio::awaitable<Response> {
      co_await sleep_ms(3'600'000);
      co_return Response::text(200, "late");
    });
    s.stream_route(Method::kGet, "/events",
                   [stream](Request req, ResponseStream out) -> asio::awaitable<void> {
                     ++stream->started;
                     struct Done {
                       StreamState* s;
                       ~Done() { ++s->ended; }
                     } done{stream};
                     // std::stoi throws on a bad count: the stream handler exception path.
                     const int count =
                         std::stoi(std::string(req.query_value("count").value_or("0")));
                     if (count < 0) {
                       co_await out.respond(Response::error(400, "negative count"));
                       co_return;
                     }
                     auto started = co_await out.start_events();
                     if (!started) {
                       co_return;
                     }
                     for (int i = 0; count == 0 || i < count; ++i) {
                       auto sent = co_await out.send_event("tick", std::to_string(i));
                       if (!sent) {
                         co_return;
                       }
                       ++stream->sent;
                       co_await sleep_ms(20);
                     }
                   });
  }

  asio::io_context io_;
  std::filesystem::path dir_;
  std::string sock_path_;
  std::unique_ptr<HttpServer> server_;
  StreamState stream_;
  tcp::endpoint ep_;
  std::string tcp_target_;
};

TEST_F(HttpServerTest, JsonRoundTripOverTcpAndUnix) {
  start_server();
  HttpClient client(io_.get_executor());
  for (const std::string& target : {tcp_target_, sock_path_}) {
    auto status = test::run(io_, client.get_json(target, "/status"));
    ASSERT_TRUE(status) << status.error().to_string();
    EXPECT_EQ(*status, json({{"ready", true}}));
    const json body = {{"a", {1, 2, {{"b", "c"}}}}, {"s", "é"}};
    auto echo = test::run(io_, client.post_json(target, "/echo", body));
    ASSERT_TRUE(echo) << echo.error().to_string();
    EXPECT_EQ((*echo)["got"], body);
    auto bad = test::run(io_, client.call_json(target, Method::kPost, "/echo", "{bad"));
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().code, make_error_code(Errc::kInvalidArgument));
    EXPECT_NE(bad.error().message.find("invalid JSON"), std::string::npos);
  }
  EXPECT_EQ(server_->stats().requests, 6u);
  EXPECT_EQ(server_->stats().responses_4xx, 2u);
}

TEST_F(HttpServerTest, PathParamsAndQueryAreDecoded) {
  start_server();
  HttpClient client(io_.get_executor());
  auto r = test::run(io_, client.request(sock_path_, Method::kPut,
                                         "/ip/c%3F1%20%25/10.32.0.5?family=ipv4&ifname=eth%30"));
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(json::parse(r->body),
            json({{"id", "c?1 %"}, {"addr", "10.32.0.5"}, {"family", "ipv4"}, {"ifname", "eth0"}}));
  // A parameter that decodes to a '/' is refused before the handler runs.
  auto slash = test::run(io_, client.request(sock_path_, Method::kPut, "/ip/c%2F1/10.32.0.5"));
  ASSERT_TRUE(slash) << slash.error().to_string();
  EXPECT_EQ(slash->status, 400);
  EXPECT_NE(slash->body.find("{id} must not contain '/'"), std::string::npos) << slash->body;
  auto d = test::run(io_, client.call_json(tcp_target_, Method::kDelete, "/peer/aa:bb:cc", ""));
  ASSERT_TRUE(d) << d.error().to_string();
  EXPECT_EQ((*d)["deleted"], "aa:bb:cc");
}

TEST_F(HttpServerTest, UnknownPathIs404WrongMethodIs405HeadHasNoBody) {
  start_server();
  HttpClient client(io_.get_executor());
  auto nf = test::run(io_, client.request(tcp_target_, Method::kGet, "/nope"));
  ASSERT_TRUE(nf);
  EXPECT_EQ(nf->status, 404);
  EXPECT_EQ(json::parse(nf->body)["error"], "no such path: /nope");
  auto na = test::run(io_, client.request(tcp_target_, Method::kGet, "/peer/x"));
  ASSERT_TRUE(na);
  EXPECT_EQ(na->status, 405);
  EXPECT_EQ(na->header("allow"), "DELETE");
  const std::string raw = test::run(
      io_, raw_exchange(ep_, "HEAD /status HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  EXPECT_TRUE(raw.starts_with("HTTP/1.1 200 OK\r\n")) << raw;
  EXPECT_NE(raw.find("Content-Length: 15\r\n"), std::string::npos) << raw;
  EXPECT_TRUE(raw.ends_with("\r\n\r\n")) << raw;  // no body
  // Handlers cannot break framing or inject header lines.
  const std::string framing =
      test::run(io_, raw_exchange(ep_, "GET /framing HTTP/1.1\r\nConnection: close\r\n\r\n"));
  EXPECT_NE(framing.find("Content-Length: 2\r\n"), std::string::npos) << framing;
  EXPECT_EQ(framing.find("999"), std::string::npos) << framing;
  EXPECT_EQ(framing.find("Set-Cookie"), std::string::npos) << framing;
  EXPECT_NE(framing.find("X-Good: 1\r\n"), std::string::npos) << framing;
  EXPECT_TRUE(framing.ends_with("\r\n\r\nok")) << framing;
}

TEST_F(HttpServerTest, OversizedBodyIs413AndOversizedHeaderIs431) {
  HttpLimits limits;
  limits.max_body_bytes = 1024;
  limits.max_header_bytes = 2048;
  start_server(limits);
  const std::string big_body = test::run(
      io_, raw_exchange(ep_, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2048\r\n\r\n" +
                                 std::string(2048, 'x')));
  EXPECT_TRUE(big_body.starts_with("HTTP/1.1 413 ")) << big_body;
  EXPECT_NE(big_body.find("request body over 1024 bytes"), std::string::npos);
  const std::string big_header = test::run(
      io_, raw_exchange(ep_, "GET /status HTTP/1.1\r\nHost: x\r\nX-Pad: " + std::string(4096, 'p') +
                                 "\r\n\r\n"));
  EXPECT_TRUE(big_header.starts_with("HTTP/1.1 431 ")) << big_header;
  // A chunked body that grows over the limit is caught too.
  const std::string chunked =
      test::run(io_, raw_exchange(ep_,
                                  "POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                                  "800\r\n" +
                                      std::string(2048, 'y') + "\r\n0\r\n\r\n"));
  EXPECT_TRUE(chunked.starts_with("HTTP/1.1 413 ")) << chunked;
  HttpClient client(io_.get_executor());
  auto via_client =
      test::run(io_, client.request(sock_path_, Method::kPost, "/echo", std::string(5000, '1')));
  ASSERT_TRUE(via_client) << via_client.error().to_string();
  EXPECT_EQ(via_client->status, 413);
  EXPECT_EQ(server_->stats().bad_requests, 4u);
}

TEST_F(HttpServerTest, MalformedRequestsGet400Or501AndClose) {
  start_server();
  for (std::string bad :
       {"GARBAGE\r\n\r\n", "GET /a%zz HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET /status HTTP/1.1\r\nContent-Length: abc\r\n\r\n",
        "GET /status HTTP/1.1\r\nBad Header: x\r\n\r\n", "GET /../etc/passwd HTTP/1.1\r\n\r\n",
        "GET status HTTP/1.1\r\n\r\n",
        "GET /status HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"}) {
    const std::string reply = test::run(io_, raw_exchange(ep_, bad));
    EXPECT_TRUE(reply.starts_with("HTTP/1.1 400 ")) << bad << " -> " << reply;
    EXPECT_NE(reply.find("\"error\""), std::string::npos) << reply;
  }
  const std::string brew = test::run(io_, raw_exchange(ep_, "BREW /status HTTP/1.1\r\n\r\n"));
  EXPECT_TRUE(brew.starts_with("HTTP/1.1 501 ")) << brew;
  // The server is still healthy.
  HttpClient client(io_.get_executor());
  EXPECT_TRUE(test::run(io_, client.get_json(tcp_target_, "/status")));
}

TEST_F(HttpServerTest, KeepAliveServesSeveralRequestsOnOneConnection) {
  start_server();
  test::run(io_, [](tcp::endpoint ep) -> asio::awaitable<void> {
    tcp::socket s(co_await asio::this_coro::executor);
    co_await s.async_connect(ep, asio::use_awaitable);
    boost::beast::flat_buffer buf;
    for (int i = 0; i < 3; ++i) {
      const std::string req = "GET /status HTTP/1.1\r\nHost: x\r\n\r\n";
      co_await asio::async_write(s, asio::buffer(req), asio::use_awaitable);
      http::response<http::string_body> res;
      co_await http::async_read(s, buf, res, asio::use_awaitable);
      EXPECT_EQ(res.result_int(), 200u);
      EXPECT_TRUE(res.keep_alive());
      EXPECT_EQ(json::parse(res.body())["ready"], true);
    }
    // Pipelined: two requests in one write, two responses in order.
    const std::string two =
        "PUT /ip/a/1 HTTP/1.1\r\nHost: x\r\n\r\nPUT /ip/b/2 HTTP/1.1\r\nHost: x\r\n\r\n";
    co_await asio::async_write(s, asio::buffer(two), asio::use_awaitable);
    for (std::string id : {"a", "b"}) {
      http::response<http::string_body> res;
      co_await http::async_read(s, buf, res, asio::use_awaitable);
      EXPECT_EQ(json::parse(res.body())["id"], id);
    }
  }(ep_));
  EXPECT_EQ(server_->stats().connections_accepted, 1u);
  EXPECT_EQ(server_->stats().requests, 5u);
}

TEST_F(HttpServerTest, ExpectContinueGets100BeforeTheBody) {
  start_server();
  test::run(io_, [](tcp::endpoint ep) -> asio::awaitable<void> {
    tcp::socket s(co_await asio::this_coro::executor);
    co_await s.async_connect(ep, asio::use_awaitable);
    const std::string head =
        "POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 7\r\n\r\n";
    co_await asio::async_write(s, asio::buffer(head), asio::use_awaitable);
    std::string got;
    const bool cont = co_await read_until_contains(&s, &got, "\r\n\r\n");
    EXPECT_TRUE(cont);
    EXPECT_EQ(got, "HTTP/1.1 100 Continue\r\n\r\n");
    co_await asio::async_write(s, asio::buffer(std::string("[1,2,3]")), asio::use_awaitable);
    const bool done = co_await read_until_contains(&s, &got, "{\"got\":[1,2,3]}");
    EXPECT_TRUE(done) << got;
  }(ep_));
}

TEST_F(HttpServerTest, HandlerExceptionBecomes500AndServerKeepsServing) {
  start_server();
  std::vector<std::string> lines;
  log::set_sink([&](std::string_view l) { lines.emplace_back(l); });
  HttpClient client(io_.get_executor());
  auto boom = test::run(io_, client.request(tcp_target_, Method::kGet, "/boom"));
  log::set_sink(nullptr);
  ASSERT_TRUE(boom) << boom.error().to_string();
  EXPECT_EQ(boom->status, 500);
  EXPECT_EQ(json::parse(boom->body)["error"], "internal error");
  EXPECT_TRUE(test::run(io_, client.get_json(tcp_target_, "/status")));
  EXPECT_EQ(server_->stats().handler_exceptions, 1u);
  EXPECT_EQ(server_->stats().responses_5xx, 1u);
  bool logged = false;
  for (const auto& l : lines) {
    logged |= l.find("http handler failed") != std::string::npos &&
              l.find("handler exploded") != std::string::npos;
  }
  EXPECT_TRUE(logged);
}

TEST_F(HttpServerTest, StreamArrivesIncrementallyAndEndsCleanly) {
  start_server();
  test::run(io_, [](tcp::endpoint ep, StreamState* st) -> asio::awaitable<void> {
    tcp::socket s(co_await asio::this_coro::executor);
    co_await s.async_connect(ep, asio::use_awaitable);
    const std::string req = "GET /events?count=5 HTTP/1.1\r\nHost: x\r\n\r\n";
    co_await asio::async_write(s, asio::buffer(req), asio::use_awaitable);
    std::string got;
    {
      const bool found = co_await read_until_contains(&s, &got, "data: 0\n\n");
      EXPECT_TRUE(found);
    }
    EXPECT_NE(got.find("Content-Type: text/event-stream\r\n"), std::string::npos) << got;
    EXPECT_NE(got.find("Transfer-Encoding: chunked\r\n"), std::string::npos) << got;
    // The first event is here while the handler is still producing the rest.
    EXPECT_LT(st->sent, 5);
    EXPECT_EQ(st->ended, 0);
    got += co_await read_until_eof(&s, 5s);
    EXPECT_TRUE(got.ends_with("0\r\n\r\n")) << got;  // last chunk, then close
    EXPECT_NE(got.find("event: tick\ndata: 4\n\n"), std::string::npos) << got;
  }(ep_, &stream_));
  EXPECT_EQ(stream_.sent, 5);
  EXPECT_EQ(stream_.ended, 1);
  // A stream handler may answer with a plain response, or fail before starting.
  const std::string refused =
      test::run(io_, raw_exchange(ep_, "GET /events?count=-1 HTTP/1.1\r\n\r\n"));
  EXPECT_TRUE(refused.starts_with("HTTP/1.1 400 ")) << refused;
  EXPECT_NE(refused.find("negative count"), std::string::npos) << refused;
  const std::string failed =
      test::run(io_, raw_exchange(ep_, "GET /events?count=x HTTP/1.1\r\n\r\n"));
  EXPECT_TRUE(failed.starts_with("HTTP/1.1 500 ")) << failed;
  EXPECT_EQ(server_->stats().handler_exceptions, 1u);
  // HEAD does not run a stream route.
  const std::string head = test::run(io_, raw_exchange(ep_, "HEAD /events HTTP/1.1\r\n\r\n"));
  EXPECT_TRUE(head.starts_with("HTTP/1.1 405 ")) << head;
}

TEST_F(HttpServerTest, StreamHandlerIsCancelledWhenClientGoesAway) {
  start_server();
  test::run(io_, [](tcp::endpoint ep, StreamState* st) -> asio::awaitable<void> {
    {
      tcp::socket s(co_await asio::this_coro::executor);
      co_await s.async_connect(ep, asio::use_awaitable);
      const std::string req = "GET /events HTTP/1.1\r\nHost: x\r\n\r\n";
      co_await asio::async_write(s, asio::buffer(req), asio::use_awaitable);
      std::string got;
      {
        const bool found = co_await read_until_contains(&s, &got, "data: 1\n\n");
        EXPECT_TRUE(found);
      }
    }  // closes the socket
    for (int i = 0; i < 100 && st->ended == 0; ++i) {
      co_await sleep_ms(10);
    }
  }(ep_, &stream_));
  EXPECT_EQ(stream_.started, 1);
  EXPECT_EQ(stream_.ended, 1);
  EXPECT_EQ(server_->stats().active_connections, 0u);
}

TEST_F(HttpServerTest, StopEndsStreamsIdleAndBusyConnectionsPromptly) {
  start_server();  // read timeout 30 s: only stop() can end these connections in time
  tcp::socket stream_sock(io_);
  tcp::socket idle_sock(io_);
  tcp::socket slow_sock(io_);
  test::run(io_,
            [](tcp::endpoint ep, tcp::socket* a, tcp::socket* b,
               tcp::socket* c) -> asio::awaitable<void> {
              co_await a->async_connect(ep, asio::use_awaitable);
              co_await b->async_connect(ep, asio::use_awaitable);
              co_await c->async_connect(ep, asio::use_awaitable);
              std::string got;
              const std::string events = "GET /events HTTP/1.1\r\nHost: x\r\n\r\n";
              co_await asio::async_write(*a, asio::buffer(events), asio::use_awaitable);
              {
                const bool found = co_await read_until_contains(a, &got, "data: 0\n\n");
                EXPECT_TRUE(found);
              }
              const std::string status = "GET /status HTTP/1.1\r\nHost: x\r\n\r\n";
              co_await asio::async_write(*b, asio::buffer(status), asio::use_awaitable);
              got.clear();
              {
                const bool found = co_await read_until_contains(b, &got, "\"ready\"");
                EXPECT_TRUE(found);
              }
              const std::string slow = "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n";
              co_await asio::async_write(*c, asio::buffer(slow), asio::use_awaitable);
              co_await sleep_ms(50);
            }(ep_, &stream_sock, &idle_sock, &slow_sock));
  EXPECT_EQ(server_->stats().active_connections, 3u);
  const auto t0 = std::chrono::steady_clock::now();
  test::run(io_, server_->stop(), 5s);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 1s);
  EXPECT_EQ(server_->stats().active_connections, 0u);
  EXPECT_EQ(stream_.ended, 1);
  EXPECT_FALSE(std::filesystem::exists(sock_path_));
  for (tcp::socket* s : {&stream_sock, &idle_sock, &slow_sock}) {
    const std::string rest = test::run(io_, read_until_eof(s, 2s));
    EXPECT_EQ(rest.find("late"), std::string::npos);
  }
  server_.reset();
}

TEST_F(HttpServerTest, ReadTimeoutGives408ForPartialRequestsAndClosesIdleOnes) {
  HttpLimits limits;
  limits.read_timeout = 200ms;
  start_server(limits);
  const auto t0 = std::chrono::steady_clock::now();
  const std::string partial = test::run(io_, raw_exchange(ep_, "GET /status HTTP/1.1\r\nHo"));
  EXPECT_TRUE(partial.starts_with("HTTP/1.1 408 ")) << partial;
  const std::string idle = test::run(io_, raw_exchange(ep_, ""));
  EXPECT_EQ(idle, "");
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s);
  EXPECT_EQ(server_->stats().timeouts, 1u);
}

TEST_F(HttpServerTest, UnixSocketFileModeStaleAndLiveFiles) {
  start_server();
  struct stat st {};
  ASSERT_EQ(::stat(sock_path_.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  // Live socket: refused.
  HttpServer other(io_.get_executor());
  auto live = other.listen_unix(sock_path_, 0600);
  ASSERT_FALSE(live);
  EXPECT_EQ(live.error().code, make_error_code(Errc::kAlreadyExists));
  // A regular file: refused and left alone.
  const std::string plain = (dir_ / "plain").string();
  std::ofstream(plain) << "keep me";
  EXPECT_FALSE(other.listen_unix(plain, 0600));
  EXPECT_TRUE(std::filesystem::exists(plain));
  // A stale socket file (its listener is gone) is replaced.
  const std::string stale = (dir_ / "stale.sock").string();
  { asio::local::stream_protocol::acceptor a(io_, asio::local::stream_protocol::endpoint(stale)); }
  ASSERT_TRUE(std::filesystem::exists(stale));
  auto replaced = other.listen_unix(stale, 0660);
  ASSERT_TRUE(replaced) << replaced.error().to_string();
  ASSERT_EQ(::stat(stale.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0660u);
  other.start();
  HttpClient client(io_.get_executor());
  auto r = test::run(io_, client.request(stale, Method::kGet, "/anything"));
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->status, 404);
  test::run(io_, other.stop());
  EXPECT_FALSE(std::filesystem::exists(stale));
}

TEST_F(HttpServerTest, ConnectionsOverTheLimitGet503) {
  HttpLimits limits;
  limits.max_connections = 1;
  start_server(limits);
  tcp::socket first(io_);
  test::run(io_, [](tcp::endpoint ep, tcp::socket* s) -> asio::awaitable<void> {
    co_await s->async_connect(ep, asio::use_awaitable);
    const std::string status = "GET /status HTTP/1.1\r\nHost: x\r\n\r\n";
    co_await asio::async_write(*s, asio::buffer(status), asio::use_awaitable);
    std::string got;
    {
      const bool found = co_await read_until_contains(s, &got, "\"ready\"");
      EXPECT_TRUE(found);
    }
  }(ep_, &first));
  const std::string second = test::run(io_, raw_exchange(ep_, ""));
  EXPECT_TRUE(second.starts_with("HTTP/1.1 503 ")) << second;
  EXPECT_EQ(server_->stats().connections_rejected, 1u);
  first.close();
  HttpClient client(io_.get_executor());
  bool served = false;
  for (int i = 0; i < 50 && !served; ++i) {
    served = static_cast<bool>(test::run(io_, client.get_json(tcp_target_, "/status")));
    if (!served) {
      test::run(io_, sleep_ms(20));
    }
  }
  EXPECT_TRUE(served);
}

TEST_F(HttpServerTest, ListensOnIpv6Loopback) {
  start_server();
  auto ep = server_->listen_tcp(tcp::endpoint(asio::ip::make_address("::1"), 0));
  if (!ep) {
    GTEST_SKIP() << "no IPv6 loopback: " << ep.error().to_string();
  }
  HttpClient client(io_.get_executor());
  auto r = test::run(io_, client.get_json(fmt::format("[::1]:{}", ep->port()), "/status"));
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ((*r)["ready"], true);
}

TEST_F(HttpServerTest, ClientEnforcesResponseLimit) {
  start_server();
  HttpClientOptions options;
  options.max_response_bytes = 10 * 1024;
  HttpClient client(io_.get_executor(), options);
  auto r = test::run(io_, client.request(tcp_target_, Method::kGet, "/big"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, make_error_code(Errc::kTooLarge));
  HttpClient roomy(io_.get_executor());
  auto ok = test::run(io_, roomy.request(tcp_target_, Method::kGet, "/big"));
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->body.size(), 100u * 1024);
}

TEST(HttpClient, MissingUnixSocketIsUnavailableWithClearMessage) {
  asio::io_context io;
  HttpClient client(io.get_executor());
  const std::string path = fmt::format("/tmp/weft-http-missing-{}/weft.sock", ::getpid());
  auto r = test::run(io, client.get_json(path, "/status"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, make_error_code(Errc::kUnavailable));
  EXPECT_EQ(r.error().message, "cannot connect to " + path + ": No such file or directory");
  auto blocking = http_call(path, Method::kGet, "/status");
  ASSERT_FALSE(blocking);
  EXPECT_EQ(blocking.error().code, make_error_code(Errc::kUnavailable));
}

TEST(HttpClient, RefusedTcpAndBadArguments) {
  asio::io_context io;
  tcp::endpoint closed;
  {
    tcp::acceptor a(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    closed = a.local_endpoint();
  }
  HttpClient client(io.get_executor());
  auto r = test::run(
      io, client.request(fmt::format("127.0.0.1:{}", closed.port()), Method::kGet, "/status"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, make_error_code(Errc::kUnavailable));
  EXPECT_NE(r.error().message.find("Connection refused"), std::string::npos);
  EXPECT_EQ(test::run(io, client.request("nonsense", Method::kGet, "/")).error().code,
            make_error_code(Errc::kInvalidArgument));
  EXPECT_EQ(test::run(io, client.request("127.0.0.1:1", Method::kGet, "status")).error().code,
            make_error_code(Errc::kInvalidArgument));
  EXPECT_EQ(test::run(io, client.request("127.0.0.1:1", Method::kGet, "/a b")).error().code,
            make_error_code(Errc::kInvalidArgument));
}

TEST(HttpClient, TimesOutAgainstServerThatNeverAnswers) {
  asio::io_context io;
  // Listening but never accepting: connect succeeds through the backlog, no reply comes.
  tcp::acceptor silent(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  HttpClientOptions options;
  options.timeout = 200ms;
  HttpClient client(io.get_executor(), options);
  const auto t0 = std::chrono::steady_clock::now();
  auto r = test::run(
      io, client.get_json(fmt::format("127.0.0.1:{}", silent.local_endpoint().port()), "/status"));
  const auto elapsed = std::chrono::steady_clock::now() - t0;
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, make_error_code(Errc::kTimeout));
  EXPECT_GE(elapsed, 200ms);
  EXPECT_LT(elapsed, 2s);
}

TEST(HttpClient, BlockingCallAgainstServerOnAnotherThread) {
  asio::io_context server_io;
  HttpServer server(server_io.get_executor());
  server.route(Method::kPost, "/echo", [](Request req) -> asio::awaitable<Response> {
    co_return Response::text(201,
                             req.body + "|" + std::string(req.header("content-type").value_or("")));
  });
  auto ep = server.listen_tcp(tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  ASSERT_TRUE(ep);
  server.start();
  std::thread thread([&] { server_io.run(); });
  auto r = http_call(fmt::format("127.0.0.1:{}", ep->port()), Method::kPost, "/echo", "{}", 5s);
  asio::post(server_io, [&] { asio::co_spawn(server_io, server.stop(), asio::detached); });
  thread.join();
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->status, 201);
  EXPECT_EQ(r->body, "{}|application/json");
}

}  // namespace
}  // namespace weft

// The status page handlers on a real HttpServer over TCP loopback: the page and its assets
// with their types, and /events streaming the report (first at once, again on a change)
// until the client leaves or the server stops.
#include "web-ui/routes.hpp"

#include <array>
#include <chrono>
#include <exception>
#include <memory>
#include <string>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <gtest/gtest.h>

#include "common/http_client.hpp"
#include "tests/support/coro.hpp"
#include <fmt/format.h>

namespace weft::web_ui {
namespace {

namespace asio = boost::asio;
using nlohmann::json;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

// Reads into `acc` until it holds `count` occurrences of `needle` followed by a blank line
// (a whole event), the peer closes, or `limit` passes. False unless they arrived.
asio::awaitable<bool> read_events(tcp::socket* s, std::string* acc, std::string needle, int count,
                                  std::chrono::milliseconds limit) {
  asio::steady_timer timer(s->get_executor(), limit);
  timer.async_wait([s](boost::system::error_code ec) {
    if (!ec) {
      s->cancel();
    }
  });
  auto whole = [&] {
    std::size_t at = 0;
    for (int i = 0; i < count; ++i) {
      at = acc->find(needle, at);
      if (at == std::string::npos) {
        return false;
      }
      at = acc->find("\n\n", at);
      if (at == std::string::npos) {
        return false;
      }
    }
    return true;
  };
  std::array<char, 4096> buf{};
  while (!whole()) {
    auto [ec, n] =
        co_await s->async_read_some(asio::buffer(buf), asio::as_tuple(asio::use_awaitable));
    acc->append(buf.data(), n);
    if (ec) {
      break;
    }
  }
  timer.cancel();
  co_return whole();
}

// Reads into `acc` until the peer closes or `limit` passes; returns how the reading ended
// (eof: closed by the server; operation_aborted: still open at the limit).
asio::awaitable<boost::system::error_code> read_to_end(tcp::socket* s, std::string* acc,
                                                       std::chrono::milliseconds limit) {
  asio::steady_timer timer(s->get_executor(), limit);
  timer.async_wait([s](boost::system::error_code ec) {
    if (!ec) {
      s->cancel();
    }
  });
  std::array<char, 4096> buf{};
  while (true) {
    auto [ec, n] =
        co_await s->async_read_some(asio::buffer(buf), asio::as_tuple(asio::use_awaitable));
    acc->append(buf.data(), n);
    if (ec) {
      timer.cancel();
      co_return ec;
    }
  }
}

// The JSON of the n-th (0-based) "report" event in `stream`.
json nth_report(const std::string& stream, int n) {
  const std::string prefix = "event: report\ndata: ";
  std::size_t at = 0;
  for (int i = 0; i <= n; ++i) {
    at = stream.find(prefix, at);
    if (at == std::string::npos) {
      return nullptr;
    }
    at += prefix.size();
  }
  return json::parse(stream.substr(at, stream.find("\n\n", at) - at));
}

class WebRoutesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<HttpServer>(io_.get_executor());
    // Bound as weftd binds them (weftd/http_api.cpp, the paths of api/paths.hpp).
    server_->route(Method::kGet, "/", page_handler());
    server_->route(Method::kGet, "/ui/{file}", asset_handler());
    server_->stream_route(
        Method::kGet, "/events",
        events_handler([this] { return report_; },
                       EventOptions{.check_interval = 20ms, .keepalive_interval = 200ms}));
    auto ep = server_->listen_tcp(tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    ASSERT_TRUE(ep) << ep.error().to_string();
    ep_ = *ep;
    server_->start();
  }
  void TearDown() override {
    if (server_) {
      test::run(io_, server_->stop(), 10s);
    }
  }

  Response get(const std::string& path, Method method = Method::kGet) {
    HttpClient client(io_.get_executor());
    auto r = test::run(io_, client.request(fmt::format("127.0.0.1:{}", ep_.port()), method, path));
    EXPECT_TRUE(r) << path << ": " << r.error().to_string();
    return r ? *r : Response{};
  }

  asio::io_context io_;
  std::unique_ptr<HttpServer> server_;
  tcp::endpoint ep_;
  bool stopped_ = false;
  json report_ = {{"version", "0.1.0"}, {"uptime_seconds", 5}, {"router", {{"name", "a"}}}};
};

TEST_F(WebRoutesTest, ServesThePageAndItsAssetsWithTheirTypesUncached) {
  struct Want {
    std::string path, type, contains;
  };
  for (const Want& w : {Want{"/", "text/html; charset=utf-8", "<svg id=\"mesh\""},
                        Want{"/ui/app.js", "text/javascript; charset=utf-8", "EventSource"},
                        Want{"/ui/graph.js", "text/javascript; charset=utf-8", "data-state"},
                        Want{"/ui/style.css", "text/css; charset=utf-8", ".edge"},
                        Want{"/ui/favicon.svg", "image/svg+xml", "<svg"}}) {
    const Response r = get(w.path);
    EXPECT_EQ(r.status, 200) << w.path;
    EXPECT_EQ(r.content_type, w.type) << w.path;
    EXPECT_EQ(r.header("cache-control"), "no-cache") << w.path;
    EXPECT_NE(r.body.find(w.contains), std::string::npos) << w.path;
  }
  EXPECT_EQ(get("/ui/nope.js").status, 404);
  EXPECT_EQ(get("/ui/%2e%2e").status, 400);        // a dot segment
  EXPECT_EQ(get("/ui/%2e%2e%2fetc").status, 400);  // a parameter holding a '/'
  EXPECT_EQ(get("/", Method::kPost).status, 405);
}

TEST_F(WebRoutesTest, EventsStreamTheReportThenEachChangeAndEndWhenTheServerStops) {
  const std::string stream = test::run(
      io_,
      [this]() -> asio::awaitable<std::string> {
        tcp::socket s(co_await asio::this_coro::executor);
        co_await s.async_connect(ep_, asio::use_awaitable);
        const std::string req = "GET /events HTTP/1.1\r\nHost: x\r\n\r\n";
        co_await asio::async_write(s, asio::buffer(req), asio::use_awaitable);
        std::string acc;
        const bool first = co_await read_events(&s, &acc, "event: report", 1, 5s);
        EXPECT_TRUE(first) << acc;
        report_["router"]["name"] = "b";
        report_["uptime_seconds"] = 6;
        const bool second = co_await read_events(&s, &acc, "event: report", 2, 5s);
        EXPECT_TRUE(second) << acc;
        // Daemon shutdown: the stream is cancelled and the connection closed.
        asio::co_spawn(s.get_executor(), server_->stop(),
                       [this](std::exception_ptr) { stopped_ = true; });
        const auto ended = co_await read_to_end(&s, &acc, 5s);
        EXPECT_EQ(ended, asio::error::eof) << ended.message();  // closed, not timed out
        asio::steady_timer t(s.get_executor());
        for (int i = 0; i < 250 && !stopped_; ++i) {
          t.expires_after(20ms);
          co_await t.async_wait(asio::use_awaitable);
        }
        EXPECT_TRUE(stopped_);
        co_return acc;
      }(),
      20s);
  if (stopped_) {
    server_.reset();  // stopped above; TearDown must not stop it again
  }
  EXPECT_TRUE(stream.starts_with("HTTP/1.1 200 OK\r\n")) << stream;
  EXPECT_NE(stream.find("Content-Type: text/event-stream\r\n"), std::string::npos) << stream;
  EXPECT_NE(stream.find("Cache-Control: no-cache\r\n"), std::string::npos) << stream;
  EXPECT_EQ(nth_report(stream, 0)["router"]["name"], "a") << stream;
  EXPECT_EQ(nth_report(stream, 1)["router"]["name"], "b") << stream;
  EXPECT_EQ(nth_report(stream, 1)["uptime_seconds"], 6) << stream;
}

TEST_F(WebRoutesTest, AClientThatLeavesEndsItsStream) {
  test::run(
      io_,
      [this]() -> asio::awaitable<void> {
        {
          tcp::socket s(co_await asio::this_coro::executor);
          co_await s.async_connect(ep_, asio::use_awaitable);
          const std::string req = "GET /events HTTP/1.1\r\nHost: x\r\n\r\n";
          co_await asio::async_write(s, asio::buffer(req), asio::use_awaitable);
          std::string acc;
          const bool first = co_await read_events(&s, &acc, "event: report", 1, 5s);
          EXPECT_TRUE(first) << acc;
          EXPECT_EQ(server_->stats().active_connections, 1u);
        }  // closed
        asio::steady_timer t(co_await asio::this_coro::executor);
        for (int i = 0; i < 100 && server_->stats().active_connections != 0; ++i) {
          t.expires_after(20ms);
          co_await t.async_wait(asio::use_awaitable);
        }
      }(),
      10s);
  EXPECT_EQ(server_->stats().active_connections, 0u);
  EXPECT_EQ(server_->stats().streams, 1u);
}

}  // namespace
}  // namespace weft::web_ui

// The /events handler against a fake stream sink: the first report at once, another on a
// change, nothing but keepalives while only the uptime ticks, and a prompt return when the
// client is gone.
#include "web-ui/report_events.hpp"

#include <chrono>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include "tests/support/coro.hpp"

namespace weft::web_ui {
namespace {

namespace asio = boost::asio;
using nlohmann::json;
using namespace std::chrono_literals;

// Records what a stream handler sends. Writes fail (client gone) once `max_writes` have
// been accepted; `on_write` runs after each accepted write.
class FakeSink : public StreamSink {
 public:
  asio::awaitable<Result<void>> start(int status, std::string content_type,
                                      Headers headers) override {
    if (fail_start) {
      co_return make_error(Errc::kUnavailable, "client gone");
    }
    started_ = true;
    this->status = status;
    this->content_type = std::move(content_type);
    this->headers = std::move(headers);
    co_return Result<void>{};
  }
  asio::awaitable<Result<void>> write(std::string data) override {
    if (writes.size() >= max_writes) {
      co_return make_error(Errc::kUnavailable, "client gone");
    }
    writes.push_back(std::move(data));
    if (on_write) {
      on_write(writes.size());
    }
    co_return Result<void>{};
  }
  asio::awaitable<Result<void>> respond(Response) override {
    co_return make_error(Errc::kInvalidArgument, "not expected");
  }
  bool started() const override { return started_; }

  bool fail_start = false;
  std::size_t max_writes = 100;
  std::function<void(std::size_t)> on_write;
  int status = 0;
  std::string content_type;
  Headers headers;
  std::vector<std::string> writes;

 private:
  bool started_ = false;
};

// The JSON of a "report" event, or null if `chunk` is not one.
json report_of(const std::string& chunk) {
  const std::string prefix = "event: report\ndata: ";
  if (!chunk.starts_with(prefix) || !chunk.ends_with("\n\n")) {
    return nullptr;
  }
  return json::parse(chunk.substr(prefix.size(), chunk.size() - prefix.size() - 2));
}

json sample_report(int peers) {
  json list = json::array();
  for (int i = 0; i < peers; ++i) {
    list.push_back({{"name", "00:00:00:00:00:0" + std::to_string(i)}, {"nickname", "h"}});
  }
  return {{"version", "0.1.0"}, {"uptime_seconds", 1}, {"router", {{"peers", list}}}};
}

TEST(ReportEventsTest, FirstReportAtOnceThenAnotherWhenItChanges) {
  asio::io_context io;
  FakeSink sink;
  json state = sample_report(1);
  sink.max_writes = 3;  // retry hint, first report, second report; then the client leaves
  sink.on_write = [&](std::size_t n) {
    if (n == 2) {
      state = sample_report(2);
    }
  };
  const auto t0 = std::chrono::steady_clock::now();
  test::run(io,
            stream_report_events(
                ResponseStream(&sink), [&] { return state; },
                EventOptions{.check_interval = 10ms, .keepalive_interval = 20ms}),
            10s);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
  EXPECT_EQ(sink.status, 200);
  EXPECT_EQ(sink.content_type, "text/event-stream");
  ASSERT_EQ(sink.writes.size(), 3u);
  EXPECT_EQ(sink.writes[0], "retry: 2000\n\n");
  EXPECT_EQ(report_of(sink.writes[1]), sample_report(1)) << sink.writes[1];
  EXPECT_EQ(report_of(sink.writes[2]), sample_report(2)) << sink.writes[2];
}

TEST(ReportEventsTest, OnlyKeepalivesWhileJustTheUptimeTicks) {
  asio::io_context io;
  FakeSink sink;
  sink.max_writes = 4;
  int calls = 0;
  auto source = [&] {
    json r = sample_report(3);
    r["uptime_seconds"] = ++calls;
    return r;
  };
  test::run(io,
            stream_report_events(ResponseStream(&sink), source,
                                 EventOptions{.check_interval = 5ms, .keepalive_interval = 25ms}),
            10s);
  ASSERT_EQ(sink.writes.size(), 4u);
  EXPECT_EQ(report_of(sink.writes[1])["uptime_seconds"], 1);
  EXPECT_EQ(sink.writes[2], ": keepalive\n\n");
  EXPECT_EQ(sink.writes[3], ": keepalive\n\n");
  EXPECT_GE(calls, 10);  // checked every 5 ms, a keepalive every 25 ms
  EXPECT_EQ(report_fingerprint(source()), report_fingerprint(sample_report(3)));
  EXPECT_NE(report_fingerprint(sample_report(2)), report_fingerprint(sample_report(3)));
}

TEST(ReportEventsTest, ReturnsAtOnceWhenTheClientIsGone) {
  asio::io_context io;
  int calls = 0;
  auto source = [&] {
    ++calls;
    return sample_report(1);
  };
  FakeSink refused;
  refused.fail_start = true;
  test::run(io, stream_report_events(ResponseStream(&refused), source, EventOptions{}), 5s);
  EXPECT_TRUE(refused.writes.empty());
  FakeSink gone;
  gone.max_writes = 1;  // takes the retry hint, then the client is gone
  test::run(io, stream_report_events(ResponseStream(&gone), source, EventOptions{}), 5s);
  EXPECT_EQ(gone.writes.size(), 1u);
  EXPECT_EQ(calls, 1);
}

TEST(ReportEventsTest, InvalidUtf8InTheReportIsReplacedNotFatal) {
  asio::io_context io;
  FakeSink sink;
  sink.max_writes = 2;
  json r = sample_report(1);
  r["router"]["nickname"] = std::string("bad\xff");
  test::run(io,
            stream_report_events(
                ResponseStream(&sink), [&] { return r; },
                EventOptions{.check_interval = 5ms, .keepalive_interval = 10ms}),
            5s);
  ASSERT_EQ(sink.writes.size(), 2u);
  EXPECT_NE(report_of(sink.writes[1])["router"]["nickname"].get<std::string>().find("bad"),
            std::string::npos);
}

}  // namespace
}  // namespace weft::web_ui

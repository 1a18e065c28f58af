#include "web-ui/report_events.hpp"

#include <utility>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace weft::web_ui {
namespace {

namespace asio = boost::asio;
using nlohmann::json;

// Invalid UTF-8 in a peer's nickname must not end the stream: replace it.
std::string dump(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace

std::string report_fingerprint(const json& report) {
  if (!report.is_object() || !report.contains("uptime_seconds")) {
    return dump(report);
  }
  json copy = report;
  copy.erase("uptime_seconds");
  return dump(copy);
}

asio::awaitable<void> stream_report_events(ResponseStream out, ReportSource report,
                                           EventOptions options) {
  auto started = co_await out.start_events();
  if (!started) {
    co_return;
  }
  auto hint = co_await out.write("retry: 2000\n\n");
  if (!hint) {
    co_return;
  }
  asio::steady_timer timer(co_await asio::this_coro::executor);
  std::string last;
  std::chrono::milliseconds quiet{0};  // time since the last write
  while (true) {
    const json current = report();
    std::string fingerprint = report_fingerprint(current);
    Result<void> sent;
    if (fingerprint != last) {
      last = std::move(fingerprint);
      sent = co_await out.send_event("report", dump(current));
      quiet = {};
    } else if (quiet >= options.keepalive_interval) {
      sent = co_await out.write(": keepalive\n\n");
      quiet = {};
    }
    if (!sent) {
      co_return;  // the client went away
    }
    timer.expires_after(options.check_interval);
    co_await timer.async_wait(asio::use_awaitable);
    quiet += options.check_interval;
  }
}

}  // namespace weft::web_ui

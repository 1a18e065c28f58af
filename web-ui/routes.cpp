#include "web-ui/routes.hpp"

#include <utility>

#include "web-ui/assets.hpp"

namespace weft::web_ui {

namespace asio = boost::asio;

Handler page_handler() {
  return [](Request) -> asio::awaitable<Response> {
    co_return asset_response("index.html");
  };
}

Handler asset_handler() {
  return [](Request req) -> asio::awaitable<Response> {
    co_return asset_response(req.param("file"));
  };
}

StreamHandler events_handler(ReportSource report, EventOptions options) {
  return
      [report = std::move(report), options](Request, ResponseStream out) -> asio::awaitable<void> {
        co_await stream_report_events(out, report, options);
      };
}

}  // namespace weft::web_ui

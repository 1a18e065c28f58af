#include "web-ui/routes.hpp"

#include <utility>

#include "web-ui/assets.hpp"

namespace weft::web_ui {

namespace asio = boost::asio;

void add_web_routes(HttpServer& server, ReportSource report, EventOptions options) {
  server.route(Method::kGet, "/", [](Request) -> asio::awaitable<Response> {
    co_return asset_response("index.html");
  });
  server.route(Method::kGet, "/ui/{file}", [](Request req) -> asio::awaitable<Response> {
    co_return asset_response(req.param("file"));
  });
  server.stream_route(
      Method::kGet, "/events",
      [report = std::move(report), options](Request, ResponseStream out) -> asio::awaitable<void> {
        co_await stream_report_events(out, report, options);
      });
}

}  // namespace weft::web_ui

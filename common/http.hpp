// HTTP types shared by the server (weftd's API, status page, metrics) and the clients (the
// `weft` CLI, the CNI plugin, ...). Plain values, no Beast: only http_server.cpp,
// http_client.cpp and http_parse.cpp include Beast.
//
// Contract: a Request reaching a handler has been fully parsed and validated (method known,
// target decoded by parse_target, body within the limit); everything in it is still
// untrusted data. Responses are built by handlers and serialised by the server.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "common/result.hpp"

namespace weft {

enum class Method { kGet, kHead, kPost, kPut, kDelete, kPatch, kOptions };

std::string_view to_string(Method method);
// Exact, case-sensitive method token ("GET"); nullopt for anything else.
std::optional<Method> parse_method(std::string_view token);

// Header fields in the order received or to be sent. Names compare case-insensitively.
using Headers = std::vector<std::pair<std::string, std::string>>;
// The value of the first field called `name`, or nullopt.
std::optional<std::string_view> find_header(const Headers& headers, std::string_view name);

// Values bound by a route pattern ({id} -> "abc") and query parameters, both percent-decoded
// once by the server (parse_target) before any handler sees them; a bound value never holds
// a '/' (validate_route_params). A repeated query key keeps its last value.
using RouteParams = std::map<std::string, std::string, std::less<>>;
using QueryParams = std::map<std::string, std::string, std::less<>>;

// Size and time limits of the server (and of parse_request_bytes).
struct HttpLimits {
  std::size_t max_header_bytes = 8 * 1024;   // request line + fields; over it -> 431
  std::size_t max_body_bytes = 1024 * 1024;  // over it -> 413
  // Time allowed for a whole request to arrive, and for an idle keep-alive connection to
  // send its next one. A partial request gets 408; an idle connection is closed.
  std::chrono::milliseconds read_timeout{30'000};
  // Time allowed for writing one response (or one chunk of a stream) to a slow client.
  std::chrono::milliseconds write_timeout{30'000};
  // Connections over this get a 503 and are closed at once.
  std::size_t max_connections = 128;
};

struct Request {
  Method method = Method::kGet;
  std::string target;                 // as received: "/ip/abc?family=ipv4"
  std::string path;                   // raw path, still percent-encoded: "/ip/abc"
  std::vector<std::string> segments;  // decoded path segments: {"ip", "abc"}
  QueryParams query;                  // decoded query parameters
  RouteParams params;                 // bound by the matched route pattern
  Headers headers;
  std::string body;
  bool keep_alive = true;

  std::optional<std::string_view> header(std::string_view name) const {
    return find_header(headers, name);
  }
  // The route parameter `name`; empty if the pattern has no such parameter.
  std::string_view param(std::string_view name) const;
  std::optional<std::string_view> query_value(std::string_view name) const;
};

struct Response {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  Headers headers;  // extra fields; Content-Type/Content-Length are set by the server
  std::string body;

  // Serialises `value` (invalid UTF-8 in strings is replaced, never thrown).
  static Response json(int status, const nlohmann::json& value);
  static Response text(int status, std::string body);
  // {"error": "<message>"} with the given status.
  static Response error(int status, std::string_view message);

  std::optional<std::string_view> header(std::string_view name) const {
    return find_header(headers, name);
  }
  bool ok() const { return status >= 200 && status < 300; }
};

// One server-sent event ("event: <event>\ndata: <line>\n...\n\n"); `event` may be empty.
// Newlines in `data` become several data lines; CR and LF are removed from `event`.
std::string format_sse_event(std::string_view event, std::string_view data);

// The weft error code that best describes an HTTP status (404 -> kNotFound, 409 ->
// kConflict, 400/422 -> kInvalidArgument, 413 -> kTooLarge, 503 -> kUnavailable, ...).
Errc errc_for_status(int status);

}  // namespace weft

// Pure parsing helpers over untrusted HTTP bytes (fuzzed by tests/fuzz/http_fuzz.cpp).
//
// Contract: no function here throws, allocates without bound or keeps state; every
// failure is a Result error with Errc::kMalformed, kTooLarge or kUnsupported and a message
// that can be shown to the client.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "common/http.hpp"
#include "common/result.hpp"

namespace weft {

struct ParsedTarget {
  std::string path;                   // raw path: "/ip/a%2Fb"
  std::vector<std::string> segments;  // decoded: {"ip", "a/b"}; "/" has none
  QueryParams query;                  // decoded; '+' is a space in the query only
};

// Parses a request target: origin form "/a/b?x=1" or absolute form
// "http://host:port/a/b?x=1". Rejects: other forms, fragments, control bytes, bad or
// truncated %-escapes, escapes that decode to NUL, and "." or ".." segments (decoded).
Result<ParsedTarget> parse_target(std::string_view target);

// Decodes %XX escapes (and '+' as space when `plus_is_space`).
Result<std::string> percent_decode(std::string_view text, bool plus_is_space);
// Encodes everything except unreserved characters (RFC 3986: ALPHA DIGIT - . _ ~).
std::string percent_encode(std::string_view text);

// A compiled route pattern: "/ip/{id}/{addr}". Literal segments match exactly (after
// decoding); {name} matches any one non-empty segment.
struct RoutePattern {
  struct Segment {
    bool is_param = false;
    std::string text;  // literal text or parameter name
  };
  std::string text;
  std::vector<Segment> segments;
};

// Rejects patterns not starting with '/', empty or duplicate parameter names, and braces
// anywhere but around a whole segment.
Result<RoutePattern> parse_route_pattern(std::string_view pattern);
std::optional<RouteParams> match_route(const RoutePattern& pattern,
                                       const std::vector<std::string>& segments);
// Values bound to route parameters are decoded segments; one that decoded to something
// containing '/' (sent as %2F) would name two segments to anything that joins or splits it
// again (an id in a path, a file name), so the server answers 400 (kMalformed, message
// naming the parameter) instead of calling the handler. NUL never gets this far
// (percent_decode refuses it).
Result<void> validate_route_params(const RouteParams& params);
// Convenience: parses both `pattern` and `path` (a target; its query is ignored); nullopt
// if either is invalid or they do not match.
std::optional<RouteParams> match_route(std::string_view pattern, std::string_view path);

inline constexpr std::size_t kMaxJsonDepth = 64;

// Parses a JSON document (the whole body; trailing bytes are an error). Rejects bodies
// over `max_bytes` (kTooLarge), nesting deeper than `max_depth`, invalid UTF-8.
Result<nlohmann::json> parse_json_body(std::string_view body, std::size_t max_depth = kMaxJsonDepth,
                                       std::size_t max_bytes = 1024 * 1024);

// Builds a validated Request from the pieces of a parsed message (method token, target,
// fields, body). Unknown methods give kUnsupported; bad targets kMalformed.
Result<Request> build_request(std::string_view method, std::string_view target, Headers headers,
                              std::string body, bool keep_alive);

// Runs Beast's request parser with `limits` over one complete request in `bytes` (used by
// the fuzz target and tests; the server parses from the socket with the same limits).
// Oversized header or body -> kTooLarge; incomplete or bad syntax -> kMalformed.
Result<Request> parse_request_bytes(std::span<const std::uint8_t> bytes, const HttpLimits& limits);

}  // namespace weft

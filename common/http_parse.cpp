#include "common/http_parse.hpp"

#include <cctype>
#include <exception>

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <nlohmann/json.hpp>

#include "common/hex.hpp"

namespace weft {
namespace {

namespace http = boost::beast::http;
using nlohmann::json;

bool starts_with_nocase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) {
    return false;
  }
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    const char c = s[i] >= 'A' && s[i] <= 'Z' ? static_cast<char>(s[i] - 'A' + 'a') : s[i];
    if (c != prefix[i]) {
      return false;
    }
  }
  return true;
}

// Strips "http://authority" from an absolute-form target; returns the origin-form rest.
Result<std::string_view> origin_form(std::string_view target) {
  for (std::string_view scheme : {"http://", "https://"}) {
    if (starts_with_nocase(target, scheme)) {
      auto rest = target.substr(scheme.size());
      const auto end = rest.find_first_of("/?");
      if (end == 0 || rest.empty()) {
        return make_error(Errc::kMalformed, "request target has an empty authority");
      }
      return end == std::string_view::npos ? std::string_view("/") : rest.substr(end);
    }
  }
  if (target.empty() || target.front() != '/') {
    return make_error(Errc::kMalformed, "request target must start with '/'");
  }
  return target;
}

Result<void> parse_query(std::string_view query, QueryParams& out) {
  while (!query.empty()) {
    const auto amp = query.find('&');
    const auto pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.empty()) {
      continue;
    }
    const auto eq = pair.find('=');
    auto key = percent_decode(pair.substr(0, eq), true);
    if (!key) {
      return key.error();
    }
    auto value = percent_decode(eq == std::string_view::npos ? "" : pair.substr(eq + 1), true);
    if (!value) {
      return value.error();
    }
    if (!key->empty()) {
      out.insert_or_assign(std::move(*key), std::move(*value));
    }
  }
  return {};
}

// Forwards SAX events to nlohmann's DOM builder, limiting the nesting depth and keeping
// the parse error message instead of throwing it.
class DepthLimitedSax {
 public:
  DepthLimitedSax(json& root, std::size_t max_depth) : dom_(root, false), max_depth_(max_depth) {}

  bool null() { return dom_.null(); }
  bool boolean(bool v) { return dom_.boolean(v); }
  bool number_integer(json::number_integer_t v) { return dom_.number_integer(v); }
  bool number_unsigned(json::number_unsigned_t v) { return dom_.number_unsigned(v); }
  bool number_float(json::number_float_t v, const json::string_t& s) {
    return dom_.number_float(v, s);
  }
  bool string(json::string_t& v) { return dom_.string(v); }
  bool binary(json::binary_t& v) { return dom_.binary(v); }
  bool key(json::string_t& v) { return dom_.key(v); }
  bool start_object(std::size_t n) { return enter() && dom_.start_object(n); }
  bool end_object() {
    --depth_;
    return dom_.end_object();
  }
  bool start_array(std::size_t n) { return enter() && dom_.start_array(n); }
  bool end_array() {
    --depth_;
    return dom_.end_array();
  }
  bool parse_error(std::size_t /*position*/, const std::string& /*last_token*/,
                   const nlohmann::detail::exception& ex) {
    message_ = ex.what();
    return false;
  }

  const std::string& message() const { return message_; }

 private:
  bool enter() {
    if (++depth_ > max_depth_) {
      message_ = fmt::format("JSON nested deeper than {} levels", max_depth_);
      return false;
    }
    return true;
  }

  nlohmann::detail::json_sax_dom_parser<json> dom_;
  std::size_t max_depth_;
  std::size_t depth_ = 0;
  std::string message_;
};

Error beast_parse_error(const boost::beast::error_code& ec, const HttpLimits& limits) {
  if (ec == http::error::header_limit) {
    return make_error(Errc::kTooLarge, "request header over {} bytes", limits.max_header_bytes);
  }
  if (ec == http::error::body_limit) {
    return make_error(Errc::kTooLarge, "request body over {} bytes", limits.max_body_bytes);
  }
  if (ec == http::error::need_more || ec == http::error::partial_message) {
    return make_error(Errc::kMalformed, "incomplete request");
  }
  return make_error(Errc::kMalformed, "bad request: {}", ec.message());
}

}  // namespace

Result<std::string> percent_decode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '%') {
      if (i + 2 >= text.size()) {
        return make_error(Errc::kMalformed, "truncated %-escape at offset {}", i);
      }
      const int h = hex_value(text[i + 1]);
      const int l = hex_value(text[i + 2]);
      if (h < 0 || l < 0) {
        return make_error(Errc::kMalformed, "bad %-escape at offset {}", i);
      }
      c = static_cast<char>(h * 16 + l);
      i += 2;
    } else if (c == '+' && plus_is_space) {
      c = ' ';
    }
    if (c == '\0') {
      return make_error(Errc::kMalformed, "NUL byte at offset {}", i);
    }
    out.push_back(c);
  }
  return out;
}

std::string percent_encode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if ((u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9') || u == '-' ||
        u == '.' || u == '_' || u == '~') {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 0xf]);
    }
  }
  return out;
}

Result<ParsedTarget> parse_target(std::string_view target) {
  for (std::size_t i = 0; i < target.size(); ++i) {
    const auto u = static_cast<unsigned char>(target[i]);
    if (u <= 0x20 || u >= 0x7f || u == '#') {
      return make_error(Errc::kMalformed, "invalid byte 0x{:02x} in request target at offset {}", u,
                        i);
    }
  }
  auto origin = origin_form(target);
  if (!origin) {
    return origin.error();
  }
  const auto qmark = origin->find('?');
  ParsedTarget out;
  out.path = std::string(origin->substr(0, qmark));
  std::string_view rest = std::string_view(out.path).substr(1);
  while (!rest.empty()) {
    const auto slash = rest.find('/');
    auto seg = percent_decode(rest.substr(0, slash), false);
    if (!seg) {
      return seg.error();
    }
    if (*seg == "." || *seg == "..") {
      return make_error(Errc::kMalformed, "dot segment in request path");
    }
    out.segments.push_back(std::move(*seg));
    if (slash == std::string_view::npos) {
      break;
    }
    rest = rest.substr(slash + 1);
    if (rest.empty()) {
      out.segments.emplace_back();  // trailing slash: "/a/" has segments {"a", ""}
    }
  }
  if (qmark != std::string_view::npos) {
    auto q = parse_query(origin->substr(qmark + 1), out.query);
    if (!q) {
      return q.error();
    }
  }
  return out;
}

Result<RoutePattern> parse_route_pattern(std::string_view pattern) {
  if (pattern.empty() || pattern.front() != '/') {
    return make_error(Errc::kInvalidArgument, "route pattern '{}' must start with '/'", pattern);
  }
  RoutePattern out;
  out.text = std::string(pattern);
  if (pattern.size() == 1) {
    return out;
  }
  std::string_view rest = pattern.substr(1);
  while (true) {
    const auto slash = rest.find('/');
    const auto seg = rest.substr(0, slash);
    RoutePattern::Segment s;
    if (seg.size() >= 2 && seg.front() == '{' && seg.back() == '}') {
      s.is_param = true;
      s.text = std::string(seg.substr(1, seg.size() - 2));
      bool valid = !s.text.empty();
      for (char c : s.text) {
        valid = valid && (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-');
      }
      for (const auto& other : out.segments) {
        valid = valid && !(other.is_param && other.text == s.text);
      }
      if (!valid) {
        return make_error(Errc::kInvalidArgument, "bad parameter '{}' in route pattern '{}'", seg,
                          pattern);
      }
    } else if (seg.find_first_of("{}") != std::string_view::npos) {
      return make_error(Errc::kInvalidArgument, "stray brace in route pattern '{}'", pattern);
    } else {
      s.text = std::string(seg);
    }
    out.segments.push_back(std::move(s));
    if (slash == std::string_view::npos) {
      break;
    }
    rest = rest.substr(slash + 1);
  }
  return out;
}

std::optional<RouteParams> match_route(const RoutePattern& pattern,
                                       const std::vector<std::string>& segments) {
  if (pattern.segments.size() != segments.size()) {
    return std::nullopt;
  }
  RouteParams params;
  for (std::size_t i = 0; i < segments.size(); ++i) {
    const auto& p = pattern.segments[i];
    if (p.is_param) {
      if (segments[i].empty()) {
        return std::nullopt;
      }
      params.emplace(p.text, segments[i]);
    } else if (p.text != segments[i]) {
      return std::nullopt;
    }
  }
  return params;
}

Result<void> validate_route_params(const RouteParams& params) {
  for (const auto& [name, value] : params) {
    if (value.find('/') != std::string::npos) {
      return make_error(Errc::kMalformed, "path parameter {{{}}} must not contain '/' (%2F)", name);
    }
  }
  return {};
}

std::optional<RouteParams> match_route(std::string_view pattern, std::string_view path) {
  auto p = parse_route_pattern(pattern);
  auto t = parse_target(path);
  if (!p || !t) {
    return std::nullopt;
  }
  return match_route(*p, t->segments);
}

Result<json> parse_json_body(std::string_view body, std::size_t max_depth, std::size_t max_bytes) {
  if (body.size() > max_bytes) {
    return make_error(Errc::kTooLarge, "JSON body of {} bytes over the limit of {}", body.size(),
                      max_bytes);
  }
  if (body.empty()) {
    return make_error(Errc::kMalformed, "empty body where JSON was expected");
  }
  json root;
  DepthLimitedSax sax(root, max_depth);
  try {
    if (!json::sax_parse(body.begin(), body.end(), &sax)) {
      return make_error(Errc::kMalformed, "invalid JSON: {}",
                        sax.message().empty() ? "parse error" : sax.message());
    }
  } catch (const std::exception& e) {
    // The SAX parser reports errors through parse_error(); this is a safety net only.
    return make_error(Errc::kMalformed, "invalid JSON: {}", e.what());
  }
  return root;
}

Result<Request> build_request(std::string_view method, std::string_view target, Headers headers,
                              std::string body, bool keep_alive) {
  const auto m = parse_method(method);
  if (!m) {
    return make_error(Errc::kUnsupported, "method '{}' not supported", method);
  }
  auto t = parse_target(target);
  if (!t) {
    return t.error();
  }
  Request r;
  r.method = *m;
  r.target = std::string(target);
  r.path = std::move(t->path);
  r.segments = std::move(t->segments);
  r.query = std::move(t->query);
  r.headers = std::move(headers);
  r.body = std::move(body);
  r.keep_alive = keep_alive;
  return r;
}

Result<Request> parse_request_bytes(std::span<const std::uint8_t> bytes, const HttpLimits& limits) {
  http::request_parser<http::string_body> parser;
  parser.header_limit(static_cast<std::uint32_t>(limits.max_header_bytes));
  parser.body_limit(limits.max_body_bytes);
  parser.eager(true);
  boost::beast::error_code ec;
  std::size_t used = 0;
  while (!parser.is_done()) {
    const auto n = parser.put(boost::asio::buffer(bytes.data() + used, bytes.size() - used), ec);
    used += n;
    if (ec) {
      return beast_parse_error(ec, limits);
    }
    if (n == 0) {
      return make_error(Errc::kMalformed, "incomplete request");
    }
  }
  auto msg = parser.release();
  Headers headers;
  for (const auto& field : msg) {
    headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  }
  return build_request(msg.method_string(), msg.target(), std::move(headers), std::move(msg.body()),
                       msg.keep_alive());
}

}  // namespace weft

#include "common/http.hpp"

#include <array>
#include <cctype>

#include <nlohmann/json.hpp>

namespace weft {
namespace {

constexpr std::array<std::pair<Method, std::string_view>, 7> kMethods = {{
    {Method::kGet, "GET"},
    {Method::kHead, "HEAD"},
    {Method::kPost, "POST"},
    {Method::kPut, "PUT"},
    {Method::kDelete, "DELETE"},
    {Method::kPatch, "PATCH"},
    {Method::kOptions, "OPTIONS"},
}};

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

}  // namespace

std::string_view to_string(Method method) {
  for (const auto& [m, name] : kMethods) {
    if (m == method) {
      return name;
    }
  }
  return "GET";
}

std::optional<Method> parse_method(std::string_view token) {
  for (const auto& [m, name] : kMethods) {
    if (name == token) {
      return m;
    }
  }
  return std::nullopt;
}

std::optional<std::string_view> find_header(const Headers& headers, std::string_view name) {
  for (const auto& [k, v] : headers) {
    if (iequals(k, name)) {
      return std::string_view(v);
    }
  }
  return std::nullopt;
}

std::string_view Request::param(std::string_view name) const {
  auto it = params.find(name);
  return it == params.end() ? std::string_view() : std::string_view(it->second);
}

std::optional<std::string_view> Request::query_value(std::string_view name) const {
  auto it = query.find(name);
  if (it == query.end()) {
    return std::nullopt;
  }
  return std::string_view(it->second);
}

Response Response::json(int status, const nlohmann::json& value) {
  Response r;
  r.status = status;
  r.content_type = "application/json";
  // Handlers put untrusted strings into JSON; replacing bad UTF-8 keeps dump() from throwing.
  r.body = value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  r.body.push_back('\n');
  return r;
}

Response Response::text(int status, std::string body) {
  Response r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

Response Response::error(int status, std::string_view message) {
  return json(status, nlohmann::json{{"error", message}});
}

std::string format_sse_event(std::string_view event, std::string_view data) {
  std::string out;
  if (!event.empty()) {
    out += "event: ";
    for (char c : event) {
      if (c != '\r' && c != '\n') {
        out.push_back(c);
      }
    }
    out.push_back('\n');
  }
  std::size_t start = 0;
  while (true) {
    const auto nl = data.find('\n', start);
    auto line = data.substr(start, nl == std::string_view::npos ? data.npos : nl - start);
    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
    }
    out += "data: ";
    out += line;
    out.push_back('\n');
    if (nl == std::string_view::npos) {
      break;
    }
    start = nl + 1;
  }
  out.push_back('\n');
  return out;
}

Errc errc_for_status(int status) {
  switch (status) {
    case 400:
    case 405:
    case 422:
      return Errc::kInvalidArgument;
    case 401:
    case 403:
      return Errc::kAuthFailed;
    case 404:
      return Errc::kNotFound;
    case 408:
    case 504:
      return Errc::kTimeout;
    case 409:
      return Errc::kConflict;
    case 413:
    case 431:
      return Errc::kTooLarge;
    case 501:
      return Errc::kUnsupported;
    case 502:
    case 503:
      return Errc::kUnavailable;
    default:
      break;
  }
  if (status >= 200 && status < 300) {
    return Errc::kOk;
  }
  return status >= 500 ? Errc::kIo : Errc::kInvalidArgument;
}

}  // namespace weft

#include "web-ui/assets.hpp"

#include <array>
#include <string>
#include <utility>

#include "web-ui/embedded_files.hpp"

namespace weft::web_ui {
namespace {

// The page needs nothing from other origins; inline scripts and styles are not used.
constexpr std::string_view kPagePolicy =
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

}  // namespace

std::string_view content_type_for(std::string_view file_name) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 7> kTypes = {{
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".ico", "image/x-icon"},
      {".json", "application/json"},
  }};
  for (const auto& [suffix, type] : kTypes) {
    if (ends_with(file_name, suffix)) {
      return type;
    }
  }
  return "application/octet-stream";
}

std::optional<std::string_view> find_asset(std::string_view file_name) {
  for (const EmbeddedFile& f : embedded_files()) {
    if (f.name == file_name) {
      return f.bytes;
    }
  }
  return std::nullopt;
}

Response asset_response(std::string_view file_name) {
  auto bytes = find_asset(file_name);
  if (!bytes) {
    return Response::error(404, "no such file: " + std::string(file_name));
  }
  Response r;
  r.status = 200;
  r.content_type = std::string(content_type_for(file_name));
  r.body = std::string(*bytes);
  r.headers = {{"Cache-Control", "no-cache"}, {"X-Content-Type-Options", "nosniff"}};
  if (ends_with(file_name, ".html")) {
    r.headers.emplace_back("Content-Security-Policy", std::string(kPagePolicy));
  }
  return r;
}

}  // namespace weft::web_ui

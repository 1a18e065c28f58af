// The status page's static files (index.html, app.js, style.css, ...) as HTTP responses.
//
// Contract: pure functions over the embedded files (embedded_files.hpp); any thread.
// Responses carry the content type for the file's extension, Cache-Control: no-cache (a
// new weftd build shows its own page at once) and, for HTML, a Content-Security-Policy
// that allows only this origin (the page loads nothing from elsewhere).
#pragma once

#include <optional>
#include <string_view>

#include "common/http.hpp"

namespace weft::web_ui {

// "text/html; charset=utf-8" for "index.html", ...; application/octet-stream if unknown.
std::string_view content_type_for(std::string_view file_name);

// The embedded file called `file_name` ("app.js"), or nullopt.
std::optional<std::string_view> find_asset(std::string_view file_name);

// 200 with the file, or a 404 error response when there is no such asset.
Response asset_response(std::string_view file_name);

}  // namespace weft::web_ui

// Fuzz target for the HTTP parsers: the same input as a raw request (Beast's parser with
// our limits, then target decoding), as a request target, and as a JSON body.
// fuzz-deps: weft_common
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/http_parse.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> bytes(data, size);
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  weft::HttpLimits limits;
  limits.max_header_bytes = 4096;
  limits.max_body_bytes = 4096;
  if (auto req = weft::parse_request_bytes(bytes, limits)) {
    // Invariants of an accepted request.
    if (req->body.size() > limits.max_body_bytes || req->path.empty() || req->path[0] != '/') {
      __builtin_trap();
    }
    for (const auto& seg : req->segments) {
      if (seg == "." || seg == ".." || seg.find('\0') != std::string::npos) {
        __builtin_trap();
      }
    }
  }

  if (auto target = weft::parse_target(text)) {
    // Re-encoding the decoded segments gives a target that decodes to the same segments.
    std::string again;
    for (const auto& seg : target->segments) {
      again += "/" + weft::percent_encode(seg);
    }
    auto reparsed = weft::parse_target(again.empty() ? "/" : again);
    if (!reparsed || reparsed->segments != target->segments) {
      __builtin_trap();
    }
    (void)weft::match_route("/ip/{id}/{addr}", text);
  }

  if (auto json = weft::parse_json_body(text, 16, 4096)) {
    (void)json->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  return 0;
}

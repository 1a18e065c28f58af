// Fuzz target for selectors (kube/selector.hpp): label selectors from query strings (the
// fake API server parses them from clients) must print back to text that parses to the same
// selector; field selectors; structured selectors from JSON.
// fuzz-deps: weft_kube weft_common
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/http_parse.hpp"
#include "kube/selector.hpp"

// libFuzzer's entry point names itself.
extern "C" int LLVMFuzzerTestOneInput(  // NOLINT(readability-identifier-naming)
    const std::uint8_t* data, std::size_t size) {
  using namespace weft::kube;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  static const nlohmann::json labels = {{"app", "web"}, {"tier", "front"}, {"gen", "5"}};
  if (auto selector = parse_label_selector(text)) {
    const auto canonical = selector->to_string();
    auto again = parse_label_selector(canonical);
    if (!again || again->to_string() != canonical ||
        again->matches(labels) != selector->matches(labels)) {
      __builtin_trap();
    }
  }
  if (auto fields = parse_field_selector(text)) {
    (void)fields->matches([](std::string_view) { return std::optional<std::string>("x"); });
  }
  if (auto doc = weft::parse_json_body(text)) {
    if (auto selector = label_selector_from_json(*doc)) {
      auto again = parse_label_selector(selector->to_string());
      if (!again || again->to_string() != selector->to_string()) {
        __builtin_trap();
      }
    }
  }
  return 0;
}

// Fuzz target for what the Kubernetes client reads from the API server (kube/watch_event.hpp,
// kube/api_status.hpp): watch event lines, the line framing of watch streams, list bodies and
// Status error bodies.
// fuzz-deps: weft_kube weft_common
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "kube/api_status.hpp"
#include "kube/watch_event.hpp"

// libFuzzer's entry point names itself.
extern "C" int LLVMFuzzerTestOneInput(  // NOLINT(readability-identifier-naming)
    const std::uint8_t* data, std::size_t size) {
  using namespace weft::kube;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto event = parse_watch_event(text)) {
    if (!event->object.is_object() || to_string(event->type).empty()) {
      __builtin_trap();
    }
    (void)resource_version_of(event->object);
    (void)name_of(event->object);
    if (event->type == EventType::kError) {
      if (auto status = parse_status(event->object)) {
        (void)status_error(*status, "fuzz");
      }
    }
  }
  if (auto list = parse_object_list(text)) {
    for (const auto& item : list->items) {
      if (!item.is_object()) {
        __builtin_trap();
      }
    }
  }
  // The same bytes as a stream arriving in two chunks.
  LineSplitter lines(4096);
  std::size_t total = 0;
  for (const auto chunk : {text.substr(0, size / 2), text.substr(size / 2)}) {
    if (!lines.feed(chunk)) {
      break;
    }
    while (auto line = lines.next()) {
      total += line->size();
      if (line->empty() || line->find('\n') != std::string::npos) {
        __builtin_trap();
      }
      (void)parse_watch_event(*line);
    }
  }
  if (total > size) {
    __builtin_trap();
  }
  const auto error = status_error(500, text, "fuzz");
  if (error.message.empty()) {
    __builtin_trap();
  }
  return 0;
}

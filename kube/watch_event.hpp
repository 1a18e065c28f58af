// The API server's response bodies that the client reads: watch streams (one JSON event per
// line, `{"type":"ADDED","object":{...}}`) and lists (`{"kind":"PodList","metadata":
// {"resourceVersion":"42","continue":"..."},"items":[...]}`).
//
// Contract: pure functions over untrusted bytes (fuzzed by tests/fuzz/kube_watch_fuzz.cpp);
// they never throw. Errors: kMalformed (not JSON, wrong shape, unknown event type),
// kTooLarge (over the size limits below).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.hpp"

namespace weft::kube {

enum class EventType { kAdded, kModified, kDeleted, kBookmark, kError };

std::string_view to_string(EventType type);  // "ADDED", ...

struct WatchEvent {  // NOLINT(bugprone-exception-escape): moving a json does not throw
  EventType type = EventType::kAdded;
  // The object (for kDeleted its last state; for kBookmark only kind, apiVersion and
  // metadata.resourceVersion; for kError a Status, see api_status.hpp).
  nlohmann::json object;
};

inline constexpr std::size_t kMaxWatchLineBytes = 16 * 1024 * 1024;
inline constexpr std::size_t kMaxJsonNesting = 64;

// One line of a watch stream (a trailing "\r" or "\n" is allowed).
Result<WatchEvent> parse_watch_event(std::string_view line);

struct ObjectList {
  std::vector<nlohmann::json> items;  // each a JSON object
  std::string resource_version;       // metadata.resourceVersion: where a watch starts
  std::string continue_token;         // metadata.continue: non-empty when more pages follow
  std::string kind;                   // "PodList", ...
};

// The body of a list response. `max_bytes` bounds the body.
Result<ObjectList> parse_object_list(std::string_view body,
                                     std::size_t max_bytes = 256 * 1024 * 1024);

// Splits a watch stream into lines as its bytes arrive (chunk boundaries fall anywhere).
class LineSplitter {
 public:
  explicit LineSplitter(std::size_t max_line = kMaxWatchLineBytes) : max_line_(max_line) {}

  // Appends received bytes. kTooLarge once a line grows over the limit without a newline.
  Result<void> feed(std::string_view bytes);
  // The next complete line without its "\n" (empty lines are skipped), or nullopt.
  std::optional<std::string> next();
  std::size_t buffered() const { return buffer_.size() - start_; }

 private:
  std::size_t max_line_;
  std::string buffer_;
  std::size_t start_ = 0;
};

// metadata.resourceVersion (metadata.name, metadata.namespace) of an object; "" if absent.
std::string resource_version_of(const nlohmann::json& object);
std::string name_of(const nlohmann::json& object);
std::string namespace_of(const nlohmann::json& object);

}  // namespace weft::kube

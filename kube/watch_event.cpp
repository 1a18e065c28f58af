#include "kube/watch_event.hpp"

#include "common/http_parse.hpp"

namespace weft::kube {
namespace {

std::string metadata_string(const nlohmann::json& object, const char* key) {
  if (!object.is_object()) {
    return {};
  }
  auto meta = object.find("metadata");
  if (meta == object.end() || !meta->is_object()) {
    return {};
  }
  auto value = meta->find(key);
  return value != meta->end() && value->is_string() ? value->get<std::string>() : std::string();
}

std::optional<EventType> parse_type(std::string_view text) {
  if (text == "ADDED") {
    return EventType::kAdded;
  }
  if (text == "MODIFIED") {
    return EventType::kModified;
  }
  if (text == "DELETED") {
    return EventType::kDeleted;
  }
  if (text == "BOOKMARK") {
    return EventType::kBookmark;
  }
  if (text == "ERROR") {
    return EventType::kError;
  }
  return std::nullopt;
}

}  // namespace

std::string_view to_string(EventType type) {
  switch (type) {
    case EventType::kAdded:
      return "ADDED";
    case EventType::kModified:
      return "MODIFIED";
    case EventType::kDeleted:
      return "DELETED";
    case EventType::kBookmark:
      return "BOOKMARK";
    case EventType::kError:
      return "ERROR";
  }
  return "?";
}

Result<WatchEvent> parse_watch_event(std::string_view line) {
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) {
    line.remove_suffix(1);
  }
  WEFT_TRY(auto doc, parse_json_body(line, kMaxJsonNesting, kMaxWatchLineBytes));
  if (!doc.is_object()) {
    return make_error(Errc::kMalformed, "watch event is not a JSON object");
  }
  auto type = doc.find("type");
  if (type == doc.end() || !type->is_string()) {
    return make_error(Errc::kMalformed, "watch event has no type");
  }
  auto parsed = parse_type(type->get_ref<const std::string&>());
  if (!parsed) {
    return make_error(Errc::kMalformed, "unknown watch event type");
  }
  auto object = doc.find("object");
  if (object == doc.end() || !object->is_object()) {
    return make_error(Errc::kMalformed, "watch event {} has no object", to_string(*parsed));
  }
  WatchEvent event;
  event.type = *parsed;
  event.object = std::move(*object);
  return event;
}

Result<ObjectList> parse_object_list(std::string_view body, std::size_t max_bytes) {
  WEFT_TRY(auto doc, parse_json_body(body, kMaxJsonNesting, max_bytes));
  if (!doc.is_object()) {
    return make_error(Errc::kMalformed, "list is not a JSON object");
  }
  ObjectList out;
  auto kind = doc.find("kind");
  if (kind != doc.end() && kind->is_string()) {
    out.kind = kind->get<std::string>();
  }
  auto meta = doc.find("metadata");
  if (meta != doc.end() && !meta->is_null()) {
    if (!meta->is_object()) {
      return make_error(Errc::kMalformed, "list metadata is not an object");
    }
    out.resource_version = metadata_string(doc, "resourceVersion");
    out.continue_token = metadata_string(doc, "continue");
  }
  auto items = doc.find("items");
  if (items == doc.end()) {
    return make_error(Errc::kMalformed, "list has no items");
  }
  if (items->is_null()) {
    return out;
  }
  if (!items->is_array()) {
    return make_error(Errc::kMalformed, "list items is not an array");
  }
  out.items.reserve(items->size());
  for (auto& item : *items) {
    if (!item.is_object()) {
      return make_error(Errc::kMalformed, "list item is not an object");
    }
    out.items.push_back(std::move(item));
  }
  return out;
}

Result<void> LineSplitter::feed(std::string_view bytes) {
  if (start_ > 0 && start_ == buffer_.size()) {
    buffer_.clear();
    start_ = 0;
  }
  const auto newline = bytes.rfind('\n');
  // The part after the last newline is what would stay buffered.
  const std::size_t tail =
      newline == std::string_view::npos ? buffered() + bytes.size() : bytes.size() - newline - 1;
  if (tail > max_line_) {
    return make_error(Errc::kTooLarge, "watch event over {} bytes", max_line_);
  }
  if (start_ > buffer_.size() / 2) {
    buffer_.erase(0, start_);
    start_ = 0;
  }
  buffer_.append(bytes);
  return {};
}

std::optional<std::string> LineSplitter::next() {
  while (start_ < buffer_.size()) {
    const auto newline = buffer_.find('\n', start_);
    if (newline == std::string::npos) {
      return std::nullopt;
    }
    std::string line = buffer_.substr(start_, newline - start_);
    start_ = newline + 1;
    if (!line.empty() && line.back() == '\r') {
      line.pop_back();
    }
    if (!line.empty()) {
      return line;
    }
  }
  return std::nullopt;
}

std::string resource_version_of(const nlohmann::json& object) {
  return metadata_string(object, "resourceVersion");
}
std::string name_of(const nlohmann::json& object) {
  return metadata_string(object, "name");
}
std::string namespace_of(const nlohmann::json& object) {
  return metadata_string(object, "namespace");
}

}  // namespace weft::kube

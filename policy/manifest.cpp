#include "policy/manifest.hpp"

#include <cctype>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <map>
#include <optional>
#include <sstream>

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/mark.h>
#include <yaml-cpp/parser.h>

namespace weft::policy {
namespace {

using nlohmann::json;

bool one_of(const std::string& s, std::initializer_list<const char*> words) {
  for (const char* w : words) {
    if (s == w) {
      return true;
    }
  }
  return false;
}

// A plain (unquoted, untagged) scalar typed by YAML 1.1 core rules.
json plain_scalar(const std::string& s) {
  if (one_of(s, {"", "~", "null", "Null", "NULL"})) {
    return nullptr;
  }
  if (one_of(s, {"true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON", "y", "Y"})) {
    return true;
  }
  if (one_of(s, {"false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF", "n", "N"})) {
    return false;
  }
  // Integers: [-+]digits, 0x hex, 0o octal.
  {
    std::size_t i = 0;
    bool negative = false;
    if (s[i] == '-' || s[i] == '+') {
      negative = s[i] == '-';
      ++i;
    }
    int base = 10;
    if (s.size() > i + 2 && s[i] == '0' && (s[i + 1] == 'x' || s[i + 1] == 'o')) {
      base = s[i + 1] == 'x' ? 16 : 8;
      i += 2;
    }
    if (i < s.size()) {
      char* end = nullptr;
      errno = 0;
      const unsigned long long value = std::strtoull(s.c_str() + i, &end, base);
      const bool digits_only =
          end == s.c_str() + s.size() && std::isalnum(static_cast<unsigned char>(s[i])) != 0;
      if (digits_only && errno == 0 && s[i] != '+' && s[i] != '-') {
        if (negative && value <= static_cast<unsigned long long>(INT64_MAX) + 1) {
          return static_cast<std::int64_t>(0 - value);
        }
        if (!negative && value <= static_cast<unsigned long long>(INT64_MAX)) {
          return static_cast<std::int64_t>(value);
        }
        if (!negative) {
          return static_cast<std::uint64_t>(value);
        }
      }
    }
  }
  // Floats: digits with a dot or an exponent, .inf, .nan.
  if (one_of(s, {".inf", ".Inf", ".INF", "+.inf", "-.inf", ".nan", ".NaN", ".NAN"})) {
    return s;  // JSON cannot hold them; Kubernetes fields weft-npc reads never are floats
  }
  bool has_digit = false;
  bool float_like = true;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c >= '0' && c <= '9') {
      has_digit = true;
    } else if (!(c == '.' || c == 'e' || c == 'E' ||
                 ((c == '-' || c == '+') && (i == 0 || s[i - 1] == 'e' || s[i - 1] == 'E')))) {
      float_like = false;
      break;
    }
  }
  if (float_like && has_digit && s.find_first_of(".eE") != std::string::npos) {
    char* end = nullptr;
    const double value = std::strtod(s.c_str(), &end);
    if (end == s.c_str() + s.size()) {
      return value;
    }
  }
  return s;
}

// Builds JSON values straight from yaml-cpp's parser events (no YAML::Node in between):
// typing as described in manifest.hpp, anchors and aliases with a node budget, and a guard
// against the parser reporting documents without consuming input (yaml-cpp 0.7 can, on some
// malformed input, return the same empty document forever from LoadAll).
class JsonBuilder final : public YAML::EventHandler {
 public:
  explicit JsonBuilder(std::size_t max_nodes) : max_nodes_(max_nodes) {}

  void OnDocumentStart(const YAML::Mark& mark) override {
    start_ = mark;
    stack_.clear();
    root_ = nullptr;
  }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t anchor) override { complete(nullptr, anchor, 1); }
  void OnAlias(const YAML::Mark&, YAML::anchor_t anchor) override {
    auto it = anchors_.find(anchor);
    if (it == anchors_.end()) {
      fail("an alias to an unknown anchor");
      return;
    }
    complete(it->second.first, 0, it->second.second);
  }
  void OnScalar(const YAML::Mark&, const std::string& tag, YAML::anchor_t anchor,
                const std::string& value) override {
    json typed;
    if (tag == "!" || tag == "tag:yaml.org,2002:str") {
      typed = value;
    } else {
      typed = plain_scalar(value);
      if (tag == "tag:yaml.org,2002:int" && !typed.is_number_integer()) {
        fail(fmt::format("!!int {} is not an integer", value));
      } else if (tag == "tag:yaml.org,2002:bool" && !typed.is_boolean()) {
        fail(fmt::format("!!bool {} is not a boolean", value));
      }
    }
    if (!stack_.empty() && stack_.back().map && !stack_.back().key) {
      stack_.back().key = value;  // a map key: its text
      count(1);
      return;
    }
    complete(std::move(typed), anchor, 1);
  }
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    open(json::array(), false, anchor);
  }
  void OnSequenceEnd() override { close(); }
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    open(json::object(), true, anchor);
  }
  void OnMapEnd() override { close(); }

  const YAML::Mark& start() const { return start_; }
  json take_root() { return std::move(root_); }
  const std::optional<Error>& error() const { return error_; }

 private:
  struct Frame {
    json value;
    bool map = false;
    std::optional<std::string> key;
    YAML::anchor_t anchor = 0;
    std::size_t nodes = 1;
  };

  void fail(std::string what) {
    if (!error_) {
      error_ = make_error(Errc::kInvalidArgument, "{}", what);
    }
  }
  void count(std::size_t n) {
    nodes_ += n;
    if (nodes_ > max_nodes_ && !error_) {
      error_ = make_error(Errc::kTooLarge, "more than {} nodes (aliases expanded)", max_nodes_);
    }
  }
  void open(json value, bool map, YAML::anchor_t anchor) {
    if (!stack_.empty() && stack_.back().map && !stack_.back().key) {
      fail("a map key is not a scalar");
    }
    if (stack_.size() >= 200) {
      fail("nested deeper than 200 levels");
    }
    stack_.push_back({std::move(value), map, std::nullopt, anchor, 1});
    count(1);
  }
  void close() {
    if (stack_.empty()) {
      fail("unbalanced YAML events");
      return;
    }
    Frame frame = std::move(stack_.back());
    stack_.pop_back();
    if (error_) {
      return;  // values are dropped once the document has failed
    }
    complete(std::move(frame.value), frame.anchor, frame.nodes, /*counted=*/true);
  }
  // A finished value goes into its parent (or becomes the document).
  void complete(json value, YAML::anchor_t anchor, std::size_t nodes, bool counted = false) {
    if (!counted) {
      count(nodes);
    }
    if (error_) {
      return;
    }
    if (anchor != 0) {
      anchors_[anchor] = {value, nodes};
    }
    if (stack_.empty()) {
      root_ = std::move(value);
      return;
    }
    Frame& parent = stack_.back();
    parent.nodes += nodes;
    if (parent.map) {
      if (!parent.key) {
        fail("a map key is not a scalar");
        return;
      }
      parent.value[*parent.key] = std::move(value);
      parent.key.reset();
    } else {
      parent.value.push_back(std::move(value));
    }
  }

  std::size_t max_nodes_;
  std::size_t nodes_ = 0;
  std::vector<Frame> stack_;
  std::map<YAML::anchor_t, std::pair<json, std::size_t>> anchors_;
  json root_;
  YAML::Mark start_;
  std::optional<Error> error_;
};

Result<void> add_object(json document, std::string_view where, std::vector<json>& out) {
  if (document.is_null()) {
    return {};
  }
  if (!document.is_object() || !document.contains("kind") || !document["kind"].is_string()) {
    return make_error(Errc::kInvalidArgument, "{}: not a Kubernetes object (no kind)", where);
  }
  const std::string kind = document["kind"].get<std::string>();
  if (kind.size() >= 4 && kind.ends_with("List") && document.contains("items")) {
    json& items = document["items"];
    if (!items.is_array()) {
      return make_error(Errc::kInvalidArgument, "{}: {}.items is not a list", where, kind);
    }
    for (std::size_t i = 0; i < items.size(); ++i) {
      WEFT_TRY_VOID(add_object(std::move(items[i]), fmt::format("{} item {}", where, i), out));
    }
    return {};
  }
  out.push_back(std::move(document));
  return {};
}

}  // namespace

Result<std::vector<json>> parse_yaml(std::string_view text, std::string_view source) {
  if (text.size() > kMaxManifestBytes) {
    return make_error(Errc::kTooLarge, "{}: over {} bytes", source, kMaxManifestBytes);
  }
  std::vector<json> out;
  // JSON first when it looks like JSON (exact numbers and strings, no YAML typing rules).
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first != std::string_view::npos && (text[first] == '{' || text[first] == '[')) {
    json document = json::parse(text, nullptr, false);
    if (!document.is_discarded()) {
      out.push_back(std::move(document));
      return out;
    }
  }
  std::istringstream stream{std::string(text)};
  JsonBuilder builder(kBaseNodes + 4 * text.size());
  try {
    YAML::Parser parser(stream);
    int previous_start = -1;
    for (std::size_t i = 1;; ++i) {
      if (!parser.HandleNextDocument(builder)) {
        break;
      }
      if (builder.error()) {
        return make_error(builder.error()->code, "{} document {}: {}", source, i,
                          builder.error()->message);
      }
      if (builder.start().pos == previous_start) {
        return make_error(Errc::kInvalidArgument,
                          "{} document {}: malformed YAML (the parser made no progress)", source,
                          i);
      }
      previous_start = builder.start().pos;
      out.push_back(builder.take_root());
    }
  } catch (const std::exception& e) {
    return make_error(Errc::kInvalidArgument, "{}: {}", source, e.what());
  }
  return out;
}

Result<std::vector<json>> parse_manifests(std::string_view text, std::string_view source) {
  WEFT_TRY(auto documents, parse_yaml(text, source));
  std::vector<json> out;
  const bool json_array = documents.size() == 1 && documents[0].is_array();
  if (json_array) {
    for (std::size_t i = 0; i < documents[0].size(); ++i) {
      WEFT_TRY_VOID(
          add_object(std::move(documents[0][i]), fmt::format("{} item {}", source, i + 1), out));
    }
    return out;
  }
  for (std::size_t i = 0; i < documents.size(); ++i) {
    WEFT_TRY_VOID(
        add_object(std::move(documents[i]), fmt::format("{} document {}", source, i + 1), out));
  }
  return out;
}

Result<std::optional<json>> pod_of(const json& object) {
  const std::string kind = object.value("kind", "");
  if (kind == "Pod") {
    return std::optional<json>(object);
  }
  const json* spec = object.contains("spec") ? &object["spec"] : nullptr;
  const json* tmpl = nullptr;
  if (one_of(kind, {"Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "ReplicationController",
                    "Job"})) {
    if (spec != nullptr && spec->is_object() && spec->contains("template")) {
      tmpl = &(*spec)["template"];
    }
  } else if (kind == "CronJob") {
    if (object.contains(json::json_pointer("/spec/jobTemplate/spec/template"))) {
      tmpl = &object.at(json::json_pointer("/spec/jobTemplate/spec/template"));
    }
  } else {
    return std::optional<json>();
  }
  if (tmpl == nullptr || !tmpl->is_object()) {
    return make_error(Errc::kInvalidArgument, "{} has no pod template", kind);
  }
  const json& meta = object.contains("metadata") ? object["metadata"] : json::object();
  if (!meta.is_object()) {
    return make_error(Errc::kInvalidArgument, "{}: metadata is not an object", kind);
  }
  json pod = {{"apiVersion", "v1"}, {"kind", "Pod"}, {"metadata", json::object()}};
  if (meta.contains("name")) {
    pod["metadata"]["name"] = meta["name"];
  }
  if (meta.contains("namespace")) {
    pod["metadata"]["namespace"] = meta["namespace"];
  }
  if (tmpl->contains("metadata") && (*tmpl)["metadata"].is_object() &&
      (*tmpl)["metadata"].contains("labels")) {
    pod["metadata"]["labels"] = (*tmpl)["metadata"]["labels"];
  }
  if (tmpl->contains("spec")) {
    pod["spec"] = (*tmpl)["spec"];
  }
  return std::optional<json>(std::move(pod));
}

}  // namespace weft::policy

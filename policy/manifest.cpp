#include "policy/manifest.hpp"

#include <cctype>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <exception>

#include <yaml-cpp/yaml.h>

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

class Converter {
 public:
  explicit Converter(std::size_t max_nodes) : max_nodes_(max_nodes) {}

  Result<json> convert(const YAML::Node& node, int depth) {
    if (++nodes_ > max_nodes_) {
      return make_error(Errc::kTooLarge, "more than {} nodes (aliases expanded)", max_nodes_);
    }
    if (depth > 200) {
      return make_error(Errc::kInvalidArgument, "nested deeper than 200 levels");
    }
    switch (node.Type()) {
      case YAML::NodeType::Undefined:
      case YAML::NodeType::Null:
        return json(nullptr);
      case YAML::NodeType::Scalar: {
        const std::string& tag = node.Tag();
        const std::string& value = node.Scalar();
        if (tag == "!" || tag == "tag:yaml.org,2002:str") {
          return json(value);
        }
        json typed = plain_scalar(value);
        if (tag == "tag:yaml.org,2002:int" && !typed.is_number_integer()) {
          return make_error(Errc::kInvalidArgument, "!!int {} is not an integer", value);
        }
        if (tag == "tag:yaml.org,2002:bool" && !typed.is_boolean()) {
          return make_error(Errc::kInvalidArgument, "!!bool {} is not a boolean", value);
        }
        return typed;
      }
      case YAML::NodeType::Sequence: {
        json out = json::array();
        for (const auto& item : node) {
          WEFT_TRY(auto value, convert(item, depth + 1));
          out.push_back(std::move(value));
        }
        return out;
      }
      case YAML::NodeType::Map: {
        json out = json::object();
        for (const auto& item : node) {
          if (!item.first.IsScalar()) {
            return make_error(Errc::kInvalidArgument, "a map key is not a scalar");
          }
          WEFT_TRY(auto value, convert(item.second, depth + 1));
          out[item.first.Scalar()] = std::move(value);
        }
        return out;
      }
    }
    return json(nullptr);
  }

 private:
  std::size_t max_nodes_;
  std::size_t nodes_ = 0;
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
  std::vector<YAML::Node> documents;
  try {
    documents = YAML::LoadAll(std::string(text));
  } catch (const std::exception& e) {
    return make_error(Errc::kInvalidArgument, "{}: {}", source, e.what());
  }
  Converter converter(kBaseNodes + 4 * text.size());
  for (std::size_t i = 0; i < documents.size(); ++i) {
    Result<json> document = json(nullptr);
    try {
      document = converter.convert(documents[i], 0);
    } catch (const std::exception& e) {
      return make_error(Errc::kInvalidArgument, "{} document {}: {}", source, i + 1, e.what());
    }
    if (!document) {
      return make_error(document.error().code, "{} document {}: {}", source, i + 1,
                        document.error().message);
    }
    out.push_back(std::move(*document));
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

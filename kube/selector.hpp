// Label and field selectors: the query strings of list and watch requests
// (`labelSelector=app=web,tier in (a,b),!canary`, `fieldSelector=metadata.name=x`) and the
// structured `metav1.LabelSelector` (matchLabels/matchExpressions) of NetworkPolicies and
// workloads, with Kubernetes' matching rules.
//
// Grammar (k8s.io/apimachinery labels.Parse): requirements separated by ',', whitespace
// between tokens ignored:
//   key | !key | key=v | key==v | key!=v | key in (v1,v2) | key notin (v1,v2) | key>N | key<N
// Keys are qualified names ("app", "example.com/tier": prefix a DNS subdomain of at most 253
// characters, name at most 63 of [A-Za-z0-9._-] starting and ending alphanumeric); values are
// empty or names of at most 63 characters; N an integer. An empty selector matches everything.
// Matching: =, ==, in need the label with one of the values; != and notin also match objects
// without the label; > and < need the label's value to be an integer.
// Field selectors (fields.ParseSelector): `path=v`, `path==v`, `path!=v` joined by ','; '\'
// escapes ',', '=', '!' and '\' in values. Which paths a resource supports is the server's
// business (the fake answers 400 for others, like upstream).
//
// Contract: pure; parsers never throw (fuzzed by tests/fuzz/kube_selector_fuzz.cpp); errors
// are kInvalidArgument with a message naming the bad requirement.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "common/result.hpp"

namespace weft::kube {

struct LabelRequirement {
  enum class Op {
    kEquals,
    kNotEquals,
    kIn,
    kNotIn,
    kExists,
    kDoesNotExist,
    kGreaterThan,
    kLessThan
  };
  std::string key;
  Op op = Op::kExists;
  std::vector<std::string> values;  // sorted, unique; one value for =, !=, >, <

  // `labels` is metadata.labels: a JSON object of strings (or null: no labels).
  bool matches(const nlohmann::json& labels) const;
};

struct LabelSelector {
  std::vector<LabelRequirement> requirements;  // all must match (AND)

  bool empty() const { return requirements.empty(); }
  bool matches(const nlohmann::json& labels) const;
  // Canonical text form ("app=web,tier in (a,b)"), parseable again.
  std::string to_string() const;
};

Result<LabelSelector> parse_label_selector(std::string_view text);
// A metav1.LabelSelector object: {"matchLabels":{..},"matchExpressions":[{key,operator,values}]}
// with operators In, NotIn, Exists, DoesNotExist. Null or {} selects everything.
Result<LabelSelector> label_selector_from_json(const nlohmann::json& selector);

// Qualified-name and label-value syntax (used for label keys and values).
bool valid_label_key(std::string_view key);
bool valid_label_value(std::string_view value);

struct FieldRequirement {
  std::string field;  // "metadata.name"
  bool equal = true;  // = / == (true) or != (false)
  std::string value;
};

struct FieldSelector {
  std::vector<FieldRequirement> requirements;

  bool empty() const { return requirements.empty(); }
  // `field_value` returns the object's value of a field path (nullopt: the field is empty).
  bool matches(
      const std::function<std::optional<std::string>(std::string_view)>& field_value) const;
};

Result<FieldSelector> parse_field_selector(std::string_view text);

// The value at a dotted path ("spec.nodeName") of an object: a string, or a number or bool
// in its JSON text; nullopt when absent or not a scalar.
std::optional<std::string> field_value(const nlohmann::json& object, std::string_view path);

}  // namespace weft::kube

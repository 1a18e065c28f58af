#include "policy/selector.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace weft::policy {

bool matches(const LabelSelector& selector, const Labels& labels) {
  for (const auto& req : selector.requirements) {
    auto it = labels.find(req.key);
    const bool has = it != labels.end();
    switch (req.op) {
      case LabelRequirement::Op::kIn:
        if (!has || !std::binary_search(req.values.begin(), req.values.end(), it->second)) {
          return false;
        }
        break;
      case LabelRequirement::Op::kNotIn:
        if (has && std::binary_search(req.values.begin(), req.values.end(), it->second)) {
          return false;
        }
        break;
      case LabelRequirement::Op::kExists:
        if (!has) {
          return false;
        }
        break;
      case LabelRequirement::Op::kDoesNotExist:
        if (has) {
          return false;
        }
        break;
    }
  }
  return true;
}

std::string to_string(const LabelSelector& selector) {
  std::string out;
  for (const auto& req : selector.requirements) {
    if (!out.empty()) {
      out += ',';
    }
    switch (req.op) {
      case LabelRequirement::Op::kIn:
        if (req.values.size() == 1) {
          out += fmt::format("{}={}", req.key, req.values.front());
        } else {
          out += fmt::format("{} in ({})", req.key, fmt::join(req.values, ","));
        }
        break;
      case LabelRequirement::Op::kNotIn:
        out += fmt::format("{} notin ({})", req.key, fmt::join(req.values, ","));
        break;
      case LabelRequirement::Op::kExists:
        out += req.key;
        break;
      case LabelRequirement::Op::kDoesNotExist:
        out += "!" + req.key;
        break;
    }
  }
  return out;
}

}  // namespace weft::policy

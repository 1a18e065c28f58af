// Label selector matching (metav1.LabelSelector semantics) and its text form.
//
// Contract: pure functions; thread-compatible.
#pragma once

#include <string>

#include "policy/model.hpp"

namespace weft::policy {

// Every requirement holds: In (key present, value listed), NotIn (key absent or value not
// listed), Exists, DoesNotExist. The empty selector matches every label set.
bool matches(const LabelSelector& selector, const Labels& labels);

// "app in (web),tier notin (db),!legacy" (kubectl's selector syntax); "" for the empty one.
std::string to_string(const LabelSelector& selector);

}  // namespace weft::policy

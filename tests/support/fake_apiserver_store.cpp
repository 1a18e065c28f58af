#include "tests/support/fake_apiserver_store.hpp"

#include <algorithm>
#include <charconv>

#include "common/http_parse.hpp"
#include "kube/base64.hpp"
#include <fmt/format.h>

namespace weft::test::fake {

using kube::EventType;
using nlohmann::json;

namespace {

std::string str(const json& object, std::string_view path) {
  return kube::field_value(object, path).value_or("");
}

bool parse_u64(std::string_view s, std::uint64_t& out) {
  const char* end = s.data() + s.size();
  auto [ptr, ec] = std::from_chars(s.data(), end, out);
  return !s.empty() && ec == std::errc() && ptr == end;
}

std::string encode_continue(std::uint64_t rv, const std::string& key) {
  return kube::base64_encode(json{{"v", "meta.k8s.io/v1"}, {"rv", rv}, {"start", key}}.dump());
}

Outcome<std::pair<std::uint64_t, std::string>> decode_continue(const std::string& token) {
  auto bad = [] {
    return bad_request("continue key is not valid: not a token of this server");
  };
  auto bytes = kube::base64_decode(token);
  if (!bytes) {
    return bad();
  }
  auto doc = parse_json_body(*bytes);
  if (!doc || !doc->is_object() || !(*doc)["rv"].is_number_unsigned() ||
      !(*doc)["start"].is_string()) {
    return bad();
  }
  return std::make_pair((*doc)["rv"].get<std::uint64_t>(), (*doc)["start"].get<std::string>());
}

json without_type_meta(json object) {
  object.erase("kind");
  object.erase("apiVersion");
  return object;
}

bool uses_selectors(const Filter& f) {
  return !f.labels.empty() || !f.fields.empty();
}

}  // namespace

std::string object_key(const Resource& r, const std::string& ns, const std::string& name) {
  return r.namespaced ? ns + "/" + name : name;
}

bool Filter::matches(const json& object) const {
  if (!ns.empty() && str(object, "metadata.namespace") != ns) {
    return false;
  }
  const json* labels_json = nullptr;
  static const json none;
  auto meta = object.find("metadata");
  if (meta != object.end() && meta->is_object()) {
    auto it = meta->find("labels");
    if (it != meta->end()) {
      labels_json = &*it;
    }
  }
  if (!labels.matches(labels_json != nullptr ? *labels_json : none)) {
    return false;
  }
  return fields.matches(
      [&object](std::string_view path) { return kube::field_value(object, path); });
}

std::optional<std::pair<EventType, json>> translate(const Event& e, const Filter& filter) {
  if (e.resource != filter.resource) {
    return std::nullopt;
  }
  const bool now = e.type != EventType::kDeleted && filter.matches(e.object);
  const bool before = !e.previous.is_null() && filter.matches(e.previous);
  switch (e.type) {
    case EventType::kAdded:
      if (now) {
        return std::make_pair(EventType::kAdded, e.object);
      }
      break;
    case EventType::kModified:
      if (now) {
        return std::make_pair(before ? EventType::kModified : EventType::kAdded, e.object);
      }
      if (before) {
        json gone = e.previous;
        gone["metadata"]["resourceVersion"] = std::to_string(e.rv);
        return std::make_pair(EventType::kDeleted, std::move(gone));
      }
      break;
    case EventType::kDeleted:
      if (before) {
        return std::make_pair(EventType::kDeleted, e.object);
      }
      break;
    default:
      break;
  }
  return std::nullopt;
}

Store::Store(std::size_t max_events) : max_events_(std::max<std::size_t>(1, max_events)) {}

const Store::Objects* Store::objects_of(const Resource& r) const {
  auto it = objects_.find(r.qualified());
  return it == objects_.end() ? nullptr : &it->second;
}

std::string Store::random_suffix(std::size_t n) {
  static constexpr std::string_view kAlphabet = "bcdfghjklmnpqrstvwxz2456789";
  std::string out;
  for (std::size_t i = 0; i < n; ++i) {
    out += kAlphabet[rng_.uniform(kAlphabet.size())];
  }
  return out;
}

std::string Store::new_uid() {
  std::array<std::uint8_t, 16> b{};
  rng_.fill(b);
  b[6] = static_cast<std::uint8_t>((b[6] & 0x0f) | 0x40);
  b[8] = static_cast<std::uint8_t>((b[8] & 0x3f) | 0x80);
  return fmt::format(
      "{:02x}{:02x}{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-"
      "{:02x}{:02x}{:02x}{:02x}{:02x}{:02x}",
      b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
      b[15]);
}

json Store::commit(const Resource& r, const std::string& key, EventType type, json object,
                   json previous) {
  ++rv_;
  object["metadata"]["resourceVersion"] = std::to_string(rv_);
  auto& objects = objects_[r.qualified()];
  if (type == EventType::kDeleted) {
    objects.erase(key);
  } else {
    objects[key] = object;
  }
  history_.push_back(Event{rv_, &r, type, object, std::move(previous)});
  while (history_.size() > max_events_) {
    compacted_ = history_.front().rv;
    history_.pop_front();
  }
  const Event& event = history_.back();
  const auto listeners = listeners_;  // a listener may unsubscribe another
  for (const auto& [id, listener] : listeners) {
    listener(event);
  }
  return object;
}

Outcome<json> Store::create(const Resource& r, const std::string& ns, json object) {
  if (!object.is_object()) {
    return bad_request("the body is not a JSON object");
  }
  if (!object.contains("metadata") || !object["metadata"].is_object()) {
    object["metadata"] = json::object();
  }
  json& meta = object["metadata"];
  std::string name = str(object, "metadata.name");
  const std::string generate = str(object, "metadata.generateName");
  if (name.empty() && !generate.empty()) {
    for (int attempt = 0; attempt < 8; ++attempt) {
      name = generate + random_suffix(5);
      if (objects_of(r) == nullptr || !objects_of(r)->contains(object_key(r, ns, name))) {
        break;
      }
    }
    meta["name"] = name;
  }
  if (name.empty()) {
    return invalid(r, name, "metadata.name", "Required value: name or generateName is required");
  }
  if (r.namespaced) {
    const auto body_ns = str(object, "metadata.namespace");
    if (!body_ns.empty() && body_ns != ns) {
      return bad_request(
          "the namespace of the provided object does not match the namespace sent on the request");
    }
    const Resource* namespaces = find_resource("namespaces");
    const Objects* known = objects_of(*namespaces);
    if (known == nullptr || !known->contains(ns)) {
      return not_found(*namespaces, ns);
    }
    if (!str(known->at(ns), "metadata.deletionTimestamp").empty()) {
      return failure(403, "Forbidden",
                     fmt::format("{} \"{}\" is forbidden: unable to create new content in "
                                 "namespace {} because it is being terminated",
                                 r.qualified(), name, ns));
    }
  }
  auto prepared = prepare_create(r, object);
  if (!prepared) {
    return prepared.error();
  }
  json& m = object["metadata"];
  if (r.namespaced) {
    m["namespace"] = ns;
  } else {
    m.erase("namespace");
  }
  const std::string key = object_key(r, ns, name);
  const Objects* existing = objects_of(r);
  if (existing != nullptr && existing->contains(key)) {
    return already_exists(r, name);
  }
  m["uid"] = new_uid();
  m["creationTimestamp"] = format_time(std::chrono::system_clock::now());
  return success(commit(r, key, EventType::kAdded, std::move(object), nullptr));
}

Outcome<json> Store::get(const Resource& r, const std::string& ns, const std::string& name) const {
  const Objects* objects = objects_of(r);
  const auto key = object_key(r, ns, name);
  if (objects == nullptr || !objects->contains(key)) {
    return not_found(r, name);
  }
  return success(objects->at(key));
}

Outcome<json> Store::update(const Resource& r, const std::string& ns, const std::string& name,
                            json object, bool status_only) {
  if (!object.is_object()) {
    return bad_request("the body is not a JSON object");
  }
  const auto body_name = str(object, "metadata.name");
  if (!body_name.empty() && body_name != name) {
    return bad_request(fmt::format(
        "the name of the object ({}) does not match the name on the URL ({})", body_name, name));
  }
  const auto body_ns = str(object, "metadata.namespace");
  if (r.namespaced && !body_ns.empty() && body_ns != ns) {
    return bad_request(
        "the namespace of the provided object does not match the namespace sent on the request");
  }
  auto current = get(r, ns, name);
  if (!current) {
    return current.error();
  }
  const json& old = *current;
  const auto rv = str(object, "metadata.resourceVersion");
  const auto old_rv = str(old, "metadata.resourceVersion");
  if (!rv.empty() && rv != old_rv) {
    return conflict(r, name);
  }
  auto prepared = prepare_update(r, old, object, status_only);
  if (!prepared) {
    return prepared.error();
  }
  object["metadata"]["resourceVersion"] = old_rv;
  if (object == old) {
    return success(old);  // no-op: no new version, no event
  }
  return success(commit(r, object_key(r, ns, name), EventType::kModified, std::move(object), old));
}

namespace {

// Strategic merge patch, for what clients send to the kinds served here (labels,
// annotations, fields of maps): a JSON merge patch. Ordering hints ($setElementOrder) are
// dropped; other directives are refused, since lists are not merged by key here.
Outcome<void> strip_directives(json& patch) {
  if (!patch.is_object()) {
    return {};
  }
  for (auto it = patch.begin(); it != patch.end();) {
    if (it.key().starts_with("$setElementOrder/")) {
      it = patch.erase(it);
      continue;
    }
    if (it.key().starts_with("$")) {
      return bad_request(fmt::format(
          "strategic merge patch directive {} is not supported by this server", it.key()));
    }
    auto nested = strip_directives(it.value());
    if (!nested) {
      return nested;
    }
    ++it;
  }
  return {};
}

}  // namespace

Outcome<json> Store::patch(const Resource& r, const std::string& ns, const std::string& name,
                           PatchKind kind, const json& patch, bool status_only) {
  auto current = get(r, ns, name);
  if (!current) {
    return current.error();
  }
  json patched = *current;
  switch (kind) {
    case PatchKind::kStrategicMerge:
    case PatchKind::kMerge: {
      if (!patch.is_object()) {
        return bad_request("the patch is not a JSON object");
      }
      json p = patch;
      if (kind == PatchKind::kStrategicMerge) {
        auto stripped = strip_directives(p);
        if (!stripped) {
          return stripped.error();
        }
      }
      patched.merge_patch(p);
      break;
    }
    case PatchKind::kJson:
      try {
        patched = current->patch(patch);
      } catch (const json::exception& e) {
        return failure(422, "Invalid", fmt::format("the JSON patch does not apply: {}", e.what()));
      }
      break;
  }
  if (!patched.is_object()) {
    return bad_request("the patched object is not a JSON object");
  }
  // A resourceVersion in the patch is a precondition; otherwise the patch applies to the
  // current version.
  const auto wanted = str(patched, "metadata.resourceVersion");
  const auto old_rv = str(*current, "metadata.resourceVersion");
  if (!wanted.empty() && wanted != old_rv) {
    return conflict(r, name);
  }
  if (patched.contains("metadata") && patched["metadata"].is_object()) {
    patched["metadata"]["resourceVersion"] = old_rv;
  }
  return update(r, ns, name, std::move(patched), status_only);
}

Outcome<json> Store::remove(const Resource& r, const std::string& ns, const std::string& name,
                            const json& preconditions) {
  auto current = get(r, ns, name);
  if (!current) {
    return current.error();
  }
  if (preconditions.is_object()) {
    const auto uid = str(preconditions, "uid");
    const auto rv = str(preconditions, "resourceVersion");
    if ((!uid.empty() && uid != str(*current, "metadata.uid")) ||
        (!rv.empty() && rv != str(*current, "metadata.resourceVersion"))) {
      Failure f = conflict(r, name);
      f.message =
          fmt::format("Precondition failed for {} \"{}\": {} in precondition does not match",
                      r.qualified(), name, uid.empty() ? "resourceVersion" : "UID");
      return f;
    }
  }
  if (r.kind == "Namespace") {
    if (!deferred_namespaces_) {
      return finalize_namespace(name);
    }
    if (!str(*current, "metadata.deletionTimestamp").empty()) {
      return current;  // already terminating
    }
    json terminating = *current;
    terminating["metadata"]["deletionTimestamp"] = format_time(std::chrono::system_clock::now());
    terminating["status"]["phase"] = "Terminating";
    return success(
        commit(r, object_key(r, ns, name), EventType::kModified, std::move(terminating), *current));
  }
  json last = *current;
  const json previous = *current;
  last["metadata"]["deletionTimestamp"] = format_time(std::chrono::system_clock::now());
  return success(
      commit(r, object_key(r, ns, name), EventType::kDeleted, std::move(last), previous));
}

Outcome<json> Store::finalize_namespace(const std::string& name) {
  const Resource& namespaces = *find_resource("namespaces");
  auto current = get(namespaces, {}, name);
  if (!current) {
    return current.error();
  }
  for (const auto& child : resources()) {
    if (!child.namespaced) {
      continue;
    }
    std::vector<std::string> names;
    if (const Objects* objects = objects_of(child)) {
      for (const auto& [key, object] : *objects) {
        if (str(object, "metadata.namespace") == name) {
          names.push_back(str(object, "metadata.name"));
        }
      }
    }
    for (const auto& n : names) {
      (void)remove(child, name, n);
    }
  }
  json last = *current;
  const json previous = *current;
  if (str(last, "metadata.deletionTimestamp").empty()) {
    last["metadata"]["deletionTimestamp"] = format_time(std::chrono::system_clock::now());
  }
  last["status"]["phase"] = "Terminating";
  return success(commit(namespaces, name, EventType::kDeleted, std::move(last), previous));
}

Store::Objects Store::snapshot_at(const Resource& r, std::uint64_t rv) const {
  Objects out;
  if (const Objects* now = objects_of(r)) {
    out = *now;
  }
  for (auto it = history_.rbegin(); it != history_.rend() && it->rv > rv; ++it) {
    if (it->resource != &r) {
      continue;
    }
    const auto key =
        object_key(r, str(it->object, "metadata.namespace"), str(it->object, "metadata.name"));
    if (it->previous.is_null()) {
      out.erase(key);
    } else {
      out[key] = it->previous;
    }
  }
  return out;
}

std::vector<json> Store::objects(const Filter& filter) const {
  std::vector<json> out;
  if (const Objects* objects = objects_of(*filter.resource)) {
    for (const auto& [key, object] : *objects) {
      if (filter.matches(object)) {
        out.push_back(object);
      }
    }
  }
  return out;
}

Outcome<json> Store::list(const Filter& filter, std::size_t limit,
                          const std::string& continue_token) const {
  const Resource& r = *filter.resource;
  std::uint64_t at = rv_;
  std::string start;
  Objects snapshot;
  if (!continue_token.empty()) {
    auto decoded = decode_continue(continue_token);
    if (!decoded) {
      return decoded.error();
    }
    std::tie(at, start) = *decoded;
    if (at < compacted_ || at > rv_) {
      return failure(410, "Expired",
                     "The provided continue parameter is too old to display a consistent list "
                     "result. You can start a new list without the continue parameter.");
    }
    snapshot = snapshot_at(r, at);
  } else if (const Objects* now = objects_of(r)) {
    snapshot = *now;
  }
  json items = json::array();
  std::string last_key;
  std::size_t remaining = 0;
  for (auto it = start.empty() ? snapshot.begin() : snapshot.upper_bound(start);
       it != snapshot.end(); ++it) {
    if (!filter.matches(it->second)) {
      continue;
    }
    if (limit > 0 && items.size() >= limit) {
      ++remaining;
      continue;
    }
    items.push_back(without_type_meta(it->second));
    last_key = it->first;
  }
  json meta = {{"resourceVersion", std::to_string(at)}};
  if (remaining > 0) {
    meta["continue"] = encode_continue(at, last_key);
    if (!uses_selectors(filter)) {
      meta["remainingItemCount"] = remaining;
    }
  }
  return success(json{{"kind", r.list_kind()},
                      {"apiVersion", r.group_version()},
                      {"metadata", meta},
                      {"items", items}});
}

Outcome<std::vector<Store::Change>> Store::watch_start(const Filter& filter,
                                                       const std::string& rv) const {
  std::vector<Change> out;
  if (rv.empty() || rv == "0") {
    for (auto& object : objects(filter)) {
      out.emplace_back(EventType::kAdded, std::move(object));
    }
    return out;
  }
  std::uint64_t from = 0;
  if (!parse_u64(rv, from)) {
    return bad_request(fmt::format("invalid resource version \"{}\"", rv));
  }
  if (from < compacted_) {
    return failure(410, "Expired",
                   fmt::format("too old resource version: {} ({})", from, compacted_));
  }
  for (const auto& e : history_) {
    if (e.rv <= from) {
      continue;
    }
    if (auto change = translate(e, filter)) {
      out.push_back(std::move(*change));
    }
  }
  return out;
}

std::uint64_t Store::subscribe(Listener listener) {
  const auto id = next_listener_++;
  listeners_.emplace(id, std::move(listener));
  return id;
}

void Store::unsubscribe(std::uint64_t id) {
  listeners_.erase(id);
}

void Store::compact() {
  compacted_ = rv_;
  history_.clear();
}

json Store::dump() const {
  json objects = json::array();
  for (const auto& [resource, by_key] : objects_) {
    for (const auto& [key, object] : by_key) {
      objects.push_back({{"resource", resource}, {"object", object}});
    }
  }
  return {{"resourceVersion", rv_}, {"objects", objects}};
}

Outcome<void> Store::restore(const json& state) {
  if (!state.is_object() || !state.contains("resourceVersion") ||
      !state["resourceVersion"].is_number_unsigned() || !state.contains("objects") ||
      !state["objects"].is_array()) {
    return bad_request("state: want resourceVersion and objects");
  }
  std::map<std::string, Objects> loaded;
  for (const auto& entry : state["objects"]) {
    const Resource* r =
        entry.is_object() && entry.contains("resource") && entry["resource"].is_string()
            ? find_resource(entry["resource"].get<std::string>())
            : nullptr;
    if (r == nullptr || !entry.contains("object") || !entry["object"].is_object()) {
      return bad_request("state: an entry has no known resource or no object");
    }
    const json& object = entry["object"];
    loaded[r->qualified()][object_key(*r, str(object, "metadata.namespace"),
                                      str(object, "metadata.name"))] = object;
  }
  objects_ = std::move(loaded);
  rv_ = state["resourceVersion"].get<std::uint64_t>();
  history_.clear();
  compacted_ = rv_;
  return {};
}

}  // namespace weft::test::fake

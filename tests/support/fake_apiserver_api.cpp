#include "tests/support/fake_apiserver_api.hpp"

#include <charconv>
#include <optional>

#include <fmt/format.h>

namespace weft::test::fake {

using kube::EventType;
using nlohmann::json;

namespace {

constexpr std::size_t kMaxBodyBytes = 3 * 1024 * 1024;

Reply json_reply(int status, const json& body) {
  return Reply{status, "application/json",
               body.dump(-1, ' ', false, json::error_handler_t::replace)};
}

Failure unknown_path() {
  Failure f = failure(404, "NotFound", "the server could not find the requested resource");
  return f;
}

Failure method_not_allowed() {
  return failure(405, "MethodNotAllowed",
                 "the server does not allow this method on the requested resource");
}

std::string trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return std::string(s);
}

// The media type without parameters, lower case.
std::string media_type(std::string_view content_type) {
  std::string out = trim(content_type.substr(0, content_type.find(';')));
  for (auto& c : out) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

struct Negotiated {
  bool acceptable = false;
  bool table = false;
  std::string table_version = "v1";
};

// Accept: the first media range we can produce wins; "as=Table;g=meta.k8s.io;v=v1|v1beta1"
// asks for server-side printing; other "as=" transformations are skipped (not supported).
Negotiated negotiate(std::string_view accept) {
  Negotiated out;
  if (trim(accept).empty()) {
    out.acceptable = true;
    return out;
  }
  std::size_t start = 0;
  while (start <= accept.size()) {
    auto comma = accept.find(',', start);
    const auto range =
        accept.substr(start, comma == std::string_view::npos ? accept.npos : comma - start);
    start = comma == std::string_view::npos ? accept.size() + 1 : comma + 1;
    const auto type = media_type(range);
    if (type != "application/json" && type != "*/*" && type != "application/*") {
      continue;
    }
    std::string as;
    std::string group;
    std::string version;
    std::size_t p = range.find(';');
    while (p != std::string_view::npos) {
      auto next = range.find(';', p + 1);
      const auto param =
          range.substr(p + 1, next == std::string_view::npos ? range.npos : next - p - 1);
      const auto eq = param.find('=');
      if (eq != std::string_view::npos) {
        const auto key = trim(param.substr(0, eq));
        const auto value = trim(param.substr(eq + 1));
        if (key == "as") {
          as = value;
        } else if (key == "g") {
          group = value;
        } else if (key == "v") {
          version = value;
        }
      }
      p = next;
    }
    if (as.empty()) {
      out.acceptable = true;
      return out;
    }
    if (as == "Table" && group == "meta.k8s.io" && (version == "v1" || version == "v1beta1")) {
      out.acceptable = true;
      out.table = true;
      out.table_version = version;
      return out;
    }
  }
  return out;
}

struct Target {
  const Resource* resource = nullptr;
  std::string ns;
  std::string name;
  std::string sub;
};

// Resolves /api/v1/... and /apis/<g>/<v>/... to a resource; nullopt for the version root
// (discovery).
Outcome<std::optional<Target>> resolve(const std::vector<std::string>& seg) {
  std::string group;
  std::string version;
  std::size_t at = 0;
  if (seg.size() >= 2 && seg[0] == "api") {
    version = seg[1];
    at = 2;
  } else if (seg.size() >= 3 && seg[0] == "apis") {
    group = seg[1];
    version = seg[2];
    at = 3;
  } else {
    return unknown_path();
  }
  if (at == seg.size()) {
    return std::optional<Target>();
  }
  Target t;
  if (seg[at] == "namespaces" && seg.size() >= at + 3) {
    const Resource* r = find_resource(group, version, seg[at + 2]);
    if (r != nullptr && r->namespaced) {
      t.resource = r;
      t.ns = seg[at + 1];
      at += 3;
    }
  }
  if (t.resource == nullptr) {
    t.resource = find_resource(group, version, seg[at]);
    if (t.resource == nullptr) {
      return unknown_path();
    }
    ++at;
  }
  const std::size_t rest = seg.size() - at;
  if (rest > 2 || (rest > 0 && t.resource->namespaced && t.ns.empty())) {
    return unknown_path();
  }
  if (rest >= 1) {
    t.name = seg[at];
  }
  if (rest == 2) {
    t.sub = seg[at + 1];
    if (t.sub != "status" || !t.resource->status_subresource) {
      return unknown_path();
    }
  }
  return std::optional<Target>(std::move(t));
}

Outcome<Filter> make_filter(const Resource& r, const std::string& ns, const QueryParams& query) {
  Filter f;
  f.resource = &r;
  f.ns = ns;
  if (auto it = query.find("labelSelector"); it != query.end()) {
    auto parsed = kube::parse_label_selector(it->second);
    if (!parsed) {
      return bad_request(fmt::format("unable to parse requirement: {}", parsed.error().message));
    }
    f.labels = std::move(*parsed);
  }
  if (auto it = query.find("fieldSelector"); it != query.end()) {
    auto parsed = kube::parse_field_selector(it->second);
    if (!parsed) {
      return bad_request(parsed.error().message);
    }
    for (const auto& req : parsed->requirements) {
      const bool known = req.field == "metadata.name" ||
                         (r.namespaced && req.field == "metadata.namespace") ||
                         std::find(r.field_labels.begin(), r.field_labels.end(), req.field) !=
                             r.field_labels.end();
      if (!known) {
        return bad_request(fmt::format("field label not supported: {}", req.field));
      }
    }
    f.fields = std::move(*parsed);
  }
  return f;
}

std::string query(const ApiRequest& req, const char* key) {
  auto it = req.parsed.query.find(key);
  return it == req.parsed.query.end() ? std::string() : it->second;
}

Outcome<json> body_object(const ApiRequest& req) {
  auto parsed = parse_json_body(req.body, 64, kMaxBodyBytes);
  if (!parsed || !parsed->is_object()) {
    return bad_request(
        "the body of the request was in an unknown format - accepted media types "
        "include: application/json");
  }
  return success(std::move(*parsed));
}

Reply object_reply(int status, const Target& t, const json& object, const Negotiated& n,
                   const ApiRequest& req) {
  if (n.table) {
    auto include = query(req, "includeObject");
    return json_reply(
        status, table(*t.resource, {&object},
                      kube::field_value(object, "metadata.resourceVersion").value_or(""), include,
                      n.table_version));
  }
  return json_reply(status, object);
}

Reply with_outcome(const Outcome<json>& outcome, int status, const Target& t, const Negotiated& n,
                   const ApiRequest& req) {
  if (!outcome) {
    return failure_reply(outcome.error());
  }
  return object_reply(status, t, *outcome, n, req);
}

Reply list(Store& store, const Target& t, const Negotiated& n, const ApiRequest& req) {
  auto filter = make_filter(*t.resource, t.ns, req.parsed.query);
  if (!filter) {
    return failure_reply(filter.error());
  }
  std::size_t limit = 0;
  const auto limit_text = query(req, "limit");
  if (!limit_text.empty()) {
    auto [ptr, ec] =
        std::from_chars(limit_text.data(), limit_text.data() + limit_text.size(), limit);
    if (ec != std::errc() || ptr != limit_text.data() + limit_text.size()) {
      return failure_reply(bad_request(fmt::format("invalid limit \"{}\"", limit_text)));
    }
  }
  auto listed = store.list(*filter, limit, query(req, "continue"));
  if (!listed) {
    return failure_reply(listed.error());
  }
  if (!n.table) {
    return json_reply(200, *listed);
  }
  std::vector<const json*> items;
  for (const auto& item : (*listed)["items"]) {
    items.push_back(&item);
  }
  json t_json = table(*t.resource, items, (*listed)["metadata"]["resourceVersion"],
                      query(req, "includeObject"), n.table_version);
  if ((*listed)["metadata"].contains("continue")) {
    t_json["metadata"]["continue"] = (*listed)["metadata"]["continue"];
  }
  return json_reply(200, t_json);
}

Outcome<PatchKind> patch_kind(const ApiRequest& req) {
  const auto type = media_type(req.content_type);
  if (type == "application/merge-patch+json") {
    return PatchKind::kMerge;
  }
  if (type == "application/strategic-merge-patch+json") {
    return PatchKind::kStrategicMerge;
  }
  if (type == "application/json-patch+json") {
    return PatchKind::kJson;
  }
  return failure(415, "UnsupportedMediaType",
                 fmt::format("the body of the request was in an unknown format - accepted media "
                             "types include: application/json-patch+json, "
                             "application/merge-patch+json, "
                             "application/strategic-merge-patch+json (not {})",
                             type));
}

bool json_body_type(const ApiRequest& req) {
  const auto type = media_type(req.content_type);
  return type.empty() || type == "application/json";
}

Reply unsupported_body(const ApiRequest& req) {
  return failure_reply(failure(415, "UnsupportedMediaType",
                               fmt::format("the body of the request was in an unknown format - "
                                           "accepted media types include: application/json "
                                           "(not {})",
                                           media_type(req.content_type))));
}

Reply resource_request(Store& store, const Target& t, const ApiRequest& req) {
  const Negotiated n = negotiate(req.accept);
  if (!n.acceptable) {
    return failure_reply(failure(406, "NotAcceptable",
                                 "only the following media types are accepted: application/json"));
  }
  const Resource& r = *t.resource;
  const bool status_only = t.sub == "status";
  if (t.name.empty()) {
    if (req.method == Method::kGet) {
      return list(store, t, n, req);
    }
    if (req.method == Method::kPost && (!r.namespaced || !t.ns.empty())) {
      if (!json_body_type(req)) {
        return unsupported_body(req);
      }
      auto body = body_object(req);
      if (!body) {
        return failure_reply(body.error());
      }
      return with_outcome(store.create(r, t.ns, std::move(*body)), 201, t, n, req);
    }
    return failure_reply(method_not_allowed());
  }
  switch (req.method) {
    case Method::kGet:
      return with_outcome(store.get(r, t.ns, t.name), 200, t, n, req);
    case Method::kPut: {
      if (!json_body_type(req)) {
        return unsupported_body(req);
      }
      auto body = body_object(req);
      if (!body) {
        return failure_reply(body.error());
      }
      return with_outcome(store.update(r, t.ns, t.name, std::move(*body), status_only), 200, t, n,
                          req);
    }
    case Method::kPatch: {
      auto kind = patch_kind(req);
      if (!kind) {
        return failure_reply(kind.error());
      }
      auto patch = parse_json_body(req.body, 64, kMaxBodyBytes);
      if (!patch) {
        return failure_reply(bad_request("the patch is not valid JSON"));
      }
      return with_outcome(store.patch(r, t.ns, t.name, *kind, *patch, status_only), 200, t, n, req);
    }
    case Method::kDelete: {
      if (status_only) {
        return failure_reply(method_not_allowed());
      }
      json preconditions;
      if (!req.body.empty()) {
        auto options = body_object(req);
        if (!options) {
          return failure_reply(options.error());
        }
        preconditions = options->value("preconditions", json());
      }
      auto removed = store.remove(r, t.ns, t.name, preconditions);
      if (!removed) {
        return failure_reply(removed.error());
      }
      if (r.return_deleted_object) {
        return object_reply(200, t, *removed, n, req);
      }
      return json_reply(200, success_status(r, *removed));
    }
    default:
      return failure_reply(method_not_allowed());
  }
}

Reply discovery(const ApiRequest& req, const std::string& server_address) {
  const auto& seg = req.parsed.segments;
  if (req.method != Method::kGet) {
    return failure_reply(method_not_allowed());
  }
  if (seg.size() == 1 && (seg[0] == "healthz" || seg[0] == "livez" || seg[0] == "readyz")) {
    return Reply{200, "text/plain; charset=utf-8", "ok"};
  }
  if (seg.size() == 1 && seg[0] == "version") {
    return json_reply(200, version_info());
  }
  if (seg.size() == 1 && seg[0] == "api") {
    return json_reply(200, api_versions(server_address));
  }
  if (seg.size() == 1 && seg[0] == "apis") {
    return json_reply(200, api_group_list());
  }
  if (seg.size() == 2 && seg[0] == "apis") {
    json group = api_group(seg[1]);
    return group.is_null() ? failure_reply(unknown_path()) : json_reply(200, group);
  }
  if ((seg.size() == 2 && seg[0] == "api") || (seg.size() == 3 && seg[0] == "apis")) {
    json list = seg[0] == "api" ? resource_list("", seg[1]) : resource_list(seg[1], seg[2]);
    return list.is_null() ? failure_reply(unknown_path()) : json_reply(200, list);
  }
  if (seg.size() == 2 && seg[0] == "openapi" && seg[1] == "v2") {
    if (req.accept.find("protobuf") != std::string::npos) {
      // kube-openapi answers protobuf as application/octet-stream (the proto media type of
      // the Accept header does not parse as a Content-Type).
      return Reply{200, "application/octet-stream", openapi_v2_protobuf()};
    }
    return json_reply(200, openapi_v2_json());
  }
  return failure_reply(unknown_path());
}

}  // namespace

bool is_watch(const ApiRequest& req) {
  if (req.method != Method::kGet) {
    return false;
  }
  const auto watch = query(req, "watch");
  if (watch != "1" && watch != "true") {
    return false;
  }
  auto target = resolve(req.parsed.segments);
  return target && *target && (*target)->name.empty();
}

Reply handle(Store& store, const ApiRequest& req, const std::string& server_address) {
  const auto& seg = req.parsed.segments;
  const bool api_path = (!seg.empty() && seg[0] == "api" && seg.size() > 2) ||
                        (!seg.empty() && seg[0] == "apis" && seg.size() > 3);
  if (!api_path) {
    return discovery(req, server_address);
  }
  auto target = resolve(seg);
  if (!target) {
    return failure_reply(target.error());
  }
  return resource_request(store, **target, req);
}

Outcome<WatchPlan> plan_watch(const Store& store, const ApiRequest& req) {
  auto target = resolve(req.parsed.segments);
  if (!target || !*target) {
    return unknown_path();
  }
  auto filter = make_filter(*(*target)->resource, (*target)->ns, req.parsed.query);
  if (!filter) {
    return filter.error();
  }
  WatchPlan plan;
  plan.filter = std::move(*filter);
  auto initial = store.watch_start(plan.filter, query(req, "resourceVersion"));
  if (!initial) {
    return initial.error();
  }
  plan.initial = std::move(*initial);
  plan.bookmarks =
      query(req, "allowWatchBookmarks") == "true" || query(req, "allowWatchBookmarks") == "1";
  const auto timeout = query(req, "timeoutSeconds");
  if (!timeout.empty()) {
    std::int64_t seconds = 0;
    auto [ptr, ec] = std::from_chars(timeout.data(), timeout.data() + timeout.size(), seconds);
    if (ec != std::errc() || ptr != timeout.data() + timeout.size() || seconds < 0) {
      return bad_request(fmt::format("invalid timeoutSeconds \"{}\"", timeout));
    }
    if (seconds > 0) {
      plan.timeout = std::chrono::seconds(seconds);
    }
  }
  return plan;
}

Reply failure_reply(const Failure& f) {
  return json_reply(f.code, status_json(f));
}

std::string event_line(EventType type, const json& object) {
  json event = {{"type", kube::to_string(type)}, {"object", object}};
  return event.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
}

std::string bookmark_line(const Resource& r, std::uint64_t rv) {
  json object = {
      {"kind", r.kind},
      {"apiVersion", r.group_version()},
      {"metadata", {{"resourceVersion", std::to_string(rv)}, {"creationTimestamp", nullptr}}}};
  return event_line(EventType::kBookmark, object);
}

}  // namespace weft::test::fake

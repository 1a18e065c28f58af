// The REST layer of the fake API server: one parsed HTTP request in, one reply out (or, for
// a watch, what the stream starts with). Routing of /api, /apis, discovery and OpenAPI,
// content negotiation (JSON, Table), selectors, body types, and the mapping of store
// outcomes to HTTP statuses with Status bodies.
//
// Contract: pure functions of (store, request), single-threaded; authentication and the
// /_fake/ controls belong to the server (fake_apiserver.cpp).
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/http.hpp"
#include "common/http_parse.hpp"
#include "tests/support/fake_apiserver_store.hpp"

namespace weft::test::fake {

struct ApiRequest {
  Method method = Method::kGet;
  std::string target;
  ParsedTarget parsed;
  std::string accept;
  std::string content_type;
  std::string body;
};

struct Reply {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
};

struct WatchPlan {
  Filter filter;
  std::vector<Store::Change> initial;  // sent before live events
  bool bookmarks = false;
  std::chrono::seconds timeout{1800};
};

// A GET of a collection with watch=1 or watch=true.
bool is_watch(const ApiRequest& req);
Reply handle(Store& store, const ApiRequest& req, const std::string& server_address);
Outcome<WatchPlan> plan_watch(const Store& store, const ApiRequest& req);

Reply failure_reply(const Failure& f);
// {"type":"ADDED","object":{...}} and a newline.
std::string event_line(kube::EventType type, const nlohmann::json& object);
std::string bookmark_line(const Resource& r, std::uint64_t rv);

}  // namespace weft::test::fake

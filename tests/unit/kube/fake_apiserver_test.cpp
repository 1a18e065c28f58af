// The fake API server's REST layer and store without the network (fake::handle on parsed
// requests): what upstream does on create/update/patch/delete, list pagination with
// consistent snapshots, watch starts with resourceVersions, selectors and 410, namespaces,
// discovery, Tables, and persistence.
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/http_parse.hpp"
#include "tests/support/fake_apiserver_api.hpp"

namespace weft::test::fake {
namespace {

using kube::EventType;
using nlohmann::json;

class FakeApi : public ::testing::Test {
 protected:
  void SetUp() override {
    store_.set_deferred_namespace_deletion(false);
    ASSERT_EQ(call(Method::kPost, "/api/v1/namespaces", R"({"metadata":{"name":"shop"}})").status,
              201);
  }

  Reply call(Method method, const std::string& target, const std::string& body = {},
             const std::string& content_type = "application/json",
             const std::string& accept = "application/json") {
    ApiRequest req;
    req.method = method;
    req.target = target;
    req.parsed = parse_target(target).value();
    req.body = body;
    req.content_type = content_type;
    req.accept = accept;
    return handle(store_, req, "127.0.0.1:6443");
  }
  json call_json(Method method, const std::string& target, const std::string& body = {},
                 int want = 200, const std::string& content_type = "application/json") {
    Reply r = call(method, target, body, content_type);
    EXPECT_EQ(r.status, want) << target << ": " << r.body;
    return json::parse(r.body);
  }
  json pod(const std::string& name, json labels = json::object()) {
    return {{"apiVersion", "v1"},
            {"kind", "Pod"},
            {"metadata", {{"name", name}, {"labels", std::move(labels)}}},
            {"spec",
             {{"containers",
               {{{"name", "c"}, {"image", "busybox"}, {"ports", {{{"containerPort", 80}}}}}}}}}};
  }
  json create_pod(const std::string& name, json labels = json::object()) {
    return call_json(Method::kPost, "/api/v1/namespaces/shop/pods",
                     pod(name, std::move(labels)).dump(), 201);
  }
  Outcome<WatchPlan> watch(const std::string& target) {
    ApiRequest req;
    req.target = target;
    req.parsed = parse_target(target).value();
    EXPECT_TRUE(is_watch(req)) << target;
    return plan_watch(store_, req);
  }

  Store store_;
};

TEST_F(FakeApi, CreateSetsServerFieldsAndUpstreamDefaults) {
  json created = create_pod("web", {{"app", "web"}});
  EXPECT_EQ(created["metadata"]["namespace"], "shop");
  EXPECT_EQ(created["metadata"]["uid"].get<std::string>().size(), 36u);
  EXPECT_FALSE(created["metadata"]["creationTimestamp"].get<std::string>().empty());
  EXPECT_EQ(created["metadata"]["resourceVersion"], std::to_string(store_.resource_version()));
  EXPECT_EQ(created["spec"]["containers"][0]["ports"][0]["protocol"], "TCP");
  EXPECT_EQ(created["spec"]["containers"][0]["imagePullPolicy"], "Always");
  EXPECT_EQ(created["spec"]["restartPolicy"], "Always");
  EXPECT_EQ(created["status"]["phase"], "Pending");
  EXPECT_FALSE(created["metadata"].contains("generation"));

  json ns = call_json(Method::kGet, "/api/v1/namespaces/shop");
  EXPECT_EQ(ns["metadata"]["labels"]["kubernetes.io/metadata.name"], "shop");
  EXPECT_EQ(ns["status"]["phase"], "Active");

  json np = call_json(Method::kPost, "/apis/networking.k8s.io/v1/namespaces/shop/networkpolicies",
                      R"({"metadata":{"name":"p"},"spec":{"podSelector":{},
                          "egress":[{"ports":[{"port":53,"protocol":"UDP"},{"port":80}]}]}})",
                      201);
  EXPECT_EQ(np["metadata"]["generation"], 1);
  EXPECT_EQ(np["spec"]["policyTypes"], json({"Ingress", "Egress"}));
  EXPECT_EQ(np["spec"]["egress"][0]["ports"][1]["protocol"], "TCP");
  EXPECT_EQ(np["kind"], "NetworkPolicy");

  json generated = call_json(Method::kPost, "/api/v1/namespaces/shop/configmaps",
                             R"({"metadata":{"generateName":"cfg-"},"data":{"a":"b"}})", 201);
  const auto name = generated["metadata"]["name"].get<std::string>();
  EXPECT_TRUE(name.starts_with("cfg-") && name.size() == 9) << name;
}

TEST_F(FakeApi, CreateErrorsAsUpstream) {
  create_pod("web");
  json again = call_json(Method::kPost, "/api/v1/namespaces/shop/pods", pod("web").dump(), 409);
  EXPECT_EQ(again["reason"], "AlreadyExists");
  EXPECT_EQ(again["message"], "pods \"web\" already exists");
  EXPECT_EQ(again["details"]["name"], "web");
  json no_ns = call_json(Method::kPost, "/api/v1/namespaces/nope/pods", pod("x").dump(), 404);
  EXPECT_EQ(no_ns["message"], "namespaces \"nope\" not found");
  json wrong_ns = pod("y");
  wrong_ns["metadata"]["namespace"] = "other";
  EXPECT_EQ(call(Method::kPost, "/api/v1/namespaces/shop/pods", wrong_ns.dump()).status, 400);
  json bad_name =
      call_json(Method::kPost, "/api/v1/namespaces/shop/pods", pod("Web_1").dump(), 422);
  EXPECT_EQ(bad_name["reason"], "Invalid");
  EXPECT_EQ(
      call(Method::kPost, "/api/v1/namespaces/shop/pods", R"({"metadata":{"name":"z"}})").status,
      422);  // no containers
  EXPECT_EQ(call(Method::kPost, "/api/v1/namespaces/shop/pods", "not json").status, 400);
  EXPECT_EQ(call(Method::kPost, "/api/v1/namespaces/shop/pods", pod("q").dump(), "application/yaml")
                .status,
            415);
  EXPECT_EQ(call(Method::kPost, "/api/v1/pods", pod("q").dump()).status, 405);
  json kind = pod("k");
  kind["kind"] = "Service";
  EXPECT_EQ(call(Method::kPost, "/api/v1/namespaces/shop/pods", kind.dump()).status, 400);
  EXPECT_EQ(call(Method::kGet, "/api/v1/namespaces/shop/services").status, 404);
  EXPECT_EQ(call(Method::kGet, "/api/v1/namespaces/shop/pods/web/log").status, 404);
}

TEST_F(FakeApi, UpdateChecksResourceVersionAndKeepsStatus) {
  json web = create_pod("web");
  const auto rv = web["metadata"]["resourceVersion"].get<std::string>();
  json changed = web;
  changed["metadata"]["labels"] = {{"a", "b"}};
  changed["status"]["phase"] = "Running";  // ignored on the main resource
  json updated = call_json(Method::kPut, "/api/v1/namespaces/shop/pods/web", changed.dump());
  EXPECT_NE(updated["metadata"]["resourceVersion"], rv);
  EXPECT_EQ(updated["status"]["phase"], "Pending");
  json stale = call_json(Method::kPut, "/api/v1/namespaces/shop/pods/web", changed.dump(), 409);
  EXPECT_EQ(stale["reason"], "Conflict");
  // A no-op update is no new version.
  const auto before = store_.resource_version();
  json same = call_json(Method::kPut, "/api/v1/namespaces/shop/pods/web", updated.dump());
  EXPECT_EQ(same["metadata"]["resourceVersion"], updated["metadata"]["resourceVersion"]);
  EXPECT_EQ(store_.resource_version(), before);
  // /status changes only the status.
  json status = updated;
  status["status"]["podIP"] = "10.32.0.5";
  status["metadata"]["labels"] = json::object();
  json after = call_json(Method::kPut, "/api/v1/namespaces/shop/pods/web/status", status.dump());
  EXPECT_EQ(after["status"]["podIP"], "10.32.0.5");
  EXPECT_EQ(after["metadata"]["labels"], json({{"a", "b"}}));
  // Pod specs are immutable but for images.
  json spec = after;
  spec["spec"]["containers"][0]["ports"][0]["containerPort"] = 81;
  EXPECT_EQ(call(Method::kPut, "/api/v1/namespaces/shop/pods/web", spec.dump()).status, 422);
  EXPECT_EQ(call(Method::kPut, "/api/v1/namespaces/shop/pods/nope", spec.dump()).status, 400);
}

TEST_F(FakeApi, MergeStrategicAndJsonPatches) {
  create_pod("web", {{"app", "web"}, {"old", "x"}});
  const std::string path = "/api/v1/namespaces/shop/pods/web";
  json merged = call_json(Method::kPatch, path, R"({"metadata":{"labels":{"k":"v","old":null}}})",
                          200, "application/merge-patch+json");
  EXPECT_EQ(merged["metadata"]["labels"], json({{"app", "web"}, {"k", "v"}}));
  json strategic = call_json(Method::kPatch, path,
                             R"({"$setElementOrder/x":[],"metadata":{"annotations":{"note":"n"}}})",
                             200, "application/strategic-merge-patch+json");
  EXPECT_EQ(strategic["metadata"]["annotations"]["note"], "n");
  EXPECT_EQ(call(Method::kPatch, path, R"({"metadata":{"$patch":"replace"}})",
                 "application/strategic-merge-patch+json")
                .status,
            400);
  json patched = call_json(Method::kPatch, path,
                           R"([{"op":"replace","path":"/metadata/labels/k","value":"w"}])", 200,
                           "application/json-patch+json");
  EXPECT_EQ(patched["metadata"]["labels"]["k"], "w");
  EXPECT_EQ(call(Method::kPatch, path, R"([{"op":"remove","path":"/nope"}])",
                 "application/json-patch+json")
                .status,
            422);
  EXPECT_EQ(call(Method::kPatch, path, R"({"metadata":{"resourceVersion":"1"}})",
                 "application/merge-patch+json")
                .status,
            409);
  EXPECT_EQ(call(Method::kPatch, path, "{}", "application/apply-patch+yaml").status, 415);
  json status = call_json(Method::kPatch, path + "/status", R"({"status":{"podIP":"10.0.0.9"}})",
                          200, "application/merge-patch+json");
  EXPECT_EQ(status["status"]["podIP"], "10.0.0.9");
}

TEST_F(FakeApi, DeleteReturnsWhatUpstreamReturns) {
  create_pod("web");
  call_json(Method::kPost, "/api/v1/namespaces/shop/configmaps", R"({"metadata":{"name":"c"}})",
            201);
  json gone =
      call_json(Method::kDelete, "/api/v1/namespaces/shop/pods/web",
                R"({"kind":"DeleteOptions","apiVersion":"v1","propagationPolicy":"Background"})");
  EXPECT_EQ(gone["kind"], "Pod");
  EXPECT_FALSE(gone["metadata"]["deletionTimestamp"].get<std::string>().empty());
  json status = call_json(Method::kDelete, "/api/v1/namespaces/shop/configmaps/c");
  EXPECT_EQ(status["kind"], "Status");
  EXPECT_EQ(status["status"], "Success");
  EXPECT_EQ(status["details"]["name"], "c");
  EXPECT_EQ(call(Method::kDelete, "/api/v1/namespaces/shop/pods/web").status, 404);
  create_pod("p2");
  EXPECT_EQ(call(Method::kDelete, "/api/v1/namespaces/shop/pods/p2",
                 R"({"preconditions":{"uid":"not-it"}})")
                .status,
            409);
}

TEST_F(FakeApi, NamespaceDeletionTakesItsObjects) {
  create_pod("a");
  create_pod("b");
  Filter all_pods;
  all_pods.resource = find_resource("pods");
  auto plan = store_.watch_start(all_pods, std::to_string(store_.resource_version()));
  ASSERT_TRUE(plan);
  std::vector<std::string> seen;
  store_.subscribe([&](const Event& e) {
    if (auto change = translate(e, all_pods)) {
      seen.push_back(std::string(kube::to_string(change->first)) + " " +
                     change->second["metadata"]["name"].get<std::string>());
    }
  });
  json ns = call_json(Method::kDelete, "/api/v1/namespaces/shop");
  EXPECT_EQ(ns["status"]["phase"], "Terminating");
  EXPECT_EQ(seen, (std::vector<std::string>{"DELETED a", "DELETED b"}));
  EXPECT_TRUE(store_.objects(all_pods).empty());
  EXPECT_EQ(call(Method::kGet, "/api/v1/namespaces/shop").status, 404);
}

TEST_F(FakeApi, DeferredNamespaceDeletionForbidsNewContent) {
  store_.set_deferred_namespace_deletion(true);
  create_pod("a");
  json ns = call_json(Method::kDelete, "/api/v1/namespaces/shop");
  EXPECT_EQ(ns["status"]["phase"], "Terminating");
  EXPECT_EQ(call(Method::kGet, "/api/v1/namespaces/shop/pods/a").status, 200);
  json refused = call_json(Method::kPost, "/api/v1/namespaces/shop/pods", pod("b").dump(), 403);
  EXPECT_EQ(refused["reason"], "Forbidden");
  ASSERT_TRUE(store_.finalize_namespace("shop"));
  EXPECT_EQ(call(Method::kGet, "/api/v1/namespaces/shop/pods/a").status, 404);
  EXPECT_EQ(call(Method::kGet, "/api/v1/namespaces/shop").status, 404);
}

TEST_F(FakeApi, ListsWithSelectorsAndConsistentPages) {
  for (const char* name : {"a", "b", "c", "d", "e"}) {
    create_pod(name, {{"app", name[0] < 'c' ? "web" : "db"}});
  }
  json web = call_json(Method::kGet, "/api/v1/namespaces/shop/pods?labelSelector=app%3Dweb");
  EXPECT_EQ(web["items"].size(), 2u);
  EXPECT_FALSE(web["items"][0].contains("kind"));  // as upstream: items carry no type meta
  json in = call_json(Method::kGet, "/api/v1/pods?labelSelector=app+in+(db),app!%3Dweb");
  EXPECT_EQ(in["items"].size(), 3u);
  json by_name = call_json(Method::kGet, "/api/v1/pods?fieldSelector=metadata.name%3Dc");
  ASSERT_EQ(by_name["items"].size(), 1u);
  EXPECT_EQ(by_name["items"][0]["metadata"]["name"], "c");
  json bad = call_json(Method::kGet, "/api/v1/pods?labelSelector=app+in", {}, 400);
  EXPECT_EQ(bad["reason"], "BadRequest");
  json field = call_json(Method::kGet, "/api/v1/pods?fieldSelector=spec.hostname%3Dx", {}, 400);
  EXPECT_EQ(field["message"], "field label not supported: spec.hostname");
  EXPECT_EQ(call(Method::kGet, "/api/v1/pods?fieldSelector=spec.nodeName%3D").status, 200);

  json page1 = call_json(Method::kGet, "/api/v1/namespaces/shop/pods?limit=2");
  ASSERT_EQ(page1["items"].size(), 2u);
  EXPECT_EQ(page1["metadata"]["remainingItemCount"], 3);
  const std::string token = page1["metadata"]["continue"];
  // Changes after the first page do not show in the later pages of the same list.
  create_pod("bb");
  call_json(Method::kDelete, "/api/v1/namespaces/shop/pods/e");
  json page2 = call_json(Method::kGet,
                         "/api/v1/namespaces/shop/pods?limit=2&continue=" + percent_encode(token));
  ASSERT_EQ(page2["items"].size(), 2u);
  EXPECT_EQ(page2["items"][0]["metadata"]["name"], "c");
  EXPECT_EQ(page2["metadata"]["resourceVersion"], page1["metadata"]["resourceVersion"]);
  json page3 =
      call_json(Method::kGet, "/api/v1/namespaces/shop/pods?limit=2&continue=" +
                                  percent_encode(page2["metadata"]["continue"].get<std::string>()));
  ASSERT_EQ(page3["items"].size(), 1u);
  EXPECT_EQ(page3["items"][0]["metadata"]["name"], "e");
  EXPECT_FALSE(page3["metadata"].contains("continue"));
  store_.compact();
  json expired =
      call_json(Method::kGet,
                "/api/v1/namespaces/shop/pods?limit=2&continue=" + percent_encode(token), {}, 410);
  EXPECT_EQ(expired["reason"], "Expired");
  EXPECT_EQ(call(Method::kGet, "/api/v1/pods?continue=garbage").status, 400);
}

TEST_F(FakeApi, WatchStartsFromResourceVersions) {
  create_pod("a", {{"app", "web"}});
  const auto rv = store_.resource_version();
  create_pod("b", {{"app", "web"}});
  auto from_zero = watch("/api/v1/namespaces/shop/pods?watch=1&resourceVersion=0");
  ASSERT_TRUE(from_zero);
  ASSERT_EQ(from_zero->initial.size(), 2u);
  EXPECT_EQ(from_zero->initial[0].first, EventType::kAdded);
  EXPECT_FALSE(from_zero->bookmarks);
  auto from_rv = watch(
      "/api/v1/pods?watch=true&allowWatchBookmarks=true&timeoutSeconds=7&"
      "resourceVersion=" +
      std::to_string(rv));
  ASSERT_TRUE(from_rv);
  ASSERT_EQ(from_rv->initial.size(), 1u);
  EXPECT_EQ(from_rv->initial[0].second["metadata"]["name"], "b");
  EXPECT_TRUE(from_rv->bookmarks);
  EXPECT_EQ(from_rv->timeout, std::chrono::seconds(7));
  store_.compact();
  auto gone = watch("/api/v1/pods?watch=1&resourceVersion=" + std::to_string(rv));
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().code, 410);
  EXPECT_EQ(gone.error().reason, "Expired");
  EXPECT_TRUE(
      watch("/api/v1/pods?watch=1&resourceVersion=" + std::to_string(store_.resource_version())));
  EXPECT_EQ(watch("/api/v1/pods?watch=1&resourceVersion=x").error().code, 400);
  EXPECT_EQ(watch("/api/v1/pods?watch=1&labelSelector=%3D").error().code, 400);
}

TEST_F(FakeApi, WatchSelectorsSeeObjectsEnterAndLeave) {
  Filter web;
  web.resource = find_resource("pods");
  web.labels = kube::parse_label_selector("app=web").value();
  std::vector<std::string> seen;
  store_.subscribe([&](const Event& e) {
    if (auto change = translate(e, web)) {
      seen.push_back(std::string(kube::to_string(change->first)) + " " +
                     change->second["metadata"]["resourceVersion"].get<std::string>());
    }
  });
  create_pod("a", {{"app", "db"}});
  const std::string path = "/api/v1/namespaces/shop/pods/a";
  call_json(Method::kPatch, path, R"({"metadata":{"labels":{"app":"web"}}})", 200,
            "application/merge-patch+json");
  const auto entered = store_.resource_version();
  call_json(Method::kPatch, path, R"({"metadata":{"labels":{"x":"1"}}})", 200,
            "application/merge-patch+json");
  call_json(Method::kPatch, path, R"({"metadata":{"labels":{"app":"db"}}})", 200,
            "application/merge-patch+json");
  const auto left = store_.resource_version();
  call_json(Method::kDelete, path);
  EXPECT_EQ(seen, (std::vector<std::string>{"ADDED " + std::to_string(entered),
                                            "MODIFIED " + std::to_string(entered + 1),
                                            "DELETED " + std::to_string(left)}));
}

TEST_F(FakeApi, DiscoveryOpenApiAndTables) {
  json api = call_json(Method::kGet, "/api");
  EXPECT_EQ(api["versions"], json({"v1"}));
  json core = call_json(Method::kGet, "/api/v1");
  std::vector<std::string> names;
  for (const auto& r : core["resources"]) {
    names.push_back(r["name"]);
  }
  EXPECT_EQ(names,
            (std::vector<std::string>{"namespaces", "namespaces/status", "pods", "pods/status",
                                      "nodes", "nodes/status", "configmaps"}));
  json groups = call_json(Method::kGet, "/apis");
  EXPECT_EQ(groups["groups"][0]["name"], "networking.k8s.io");
  EXPECT_EQ(call_json(Method::kGet, "/apis/networking.k8s.io/v1")["resources"][0]["kind"],
            "NetworkPolicy");
  EXPECT_EQ(call(Method::kGet, "/apis/apps/v1").status, 404);
  EXPECT_EQ(call_json(Method::kGet, "/version")["minor"], "23");
  EXPECT_EQ(call(Method::kGet, "/openapi/v3").status, 404);
  Reply pb = call(Method::kGet, "/openapi/v2", {}, {},
                  "application/com.github.proto-openapi.spec.v2@v1.0+protobuf");
  EXPECT_EQ(pb.status, 200);
  EXPECT_EQ(pb.content_type, "application/octet-stream");
  EXPECT_EQ(pb.body.substr(0, 5), std::string("\x0a\x03"
                                              "2.0",
                                              5));

  create_pod("web", {{"app", "web"}});
  Reply table = call(Method::kGet, "/api/v1/namespaces/shop/pods", {}, {},
                     "application/json;as=Table;v=v1;g=meta.k8s.io,application/json");
  json t = json::parse(table.body);
  EXPECT_EQ(t["kind"], "Table");
  EXPECT_EQ(t["columnDefinitions"][0]["name"], "Name");
  EXPECT_EQ(t["rows"][0]["cells"][0], "web");
  EXPECT_EQ(t["rows"][0]["cells"][1], "0/1");
  EXPECT_EQ(t["rows"][0]["cells"][2], "Pending");
  EXPECT_EQ(t["rows"][0]["object"]["kind"], "PartialObjectMetadata");
  EXPECT_EQ(
      call(Method::kGet, "/api/v1/pods", {}, {}, "application/vnd.kubernetes.protobuf").status,
      406);
}

TEST_F(FakeApi, DumpAndRestoreKeepObjectsAndVersion) {
  create_pod("a");
  const json state = store_.dump();
  Store other;
  ASSERT_TRUE(other.restore(state));
  EXPECT_EQ(other.resource_version(), store_.resource_version());
  EXPECT_TRUE(other.get(*find_resource("pods"), "shop", "a"));
  Filter pods;
  pods.resource = find_resource("pods");
  // History starts at the restored version: older resourceVersions are too old.
  EXPECT_FALSE(other.watch_start(pods, "1"));
  EXPECT_TRUE(other.watch_start(pods, std::to_string(other.resource_version())));
  EXPECT_FALSE(other.restore(json::array()));
}

}  // namespace
}  // namespace weft::test::fake

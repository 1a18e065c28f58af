#include "policy/manifest.hpp"

#include <gtest/gtest.h>

namespace weft::policy {
namespace {

using nlohmann::json;

TEST(PolicyManifest, YamlDocumentsListsAndTyping) {
  auto objects = parse_manifests(R"(
apiVersion: v1
kind: Namespace
metadata: {name: x, labels: {ns: x, quoted: "80", flag: "true"}}
---
# comment-only documents and empty ones are skipped
---
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Pod
  metadata: {name: a, namespace: x}
  spec:
    containers:
    - name: c
      ports:
      - {containerPort: 80, name: serve-80-tcp}
      - containerPort: 0x51
- apiVersion: networking.k8s.io/v1
  kind: NetworkPolicy
  metadata: {name: np, namespace: x}
  spec:
    podSelector: {}
    ingress:
    - ports: [{port: serve-80-tcp}, {port: 81, endPort: 90}]
)",
                                 "test.yaml");
  ASSERT_TRUE(objects) << objects.error().message;
  ASSERT_EQ(objects->size(), 3U);
  const json& ns = (*objects)[0];
  EXPECT_EQ(ns["metadata"]["labels"]["quoted"], "80");
  EXPECT_EQ(ns["metadata"]["labels"]["flag"], "true");
  const json& pod = (*objects)[1];
  EXPECT_EQ(pod["spec"]["containers"][0]["ports"][0]["containerPort"], 80);
  EXPECT_EQ(pod["spec"]["containers"][0]["ports"][1]["containerPort"], 81);
  const json& np = (*objects)[2];
  EXPECT_EQ(np["spec"]["ingress"][0]["ports"][0]["port"], "serve-80-tcp");
  EXPECT_EQ(np["spec"]["ingress"][0]["ports"][1]["endPort"], 90);
  EXPECT_TRUE(np["spec"]["podSelector"].is_object());
}

TEST(PolicyManifest, JsonAndJsonLists) {
  auto one = parse_manifests(R"({"kind": "Pod", "metadata": {"name": "a"}})", "a.json");
  ASSERT_TRUE(one);
  EXPECT_EQ(one->size(), 1U);
  auto list = parse_manifests(
      R"({"kind": "PodList", "items": [{"kind": "Pod", "metadata": {"name": "a"}}, {"kind": "Pod", "metadata": {"name": "b"}}]})",
      "l.json");
  ASSERT_TRUE(list);
  EXPECT_EQ(list->size(), 2U);
}

TEST(PolicyManifest, ErrorsNameSourceAndDocument) {
  auto bad = parse_manifests("kind: Pod\n---\njust a string\n", "f.yaml");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("f.yaml document 2"), std::string::npos)
      << bad.error().message;
  EXPECT_FALSE(parse_manifests("a: [1, 2\n", "broken.yaml"));
  EXPECT_FALSE(parse_manifests("kind: List\nitems: 3\n", "l.yaml"));
  auto int_tag = parse_manifests("kind: Pod\nx: !!int abc\n", "t.yaml");
  EXPECT_FALSE(int_tag);
}

TEST(PolicyManifest, AliasBombsStopAtTheBudget) {
  std::string text = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i < 12; ++i) {
    text += fmt::format("a{}: &a{} [*a{}, *a{}, *a{}, *a{}, *a{}, *a{}, *a{}, *a{}, *a{}, *a{}]\n",
                        i, i, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1);
  }
  text += "kind: Pod\n";
  auto result = parse_manifests(text, "bomb.yaml");
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, make_error_code(Errc::kTooLarge));
}

// Inputs on which yaml-cpp 0.7's own LoadAll loops forever (it reports empty documents
// without consuming input): an error, at once.
TEST(PolicyManifest, MalformedYamlThatStallsTheParserIsAnError) {
  for (const char* text : {",\n", "- !+(.,.)\n", "kind: Pod\n---\n,\n"}) {
    auto result = parse_manifests(text, "stall.yaml");
    EXPECT_FALSE(result) << text;
  }
}

TEST(PolicyManifest, WorkloadsBecomeOnePodEach) {
  auto objects = parse_manifests(R"(
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: c, ports: [{containerPort: 8080, name: http}]}]}
---
kind: CronJob
metadata: {name: nightly}
spec: {jobTemplate: {spec: {template: {metadata: {labels: {app: batch}}, spec: {containers: []}}}}}
---
kind: Service
metadata: {name: svc}
)",
                                 "w.yaml");
  ASSERT_TRUE(objects) << objects.error().message;
  auto web = pod_of((*objects)[0]);
  ASSERT_TRUE(web && *web);
  EXPECT_EQ((**web)["metadata"]["name"], "web");
  EXPECT_EQ((**web)["metadata"]["namespace"], "shop");
  EXPECT_EQ((**web)["metadata"]["labels"]["app"], "web");
  EXPECT_EQ((**web)["spec"]["containers"][0]["ports"][0]["name"], "http");
  auto batch = pod_of((*objects)[1]);
  ASSERT_TRUE(batch && *batch);
  EXPECT_EQ((**batch)["metadata"]["labels"]["app"], "batch");
  auto svc = pod_of((*objects)[2]);
  ASSERT_TRUE(svc);
  EXPECT_FALSE(*svc);
  EXPECT_FALSE(pod_of(json::parse(R"({"kind": "Deployment", "metadata": {"name": "d"}})")));
}

}  // namespace
}  // namespace weft::policy

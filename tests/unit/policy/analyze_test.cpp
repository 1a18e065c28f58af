#include "policy/analyze.hpp"

#include <cstdio>
#include <fstream>
#include <map>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "policy/command.hpp"
#include "policy/manifest.hpp"

namespace weft::policy {
namespace {

using nlohmann::json;

constexpr const char* kManifest = R"(
kind: Namespace
metadata: {name: shop, labels: {team: a}}
---
kind: Pod
metadata: {name: web, namespace: shop, labels: {app: web}}
spec: {containers: [{name: c, ports: [{containerPort: 8080, name: http}]}]}
---
kind: Deployment
metadata: {name: client, namespace: shop}
spec: {template: {metadata: {labels: {app: client}}, spec: {containers: [{name: c}]}}}
---
kind: Pod
metadata: {name: other, namespace: elsewhere, labels: {app: client}}
spec: {containers: [{name: c}]}
---
kind: NetworkPolicy
apiVersion: networking.k8s.io/v1
metadata: {name: web-from-clients, namespace: shop}
spec:
  podSelector: {matchLabels: {app: web}}
  ingress:
  - from:
    - podSelector: {matchLabels: {app: client}}
    - ipBlock: {cidr: 203.0.113.0/24, except: [203.0.113.128/25]}
    ports: [{port: http}]
---
kind: Service
metadata: {name: ignored, namespace: shop}
)";

std::map<std::string, bool> by_key(const std::vector<Connection>& connections) {
  std::map<std::string, bool> out;
  for (const auto& c : connections) {
    out[fmt::format("{} {} {} {}", c.src, c.dst, to_string(c.protocol),
                    c.port ? std::to_string(*c.port) : "other")] = c.allowed;
  }
  return out;
}

TEST(PolicyAnalyze, JudgesPairsPortsAndExternals) {
  auto objects = parse_manifests(kManifest, "m.yaml");
  ASSERT_TRUE(objects) << objects.error().message;
  AnalyzeOptions options;
  options.pod_cidrs = {*parse_cidr("198.19.0.0/24")};
  options.externals = {*parse_cidr("203.0.113.0/25"), *parse_cidr("203.0.113.128/25")};
  auto input = build_cluster(*objects, options);
  ASSERT_TRUE(input) << input.error().message;
  EXPECT_EQ(input->pods, (std::vector<std::string>{"shop/web", "shop/client", "elsewhere/other"}));
  ASSERT_EQ(input->warnings.size(), 1U);
  EXPECT_EQ(input->state.pods.at("shop/web").addresses.at(0).to_string(), "198.19.0.1");
  EXPECT_EQ(input->state.namespaces.at("elsewhere").labels.at("kubernetes.io/metadata.name"),
            "elsewhere");

  const auto rows = by_key(analyze(*input, options));
  EXPECT_TRUE(rows.at("shop/client shop/web TCP 8080"));
  EXPECT_FALSE(rows.at("shop/client shop/web TCP other"));
  EXPECT_FALSE(rows.at("shop/client shop/web UDP other"));
  EXPECT_FALSE(rows.at("elsewhere/other shop/web TCP 8080"));  // podSelector: own namespace
  EXPECT_TRUE(rows.at("shop/web shop/web TCP other"));         // loopback
  EXPECT_TRUE(rows.at("shop/web shop/client TCP other"));      // client is not isolated
  EXPECT_TRUE(rows.at("203.0.113.0/25 shop/web TCP 8080"));
  EXPECT_FALSE(rows.at("203.0.113.128/25 shop/web TCP 8080"));
  EXPECT_TRUE(rows.at("shop/web 203.0.113.0/25 TCP other"));
  // Ports listed for a pair: the destination's declared ones (8080 for web), none for client.
  EXPECT_FALSE(rows.contains("shop/web shop/client TCP 8080"));
}

TEST(PolicyAnalyze, CommandPrintsJsonLines) {
  const std::string dir = ::testing::TempDir();
  const std::string path = dir + "/weft-npc-analyze-test.yaml";
  {
    std::ofstream out(path);
    out << kManifest;
  }
  std::FILE* out = std::tmpfile();
  std::FILE* err = std::tmpfile();
  ASSERT_EQ(
      run_npc({"analyze", "--pod-cidr", "198.19.0.0/24,fd00:19::/64", "--output", "json", path},
              out, err),
      0);
  std::rewind(out);
  std::string text;
  char buffer[4096];
  while (std::size_t n = std::fread(buffer, 1, sizeof buffer, out)) {
    text.append(buffer, n);
  }
  std::fclose(out);
  std::fclose(err);
  std::size_t lines = 0;
  bool seen = false;
  std::size_t start = 0;
  while (start < text.size()) {
    const auto end = text.find('\n', start);
    const json row = json::parse(text.substr(start, end - start));
    EXPECT_TRUE(row.contains("src") && row.contains("dst") && row.contains("protocol") &&
                row.contains("port") && row.contains("allowed"));
    if (row["src"] == "shop/client" && row["dst"] == "shop/web" && row["protocol"] == "TCP" &&
        row["port"] == 8080) {
      EXPECT_EQ(row["allowed"], true);
      EXPECT_FALSE(row.contains("family"));  // both families agree
      seen = true;
    }
    ++lines;
    start = end + 1;
  }
  EXPECT_TRUE(seen);
  // 3 pods: 9 ordered pairs x 3 protocols x "other", plus web's 8080/TCP for 3 sources.
  EXPECT_EQ(lines, 9U * 3U + 3U);
}

TEST(PolicyAnalyze, JsonLinesSurviveBadUtf8InNames) {
  Connection c;
  c.src = "x/\xe7";
  c.dst = "x/b";
  const std::string line = to_json_line(c);
  EXPECT_TRUE(nlohmann::json::accept(line)) << line;
}

TEST(PolicyAnalyze, UsageErrors) {
  std::FILE* out = std::tmpfile();
  std::FILE* err = std::tmpfile();
  EXPECT_EQ(run_npc({"analyze"}, out, err), 2);
  EXPECT_EQ(run_npc({"analyze", "--output", "xml", "f"}, out, err), 2);
  EXPECT_EQ(run_npc({"analyze", "--pod-cidr", "10.0.0.0/8,10.1.0.0/16", "f"}, out, err), 2);
  EXPECT_EQ(run_npc({"analyze", "/nonexistent/file.yaml"}, out, err), 1);
  EXPECT_EQ(run_npc({"analyze", "--help"}, out, err), 0);
  std::fclose(out);
  std::fclose(err);
}

}  // namespace
}  // namespace weft::policy

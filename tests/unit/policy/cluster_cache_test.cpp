#include "policy/cluster_cache.hpp"

#include <gtest/gtest.h>

namespace weft::policy {
namespace {

using nlohmann::json;

json pod(const char* name, const char* uid, const char* ip, const char* app = "web") {
  return {
      {"metadata", {{"name", name}, {"namespace", "x"}, {"uid", uid}, {"labels", {{"app", app}}}}},
      {"spec", {{"nodeName", "n1"}}},
      {"status", {{"podIP", ip}}}};
}

TEST(PolicyClusterCache, ReplaceThenEvents) {
  ClusterCache cache;
  EXPECT_TRUE(cache.replace(ObjectKind::kPod,
                            {pod("a", "u1", "198.19.0.1"), pod("b", "u2", "198.19.0.2")}));
  EXPECT_EQ(cache.state().pods.size(), 2U);
  // The same list again changes nothing.
  EXPECT_FALSE(cache.replace(ObjectKind::kPod,
                             {pod("a", "u1", "198.19.0.1"), pod("b", "u2", "198.19.0.2")}));
  EXPECT_TRUE(
      cache.apply(ObjectKind::kPod, WatchChange::kModified, pod("a", "u1", "198.19.0.1", "db")));
  EXPECT_EQ(cache.state().pods.at("x/a").labels.at("app"), "db");
  EXPECT_FALSE(
      cache.apply(ObjectKind::kPod, WatchChange::kModified, pod("a", "u1", "198.19.0.1", "db")));
  EXPECT_TRUE(cache.apply(ObjectKind::kPod, WatchChange::kDeleted, pod("b", "u2", "198.19.0.2")));
  EXPECT_FALSE(cache.state().pods.contains("x/b"));
}

TEST(PolicyClusterCache, StaleDeleteOfARecreatedPodRemovesNothing) {
  ClusterCache cache;
  cache.apply(ObjectKind::kPod, WatchChange::kAdded, pod("a", "new-uid", "198.19.0.7"));
  EXPECT_FALSE(
      cache.apply(ObjectKind::kPod, WatchChange::kDeleted, pod("a", "old-uid", "198.19.0.3")));
  EXPECT_EQ(cache.state().pods.at("x/a").uid, "new-uid");
}

TEST(PolicyClusterCache, UndecodablePolicyFailsClosed) {
  ClusterCache cache;
  json bad = {{"metadata", {{"name", "np"}, {"namespace", "x"}}},
              {"spec",
               {{"podSelector", {{"matchLabels", {{"app", "web"}}}}},
                {"ingress", {{{"ports", {{{"port", "Not_A_Name"}}}}}}}}}};
  EXPECT_TRUE(cache.apply(ObjectKind::kNetworkPolicy, WatchChange::kAdded, bad));
  ASSERT_EQ(cache.rejected().size(), 1U);
  EXPECT_EQ(cache.rejected().begin()->first, "NetworkPolicy x/np");
  const auto& policy = cache.state().policies.at("x/np");
  EXPECT_TRUE(policy.pod_selector.empty());
  EXPECT_TRUE(policy.applies_to_ingress && policy.applies_to_egress);
  EXPECT_TRUE(policy.ingress.empty() && policy.egress.empty());
  // Fixed by an update: the real policy replaces the placeholder, the rejection is gone.
  bad["spec"]["ingress"][0]["ports"][0]["port"] = 80;
  EXPECT_TRUE(cache.apply(ObjectKind::kNetworkPolicy, WatchChange::kModified, bad));
  EXPECT_TRUE(cache.rejected().empty());
  EXPECT_FALSE(cache.state().policies.at("x/np").pod_selector.empty());
}

TEST(PolicyClusterCache, UndecodablePodIsLeftOutAndListed) {
  ClusterCache cache;
  json bad = pod("a", "u1", "not-an-address");
  EXPECT_FALSE(cache.apply(ObjectKind::kPod, WatchChange::kAdded, bad));
  EXPECT_TRUE(cache.state().pods.empty());
  EXPECT_EQ(cache.rejected().count("Pod x/a"), 1U);
  // A relist without it clears the rejection.
  cache.replace(ObjectKind::kPod, {});
  EXPECT_TRUE(cache.rejected().empty());
}

}  // namespace
}  // namespace weft::policy

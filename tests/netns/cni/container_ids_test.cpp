// Regression: a container id is the same container whichever client names it. weft-cni's
// client percent-encoded ids, the CLI sent them raw, and IPAM keyed allocations by the path
// still encoded — an id with a reserved character was two containers (or a broken request).
// Against a real weftd (IPAM on, no data plane): what `weft ip alloc` allocates, weft-cni's
// WeftdClient finds and releases, and the other way round; `weft ip list` shows the id as
// given. An id holding '/' is refused by both (weftd cannot take it as one path segment).
#include <gtest/gtest.h>

#include "cni/weftd_client.hpp"
#include "tests/support/netns_fixture.hpp"
#include "tests/support/weft_lab.hpp"
#include <fmt/format.h>

namespace weft::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

class ContainerIds : public ::testing::Test {
 protected:
  void SetUp() override {
    WEFT_REQUIRE_ROOT();
    ASSERT_EQ(lab_.error(), "");
    auto host = lab_.add_host("h1", {"198.18.0.1/24"});
    ASSERT_TRUE(host) << host.error().to_string();
    h1_ = *host;
    ASSERT_TRUE(h1_->start_weftd({"--no-discovery", "--no-dataplane", "--ipalloc-range",
                                  "198.19.0.0/24", "--ipalloc-range", "fd00:19::/120"}));
    const std::string gap = eventually(
        [&] {
          const json r = h1_->report();
          return !r.is_null() && r["ipam"].is_object() && r["ipam"]["ready"] == true
                     ? std::string()
                     : "ipam not ready: " + (r.is_null() ? std::string("no report") : r.dump());
        },
        30s);
    ASSERT_EQ(gap, "") << lab_.logs();
  }

  // `weft ip <words>` with every word quoted for the shell.
  CommandResult ip(const std::vector<std::string>& words) {
    std::string args = "ip";
    for (const auto& w : words) {
      args += " " + shell_quote(w);
    }
    return h1_->weft(args);
  }

  WeftLab lab_;
  WeftHost* h1_ = nullptr;
};

TEST_F(ContainerIds, TheCliAndWeftCniNameTheSameContainer) {
  cni::WeftdClient cni(h1_->api_socket());
  for (const std::string id : {"a b%c?d#e&f=g+h", "x%2Fy", "semi;colon'quote\"", "plain"}) {
    SCOPED_TRACE(id);
    // Allocated by the CLI: weft-cni finds it, and allocating again is idempotent.
    const CommandResult alloc = ip({"alloc", id, "--family", "ipv4"});
    ASSERT_TRUE(alloc.ok()) << alloc.out << lab_.logs();
    auto found = cni.lookup(id);
    ASSERT_TRUE(found) << found.error().details;
    ASSERT_EQ(found->size(), 1u) << alloc.out;
    EXPECT_EQ(alloc.out, found->front().to_string() + "\n");
    auto again = cni.allocate(id, "eth0", {IpFamily::kV4});
    ASSERT_TRUE(again) << again.error().details;
    EXPECT_EQ(*again, *found) << "the same (container, eth0) key";
    EXPECT_EQ(ip({"lookup", id}).out, alloc.out);
    // `weft ip list` shows the id as given, not as encoded.
    const CommandResult list = ip({"list"});
    EXPECT_NE(list.out.find(fmt::format("{} eth0 {}", id, found->front())), std::string::npos)
        << list.out;
    // Released by weft-cni: gone for the CLI.
    ASSERT_TRUE(cni.release(id, "eth0"));
    EXPECT_EQ(ip({"lookup", id}).exit_status, 1);

    // Allocated by weft-cni, released by the CLI.
    auto by_cni = cni.allocate(id, "eth0", {IpFamily::kV4, IpFamily::kV6});
    ASSERT_TRUE(by_cni) << by_cni.error().details;
    ASSERT_EQ(by_cni->size(), 2u);
    const CommandResult looked = ip({"lookup", id});
    EXPECT_EQ(looked.out, by_cni->at(0).to_string() + "\n" + by_cni->at(1).to_string() + "\n");
    const CommandResult released = ip({"release", id});
    EXPECT_EQ(released.out, fmt::format("released 2 addresses of {}\n", id));
    auto left = cni.lookup(id);
    ASSERT_TRUE(left);
    EXPECT_TRUE(left->empty());
  }
  auto census = ip({"list"});
  EXPECT_EQ(census.out, "") << "nothing left over";
}

TEST_F(ContainerIds, AnIdWithASlashIsRefusedByBoth) {
  const CommandResult cli = ip({"alloc", "a/b"});
  EXPECT_EQ(cli.exit_status, 2) << cli.out;  // refused before asking
  cni::WeftdClient cni(h1_->api_socket());
  auto refused = cni.allocate("a/b", "eth0", {});
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, cni::kCodeInvalidConfig) << refused.error().details;
  EXPECT_NE(refused.error().details.find("'/'"), std::string::npos) << refused.error().details;
  EXPECT_EQ(ip({"list"}).out, "");
}

}  // namespace
}  // namespace weft::test

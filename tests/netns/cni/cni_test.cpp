// weft-cni called as a runtime calls it (CNI_* environment, config on stdin, in the host's
// netns) against real weftd on two hosts: ADD gives dual-stack addresses from weft's IPAM
// and the containers ping each other across the overlay; CHECK sees a tampered container;
// DEL releases and is idempotent; STATUS follows weftd; GC releases what the runtime no
// longer lists; a failed ADD leaves nothing behind; delegation to host-local and weft-ipam
// under the reference bridge plugin.
#include <filesystem>

#include <gtest/gtest.h>

#include "cni/weftd_client.hpp"
#include "common/http_client.hpp"
#include "tests/support/cni_lab.hpp"
#include <fmt/format.h>

namespace weft::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

std::string addr_of(const json& ip) {
  const std::string a = ip["address"].get<std::string>();
  return a.substr(0, a.find('/'));
}

bool link_exists(const std::string& netns, const std::string& name) {
  return run_in_netns(netns, "ip link show " + shell_quote(name) + " >/dev/null 2>&1").ok();
}

class CniNetnsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0)
      GTEST_SKIP() << "netns tests need root";
    ASSERT_EQ(lab_.error(), "");
  }
  // Hosts h1..hN on 198.18.0.0/24, each running weftd; waits for bridges and IPAM.
  void start_hosts(int n) { ASSERT_EQ(start_cni_hosts(lab_, n), ""); }

  CniCall cni(const std::string& host, CniRequest req, const json& config) {
    return call_cni(lab_.host(host).netns(), lab_.dir(), req, config);
  }

  WeftLab lab_;
};

TEST_F(CniNetnsTest, AddCheckDelAcrossTwoHostsBothFamilies) {
  ASSERT_NO_FATAL_FAILURE(start_hosts(2));
  ScopedNetns c1, c2;
  const json conf1 = weft_config(lab_.host("h1"), "1.1.0");
  const json conf2 = weft_config(lab_.host("h2"), "0.4.0");
  CniCall add1 = cni("h1", {"ADD", "ctr-one", c1.path()}, conf1);
  ASSERT_TRUE(add1.ok()) << add1.raw << lab_.logs();
  CniCall add2 = cni("h2", {"ADD", "ctr-two", c2.path()}, conf2);
  ASSERT_TRUE(add2.ok()) << add2.raw << lab_.logs();

  // The 1.1.0 result: host veth + container interface (sandbox, MTU), both families with
  // gateways, default routes.
  json& r1 = add1.out;
  EXPECT_EQ(r1["cniVersion"], "1.1.0");
  ASSERT_EQ(r1["interfaces"].size(), 2u) << r1.dump();
  EXPECT_EQ(r1["interfaces"][0]["name"], cni::host_ifname_for("ctr-one", "eth0"));
  EXPECT_EQ(r1["interfaces"][1]["name"], "eth0");
  EXPECT_EQ(r1["interfaces"][1]["sandbox"], c1.path());
  json r1_report = lab_.host("h1").report();
  EXPECT_EQ(r1["interfaces"][1]["mtu"], r1_report["router"]["dataplane"]["mtu"]);
  ASSERT_EQ(r1["ips"].size(), 2u) << r1.dump();
  EXPECT_TRUE(prefix("198.19.0.0/16").contains(ip(addr_of(r1["ips"][0]))));
  EXPECT_TRUE(prefix("fd00:19::/48").contains(ip(addr_of(r1["ips"][1]))));
  for (auto& entry : r1["ips"]) {
    EXPECT_EQ(entry["interface"], 1);
    EXPECT_TRUE(entry.contains("gateway")) << r1.dump();
    EXPECT_FALSE(entry.contains("version"));
  }
  ASSERT_EQ(r1["routes"].size(), 2u) << r1.dump();
  // The 0.4.0 result tags each IP with its version and has no interface MTU.
  json& r2 = add2.out;
  EXPECT_EQ(r2["ips"][0]["version"], "4");
  EXPECT_EQ(r2["ips"][1]["version"], "6");
  EXPECT_FALSE(r2["interfaces"][1].contains("mtu"));

  // What the kernel has, and traffic across the overlay in both families.
  EXPECT_TRUE(
      c1.run("ip -6 route show default | grep -q " + r1["routes"][1]["gw"].get<std::string>())
          .ok());
  for (int i = 0; i < 2; ++i) {
    EXPECT_TRUE(ping_ok(c1.name(), addr_of(r2["ips"][i]), 10)) << addr_of(r2["ips"][i]);
    EXPECT_TRUE(ping_ok(c2.name(), addr_of(r1["ips"][i]), 10)) << addr_of(r1["ips"][i]);
    EXPECT_TRUE(ping_ok(c1.name(), r1["ips"][i]["gateway"].get<std::string>(), 5));
  }
  EXPECT_EQ(held_addresses(lab_.host("h1"), "ctr-one").size(), 2u);
  json listed = registered_containers(lab_.host("h1"));
  ASSERT_TRUE(listed.is_array());
  ASSERT_EQ(listed.size(), 1u) << listed.dump();
  EXPECT_EQ(listed[0]["id"], "ctr-one");
  EXPECT_EQ(listed[0]["mac"], r1["interfaces"][1]["mac"]);
  EXPECT_EQ(listed[0]["source"], "cni:weftnet");
  CommandResult ps = lab_.host("h1").weft("ps");
  EXPECT_NE(ps.out.find("ctr-one"), std::string::npos) << ps.out;

  // CHECK: fine as added; a removed address is found.
  json check_conf = conf1;
  check_conf["prevResult"] = r1;
  CniCall check = cni("h1", {"CHECK", "ctr-one", c1.path()}, check_conf);
  EXPECT_TRUE(check.ok()) << check.raw;
  json check2_conf = conf2;
  check2_conf["prevResult"] = r2;
  EXPECT_TRUE(cni("h2", {"CHECK", "ctr-two", c2.path()}, check2_conf).ok());
  ASSERT_TRUE(
      c1.run("ip addr del " + r1["ips"][0]["address"].get<std::string>() + " dev eth0").ok());
  check = cni("h1", {"CHECK", "ctr-one", c1.path()}, check_conf);
  EXPECT_FALSE(check.ok());
  EXPECT_EQ(check.code(), 102) << check.raw;

  // DEL: the interface, the host end, the addresses and the record go; again is fine, and
  // so is a DEL after the netns is gone.
  CniCall del = cni("h1", {"DEL", "ctr-one", c1.path()}, check_conf);
  EXPECT_TRUE(del.ok()) << del.raw;
  EXPECT_FALSE(link_exists(c1.name(), "eth0"));
  EXPECT_FALSE(link_exists(lab_.host("h1").netns(), cni::host_ifname_for("ctr-one", "eth0")));
  EXPECT_TRUE(held_addresses(lab_.host("h1"), "ctr-one").empty());
  EXPECT_TRUE(registered_containers(lab_.host("h1")).empty());
  EXPECT_TRUE(cni("h1", {"DEL", "ctr-one", c1.path()}, check_conf).ok());
  EXPECT_TRUE(cni("h2", {"DEL", "ctr-two", "/run/netns/weft-no-such-netns"}, conf2).ok());
  EXPECT_TRUE(held_addresses(lab_.host("h2"), "ctr-two").empty());
}

TEST_F(CniNetnsTest, StatusFollowsWeftd) {
  ASSERT_NO_FATAL_FAILURE(start_hosts(1));
  WeftHost& h1 = lab_.host("h1");
  EXPECT_TRUE(cni("h1", {"STATUS"}, weft_config(h1, "1.1.0")).ok());
  CniCall old = cni("h1", {"STATUS"}, weft_config(h1, "1.0.0"));
  EXPECT_EQ(old.code(), 1) << old.raw;

  h1.kill_weftd();
  CniCall down = cni("h1", {"STATUS"}, weft_config(h1, "1.1.0"));
  EXPECT_EQ(down.code(), 50) << down.raw;
  ScopedNetns c;
  CniCall add = cni("h1", {"ADD", "ctr-late", c.path()}, weft_config(h1));
  EXPECT_EQ(add.code(), 11) << add.raw;
  EXPECT_FALSE(link_exists(c.name(), "eth0"));

  ASSERT_TRUE(h1.start_weftd(cni_weftd_args(1, {})));
  EXPECT_EQ(eventually([&] { return cni_host_gap(h1); }, 30s), "") << h1.log_tail();
  EXPECT_TRUE(cni("h1", {"STATUS"}, weft_config(h1, "1.1.0")).ok());
  CniCall retry = cni("h1", {"ADD", "ctr-late", c.path()}, weft_config(h1));
  EXPECT_TRUE(retry.ok()) << retry.raw;
}

TEST_F(CniNetnsTest, GcReleasesWhatTheRuntimeNoLongerLists) {
  ASSERT_NO_FATAL_FAILURE(start_hosts(1));
  WeftHost& h1 = lab_.host("h1");
  ScopedNetns a, b, c;
  for (auto [id, ns] : {std::pair{"gc-a", &a}, std::pair{"gc-b", &b}, std::pair{"gc-c", &c}}) {
    CniCall add = cni("h1", {"ADD", id, ns->path()}, weft_config(h1));
    ASSERT_TRUE(add.ok()) << add.raw;
  }
  // Not made by CNI: GC leaves it alone.
  ASSERT_TRUE(h1.weft("ip alloc by-hand").ok());
  json conf = weft_config(h1);
  conf["cni.dev/valid-attachments"] = json::array({{{"containerID", "gc-a"}, {"ifname", "eth0"}}});
  CniCall gc = cni("h1", {"GC"}, conf);
  EXPECT_TRUE(gc.ok()) << gc.raw;
  EXPECT_EQ(held_addresses(h1, "gc-a").size(), 2u);
  EXPECT_TRUE(held_addresses(h1, "gc-b").empty());
  EXPECT_TRUE(held_addresses(h1, "gc-c").empty());
  EXPECT_FALSE(held_addresses(h1, "by-hand").empty());
  EXPECT_TRUE(link_exists(h1.netns(), cni::host_ifname_for("gc-a", "eth0")));
  EXPECT_FALSE(link_exists(h1.netns(), cni::host_ifname_for("gc-b", "eth0")));
  json listed = registered_containers(h1);
  ASSERT_EQ(listed.size(), 1u) << listed.dump();
  EXPECT_EQ(listed[0]["id"], "gc-a");
}

TEST_F(CniNetnsTest, FailedAddLeavesNothingBehind) {
  ASSERT_NO_FATAL_FAILURE(start_hosts(1));
  WeftHost& h1 = lab_.host("h1");
  // The interface name is taken in the container.
  ScopedNetns taken;
  ASSERT_TRUE(taken.run("ip link add eth0 type veth peer name eth0p").ok());
  CniCall add = cni("h1", {"ADD", "fail-one", taken.path()}, weft_config(h1));
  EXPECT_EQ(add.code(), 103) << add.raw;
  EXPECT_TRUE(held_addresses(h1, "fail-one").empty());

  // The host end's name is taken: the attach fails after the allocation, which is undone.
  ScopedNetns c;
  const std::string host_end = cni::host_ifname_for("fail-two", "eth0");
  ASSERT_TRUE(run_in_netns(h1.netns(), "ip link add " + host_end + " type veth peer name x" +
                                           std::to_string(::getpid()))
                  .ok());
  add = cni("h1", {"ADD", "fail-two", c.path()}, weft_config(h1));
  EXPECT_FALSE(add.ok()) << add.raw;
  EXPECT_NE(add.code(), -1) << "an error object: " << add.raw;
  EXPECT_FALSE(link_exists(c.name(), "eth0"));
  EXPECT_TRUE(held_addresses(h1, "fail-two").empty());
  EXPECT_TRUE(registered_containers(h1).empty()) << registered_containers(h1).dump();

  // A delegated IPAM plugin that fails: nothing is attached or recorded.
  json conf = weft_config(h1);
  conf["ipam"] = {{"type", "no-such-ipam"}};
  add = cni("h1", {"ADD", "fail-three", c.path()}, conf);
  EXPECT_EQ(add.code(), 7) << add.raw;
  EXPECT_FALSE(link_exists(c.name(), "eth0"));
  EXPECT_TRUE(registered_containers(h1).empty());
}

TEST_F(CniNetnsTest, DelegatesToHostLocalAndServesAsIpamForTheBridgePlugin) {
  if (!std::filesystem::exists("/usr/lib/cni/host-local")) {
    GTEST_FAIL() << "/usr/lib/cni/host-local missing: scripts/setup installs "
                    "containernetworking-plugins";
  }
  ASSERT_NO_FATAL_FAILURE(start_hosts(1));
  WeftHost& h1 = lab_.host("h1");
  // weft-cni with host-local addresses: the gateway goes on weft's bridge.
  ScopedNetns c;
  json conf = weft_config(h1, "1.0.0");
  conf["ipam"] = {
      {"type", "host-local"},
      {"dataDir", lab_.dir() + "/host-local"},
      {"ranges",
       json::array({json::array({{{"subnet", "198.19.200.0/24"}, {"gateway", "198.19.200.1"}}})})},
      {"routes", json::array({{{"dst", "0.0.0.0/0"}}})}};
  CniCall add = cni("h1", {"ADD", "hl-one", c.path()}, conf);
  ASSERT_TRUE(add.ok()) << add.raw;
  EXPECT_EQ(add.out["ips"][0]["address"], "198.19.200.2/24") << add.raw;
  EXPECT_TRUE(ping_ok(c.name(), "198.19.200.1", 5));
  EXPECT_TRUE(c.run("ip route show default | grep -q 198.19.200.1").ok());
  conf["prevResult"] = add.out;
  EXPECT_TRUE(cni("h1", {"DEL", "hl-one", c.path()}, conf).ok());
  EXPECT_FALSE(std::filesystem::exists(lab_.dir() + "/host-local/weftnet/198.19.200.2"));

  // The reference bridge plugin with weft-ipam: addresses from weftd, released on DEL.
  const std::string bin = lab_.dir() + "/cni-bin";
  std::filesystem::create_directories(bin);
  std::filesystem::create_symlink(weft_bin_dir() + "/weft-cni", bin + "/weft-ipam");
  ScopedNetns d;
  json bconf = {{"cniVersion", "1.0.0"},
                {"name", "bridged"},
                {"type", "bridge"},
                {"bridge", fmt::format("wb{}", ::getpid() % 100000)},
                {"ipam", {{"type", "weft-ipam"}, {"socket", h1.api_socket()}}}};
  CniRequest req{"ADD", "br-one", d.path()};
  req.cni_path = bin + ":/usr/lib/cni";
  req.plugin = "/usr/lib/cni/bridge";
  add = cni("h1", req, bconf);
  ASSERT_TRUE(add.ok()) << add.raw;
  ASSERT_EQ(add.out["ips"].size(), 2u) << add.raw;
  EXPECT_TRUE(prefix("198.19.0.0/16").contains(ip(addr_of(add.out["ips"][0]))));
  EXPECT_EQ(held_addresses(h1, "br-one").size(), 2u);
  EXPECT_TRUE(d.run("ip -j addr show eth0 | grep -q " + addr_of(add.out["ips"][0])).ok());
  req.command = "DEL";
  bconf["prevResult"] = add.out;
  CniCall del = cni("h1", req, bconf);
  EXPECT_TRUE(del.ok()) << del.raw;
  EXPECT_TRUE(held_addresses(h1, "br-one").empty());
  run_in_netns(h1.netns(), "ip link del " + bconf["bridge"].get<std::string>());
}

}  // namespace
}  // namespace weft::test

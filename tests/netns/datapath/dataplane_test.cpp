// The fast datapath end to end: three hosts with real weftd (no password, so fastdp is
// allowed), two containers each attached to the `weft` bridge with the attach primitive and
// static overlay addresses. h1-h2 peer over IPv4, h3 over IPv6 to both; every container
// reaches every other over IPv4 and IPv6, broadcasts cross hosts, full-size frames pass and
// a DF ping above the overlay MTU gets an answer instead of silence, 100 MB of TCP crosses.
#include <cstdio>
#include <thread>

#include <gtest/gtest.h>

#include "common/attach.hpp"
#include "tests/support/netns_fixture.hpp"
#include "tests/support/weft_lab.hpp"
#include <fmt/format.h>

namespace weft::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

struct Container {
  std::unique_ptr<ScopedNetns> ns;
  std::string v4, v6;
};

std::string datapath_gap(const WeftHost& host, std::size_t connections, const char* want) {
  json r = host.report();
  if (r.is_null()) {
    return host.label() + ": weftd not answering";
  }
  std::size_t ok = 0;
  for (const auto& c : r["router"]["connections"]) {
    if (c["state"] == "established" && c["datapath"] == want &&
        c.value("datapath_info", "").find("not confirmed") == std::string::npos) {
      ++ok;
    }
  }
  if (ok != connections) {
    return fmt::format("{}: {} of {} connections on {}: {}", host.label(), ok, connections, want,
                       r["router"]["connections"].dump());
  }
  return "";
}

struct Mode {
  const char* name;
  std::vector<std::string> args;
  std::vector<std::string> env;
  const char* datapath;
  bool encrypted;
};

void PrintTo(const Mode& m, std::ostream* os) {
  *os << m.name;
}

class ThreeHosts : public testing::TestWithParam<Mode> {};

TEST_P(ThreeHosts, ContainersTalkAcrossHosts) {
  WEFT_REQUIRE_ROOT();
  const Mode& mode = GetParam();
  WeftLab lab;
  ASSERT_EQ(lab.error(), "");
  const std::vector<std::vector<std::string>> peers = {
      {}, {"198.18.0.1"}, {"[fd00:18::1]", "[fd00:18::2]"}};
  for (int h = 1; h <= 3; ++h) {
    auto host = lab.add_host(fmt::format("h{}", h),
                             {fmt::format("198.18.0.{}/24", h), fmt::format("fd00:18::{}/64", h)});
    ASSERT_TRUE(host) << host.error().to_string();
  }
  for (int h = 1; h <= 3; ++h) {
    std::vector<std::string> args = {"--no-discovery"};
    args.insert(args.end(), mode.args.begin(), mode.args.end());
    args.insert(args.end(), peers[h - 1].begin(), peers[h - 1].end());
    auto ok = lab.host(fmt::format("h{}", h)).start_weftd(args, mode.env);
    ASSERT_TRUE(ok) << ok.error().to_string();
  }
  std::string gap = eventually(
      [&] {
        for (int h = 1; h <= 3; ++h) {
          if (auto g = datapath_gap(lab.host(fmt::format("h{}", h)), 2, mode.datapath);
              !g.empty()) {
            return g;
          }
        }
        return std::string();
      },
      30s);
  ASSERT_EQ(gap, "") << lab.logs();

  json r1 = lab.host("h1").report();
  json& dp = r1["router"]["dataplane"];
  EXPECT_EQ(dp["bridge"], "weft");
  ASSERT_TRUE(dp["mtu"].is_number()) << r1.dump(2);
  const unsigned mtu = dp["mtu"].get<unsigned>();
  const bool fastdp = std::string(mode.datapath) == "fastdp";
  if (fastdp) {
    ASSERT_EQ(dp["fastdp"]["devices"].size(), 2u) << dp.dump(2);  // h2 over v4, h3 over v6
    EXPECT_EQ(mtu, 1500u - 70u) << "IPv6 underlay: 70 bytes of encapsulation";
  } else {
    EXPECT_EQ(dp["sleeve"]["available"], true) << dp.dump(2);
  }
  for (const auto& c : r1["router"]["connections"]) {
    EXPECT_EQ(c["encrypted"], mode.encrypted) << c.dump();
  }

  // Two containers per host on the bridge weftd made.
  std::vector<Container> containers;
  for (int h = 1; h <= 3; ++h) {
    for (int n = 1; n <= 2; ++n) {
      Container c{std::make_unique<ScopedNetns>(), fmt::format("198.19.{}.{}", h, n),
                  fmt::format("fd00:19::{}:{}", h, n)};
      ASSERT_TRUE(c.ns->ok());
      AttachSpec spec;
      spec.host_netns = &lab.host(fmt::format("h{}", h)).ns().netns();
      spec.container_netns = &c.ns->netns();
      spec.host_ifname = fmt::format("vc{}", n);
      spec.addresses = {prefix(c.v4 + "/16"), prefix(c.v6 + "/64")};
      auto a = attach_container(spec);
      ASSERT_TRUE(a) << a.error().to_string();
      EXPECT_EQ(a->mtu, mtu);
      containers.push_back(std::move(c));
    }
  }
  for (std::size_t i = 0; i < containers.size(); ++i) {
    for (std::size_t j = i + 1; j < containers.size(); ++j) {
      // Known issue: the first packets over a fresh sleeve link can take ~3 s (see the note
      // in datapath/dataplane_sleeve.cpp); later ones are immediate.
      EXPECT_TRUE(ping_ok(containers[i].ns->name(), containers[j].v4, fastdp ? 3 : 8))
          << containers[i].v4 << " -> " << containers[j].v4;
      EXPECT_TRUE(ping_ok(containers[i].ns->name(), containers[j].v6))
          << containers[i].v6 << " -> " << containers[j].v6;
    }
  }
  // Learnt container MACs are advertised: h1 knows h2's and h3's (4 remote) and its own 2.
  gap = eventually(
      [&] {
        json r = lab.host("h1").report();
        const json local = r["router"]["dataplane"]["local_macs"];
        return local == 2 ? std::string()
                          : fmt::format("h1 advertises {} local MACs", local.dump());
      },
      10s);
  EXPECT_EQ(gap, "");

  // A broadcast reaches the other hosts' containers.
  for (std::size_t i = 1; i < containers.size(); ++i) {
    containers[i].ns->run("sysctl -qw net.ipv4.icmp_echo_ignore_broadcasts=0");
  }
  const CommandResult bcast = containers[0].ns->run("ping -b -c 2 -W 1 198.19.255.255 2>&1");
  EXPECT_NE(bcast.out.find("from 198.19.3."), std::string::npos) << bcast.out;

  // MTU: on fastdp a full-size DF packet crosses; on the sleeve (less room per packet) it
  // gets "fragmentation needed" from the engine. One byte over the MTU is refused locally.
  const std::string& far = containers[5].v4;
  const CommandResult full =
      containers[0].ns->run(fmt::format("ping -c1 -W2 -M do -s {} {} 2>&1", mtu - 28, far));
  if (fastdp) {
    EXPECT_TRUE(full.ok()) << full.out;
  } else {
    EXPECT_NE(full.out.find("Frag needed"), std::string::npos) << full.out;
  }
  const CommandResult big =
      containers[0].ns->run(fmt::format("ping -c1 -W2 -M do -s {} {} 2>&1", mtu - 27, far));
  EXPECT_FALSE(big.ok());
  EXPECT_TRUE(big.out.find("too long") != std::string::npos ||
              big.out.find("Frag needed") != std::string::npos)
      << big.out;

  // 100 MB of TCP from h1's container to h3's (IPv6 underlay) and h2's (IPv4 underlay).
  for (std::size_t target : {2u, 4u}) {
    auto server =
        ChildProcess::spawn({"/usr/bin/iperf3", "-s", "-B", containers[target].v4},
                            {containers[target].ns->name(), lab.dir() + "/iperf3.log", {}});
    ASSERT_TRUE(server);
    bool sent = false;
    for (int attempt = 0; attempt < 30 && !sent; ++attempt) {  // until the server listens
      const CommandResult r = containers[0].ns->run(
          fmt::format("iperf3 -c {} -n 100M -J 2>/dev/null", containers[target].v4));
      json j = json::parse(r.out, nullptr, false);
      if (r.ok() && !j.is_discarded() && !j.contains("error")) {
        // The client reports success only after TCP delivered every byte it sent.
        const json bytes = j["end"]["sum_sent"]["bytes"];
        ASSERT_TRUE(bytes.is_number()) << r.out.substr(0, 2000);
        EXPECT_GE(bytes.get<double>(), 100.0 * 1024 * 1024);
        std::printf("iperf3 over %s to %s: %.2f Gbit/s\n", mode.name, containers[target].v4.c_str(),
                    j["end"]["sum_received"]["bits_per_second"].get<double>() / 1e9);
        sent = true;
      } else {
        std::this_thread::sleep_for(100ms);
      }
    }
    EXPECT_TRUE(sent) << "iperf3 to " << containers[target].v4
                      << " failed; server: " << run_command("cat " + lab.dir() + "/iperf3.log").out;
  }

  for (int h = 1; h <= 3; ++h) {
    EXPECT_EQ(lab.host(fmt::format("h{}", h)).stop_weftd(), 0);
  }
  // A clean stop removes the VXLAN and TAP devices and keeps the bridge (containers stay).
  EXPECT_FALSE(lab.host("h1").ns().run("ip link show weft-vx4 >/dev/null 2>&1").ok());
  EXPECT_FALSE(lab.host("h1").ns().run("ip link show weft-sleeve >/dev/null 2>&1").ok());
  EXPECT_TRUE(lab.host("h1").ns().run("ip link show weft >/dev/null 2>&1").ok());
}

INSTANTIATE_TEST_SUITE_P(
    Datapaths, ThreeHosts,
    testing::Values(Mode{"fastdp", {}, {}, "fastdp", false},
                    Mode{"sleeve", {"--datapath", "sleeve"}, {}, "sleeve", false},
                    Mode{"encrypted_sleeve", {}, {"WEFT_PASSWORD=dataplane-test"}, "sleeve", true}),
    [](const testing::TestParamInfo<Mode>& p) { return std::string(p.param.name); });

// The overlay switch: fastdp only when allowed and the VXLAN path answers; back when it
// answers again; never with --datapath sleeve; with a password only for trusted subnets.
TEST(DataplaneNetnsTest, OverlaySwitchFollowsPolicyAndPathHealth) {
  WEFT_REQUIRE_ROOT();
  WeftLab lab;
  ASSERT_EQ(lab.error(), "");
  for (int h = 1; h <= 4; ++h) {
    ASSERT_TRUE(lab.add_host(fmt::format("h{}", h), {fmt::format("198.18.0.{}/24", h)}));
  }
  const std::vector<std::string> pw = {"WEFT_PASSWORD=switch-test"};
  // h1-h2: no password. h3-h4: password, h4 trusts the underlay, h3 does not.
  ASSERT_TRUE(lab.host("h1").start_weftd({"--no-discovery"}));
  ASSERT_TRUE(lab.host("h2").start_weftd({"--no-discovery", "198.18.0.1"}));
  ASSERT_TRUE(lab.host("h3").start_weftd({"--no-discovery"}, pw));
  ASSERT_TRUE(lab.host("h4").start_weftd(
      {"--no-discovery", "--trusted-subnets", "198.18.0.0/24", "198.18.0.3"}, pw));
  auto detail = [&](const char* host) -> std::string {
    json r = lab.host(host).report();
    json c = r["router"]["connections"][0];
    return c.is_object() ? c["datapath"].get<std::string>() + ": " + c.value("datapath_info", "")
                         : "no connection";
  };
  std::string gap = eventually(
      [&] {
        for (const char* h : {"h1", "h2"}) {
          if (auto g = datapath_gap(lab.host(h), 1, "fastdp"); !g.empty()) {
            return g;
          }
        }
        return detail("h3").find("encryption required") != std::string::npos
                   ? std::string()
                   : "h3: " + detail("h3");
      },
      30s);
  ASSERT_EQ(gap, "") << lab.logs();
  // h4 trusts the subnet but h3 does not offer fastdp-without-encryption: neither uses it.
  EXPECT_NE(detail("h4").rfind("fastdp", 0), 0u) << detail("h4");

  // Break the VXLAN path between h1 and h2: h1 falls back, then returns when it heals.
  ASSERT_TRUE(lab.host("h2")
                  .ns()
                  .run("nft add table inet t && nft add chain inet t in "
                       "'{ type filter hook input priority 0; }' && "
                       "nft add rule inet t in udp dport 6784 drop")
                  .ok());
  gap = eventually(
      [&] {
        const auto d = detail("h1");
        return d.find("heartbeats unanswered") != std::string::npos ? "" : "h1: " + d;
      },
      20s);
  EXPECT_EQ(gap, "");
  ASSERT_TRUE(lab.host("h2").ns().run("nft delete table inet t").ok());
  gap = eventually([&] { return datapath_gap(lab.host("h1"), 1, "fastdp"); }, 20s);
  EXPECT_EQ(gap, "");

  // --datapath sleeve: h2 restarted that way never offers fastdp.
  EXPECT_EQ(lab.host("h2").stop_weftd(), 0);
  ASSERT_TRUE(lab.host("h2").start_weftd({"--no-discovery", "--datapath", "sleeve", "198.18.0.1"}));
  gap = eventually(
      [&] {
        const auto d = detail("h2");
        return d.find("--datapath sleeve") != std::string::npos ? "" : "h2: " + d;
      },
      20s);
  EXPECT_EQ(gap, "");
  EXPECT_NE(detail("h1").rfind("fastdp", 0), 0u) << detail("h1");
}

}  // namespace
}  // namespace weft::test

// Relay and confidentiality on the encrypted sleeve with real weftd: A and C are connected
// only through B, and their underlay traffic is dropped by nftables; A's and C's containers
// still reach each other (B relays by peer name). A capture on the underlay never shows the
// marker the containers send, and the report counts what the sleeve carried and relayed.
#include <gtest/gtest.h>

#include "common/attach.hpp"
#include "tests/support/netns_fixture.hpp"
#include "tests/support/process.hpp"
#include "tests/support/weft_lab.hpp"
#include <fmt/format.h>

namespace weft::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

TEST(RelayNetnsTest, EncryptedSleeveRelaysThroughTheMiddleAndHidesPayloads) {
  WEFT_REQUIRE_ROOT();
  WeftLab lab;
  ASSERT_EQ(lab.error(), "");
  const std::vector<std::string> env = {"WEFT_PASSWORD=relay-test"};
  for (int h = 1; h <= 3; ++h) {
    ASSERT_TRUE(lab.add_host(fmt::format("h{}", h),
                             {fmt::format("198.18.0.{}/24", h), fmt::format("fd00:18::{}/64", h)}));
  }
  // h1 and h3 may not talk on the underlay at all.
  for (auto [h, other] : {std::pair{"h1", "3"}, std::pair{"h3", "1"}}) {
    ASSERT_TRUE(lab.host(h)
                    .ns()
                    .run(fmt::format("nft add table inet t && nft add chain inet t in "
                                     "'{{ type filter hook input priority 0; }}' && "
                                     "nft add rule inet t in ip saddr 198.18.0.{0} drop && "
                                     "nft add rule inet t in ip6 saddr fd00:18::{0} drop",
                                     other))
                    .ok());
  }
  ASSERT_TRUE(lab.host("h2").start_weftd({"--no-discovery"}, env));
  ASSERT_TRUE(lab.host("h1").start_weftd({"--no-discovery", "198.18.0.2"}, env));
  ASSERT_TRUE(lab.host("h3").start_weftd({"--no-discovery", "[fd00:18::2]"}, env));
  std::string gap = eventually(
      [&] {
        for (const char* h : {"h1", "h3"}) {
          json r = lab.host(h).report();
          if (r["router"]["peers"].size() != 3) {
            return fmt::format("{} sees {} peers", h, r["router"]["peers"].size());
          }
          json c = r["router"]["connections"][0];
          if (c["datapath"] != "sleeve" || c["encrypted"] != true ||
              c.value("datapath_info", "").find("not confirmed") != std::string::npos) {
            return fmt::format("{}: {}", h, c.dump());
          }
        }
        return std::string();
      },
      30s);
  ASSERT_EQ(gap, "") << lab.logs();

  std::vector<std::unique_ptr<ScopedNetns>> cs;
  for (int h : {1, 3}) {
    auto c = std::make_unique<ScopedNetns>();
    ASSERT_TRUE(c->ok());
    AttachSpec spec;
    spec.host_netns = &lab.host(fmt::format("h{}", h)).ns().netns();
    spec.container_netns = &c->netns();
    spec.host_ifname = "vc1";
    spec.addresses = {prefix(fmt::format("198.19.{}.1/16", h)),
                      prefix(fmt::format("fd00:19::{}:1/64", h))};
    ASSERT_TRUE(attach_container(spec));
    cs.push_back(std::move(c));
  }
  // Capture h2's underlay while the containers talk; the marker is in every ping payload.
  const std::string pcap = lab.dir() + "/h2.pcap";
  auto dump = ChildProcess::spawn({"/usr/bin/tcpdump", "-i", "eth0", "-U", "-w", pcap, "udp"},
                                  {lab.host("h2").netns(), lab.dir() + "/tcpdump.log", {}});
  ASSERT_TRUE(dump);
  ASSERT_TRUE(wait_until(
      [&] { return run_command("grep -q listening " + lab.dir() + "/tcpdump.log").ok(); }, 5s));
  const std::string marker_hex = "5745465452454c41594d41524b";  // "WEFTRELAYMARK"
  EXPECT_TRUE(ping_ok(cs[0]->name(), "198.19.3.1", 10));
  EXPECT_TRUE(ping_ok(cs[0]->name(), "fd00:19::3:1"));
  EXPECT_TRUE(ping_ok(cs[1]->name(), "198.19.1.1"));
  EXPECT_TRUE(cs[0]->run("ping -c 5 -i 0.2 -W 1 -p " + marker_hex + " 198.19.3.1 >/dev/null").ok());
  dump->stop(2s);
  const CommandResult packets = run_command("tcpdump -r " + pcap + " 2>/dev/null | wc -l");
  EXPECT_GT(std::stoi(packets.out.empty() ? "0" : packets.out), 10) << "nothing captured";
  EXPECT_FALSE(run_command("grep -a -c WEFTRELAYMARK " + pcap + " >/dev/null").ok())
      << "the marker crossed the underlay in clear text";

  json r2 = lab.host("h2").report();
  json stats = r2["router"]["dataplane"]["sleeve"]["stats"];
  ASSERT_TRUE(stats.is_object()) << r2.dump(2);
  std::uint64_t relayed = 0;
  for (const auto& [k, v] : stats.items()) {
    if (k.find("relay") != std::string::npos && v.is_number()) {
      relayed += v.get<std::uint64_t>();
    }
  }
  EXPECT_GT(relayed, 0u) << stats.dump(2);
}

}  // namespace
}  // namespace weft::test

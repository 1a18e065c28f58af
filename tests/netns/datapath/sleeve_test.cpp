// The sleeve over real devices: three hosts on an underlay bridge (WeftLab), each with a
// bridge, a TAP device driven by an in-process SleeveDatapath and a container namespace.
//
//   [c1]-weft(h1)-tap ~~UDP 6783~~ tap-weft(h2)-[c2] ~~UDP 6783~~ tap-weft(h3)-[c3]
//        \_________________________ underlay 198.18.0.0/24, fd00:18::/64 _________/
//
// Containers ping each other over IPv4 and IPv6 through the encrypted sleeve; a capture on
// the underlay never shows the marker the containers send (and does with plaintext); with
// nftables dropping h1<->h3, c1 and c3 still reach each other through h2 (relay); a DF ping
// above the overlay MTU gets "fragmentation needed"; iperf3 throughput is printed.
#include <chrono>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "tests/support/netns_fixture.hpp"
#include "tests/support/process.hpp"
#include "tests/support/sleeve_lab.hpp"
#include "tests/support/weft_lab.hpp"
#include <fmt/format.h>

namespace weft::test {
namespace {

using namespace std::chrono_literals;
using datapath::SleeveSuite;

constexpr std::string_view kMarker = "WEFTMARK";

std::string all_pings(SleeveLab& s) {
  for (auto& a : s.nodes()) {
    for (auto& b : s.nodes()) {
      if (a == b) {
        continue;
      }
      for (const auto& target :
           {fmt::format("198.19.0.{}", b->n), fmt::format("fd00:19::{}", b->n)}) {
        if (!ping_ok(a->container->name(), target, 5)) {
          return fmt::format("c{} cannot ping {}", a->n, target);
        }
      }
    }
  }
  return "";
}

// Pings with the marker as payload pattern ("WEFTMARK" repeated).
bool ping_marker(const SleeveNode& from, const std::string& target) {
  return from.container
      ->run(fmt::format("ping -c 3 -i 0.2 -W 1 -p 574546544d41524b574546544d41524b {} "
                        ">/dev/null",
                        target))
      .ok();
}

// Runs `fn` while tcpdump captures sleeve UDP on `host`'s eth0; returns the capture bytes.
std::string capture_during(const WeftHost& host, const std::string& dir,
                           const std::function<void()>& fn) {
  const std::string file = dir + "/" + host.label() + "-sleeve.pcap";
  auto dump =
      ChildProcess::spawn({"/usr/bin/tcpdump", "-Z", "root", "-i", "eth0", "-U", "-n", "-s", "0",
                           "-w", file, "udp", "port", "6783"},
                          {.netns = host.netns(), .log_path = dir + "/tcpdump.log", .env = {}});
  if (!dump) {
    ADD_FAILURE() << dump.error().to_string();
    return "";
  }
  wait_until([&] { return std::ifstream(file).good(); }, 5s);
  std::this_thread::sleep_for(500ms);
  fn();
  std::this_thread::sleep_for(300ms);
  dump->stop();
  std::ifstream in(file, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

class SleeveNetnsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) {
      GTEST_SKIP() << "netns tests need root";
    }
    ASSERT_TRUE(lab_.error().empty()) << lab_.error();
  }
  void build(int hosts, SleeveSuite suite, bool v6_underlay = false) {
    for (int n = 1; n <= hosts; ++n) {
      const std::string err = sleeve_.add(n);
      ASSERT_EQ(err, "") << "host " << n;
    }
    sleeve_.connect_all(suite, v6_underlay);
    sleeve_.direct_routes();
  }
  std::uint64_t drops(int n) {
    const auto s = sleeve_.node(n).dp->stats();
    // Not drop_unknown_index: heartbeats may arrive before the peer's session is installed.
    return s.drop_auth_failed + s.drop_replay + s.drop_malformed;
  }

  WeftLab lab_;
  SleeveLab sleeve_{lab_};
};

TEST_F(SleeveNetnsTest, EncryptedMeshPingsHidesMarkerAndAnswersDf) {
  build(3, datapath::best_sleeve_suite());
  EXPECT_EQ(eventually([&] { return all_pings(sleeve_); }, 20s), "");

  // Confidentiality: the marker crosses the underlay only sealed.
  const std::string pcap = capture_during(lab_.host("h2"), lab_.dir(), [&] {
    EXPECT_TRUE(ping_marker(sleeve_.node(1), "198.19.0.2"));
    EXPECT_TRUE(ping_marker(sleeve_.node(1), "fd00:19::2"));
  });
  EXPECT_GT(pcap.size(), 6u * 100) << "the capture saw no sleeve traffic";
  EXPECT_EQ(pcap.find(kMarker), std::string::npos) << "marker visible on the underlay";

  // Path MTU: a DF ping above the overlay MTU is answered, IPv4 and IPv6.
  const std::size_t mtu = sleeve_.node(1).dp->peer_status().at(0).max_frame - 14;
  EXPECT_EQ(mtu, 1472u - 13 - 16 - 16 - 14);
  const auto v4 =
      sleeve_.node(1).container->run("ping -M do -s 1450 -c 2 -i 0.3 -W 1 198.19.0.3 2>&1");
  EXPECT_NE(v4.out.find(fmt::format("mtu = {}", mtu)), std::string::npos) << v4.out;
  const auto v6 =
      sleeve_.node(1).container->run("ping -6 -M do -s 1450 -c 2 -i 0.3 -W 1 fd00:19::3 2>&1");
  EXPECT_NE(v6.out.find(fmt::format("mtu={}", mtu)), std::string::npos) << v6.out;
  std::this_thread::sleep_for(200ms);  // the stats snapshot is refreshed every 100 ms
  EXPECT_GE(sleeve_.node(1).dp->stats().icmp_too_big, 2u);

  // Throughput, printed only (debug + sanitizer build: far below a release build).
  auto server = ChildProcess::spawn({"/usr/bin/iperf3", "-s", "-1"},
                                    {.netns = sleeve_.node(3).container->name(),
                                     .log_path = lab_.dir() + "/iperf3-server.log",
                                     .env = {}});
  ASSERT_TRUE(server);
  std::this_thread::sleep_for(500ms);
  const auto iperf = sleeve_.node(1).container->run("iperf3 -c 198.19.0.3 -t 3 -f m 2>&1");
  EXPECT_TRUE(iperf.ok()) << iperf.out << "server log: "
                          << run_command("cat " + lab_.dir() + "/iperf3-server.log").out;
  std::printf("sleeve iperf3 (%s, debug build):\n%s\n",
              std::string(datapath::sleeve_suite_name(datapath::best_sleeve_suite())).c_str(),
              iperf.out.c_str());
  std::this_thread::sleep_for(300ms);
  for (int n = 1; n <= 3; ++n) {
    EXPECT_EQ(drops(n), 0u) << "host " << n;
  }
}

TEST_F(SleeveNetnsTest, PlaintextShowsMarkerOnTheUnderlay) {
  build(2, SleeveSuite::kNone);
  EXPECT_EQ(eventually([&] { return all_pings(sleeve_); }, 20s), "");
  const std::string pcap = capture_during(lab_.host("h2"), lab_.dir(), [&] {
    EXPECT_TRUE(ping_marker(sleeve_.node(1), "198.19.0.2"));
  });
  EXPECT_NE(pcap.find(kMarker), std::string::npos) << "the capture check cannot see the marker";
}

TEST_F(SleeveNetnsTest, RelayThroughMiddleHostWhenDirectPathIsBlocked) {
  build(3, datapath::best_sleeve_suite(), /*v6_underlay=*/true);
  EXPECT_EQ(eventually([&] { return all_pings(sleeve_); }, 20s), "");
  // Drop all underlay traffic between h1 and h3, both families.
  for (auto [self, other] : {std::pair{1, 3}, std::pair{3, 1}}) {
    const auto r =
        lab_.host(fmt::format("h{}", self))
            .ns()
            .run(fmt::format(
                "nft add table inet weftt && "
                "nft add chain inet weftt in '{{ type filter hook input priority 0; }}' && "
                "nft add chain inet weftt out '{{ type filter hook output priority 0; }}' && "
                "nft add rule inet weftt in ip saddr 198.18.0.{0} drop && "
                "nft add rule inet weftt in ip6 saddr fd00:18::{0} drop && "
                "nft add rule inet weftt out ip daddr 198.18.0.{0} drop && "
                "nft add rule inet weftt out ip6 daddr fd00:18::{0} drop",
                other));
    ASSERT_TRUE(r.ok()) << "nft in h" << self;
  }
  EXPECT_FALSE(lab_.host("h1").ns().run("ping -c1 -W1 fd00:18::3 >/dev/null").ok());
  sleeve_.chain_routes();
  EXPECT_EQ(eventually([&] { return all_pings(sleeve_); }, 20s), "");
  std::this_thread::sleep_for(300ms);
  EXPECT_GT(sleeve_.node(2).dp->stats().relayed_frames, 0u);
  // h1 sees h3's heartbeats stop: the direct path is reported down.
  EXPECT_EQ(eventually(
                [&] {
                  for (const auto& p : sleeve_.node(1).dp->peer_status()) {
                    if (p.peer == sleeve_.node(3).peer && p.path_ok) {
                      return std::string("h1 still reports a direct path to h3");
                    }
                  }
                  return std::string();
                },
                15s),
            "");
}

}  // namespace
}  // namespace weft::test

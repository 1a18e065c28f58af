// Real weftd processes in network namespaces: three hosts on an IPv4 underlay and two on an
// IPv6 underlay (h3 has both and joins the two) form one encrypted mesh; a weftd killed with
// SIGKILL shows as failed on its peers and reconnects after a restart.
#include <csignal>
#include <set>
#include <string>

#include <gtest/gtest.h>

#include "tests/support/netns_fixture.hpp"
#include "tests/support/weft_lab.hpp"
#include <fmt/format.h>

namespace weft::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

const std::vector<std::string> kEnv = {"WEFT_PASSWORD=netns-mesh-test"};

// Why `report` does not (yet) show a mesh of `peers` peers in which this host holds
// `connections` connections, all established and encrypted; "" when it does.
std::string mesh_gap(const WeftHost& host, std::size_t peers, std::size_t connections) {
  json r = host.report();
  if (r.is_null()) {
    return host.label() + ": weftd not answering";
  }
  json router = r["router"];
  if (router["peers"].size() != peers) {
    return fmt::format("{}: {} peers, want {}", host.label(), router["peers"].size(), peers);
  }
  std::size_t established = 0;
  for (const auto& c : router["connections"]) {
    if (c["state"] != "established" || c["encrypted"] != true) {
      return fmt::format("{}: connection {}", host.label(), c.dump());
    }
    ++established;
  }
  if (established != connections) {
    return fmt::format("{}: {} connections, want {}", host.label(), established, connections);
  }
  for (const auto& p : router["peers"]) {
    for (const auto& c : p["connections"]) {
      if (c["established"] != true) {
        return fmt::format("{}: peer {} has {}", host.label(), p["nickname"].dump(), c.dump());
      }
    }
  }
  return "";
}

std::set<std::string> peer_nicknames(json report) {
  std::set<std::string> out;
  for (const auto& p : report["router"]["peers"]) {
    out.insert(p["nickname"].get<std::string>());
  }
  return out;
}

const json* connection_to(json& report, const std::string& address) {
  for (const auto& c : report["router"]["connections"]) {
    if (c["address"] == address) {
      return &c;
    }
  }
  return nullptr;
}

TEST(MeshNetnsTest, FiveHostsOnIpv4AndIpv6UnderlaysFormOneMeshAndSurviveAKill) {
  WEFT_REQUIRE_ROOT();
  WeftLab lab;
  ASSERT_EQ(lab.error(), "");
  struct Spec {
    std::string label;
    std::vector<std::string> addresses;
    std::vector<std::string> peers;
    std::size_t connections;
  };
  const std::vector<Spec> specs = {
      {"h1", {"198.18.0.1/24"}, {}, 2},
      {"h2", {"198.18.0.2/24"}, {"198.18.0.1"}, 2},
      {"h3", {"198.18.0.3/24", "fd00:18::3/64"}, {"198.18.0.1:6783", "198.18.0.2"}, 4},
      {"h4", {"fd00:18::4/64"}, {"[fd00:18::3]"}, 2},
      {"h5", {"fd00:18::5/64"}, {"[fd00:18::3]:6783", "fd00:18::4"}, 2},
  };
  for (const auto& s : specs) {
    auto host = lab.add_host(s.label, s.addresses);
    ASSERT_TRUE(host) << host.error().to_string();
  }
  ASSERT_TRUE(ping_ok(lab.host("h1").netns(), "198.18.0.3"));
  ASSERT_TRUE(ping_ok(lab.host("h5").netns(), "fd00:18::3"));
  auto start = [&](const Spec& s) {
    std::vector<std::string> args = {"--no-discovery"};
    args.insert(args.end(), s.peers.begin(), s.peers.end());
    return lab.host(s.label).start_weftd(args, kEnv);
  };
  for (const auto& s : specs) {
    auto ok = start(s);
    ASSERT_TRUE(ok) << ok.error().to_string();
  }
  auto whole_mesh = [&] {
    for (const auto& s : specs) {
      if (auto gap = mesh_gap(lab.host(s.label), specs.size(), s.connections); !gap.empty()) {
        return gap;
      }
    }
    return std::string();
  };
  std::string gap = eventually(whole_mesh, 60s);
  ASSERT_EQ(gap, "") << lab.logs();

  // The IPv6 links really are IPv6, and the CLI prints the same picture.
  json r4 = lab.host("h4").report();
  ASSERT_NE(connection_to(r4, "[fd00:18::3]:6783"), nullptr) << r4.dump(2);
  EXPECT_EQ(r4["router"]["encryption"], "enabled") << r4["router"].dump(2);
  const CommandResult status = lab.host("h3").weft("status");
  EXPECT_TRUE(status.ok()) << status.out;
  EXPECT_NE(status.out.find("h3"), std::string::npos) << status.out;
  const CommandResult conns = lab.host("h3").weft("status connections");
  EXPECT_NE(conns.out.find("198.18.0.1:6783"), std::string::npos) << conns.out;
  EXPECT_NE(conns.out.find("established"), std::string::npos) << conns.out;
  const CommandResult peers = lab.host("h1").weft("status peers");
  for (const auto& s : specs) {
    EXPECT_NE(peers.out.find(s.label), std::string::npos) << peers.out;
  }
  const std::string h2_name = lab.host("h2").report()["router"]["name"];

  // kill -9 h2: h3, which dialled it, shows that target failed/retrying with the error; h1
  // (dialled by h2) just loses the connection; h2 leaves everyone's topology.
  lab.host("h2").kill_weftd();
  gap = eventually(
      [&] {
        for (const char* label : {"h1", "h3"}) {
          json r = lab.host(label).report();
          bool dropped = false;
          for (const auto& c : r["router"]["connections"]) {
            if (c["state"] == "established" && c.contains("peer") && c["peer"]["name"] == h2_name) {
              return fmt::format("{} still connected to h2: {}", label, c.dump());
            }
            if (c["address"] == "198.18.0.2:6783" &&
                (c["state"] == "failed" || c["state"] == "retrying") && c["info"] != "") {
              dropped = true;
            }
          }
          if (std::string(label) == "h3" && !dropped) {
            return fmt::format("h3 does not show its target h2 failed: {}",
                               r["router"]["connections"].dump());
          }
        }
        for (const char* label : {"h1", "h3", "h4", "h5"}) {
          if (peer_nicknames(lab.host(label).report()).count("h2") != 0) {
            return fmt::format("{} still has h2 in its topology", label);
          }
        }
        return std::string();
      },
      60s);
  ASSERT_EQ(gap, "") << lab.logs();

  // Restart h2 with its data directory: same name, and the mesh is whole again. h3 had been
  // backing off its dials to h2; seeing h2 back in the topology makes it redial promptly, so
  // 20 s is plenty (the backoff alone could be up to 2 min).
  ASSERT_TRUE(start(specs[1]));
  gap = eventually(whole_mesh, 20s);
  ASSERT_EQ(gap, "") << lab.logs();
  EXPECT_EQ(lab.host("h2").report()["router"]["name"], h2_name);

  // SIGTERM is a clean shutdown.
  for (const auto& s : specs) {
    EXPECT_EQ(lab.host(s.label).stop_weftd(), 0) << lab.host(s.label).log_tail();
  }
}

}  // namespace
}  // namespace weft::test

// IPAM through three real weftd on an IPv4 underlay, with small ranges (198.19.0.0/24 and
// fd00:19::/120) so that donations and exhaustion happen: consensus bootstrap, the API
// (idempotent allocation, claim conflicts, release) through the `weft` CLI, concurrent
// dual-stack allocations on all three hosts (every address unique), kill -9 in the middle of
// an allocation loop and restart (nothing answered is lost, nothing is handed out twice),
// `weft rmpeer` of a stopped peer on two hosts at once (one owner), `weft status ipam`.
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "common/http_client.hpp"
#include "tests/support/netns_fixture.hpp"
#include "tests/support/weft_lab.hpp"
#include <fmt/format.h>

namespace weft::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

const std::vector<std::string> kIpam = {"--no-discovery", "--no-dataplane",  "--ipalloc-range",
                                        "198.19.0.0/24",  "--ipalloc-range", "fd00:19::/120",
                                        "--ipalloc-init", "consensus"};
constexpr std::size_t kV4Usable = 254;  // 198.19.0.0/24 without .0 and .255

struct Answer {
  int status = -1;  // -1: no answer (connection failed or lost)
  std::string body;
  std::vector<std::string> lines() const {
    std::vector<std::string> out;
    std::istringstream in(body);
    for (std::string l; std::getline(in, l);) {
      if (!l.empty())
        out.push_back(l);
    }
    return out;
  }
};

// One request straight to a host's unix socket (the socket file is reachable from here).
Answer api(const WeftHost& h, Method method, const std::string& path) {
  auto r = http_call("unix:" + h.api_socket(), method, path, {}, 60s);
  if (!r)
    return {-1, r.error().to_string()};
  return {r->status, r->body};
}

// POST /ip/{id}, retrying while weftd answers 503 (waiting for a donation).
Answer allocate(const WeftHost& h, const std::string& id, const std::string& family) {
  Answer a;
  for (int attempt = 0; attempt < 5; ++attempt) {
    a = api(h, Method::kPost, fmt::format("/ip/{}?family={}", id, family));
    if (a.status != 503)
      break;
  }
  return a;
}

std::string strip_prefix(const std::string& cidr) {
  return cidr.substr(0, cidr.find('/'));
}
// Every allocation of every running host: address -> "host container ifname". Duplicates
// are reported in `dups`.
struct Census {
  std::map<std::string, std::string> owner;
  std::vector<std::string> dups;
  std::size_t v4 = 0, v6 = 0;
};
Census census(WeftLab& lab, const std::vector<std::string>& labels) {
  Census c;
  for (const auto& label : labels) {
    const Answer a = api(lab.host(label), Method::kGet, "/ip");
    if (a.status != 200) {
      c.dups.push_back(label + ": GET /ip answered " + std::to_string(a.status) + " " + a.body);
      continue;
    }
    for (const auto& al : json::parse(a.body)) {
      const std::string addr = strip_prefix(al["address"].get<std::string>());
      const std::string who = fmt::format("{} {} {}", label, al["container"].get<std::string>(),
                                          al["ifname"].get<std::string>());
      (al["family"] == "ipv4" ? c.v4 : c.v6)++;
      if (auto [it, fresh] = c.owner.emplace(addr, who); !fresh) {
        c.dups.push_back(fmt::format("{} held by {} and {}", addr, it->second, who));
      }
    }
  }
  return c;
}

// Why the IPAM of these hosts is not (yet) ready on one common pair of rings, owned only by
// `owners` (peer names) with shares summing to the whole range; "" when it is.
std::string ipam_gap(WeftLab& lab, const std::vector<std::string>& labels,
                     const std::set<std::string>& owners) {
  std::string first;
  for (const auto& label : labels) {
    const json r = lab.host(label).report();
    if (r.is_null() || !r.contains("ipam") || !r["ipam"].is_object()) {
      return label + ": no ipam in the report";
    }
    const json& ipam = r["ipam"];
    if (ipam["ready"] != true)
      return label + ": not ready: " + ipam.dump();
    if (ipam["stray"] != 0)
      return label + ": stray addresses: " + ipam.dump();
    json rings = json::array();
    for (const auto& ring : ipam["rings"]) {
      double share = 0;
      std::set<std::string> seen;
      json owned = json::object();
      for (const auto& p : ring["peers"]) {
        if (p["owned"] == "0")
          continue;
        seen.insert(p["name"].get<std::string>());
        share += p["share"].get<double>();
        owned[p["name"].get<std::string>()] = p["owned"];
        if (p["reachable"] != true)
          return label + ": unreachable owner " + p.dump();
      }
      if (seen != owners)
        return label + ": owners " + ring["peers"].dump();
      if (share < 0.9999 || share > 1.0001)
        return label + ": shares sum to " + std::to_string(share);
      rings.push_back({{"range", ring["range"]}, {"id", ring["id"]}, {"owned", owned}});
    }
    if (rings.size() != 2)
      return label + ": rings " + ipam["rings"].dump();
    if (first.empty()) {
      first = rings.dump();
    } else if (rings.dump() != first) {
      return label + ": rings differ: " + rings.dump() + " vs " + first;
    }
  }
  return "";
}

std::string mesh_gap(WeftLab& lab, const std::vector<std::string>& labels) {
  for (const auto& label : labels) {
    const json r = lab.host(label).report();
    if (r.is_null())
      return label + ": weftd not answering";
    std::size_t established = 0;
    for (const auto& c : r["router"]["connections"])
      established += c["state"] == "established";
    if (established != labels.size() - 1) {
      return fmt::format("{}: {} established connections", label, established);
    }
  }
  return "";
}

class IpamNetnsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0)
      GTEST_SKIP() << "netns tests need root";
    ASSERT_EQ(lab_.error(), "");
    for (int i = 1; i <= 3; ++i) {
      auto host = lab_.add_host(fmt::format("h{}", i), {fmt::format("198.18.0.{}/24", i)});
      ASSERT_TRUE(host) << host.error().to_string();
    }
    for (const auto& label : labels_)
      ASSERT_TRUE(start(label));
    ASSERT_EQ(eventually([&] { return mesh_gap(lab_, labels_); }, 60s), "") << lab_.logs();
    for (const auto& label : labels_) {
      names_[label] = lab_.host(label).report()["router"]["name"].get<std::string>();
    }
    const auto t0 = std::chrono::steady_clock::now();
    ASSERT_EQ(eventually([&] { return ipam_gap(lab_, labels_, all_names()); }, 60s), "")
        << lab_.logs();
    fmt::print(
        "ipam ready on 3 peers {} ms after the mesh\n",
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0)
            .count());
  }

  // Every host gets the full peer list (so consensus among 3 holds).
  Result<void> start(const std::string& label) {
    std::vector<std::string> args = kIpam;
    for (int i = 1; i <= 3; ++i) {
      if (fmt::format("h{}", i) != label)
        args.push_back(fmt::format("198.18.0.{}", i));
    }
    return lab_.host(label).start_weftd(args);
  }

  std::set<std::string> all_names() const {
    std::set<std::string> out;
    for (const auto& [l, n] : names_)
      out.insert(n);
    return out;
  }

  WeftLab lab_;
  const std::vector<std::string> labels_ = {"h1", "h2", "h3"};
  std::map<std::string, std::string> names_;
};

TEST_F(IpamNetnsTest, ThreePeersAllocateConcurrentlySurviveKillNineAndRmpeer) {
  WeftHost& h1 = lab_.host("h1");
  WeftHost& h2 = lab_.host("h2");
  WeftHost& h3 = lab_.host("h3");

  // (d) weft status ipam shows the three peers, all reachable.
  const CommandResult status = h1.weft("status ipam");
  ASSERT_TRUE(status.ok()) << status.out;
  for (const auto& label : labels_) {
    EXPECT_NE(status.out.find(names_[label] + "(" + label + ")"), std::string::npos) << status.out;
  }
  EXPECT_EQ(status.out.find("unreachable"), std::string::npos) << status.out;
  EXPECT_NE(status.out.find("IPAM: ready"), std::string::npos) << status.out;

  // Claim: exactly the owner of 198.19.0.200 may claim it; the others answer 409.
  int claimed = 0;
  for (const auto& label : labels_) {
    const CommandResult c = lab_.host(label).weft("ip claim claimer 198.19.0.200/24");
    if (c.ok()) {
      ++claimed;
      EXPECT_EQ(c.out, "198.19.0.200/24\n");
    } else {
      EXPECT_NE(c.out.find("409"), std::string::npos) << label << ": " << c.out;
    }
  }
  EXPECT_EQ(claimed, 1);

  // Idempotent allocation, lookup, claim of a taken address, release.
  const CommandResult first = h1.weft("ip alloc idem --ifname eth1");
  ASSERT_TRUE(first.ok()) << first.out;
  ASSERT_EQ((Answer{200, first.out}).lines().size(), 2U) << first.out;  // dual-stack by default
  EXPECT_EQ(h1.weft("ip alloc idem --ifname eth1").out, first.out);
  EXPECT_EQ(h1.weft("ip lookup idem").out, first.out);
  const std::string v4 = (Answer{200, first.out}).lines()[0];
  const CommandResult taken = h1.weft("ip claim thief " + v4);
  EXPECT_EQ(taken.exit_status, 1) << taken.out;
  EXPECT_NE(taken.out.find("409"), std::string::npos) << taken.out;
  const CommandResult other_if = h1.weft("ip alloc idem --ifname eth2 --family ipv6");
  ASSERT_TRUE(other_if.ok()) << other_if.out;
  EXPECT_NE(other_if.out, first.out);
  EXPECT_EQ(h1.weft("ip release idem " + v4).out, "released 1 address of idem\n");
  EXPECT_EQ(h1.weft("ip release idem").out, "released 2 addresses of idem\n");
  EXPECT_EQ(h1.weft("ip lookup idem").exit_status, 1);
  EXPECT_EQ(h1.weft("ip claim thief " + v4).out, v4 + "\n");  // free again
  EXPECT_TRUE(h1.weft("ip release thief").ok());
  const CommandResult listed = h1.weft("ip list");
  EXPECT_TRUE(listed.ok());
  EXPECT_EQ(listed.out.find("idem"), std::string::npos) << listed.out;

  // (a) Concurrent dual-stack allocations: h1 asks for more than its third of the range
  // (donations), h2 and h3 for 40 each.
  const std::map<std::string, int> want = {{"h1", 100}, {"h2", 40}, {"h3", 40}};
  std::mutex mu;
  std::vector<std::string> failures;
  auto t0 = std::chrono::steady_clock::now();
  {
    std::vector<std::thread> threads;
    for (const auto& [label, n] : want) {
      threads.emplace_back([&, label = label, n = n] {
        for (int i = 0; i < n; ++i) {
          const Answer a = allocate(lab_.host(label), fmt::format("{}-c{}", label, i), "dual");
          if (a.status != 200 || a.lines().size() != 2) {
            std::lock_guard lock(mu);
            failures.push_back(fmt::format("{}-c{}: {} {}", label, i, a.status, a.body));
          }
        }
      });
    }
    for (auto& t : threads)
      t.join();
  }
  fmt::print(
      "180 concurrent dual-stack allocations in {} ms\n",
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0)
          .count());
  EXPECT_TRUE(failures.empty()) << fmt::format("{}", fmt::join(failures, "\n"));
  Census c = census(lab_, labels_);
  EXPECT_TRUE(c.dups.empty()) << fmt::format("{}", fmt::join(c.dups, "\n"));
  EXPECT_EQ(c.v4, 181U);  // with the claim
  EXPECT_EQ(c.v6, 180U);
  EXPECT_GT(h1.report()["ipam"]["stats"]["donations_received"].get<int>(), 0);

  // (b) kill -9 h2 in the middle of an allocation loop, then restart it on its data.
  std::map<std::string, std::vector<std::string>> answered;  // id -> addresses
  std::vector<std::string> in_flight;
  std::condition_variable progressed;
  int done = 0;
  std::thread loop([&] {
    for (int i = 0; i < 40; ++i) {
      const std::string id = fmt::format("k{}", i);
      const Answer a = api(h2, Method::kPost, "/ip/" + id + "?family=dual");
      std::lock_guard lock(mu);
      if (a.status == 200) {
        answered[id] = a.lines();
        ++done;
        progressed.notify_all();
      } else {
        in_flight.push_back(id);  // no answer (or an error while dying): may or may not exist
        if (a.status == -1)
          return;
      }
    }
  });
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(progressed.wait_for(lock, 60s, [&] { return done >= 8; }));
    h2.kill_weftd();  // while the loop waits for the next answer (or is about to send it)
  }
  loop.join();
  ASSERT_FALSE(in_flight.empty()) << "the loop finished before the kill";
  ASSERT_TRUE(start("h2"));
  ASSERT_EQ(eventually([&] { return mesh_gap(lab_, labels_); }, 60s), "") << lab_.logs();
  ASSERT_EQ(eventually([&] { return ipam_gap(lab_, labels_, all_names()); }, 60s), "")
      << lab_.logs();
  for (const auto& [id, addresses] : answered) {
    EXPECT_EQ(api(h2, Method::kGet, "/ip/" + id).lines(), addresses) << id;
  }
  for (const auto& id : in_flight) {
    const auto before = api(h2, Method::kGet, "/ip/" + id).lines();  // 0, 1 or 2 addresses
    const Answer again = allocate(h2, id, "dual");
    ASSERT_EQ(again.status, 200) << id << ": " << again.body;
    for (const auto& a : before) {
      EXPECT_NE(std::find(again.lines().begin(), again.lines().end(), a), again.lines().end())
          << id << " had " << a << " before the retry, now " << again.body;
    }
  }
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(allocate(h2, fmt::format("after-{}", i), "dual").status, 200);
  }
  c = census(lab_, labels_);
  EXPECT_TRUE(c.dups.empty()) << fmt::format("{}", fmt::join(c.dups, "\n"));
  EXPECT_EQ(c.v6, 180U + answered.size() + in_flight.size() + 10);

  // Exhaustion: h3 takes every IPv4 address left, by donations, then hears 507.
  int got = 0;
  for (int i = 0;; ++i) {
    const Answer a = allocate(h3, fmt::format("x{}", i), "ipv4");
    if (a.status == 507)
      break;
    ASSERT_EQ(a.status, 200) << a.body << "\n" << lab_.logs();
    ASSERT_LT(++got, 300);
  }
  c = census(lab_, labels_);
  EXPECT_TRUE(c.dups.empty()) << fmt::format("{}", fmt::join(c.dups, "\n"));
  EXPECT_EQ(c.v4, kV4Usable);

  // (c) Stop h2; rmpeer it on h1 and h3 at once: one owner of its ranges, no overlap.
  EXPECT_EQ(h2.stop_weftd(), 0);
  ASSERT_EQ(eventually(
                [&] {
                  for (const char* label : {"h1", "h3"}) {
                    const std::string out = lab_.host(label).weft("status ipam").out;
                    if (out.find("unreachable!") == std::string::npos) {
                      return std::string(label) + " still reaches h2:\n" + out;
                    }
                  }
                  return std::string();
                },
                60s),
            "");
  CommandResult rm1, rm3;
  {
    std::thread a([&] { rm1 = h1.weft("rmpeer " + names_["h2"]); });
    std::thread b([&] { rm3 = h3.weft("rmpeer " + names_["h2"]); });
    a.join();
    b.join();
  }
  EXPECT_TRUE(rm1.ok()) << rm1.out;
  EXPECT_TRUE(rm3.ok()) << rm3.out;
  EXPECT_NE(rm1.out.find("taken over from " + names_["h2"]), std::string::npos) << rm1.out;
  fmt::print("rmpeer on h1: {}rmpeer on h3: {}", rm1.out, rm3.out);  // both may reclaim
  const std::vector<std::string> live = {"h1", "h3"};
  const std::set<std::string> live_names = {names_["h1"], names_["h3"]};
  t0 = std::chrono::steady_clock::now();
  ASSERT_EQ(eventually([&] { return ipam_gap(lab_, live, live_names); }, 60s), "") << lab_.logs();
  // After the quarantine (10 s), each claimant's free space plus what it holds is exactly
  // the range: had both kept h2's ranges, their free spaces would overlap and sum to more.
  std::size_t held = census(lab_, live).v4;
  ASSERT_EQ(eventually(
                [&] {
                  std::uint64_t free = 0;
                  for (const auto& label : live) {
                    const json r = lab_.host(label).report();
                    if (r.is_null())
                      return label + ": no report";
                    free += std::stoull(r["ipam"]["rings"][0]["free_here"].get<std::string>());
                  }
                  // 256 = held + free, with .0 and .255 free but never handed out.
                  return free + held == 256 ? std::string()
                                            : fmt::format("free {} + held {}", free, held);
                },
                60s),
            "")
      << lab_.logs();
  fmt::print("rmpeer settled in {} ms\n", std::chrono::duration_cast<std::chrono::milliseconds>(
                                              std::chrono::steady_clock::now() - t0)
                                              .count());
  // And they hand out h2's old addresses without a duplicate, until nothing is left.
  bool exhausted[2] = {false, false};
  for (int i = 0; !(exhausted[0] && exhausted[1]); ++i) {
    ASSERT_LT(i, 1000);
    WeftHost& h = i % 2 == 0 ? h1 : h3;
    const Answer a = allocate(h, fmt::format("after-rm-{}", i), "ipv4");
    ASSERT_TRUE(a.status == 200 || a.status == 507) << a.status << " " << a.body;
    exhausted[i % 2] = a.status == 507;
  }
  c = census(lab_, live);
  EXPECT_TRUE(c.dups.empty()) << fmt::format("{}", fmt::join(c.dups, "\n"));
  EXPECT_EQ(c.v4, kV4Usable);
  EXPECT_EQ(ipam_gap(lab_, live, live_names), "");
  for (const auto& label : live)
    EXPECT_EQ(lab_.host(label).stop_weftd(), 0);
}

}  // namespace
}  // namespace weft::test

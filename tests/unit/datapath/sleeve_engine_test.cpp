// Sleeve engines wired back to back in memory (tests/support/sleeve_fake_net.hpp): delivery,
// MAC learning and flooding, batching, relay through a third peer, tamper/replay/unknown
// index counted, ICMP for oversize frames, PMTU discovery, all suites.
#include <string>

#include <gtest/gtest.h>

#include "datapath/sleeve.hpp"
#include "tests/support/sleeve_fake_net.hpp"
#include "tests/support/sleeve_frames.hpp"
#include "tests/support/virtual_clock.hpp"

namespace weft::datapath {
namespace {

using test::test_mac;
constexpr std::uint64_t kA = 0x0a, kB = 0x0b, kC = 0x0c;

std::vector<std::uint8_t> small(std::uint8_t from, std::uint8_t to, std::size_t len = 100) {
  return test::ipv4_frame(test_mac(to), test_mac(from), {198, 19, 0, from}, {198, 19, 0, to}, len);
}

bool wire_contains(const test::SleeveFakeNet& net, std::string_view text) {
  for (const auto& d : net.wire) {
    const std::string s(d.buffer.begin(), d.buffer.begin() + static_cast<long>(d.size));
    if (s.find(text) != std::string::npos) {
      return true;
    }
  }
  return false;
}

SleeveRoutes direct(std::uint64_t self, std::vector<std::uint64_t> others) {
  SleeveRoutes r;
  for (auto o : others) {
    r.next_hop[o] = o;
  }
  r.broadcast[self] = others;
  return r;
}

class SleeveEngineTest : public ::testing::TestWithParam<SleeveSuite> {
 protected:
  void SetUp() override {
    if (!sleeve_suite_available(GetParam())) {
      GTEST_SKIP() << "suite not available";
    }
  }
  test::VirtualClock clock_;
  test::SleeveFakeNet net_{&clock_};
};

TEST_P(SleeveEngineTest, BackToBackLearnsAndDelivers) {
  net_.add(kA);
  net_.add(kB);
  net_.connect(kA, kB, GetParam());
  net_.engine(kA).set_routes(direct(kA, {kB}));
  net_.engine(kB).set_routes(direct(kB, {kA}));

  // Unknown destination MAC: flooded, arrives once.
  const auto f1 = small(1, 2);
  net_.send_from_tap(kA, {f1});
  ASSERT_EQ(net_.tap(kB).size(), 1u);
  EXPECT_EQ(net_.tap(kB)[0], f1);
  EXPECT_EQ(net_.engine(kA).stats().flooded_frames, 1u);
  // B learned MAC 1 behind A: the answer is unicast.
  net_.send_from_tap(kB, {small(2, 1)});
  ASSERT_EQ(net_.tap(kA).size(), 1u);
  EXPECT_EQ(net_.engine(kB).stats().flooded_frames, 0u);
  net_.send_from_tap(kA, {small(1, 2)});
  EXPECT_EQ(net_.engine(kA).stats().flooded_frames, 1u);  // A learned MAC 2 from the answer
  EXPECT_EQ(net_.tap(kB).size(), 2u);
  // Broadcast always floods.
  auto arp = test::eth_header(test::kBroadcastMac, test_mac(1), 0x0806);
  arp.resize(60);
  net_.send_from_tap(kA, {arp});
  EXPECT_EQ(net_.tap(kB).back(), arp);
  // Confidentiality: the marker in the frames is on the wire only without encryption.
  EXPECT_EQ(wire_contains(net_, "MARKER"), GetParam() == SleeveSuite::kNone);
  const auto& s = net_.engine(kB).stats();
  EXPECT_EQ(s.drop_auth_failed + s.drop_replay + s.drop_malformed + s.drop_unknown_index, 0u);
}

TEST_P(SleeveEngineTest, TamperReplayUnknownIndexAreCounted) {
  net_.add(kA);
  net_.add(kB);
  net_.connect(kA, kB, GetParam());
  net_.engine(kA).set_routes(direct(kA, {kB}));
  net_.engine(kB).set_routes(direct(kB, {kA}));
  net_.send_from_tap(kA, {small(1, 2)});
  ASSERT_EQ(net_.wire.size(), 1u);
  const Datagram original = net_.wire[0];
  auto& b = net_.engine(kB);

  net_.inject(kB, original);  // replayed
  EXPECT_EQ(b.stats().drop_replay, 1u);
  EXPECT_EQ(net_.tap(kB).size(), 1u);

  Datagram forged = original;  // a fresh counter, tampered payload
  forged.buffer[12] ^= 0x40;
  forged.buffer[forged.size - 20] ^= 0x01;
  net_.inject(kB, forged);
  if (GetParam() == SleeveSuite::kNone) {
    // Without a key nothing is authenticated: the change goes through (documented).
    EXPECT_EQ(b.stats().drop_auth_failed, 0u);
  } else {
    EXPECT_EQ(b.stats().drop_auth_failed, 1u);
    EXPECT_EQ(net_.tap(kB).size(), 1u);
  }

  Datagram unknown = original;
  unknown.buffer[1] ^= 0xff;
  net_.inject(kB, unknown);
  EXPECT_EQ(b.stats().drop_unknown_index, 1u);

  Datagram garbage;
  garbage.assign(std::vector<std::uint8_t>{0x99, 1, 2});
  net_.inject(kB, garbage);
  EXPECT_EQ(b.stats().drop_malformed, 1u);
}

TEST_P(SleeveEngineTest, BatchesSmallFramesSendsLargeAlone) {
  net_.add(kA);
  net_.add(kB);
  net_.connect(kA, kB, GetParam());
  net_.engine(kA).set_routes(direct(kA, {kB}));
  net_.engine(kB).set_routes(direct(kB, {kA}));
  std::vector<std::vector<std::uint8_t>> frames;
  for (int i = 0; i < 10; ++i) {
    frames.push_back(small(1, 2, 100));
  }
  net_.send_from_tap(kA, frames);
  EXPECT_EQ(net_.wire.size(), 1u);
  EXPECT_EQ(net_.tap(kB).size(), 10u);
  net_.wire.clear();
  const std::size_t big = net_.engine(kA).max_frame(kB) - 14;
  net_.send_from_tap(kA, {small(1, 2, big), small(1, 2, big), small(1, 2, big)});
  EXPECT_EQ(net_.wire.size(), 3u);
  EXPECT_EQ(net_.tap(kB).size(), 13u);
  for (const auto& d : net_.wire) {
    EXPECT_LE(d.size, 1500u - 28);
  }
}

TEST_P(SleeveEngineTest, RelayThroughMiddlePeer) {
  net_.add(kA);
  net_.add(kB);
  net_.add(kC);
  net_.connect(kA, kB, GetParam());
  net_.connect(kB, kC, GetParam());
  SleeveRoutes ra;  // A -- B -- C
  ra.next_hop = {{kB, kB}, {kC, kB}};
  ra.broadcast = {{kA, {kB}}, {kC, {}}};
  SleeveRoutes rb;
  rb.next_hop = {{kA, kA}, {kC, kC}};
  rb.broadcast = {{kB, {kA, kC}}, {kA, {kC}}, {kC, {kA}}};
  SleeveRoutes rc;
  rc.next_hop = {{kB, kB}, {kA, kB}};
  rc.broadcast = {{kC, {kB}}, {kA, {}}};
  net_.engine(kA).set_routes(ra);
  net_.engine(kB).set_routes(rb);
  net_.engine(kC).set_routes(rc);
  net_.send_from_tap(kA, {small(1, 3)});  // flood: B and C each get it once
  ASSERT_EQ(net_.tap(kB).size(), 1u);
  ASSERT_EQ(net_.tap(kC).size(), 1u);
  net_.send_from_tap(kC, {small(3, 1)});  // C learned MAC 1 behind A: unicast via B
  ASSERT_EQ(net_.tap(kA).size(), 1u);
  EXPECT_EQ(net_.tap(kB).size(), 1u);  // B relays but does not deliver
  EXPECT_EQ(net_.engine(kB).stats().relayed_frames, 1u);
  net_.send_from_tap(kA, {small(1, 3), small(1, 3)});
  EXPECT_EQ(net_.tap(kC).size(), 3u);
  EXPECT_EQ(net_.engine(kB).stats().relayed_frames, 3u);
  EXPECT_EQ(net_.engine(kB).stats().drop_no_route, 0u);
}

TEST_P(SleeveEngineTest, OversizeFrameGetsIcmpAnswer) {
  net_.add(kA);
  net_.add(kB);
  net_.connect(kA, kB, GetParam());
  net_.engine(kA).set_routes(direct(kA, {kB}));
  net_.engine(kB).set_routes(direct(kB, {kA}));
  net_.send_from_tap(kB, {small(2, 1)});  // A learns MAC 2
  const std::size_t max_frame = net_.engine(kA).max_frame(kB);
  EXPECT_EQ(max_frame, 1472 - 13 - 16 - (GetParam() == SleeveSuite::kNone ? 0 : 16));
  EXPECT_EQ(max_frame - 14, sleeve_overlay_mtu(1500, false, GetParam()));
  net_.send_from_tap(kA, {small(1, 2, max_frame - 14 + 1)});
  ASSERT_EQ(net_.tap(kA).size(), 2u);
  const auto& icmp = net_.tap(kA).back();
  EXPECT_EQ(icmp[14 + 20], 3);
  EXPECT_EQ(icmp[14 + 21], 4);
  EXPECT_EQ(std::size_t(icmp[14 + 26] << 8 | icmp[14 + 27]), max_frame - 14);
  EXPECT_EQ(net_.engine(kA).stats().icmp_too_big, 1u);
  EXPECT_EQ(net_.tap(kB).size(), 0u);
}

TEST_P(SleeveEngineTest, PathMtuDiscovery) {
  net_.add(kA, 9000);
  net_.add(kB, 9000);
  net_.connect(kA, kB, GetParam());
  std::size_t path_limit = 1400;  // the underlay drops anything larger
  net_.filter = [&](Datagram& d) {
    return d.size <= path_limit;
  };
  for (int i = 0; i < 120; ++i) {
    net_.tick_all();
    clock_.advance(std::chrono::milliseconds(500));
  }
  auto st = net_.engine(kA).peer_status();
  ASSERT_EQ(st.size(), 1u);
  EXPECT_TRUE(st[0].path_ok);
  EXPECT_TRUE(st[0].pmtu_settled);
  EXPECT_LE(st[0].max_datagram, path_limit);
  EXPECT_GT(st[0].max_datagram, path_limit - 8);
  // The path shrinks: the periodic re-confirmation notices and the search starts over.
  path_limit = 1300;
  for (int i = 0; i < 160; ++i) {
    net_.tick_all();
    clock_.advance(std::chrono::milliseconds(500));
  }
  st = net_.engine(kA).peer_status();
  EXPECT_TRUE(st[0].pmtu_settled);
  EXPECT_LE(st[0].max_datagram, path_limit);
  EXPECT_GT(st[0].max_datagram, path_limit - 8);
  // A partitioned path loses path_ok.
  path_limit = 0;
  for (int i = 0; i < 20; ++i) {
    net_.tick_all();
    clock_.advance(std::chrono::milliseconds(500));
  }
  EXPECT_FALSE(net_.engine(kA).peer_status()[0].path_ok);
}

TEST_P(SleeveEngineTest, MacEntriesAgeOutAndPeersGoAway) {
  net_.add(kA);
  net_.add(kB);
  net_.connect(kA, kB, GetParam());
  net_.engine(kA).set_routes(direct(kA, {kB}));
  net_.engine(kB).set_routes(direct(kB, {kA}));
  net_.send_from_tap(kB, {small(2, 1)});
  EXPECT_EQ(net_.engine(kA).mac_table_size(), 1u);
  clock_.advance(std::chrono::minutes(6));
  net_.send_from_tap(kA, {small(1, 2)});
  EXPECT_EQ(net_.engine(kA).stats().flooded_frames, 1u);  // aged out: flooded again
  net_.engine(kB).remove_peer(kA);
  net_.send_from_tap(kA, {small(1, 2)});
  EXPECT_EQ(net_.engine(kB).stats().drop_unknown_index, 1u);
}

INSTANTIATE_TEST_SUITE_P(Suites, SleeveEngineTest,
                         ::testing::Values(SleeveSuite::kNone, SleeveSuite::kChaCha20Poly1305,
                                           SleeveSuite::kAes256Gcm),
                         [](const auto& p) {
                           return std::string(p.param == SleeveSuite::kNone ? "None"
                                              : p.param == SleeveSuite::kAes256Gcm
                                                  ? "Aes256Gcm"
                                                  : "ChaCha20Poly1305");
                         });

SleeveSession session(std::uint64_t peer, std::uint32_t rx_index) {
  SleeveSession s;
  s.peer = peer;
  s.rx_index = rx_index;
  return s;
}

TEST(SleeveEngine, RejectsBadSessions) {
  test::VirtualClock clock;
  SleeveConfig config;
  config.self = 1;
  config.clock = &clock;
  SleeveEngine e(config);
  EXPECT_FALSE(e.add_peer(session(1, 1)));
  EXPECT_FALSE(e.add_peer(session(0, 2)));
  EXPECT_TRUE(e.add_peer(session(2, 5)));
  EXPECT_FALSE(e.add_peer(session(2, 6)));
  EXPECT_FALSE(e.add_peer(session(3, 5)));
  EXPECT_FALSE(e.update_peer(session(4, 7)));
}

}  // namespace
}  // namespace weft::datapath

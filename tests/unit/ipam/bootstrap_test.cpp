// Bootstrap state machine and --ipalloc-init parsing, driven by hand-delivered messages.
#include "ipam/bootstrap.hpp"

#include <gtest/gtest.h>

namespace weft::ipam {
namespace {

TEST(BootstrapTest, ParsesIpallocInit) {
  auto c = parse_ipalloc_init("consensus", 3).value();
  EXPECT_EQ(c.mode, BootstrapConfig::Mode::kConsensus);
  EXPECT_EQ(Bootstrap(c, 1).quorum(), 3u);
  EXPECT_EQ(Bootstrap(parse_ipalloc_init("consensus=2", 3).value(), 1).quorum(), 2u);
  EXPECT_FALSE(parse_ipalloc_init("consensus=1", 4)) << "not a majority";
  EXPECT_FALSE(parse_ipalloc_init("consensus=0", 1));
  EXPECT_FALSE(parse_ipalloc_init("consensus=x", 1));
  auto s = parse_ipalloc_init("seed=aa:bb:cc:dd:ee:ff,00-00-00-00-00-01", 1).value();
  EXPECT_EQ(s.seeds, (std::vector<PeerId>{0xaabbccddeeff, 1}));
  EXPECT_FALSE(parse_ipalloc_init("seed=", 1));
  EXPECT_FALSE(parse_ipalloc_init("seed=aa:bb", 1));
  EXPECT_EQ(parse_ipalloc_init("observer", 1).value().mode, BootstrapConfig::Mode::kObserver);
  EXPECT_FALSE(parse_ipalloc_init("paxos", 1));
}

TEST(BootstrapTest, SeedModeSeedsAtFirstTickObserverNever) {
  Bootstrap seed(parse_ipalloc_init("seed=00:00:00:00:00:02", 1).value(), 1);
  auto a = seed.tick();
  ASSERT_TRUE(a.seed.has_value());
  EXPECT_EQ(*a.seed, std::vector<PeerId>{2});
  EXPECT_EQ(seed.phase(), Bootstrap::Phase::kDone);
  Bootstrap obs(parse_ipalloc_init("observer", 1).value(), 1);
  EXPECT_FALSE(obs.tick().seed);
  EXPECT_FALSE(obs.tick().broadcast);
}

TEST(BootstrapTest, ConsensusLowestProposesAfterAllAccept) {
  auto cfg = parse_ipalloc_init("consensus", 3).value();
  Bootstrap p1(cfg, 1), p2(cfg, 2), p3(cfg, 3);
  // Hellos carry the sender's candidates: p1 learns 3 through p2.
  (void)p2.on_message(3, p3.tick().broadcast.value());
  auto a = p1.on_message(2, p2.tick().broadcast.value());
  EXPECT_EQ(p1.phase(), Bootstrap::Phase::kProposing);
  ASSERT_EQ(a.unicasts.size(), 2u);
  EXPECT_TRUE(a.persist);
  // p2 accepts; p3 has promised another proposer (it saw one first) and rejects.
  (void)p3.on_message(7, Message{MessageType::kPropose, {3, 7}, IpFamily::kV4, {}, {}});
  auto r2 = p2.on_message(1, a.unicasts[0].second);
  auto r3 = p3.on_message(1, a.unicasts[1].second);
  EXPECT_EQ(r2.unicasts.at(0).second.type, MessageType::kAccept);
  EXPECT_EQ(r3.unicasts.at(0).second.type, MessageType::kReject);
  EXPECT_FALSE(p1.on_message(2, r2.unicasts[0].second).seed);
  EXPECT_FALSE(p1.on_message(3, r3.unicasts[0].second).seed);
  EXPECT_EQ(p1.phase(), Bootstrap::Phase::kProposing) << "no seed without every member";
  // A fresh p3 (no promise) accepts, and p1 seeds; the promise survives a restart.
  Bootstrap p3b(cfg, 3);
  auto r3b = p3b.on_message(1, a.unicasts[1].second);
  Bootstrap p3c(cfg, 3);
  ASSERT_TRUE(p3c.restore(p3b.encode_state()));
  EXPECT_EQ(p3c.promised(), PeerId{1});
  EXPECT_EQ(p3c.on_message(5, a.unicasts[1].second).unicasts.at(0).second.type,
            MessageType::kReject);
  auto done = p1.on_message(3, r3b.unicasts.at(0).second);
  ASSERT_TRUE(done.seed.has_value());
  EXPECT_EQ(*done.seed, (std::vector<PeerId>{1, 2, 3}));
  EXPECT_FALSE(p3c.restore(std::vector<std::uint8_t>{9}));
}

}  // namespace
}  // namespace weft::ipam

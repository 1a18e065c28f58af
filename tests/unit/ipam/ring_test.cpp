// Ring CRDT: seeding, donation, random merge properties (commutative, associative,
// idempotent), conflict on rings seeded apart, concurrent reclaim, and the codec.
#include "ipam/ring.hpp"

#include <cstdio>
#include <cstdlib>

#include <gtest/gtest.h>

#include "common/rng.hpp"
#include "ipam/ring_codec.hpp"

namespace weft::ipam {
namespace {

AddressRange range4() {
  return AddressRange::of(parse_cidr("10.32.0.0/12").value());
}
AddressRange range6() {
  return AddressRange::of(parse_cidr("fd00:19::/48").value());
}

std::uint64_t seed_from_env(std::uint64_t fallback) {
  const char* s = std::getenv("WEFT_SIM_SEED");
  return s != nullptr ? std::strtoull(s, nullptr, 0) : fallback;
}

TEST(RingTest, SeededSplitsEvenlyAndIsDeterministic) {
  auto a = Ring::seeded(range4(), {3, 1, 2, 2}).value();
  auto b = Ring::seeded(range4(), {2, 3, 1}).value();
  EXPECT_EQ(a, b);
  EXPECT_NE(a.id(), 0u);
  ASSERT_EQ(a.entries().size(), 3u);
  const auto own = a.ownership();
  U128 total = 0;
  for (auto [p, n] : own)
    total += n;
  EXPECT_EQ(total, range4().size());
  EXPECT_EQ(a.owner_of(range4().first().value()), 1u);
  EXPECT_EQ(a.owner_of(range4().last().value()), 3u);
  auto c = Ring::seeded(range4(), {1, 2, 4}).value();
  EXPECT_NE(a.id(), c.id());
  // The whole IPv6 space splits without overflow.
  auto whole = AddressRange::of(parse_cidr("::/0").value());
  auto w = Ring::seeded(whole, {1, 2, 3}).value();
  EXPECT_EQ(w.entries().size(), 3u);
}

TEST(RingTest, DonateSplitsAndOnlyOwnerMayDonate) {
  auto r = Ring::seeded(range4(), {1, 2}).value();
  const U128 base = range4().first().value();
  ASSERT_TRUE(r.donate(1, {base + 100, base + 199}, 5));
  EXPECT_EQ(r.owner_of(base + 99), 1u);
  EXPECT_EQ(r.owner_of(base + 100), 5u);
  EXPECT_EQ(r.owner_of(base + 199), 5u);
  EXPECT_EQ(r.owner_of(base + 200), 1u);
  EXPECT_EQ(r.ownership().at(5), U128{100});
  EXPECT_FALSE(r.donate(2, {base, base + 1}, 3));
  EXPECT_FALSE(r.donate(5, {base + 150, base + 250}, 3));  // spans two entries
}

TEST(RingTest, MergeRefusesRingSeededApart) {
  auto a = Ring::seeded(range4(), {1, 2}).value();
  auto b = Ring::seeded(range4(), {3, 4}).value();
  const auto before = a;
  auto m = a.merge(b);
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().code, make_error_code(Errc::kConflict));
  EXPECT_EQ(a, before);
  // An empty ring adopts; different ranges conflict.
  Ring empty(range4());
  EXPECT_TRUE(empty.merge(a).value());
  EXPECT_EQ(empty, a);
  EXPECT_FALSE(Ring(range6()).merge(a));
}

// Peers act on their own copies (donations, free hints, reclaims) and merge random others.
std::vector<Ring> random_rings(Rng& rng, int peers, int steps) {
  const auto seed = Ring::seeded(range4(), {1, 2, 3}).value();
  std::vector<Ring> rings(static_cast<std::size_t>(peers), seed);
  for (int s = 0; s < steps; ++s) {
    auto& r = rings[rng.uniform(rings.size())];
    const PeerId self = 1 + rng.uniform(static_cast<std::uint64_t>(peers));
    switch (rng.uniform(4)) {
      case 0: {
        auto runs = r.owned_by(self, true);
        if (runs.empty())
          break;
        const ipam::Run run = runs[rng.uniform(runs.size())];
        const auto at = r.entry_at(run.first);
        const ipam::Run span = r.span_of(at->first);
        const U128 len = span.size_minus_one();
        if (len < 2)
          break;
        const U128 off = rng.uniform(static_cast<std::uint64_t>(std::min<U128>(len, 1000)));
        (void)r.donate(self, {span.first + off, span.first + off}, 1 + rng.uniform(6));
        break;
      }
      case 1: {
        Space sp;
        for (Run run : r.owned_by(self))
          sp.add(run);
        (void)sp.allocate();
        r.update_free(self, sp);
        break;
      }
      case 2:
        (void)r.reclaim(self, 1 + rng.uniform(6));
        break;
      case 3:
        (void)r.merge(rings[rng.uniform(rings.size())]);
        break;
    }
  }
  return rings;
}

TEST(RingTest, RandomMergesAreCommutativeAssociativeIdempotent) {
  const std::uint64_t seed = seed_from_env(77);
  std::printf("seed %llu\n", static_cast<unsigned long long>(seed));
  SeededRng rng(seed);
  for (int round = 0; round < 200; ++round) {
    auto rings = random_rings(rng, 6, 40);
    const Ring& a = rings[0];
    const Ring& b = rings[1];
    const Ring& c = rings[2];
    Ring ab = a, ba = b;
    ASSERT_TRUE(ab.merge(b));
    ASSERT_TRUE(ba.merge(a));
    ASSERT_EQ(ab, ba) << "commutative, round " << round;
    Ring ab_c = ab, bc = b;
    ASSERT_TRUE(ab_c.merge(c));
    ASSERT_TRUE(bc.merge(c));
    Ring a_bc = a;
    ASSERT_TRUE(a_bc.merge(bc));
    ASSERT_EQ(ab_c, a_bc) << "associative, round " << round;
    Ring aa = a;
    ASSERT_FALSE(aa.merge(a).value());
    ASSERT_EQ(aa, a) << "idempotent, round " << round;
    // Every address has exactly one owner: entries tile the range.
    U128 total = 0;
    for (auto [p, n] : ab_c.ownership())
      total += n;
    ASSERT_EQ(total, range4().size());
    // The codec round-trips.
    ASSERT_EQ(parse_ring(encode_ring(ab_c)).value(), ab_c);
  }
}

TEST(RingTest, ConcurrentReclaimConvergesToOneOwner) {
  auto base = Ring::seeded(range4(), {1, 2, 3}).value();
  Ring x = base, y = base;
  ASSERT_TRUE(x.reclaim(7, 2));
  ASSERT_TRUE(y.reclaim(5, 2));
  Ring xy = x, yx = y;
  ASSERT_TRUE(xy.merge(y));
  ASSERT_TRUE(yx.merge(x));
  EXPECT_EQ(xy, yx);
  EXPECT_TRUE(xy.owned_by(2).empty());
  EXPECT_FALSE(xy.owned_by(5).empty());
  EXPECT_TRUE(xy.owned_by(7).empty());  // the higher id lost the tie
  // The loser cannot settle (it no longer owns the entry), the winner can.
  const U128 token = xy.owned_by(5).front().first;
  EXPECT_FALSE(xy.settle(7, token));
  EXPECT_TRUE(xy.settle(5, token));
  EXPECT_EQ(xy.owned_by(5, true).size(), 1u);
  EXPECT_FALSE(x.reclaim(7, 7));
  EXPECT_FALSE(base.reclaim(7, 9));
}

TEST(RingTest, CodecRejectsGarbage) {
  auto r = Ring::seeded(range6(), {1, 2}).value();
  auto bytes = encode_ring(r);
  EXPECT_EQ(parse_ring(bytes).value(), r);
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    EXPECT_FALSE(parse_ring(std::span(bytes).first(n))) << n;
  }
  auto bad = bytes;
  bad.push_back(0);
  EXPECT_FALSE(parse_ring(bad));
  Ring empty(range4());
  EXPECT_EQ(parse_ring(encode_ring(empty)).value(), empty);
}

}  // namespace
}  // namespace weft::ipam

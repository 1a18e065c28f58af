// Space against a naive reference (a std::set of free values) on 10,000 random operations,
// plus edge cases at the top of the 128-bit space.
#include "ipam/space.hpp"

#include <cstdio>
#include <cstdlib>
#include <set>

#include <gtest/gtest.h>

#include "common/rng.hpp"

namespace weft::ipam {
namespace {

std::uint64_t seed_from_env(std::uint64_t fallback) {
  const char* s = std::getenv("WEFT_SIM_SEED");
  return s != nullptr ? std::strtoull(s, nullptr, 0) : fallback;
}

struct Naive {
  std::set<std::uint64_t> free;
  void add(std::uint64_t a, std::uint64_t b) {
    for (auto v = a; v <= b; ++v)
      free.insert(v);
  }
  std::uint64_t remove(std::uint64_t a, std::uint64_t b) {
    std::uint64_t n = 0;
    for (auto v = a; v <= b; ++v)
      n += free.erase(v);
    return n;
  }
  std::optional<std::uint64_t> allocate(std::uint64_t a, std::uint64_t b) {
    auto it = free.lower_bound(a);
    if (it == free.end() || *it > b)
      return std::nullopt;
    auto v = *it;
    free.erase(it);
    return v;
  }
  std::uint64_t count_in(std::uint64_t a, std::uint64_t b) const {
    std::uint64_t n = 0;
    for (auto v : free)
      n += (v >= a && v <= b) ? 1 : 0;
    return n;
  }
  std::uint64_t largest(std::uint64_t a, std::uint64_t b) const {
    std::uint64_t best = 0, cur = 0;
    std::optional<std::uint64_t> last;
    for (auto v : free) {
      if (v < a || v > b)
        continue;
      cur = (last && *last + 1 == v) ? cur + 1 : 1;
      best = std::max(best, cur);
      last = v;
    }
    return best;
  }
};

TEST(SpaceTest, DifferentialAgainstNaiveSet) {
  const std::uint64_t seed = seed_from_env(20240611);
  std::printf("seed %llu (WEFT_SIM_SEED replays)\n", static_cast<unsigned long long>(seed));
  SeededRng rng(seed);
  Space space;
  Naive naive;
  constexpr std::uint64_t kUniverse = 600;
  // A large base so that U128 arithmetic above 2^64 is exercised.
  const U128 base = make_u128(0xfd00, 0);
  auto pick = [&] {
    return rng.uniform(kUniverse);
  };
  for (int op = 0; op < 10'000; ++op) {
    std::uint64_t a = pick(), b = pick();
    if (a > b)
      std::swap(a, b);
    if (rng.chance(0.5))
      b = std::min(a + rng.uniform(8), kUniverse - 1);
    const ipam::Run w{base + a, base + b};
    switch (rng.uniform(7)) {
      case 0:
        space.add(w);
        naive.add(a, b);
        break;
      case 1:
        ASSERT_EQ(space.remove(w), U128{naive.remove(a, b)}) << "op " << op;
        break;
      case 2: {
        auto got = space.allocate(w);
        auto want = naive.allocate(a, b);
        ASSERT_EQ(got.has_value(), want.has_value()) << "op " << op;
        if (got) {
          ASSERT_EQ(*got, base + *want) << "op " << op;
        }
        break;
      }
      case 3: {
        auto got = space.allocate();
        auto want = naive.allocate(0, kUniverse);
        ASSERT_EQ(got.has_value(), want.has_value()) << "op " << op;
        if (got) {
          ASSERT_EQ(*got, base + *want) << "op " << op;
        }
        break;
      }
      case 4:
        ASSERT_EQ(space.claim(base + a), naive.free.erase(a) == 1) << "op " << op;
        break;
      case 5:
        ASSERT_EQ(space.free(base + a), naive.free.insert(a).second) << "op " << op;
        break;
      case 6: {
        ASSERT_EQ(space.count_in(w), U128{naive.count_in(a, b)}) << "op " << op;
        auto run = space.largest_run(w);
        const auto want = naive.largest(a, b);
        ASSERT_EQ(run ? run->size_minus_one() + 1 : U128{0}, U128{want}) << "op " << op;
        break;
      }
    }
    ASSERT_EQ(space.count(), U128{naive.free.size()}) << "op " << op;
    ASSERT_EQ(space.is_free(base + a), naive.free.count(a) == 1) << "op " << op;
    // Invariant: runs are sorted, disjoint and not adjacent.
    const auto runs = space.runs();
    for (std::size_t i = 1; i < runs.size(); ++i) {
      ASSERT_GT(runs[i].first, runs[i - 1].last + 1) << "op " << op;
    }
  }
}

TEST(SpaceTest, TopOfTheSpace) {
  Space s;
  s.add({kU128Max - 2, kU128Max});
  EXPECT_EQ(s.count(), U128{3});
  EXPECT_TRUE(s.claim(kU128Max));
  EXPECT_TRUE(s.free(kU128Max));
  EXPECT_FALSE(s.free(kU128Max));
  EXPECT_EQ(s.run_count(), 1u);
  EXPECT_EQ(s.allocate(), kU128Max - 2);
  EXPECT_EQ(s.largest_run()->first, kU128Max - 1);
}

TEST(SpaceTest, AllocateLowestAndWindow) {
  Space s;
  s.add({10, 20});
  s.add({30, 40});
  EXPECT_EQ(s.allocate(ipam::Run{21, 35}), U128{30});
  EXPECT_EQ(s.allocate(), U128{10});
  EXPECT_FALSE(s.allocate(ipam::Run{21, 29}).has_value());
  EXPECT_EQ(s.count(), U128{20});
}

}  // namespace
}  // namespace weft::ipam

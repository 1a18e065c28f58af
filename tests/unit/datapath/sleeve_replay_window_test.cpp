// ReplayWindow against a deliberately naive reference (a set of every accepted counter)
// on random operations: in-order runs, reordering inside the window, big jumps, old and
// duplicate counters.
#include "datapath/sleeve_replay_window.hpp"

#include <cstdint>
#include <limits>
#include <optional>
#include <random>
#include <set>

#include <gtest/gtest.h>

namespace weft::datapath {
namespace {

class NaiveWindow {
 public:
  bool accept(std::uint64_t c) {
    if (c == std::numeric_limits<std::uint64_t>::max() || seen_.contains(c)) {
      return false;
    }
    if (greatest_ && *greatest_ > c && *greatest_ - c > ReplayWindow::kWindowSize) {
      return false;
    }
    seen_.insert(c);
    if (!greatest_ || c > *greatest_) {
      greatest_ = c;
    }
    return true;
  }
  std::optional<std::uint64_t> greatest() const { return greatest_; }

 private:
  std::set<std::uint64_t> seen_;
  std::optional<std::uint64_t> greatest_;
};

TEST(SleeveReplayWindow, WindowIsAtLeast2048) {
  EXPECT_GE(ReplayWindow::kWindowSize, 2048u);
}

TEST(SleeveReplayWindow, Basics) {
  ReplayWindow w;
  EXPECT_TRUE(w.accept(0));
  EXPECT_FALSE(w.accept(0));
  EXPECT_TRUE(w.accept(5));
  EXPECT_TRUE(w.accept(3));
  EXPECT_FALSE(w.would_accept(3));
  EXPECT_TRUE(w.would_accept(4));
  EXPECT_TRUE(w.accept(10000));
  EXPECT_FALSE(w.accept(10000 - ReplayWindow::kWindowSize - 1));
  EXPECT_TRUE(w.accept(10000 - ReplayWindow::kWindowSize));
  EXPECT_FALSE(w.accept(std::numeric_limits<std::uint64_t>::max()));
  w.reset();
  EXPECT_TRUE(w.accept(0));
}

TEST(SleeveReplayWindow, DifferentialAgainstNaiveSet) {
  for (std::uint32_t seed : {1u, 2u, 3u, 42u, 4711u}) {
    std::mt19937_64 rng(seed);
    ReplayWindow w;
    NaiveWindow ref;
    std::uint64_t front = 0;
    for (int op = 0; op < 10000; ++op) {
      std::uint64_t c = 0;
      switch (rng() % 6) {
        case 0:  // next in order
          c = ++front;
          break;
        case 1:  // reordered within the window
        case 2:
          c = front - std::min<std::uint64_t>(front, rng() % (ReplayWindow::kWindowSize + 64));
          break;
        case 3:  // a jump ahead (sometimes past a whole window)
          front += 1 + rng() % (rng() % 4 == 0 ? 20000 : 100);
          c = front;
          break;
        case 4:  // near the edge of the window
          c = front - std::min<std::uint64_t>(front, ReplayWindow::kWindowSize - 2 + rng() % 5);
          break;
        default:  // anything at all, mostly stale
          c = rng() % (front + 10);
          break;
      }
      const bool would = w.would_accept(c);
      const bool got = w.accept(c);
      const bool want = ref.accept(c);
      ASSERT_EQ(would, got) << "seed " << seed << " op " << op << " counter " << c;
      ASSERT_EQ(got, want) << "seed " << seed << " op " << op << " counter " << c << " greatest "
                           << ref.greatest().value_or(0);
    }
  }
}

}  // namespace
}  // namespace weft::datapath

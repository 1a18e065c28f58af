#include "datapath/sleeve_replay_window.hpp"

#include <algorithm>
#include <limits>

namespace weft::datapath {

// Internally counters are shifted by one so that greatest_ == 0 means "nothing yet".
bool ReplayWindow::would_accept(std::uint64_t counter) const {
  if (counter == std::numeric_limits<std::uint64_t>::max()) {
    return false;
  }
  const std::uint64_t c = counter + 1;
  if (c > greatest_) {
    return true;
  }
  if (greatest_ - c > kWindowSize) {
    return false;
  }
  const std::uint64_t block = (c >> 6) & (kBlocks - 1);
  return (bitmap_[block] & (std::uint64_t{1} << (c & 63))) == 0;
}

bool ReplayWindow::accept(std::uint64_t counter) {
  if (!would_accept(counter)) {
    return false;
  }
  const std::uint64_t c = counter + 1;
  const std::uint64_t index = c >> 6;
  if (c > greatest_) {
    const std::uint64_t current = greatest_ >> 6;
    const std::uint64_t top = std::min<std::uint64_t>(index - current, kBlocks);
    for (std::uint64_t i = 1; i <= top; ++i) {
      bitmap_[(current + i) & (kBlocks - 1)] = 0;
    }
    greatest_ = c;
  }
  bitmap_[index & (kBlocks - 1)] |= std::uint64_t{1} << (c & 63);
  return true;
}

void ReplayWindow::reset() {
  greatest_ = 0;
  bitmap_.fill(0);
}

}  // namespace weft::datapath

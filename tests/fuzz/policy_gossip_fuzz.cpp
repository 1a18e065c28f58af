// Fuzz target for parse_policy_update (weftd/policy_channel.hpp), the NetworkPolicy
// summaries peers gossip: never crashes; whatever parses encodes and parses back equal (at
// the same instant), and merging it into a channel twice changes nothing the second time.
// fuzz-deps: weft_weftd
#include <cstddef>
#include <cstdint>
#include <span>

#include "weftd/policy_channel.hpp"

namespace {

// A clock stopped at a fixed instant (the parser turns ages into time points).
class FixedClock final : public weft::Clock {
 public:
  TimePoint now() const override { return TimePoint{} + std::chrono::hours(1000); }
  boost::asio::awaitable<bool> sleep_for(Duration) override { co_return false; }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(  // NOLINT(readability-identifier-naming)
    const std::uint8_t* data, std::size_t size) {
  using namespace weft::weftd;
  static FixedClock clock;
  const std::span<const std::uint8_t> bytes(data, size);
  auto entries = parse_policy_update(bytes, clock.now());
  if (!entries) {
    return 0;
  }
  std::vector<const PolicyEntry*> ptrs;
  ptrs.reserve(entries->size());
  for (const auto& e : *entries) {
    ptrs.push_back(&e);
  }
  const auto encoded = encode_policy_update(ptrs, clock.now());
  auto again = parse_policy_update(encoded, clock.now());
  if (!again || *again != *entries) {
    __builtin_trap();
  }
  PolicyChannel channel(weft::router::PeerName{1}, 1, clock);
  if (!channel.on_update(weft::router::PeerName{2}, encoded)) {
    __builtin_trap();
  }
  auto second = channel.on_update(weft::router::PeerName{2}, encoded);
  if (!second || *second) {
    __builtin_trap();
  }
  return 0;
}

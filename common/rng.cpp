#include "common/rng.hpp"

#include <cstring>
#include <limits>

#include <boost/assert.hpp>

#include <sys/random.h>

namespace weft {
namespace {

std::uint64_t splitmix64(std::uint64_t& x) {
  std::uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

std::uint64_t rotl(std::uint64_t x, int k) {
  return (x << k) | (x >> (64 - k));
}

std::uint64_t os_seed() {
  std::uint64_t seed = 0;
  const ssize_t n = getrandom(&seed, sizeof seed, 0);
  BOOST_ASSERT_MSG(n == static_cast<ssize_t>(sizeof seed), "getrandom failed");
  (void)n;
  return seed;
}

}  // namespace

std::uint64_t Rng::uniform(std::uint64_t n) {
  BOOST_ASSERT(n > 0);
  const std::uint64_t limit =
      std::numeric_limits<std::uint64_t>::max() - std::numeric_limits<std::uint64_t>::max() % n;
  std::uint64_t v = 0;
  do {
    v = next_u64();
  } while (v >= limit);
  return v % n;
}

std::int64_t Rng::range(std::int64_t lo, std::int64_t hi) {
  BOOST_ASSERT(lo <= hi);
  const auto span = static_cast<std::uint64_t>(hi) - static_cast<std::uint64_t>(lo);
  if (span == std::numeric_limits<std::uint64_t>::max()) {
    return static_cast<std::int64_t>(next_u64());
  }
  return static_cast<std::int64_t>(static_cast<std::uint64_t>(lo) + uniform(span + 1));
}

double Rng::unit() {
  return static_cast<double>(next_u64() >> 11) * 0x1.0p-53;
}

bool Rng::chance(double p) {
  return unit() < p;
}

void Rng::fill(std::span<std::uint8_t> out) {
  size_t i = 0;
  while (i < out.size()) {
    const std::uint64_t v = next_u64();
    const size_t n = std::min(out.size() - i, sizeof v);
    std::memcpy(out.data() + i, &v, n);
    i += n;
  }
}

SeededRng::SeededRng(std::uint64_t seed) : s_{} {
  for (auto& s : s_) {
    s = splitmix64(seed);
  }
}

std::uint64_t SeededRng::next_u64() {
  const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const std::uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

SystemRng::SystemRng() : inner_(os_seed()) {}

std::uint64_t SystemRng::next_u64() {
  return inner_.next_u64();
}

}  // namespace weft

// Rng: the only source of randomness for library code (jitter, peer choice, tokens), so
// that simulations are reproducible from a seed. Key material does not come from here:
// crypto code uses libsodium's randombytes directly.
//
// Contract: not thread-safe; each thread or component owns its own Rng.
#pragma once

#include <cstdint>
#include <span>

namespace weft {

class Rng {
 public:
  virtual ~Rng() = default;
  virtual std::uint64_t next_u64() = 0;

  // Uniform in [0, n); n must be > 0. Unbiased (rejection sampling).
  std::uint64_t uniform(std::uint64_t n);
  // Uniform in [lo, hi] inclusive.
  std::int64_t range(std::int64_t lo, std::int64_t hi);
  // Uniform in [0, 1).
  double unit();
  // True with probability p.
  bool chance(double p);
  void fill(std::span<std::uint8_t> out);
};

// xoshiro256** seeded through splitmix64: fast, reproducible, good enough for simulation.
class SeededRng final : public Rng {
 public:
  explicit SeededRng(std::uint64_t seed);
  std::uint64_t next_u64() override;

 private:
  std::uint64_t s_[4];
};

// Seeded once from the operating system (getrandom), then a SeededRng stream.
class SystemRng final : public Rng {
 public:
  SystemRng();
  std::uint64_t next_u64() override;

 private:
  SeededRng inner_;
};

}  // namespace weft

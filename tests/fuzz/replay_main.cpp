// Driver for fuzz targets in the regular (gcc, sanitized) build: replays every seed file
// given on the command line (files or folders), then feeds seeded random inputs and random
// mutations of the seeds. libFuzzer proper runs in the clang build (WEFT_FUZZ=ON).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

#include "common/rng.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

std::vector<std::uint8_t> read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::vector<std::uint8_t>> seeds;
  for (int i = 1; i < argc; ++i) {
    const std::filesystem::path arg(argv[i]);
    if (std::filesystem::is_directory(arg)) {
      for (const auto& e : std::filesystem::directory_iterator(arg)) {
        if (e.is_regular_file()) {
          seeds.push_back(read_file(e.path()));
        }
      }
    } else if (std::filesystem::exists(arg)) {
      seeds.push_back(read_file(arg));
    }
  }
  for (const auto& s : seeds) {
    LLVMFuzzerTestOneInput(s.data(), s.size());
  }
  weft::SeededRng rng(0x5eed);
  constexpr int kRounds = 5000;
  for (int round = 0; round < kRounds; ++round) {
    std::vector<std::uint8_t> input;
    if (!seeds.empty() && rng.chance(0.7)) {
      input = seeds[rng.uniform(seeds.size())];
      const auto flips = 1 + rng.uniform(4);
      for (std::uint64_t f = 0; f < flips && !input.empty(); ++f) {
        input[rng.uniform(input.size())] = static_cast<std::uint8_t>(rng.next_u64());
      }
      if (rng.chance(0.2) && !input.empty()) {
        input.resize(rng.uniform(input.size()));
      }
    } else {
      input.resize(rng.uniform(256));
      rng.fill(input);
    }
    LLVMFuzzerTestOneInput(input.data(), input.size());
  }
  std::printf("replayed %zu seeds and %d generated inputs\n", seeds.size(), kRounds);
  return 0;
}

// Fuzz target: Kubernetes manifests as weft-npc reads them (YAML or JSON, lists, workloads)
// through the decoders, the compiler and the nftables renderer. Nothing may crash, hang or
// leak; whatever decodes must compile and render.
// fuzz-deps: weft_policy weft_common
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "policy/analyze.hpp"
#include "policy/manifest.hpp"
#include "policy/nft_program.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto objects = weft::policy::parse_manifests(text, "fuzz");
  if (!objects) {
    return 0;
  }
  weft::policy::AnalyzeOptions options;
  options.pod_cidrs = {*weft::parse_cidr("198.19.0.0/24"), *weft::parse_cidr("fd00:19::/64")};
  auto input = weft::policy::build_cluster(*objects, options);
  if (!input) {
    return 0;
  }
  const auto node = weft::policy::compile(input->state);
  (void)weft::policy::render_program(node, weft::policy::NftOptions{});
  if (input->pods.size() <= 8) {
    for (const auto& c : weft::policy::analyze(*input, options)) {
      (void)weft::policy::to_json_line(c);
    }
  }
  return 0;
}

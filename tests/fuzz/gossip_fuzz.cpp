// Fuzz target for the mesh message parsers (router/gossip_codec.hpp): the input as a mesh
// message, its payload as a topology update and digest; accepted input must re-encode to
// something that parses to the same value, and merging parsed records into a topology,
// collecting garbage and computing routes must keep their invariants.
// fuzz-deps: weft_router
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "router/gossip_codec.hpp"
#include "router/routes.hpp"
#include "router/topology.hpp"

namespace {

using weft::router::PeerName;
using weft::router::PeerRecord;

void check_update(std::span<const std::uint8_t> bytes) {
  auto records = weft::router::parse_topology_update(bytes);
  if (!records) {
    return;
  }
  auto again = weft::router::parse_topology_update(weft::router::encode_topology_update(*records));
  if (!again || *again != *records) {
    __builtin_trap();
  }
  weft::router::Topology t(PeerRecord{
      .name = PeerName{1}, .nickname = "self", .uid = 1, .version = 1, .connections = {}});
  const auto merged = t.merge(*records);
  if (merged.self_bumped && t.self().version < 2) {
    __builtin_trap();
  }
  const weft::router::Routes routes(t, PeerName{1});
  t.garbage_collect();
  const weft::router::Routes after(t, PeerName{1});
  // GC keeps at least every peer routes can reach, and a second pass drops nothing.
  if (routes.reachable_peers() != after.reachable_peers() ||
      t.size() < after.reachable_peers().size() || !t.garbage_collect().empty()) {
    __builtin_trap();
  }
  for (PeerName p : after.reachable_peers()) {
    for (PeerName hop : after.broadcast_next_hops(p)) {
      if (!after.reachable(hop)) {
        __builtin_trap();
      }
    }
    if (p != PeerName{1} && !after.next_hop(p)) {
      __builtin_trap();
    }
  }
}

void check_digest(std::span<const std::uint8_t> bytes) {
  auto stamps = weft::router::parse_topology_digest(bytes);
  if (!stamps) {
    return;
  }
  auto again = weft::router::parse_topology_digest(weft::router::encode_topology_digest(*stamps));
  if (!again || *again != *stamps) {
    __builtin_trap();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> bytes(data, size);
  if (auto m = weft::router::parse_message(bytes)) {
    const std::vector<std::uint8_t> encoded = weft::router::encode_message(*m);
    if (encoded.size() != size || !std::equal(encoded.begin(), encoded.end(), data)) {
      __builtin_trap();  // the encoding is canonical
    }
    check_update(m->payload);
    check_digest(m->payload);
  }
  check_update(bytes);
  check_digest(bytes);
  return 0;
}

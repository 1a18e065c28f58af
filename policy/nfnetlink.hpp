// Pieces shared by weft-npc's nfnetlink messages (NFLOG, policy/nflog.hpp; nftables counter
// dumps, policy/nft_counters.hpp): a request builder and unaligned readers of host-order
// fields.
//
// Contract: pure functions; no I/O.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

namespace weft::policy {

inline std::uint16_t host16(const std::uint8_t* p) {
  std::uint16_t v = 0;
  std::memcpy(&v, p, sizeof v);
  return v;
}

inline std::uint32_t host32(const std::uint8_t* p) {
  std::uint32_t v = 0;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// One nfnetlink request: netlink header, nfgenmsg, then attributes (each padded to 4).
class NfnetlinkRequest {
 public:
  NfnetlinkRequest(std::uint16_t type, std::uint16_t flags, std::uint32_t sequence,
                   std::uint8_t family, std::uint16_t res_id_network_order = 0);
  void attribute(std::uint16_t type, const void* data, std::size_t size);
  // The message, its length filled in.
  std::vector<std::uint8_t> take() &&;

 private:
  void put(const void* data, std::size_t size);

  std::vector<std::uint8_t> out_;
};

}  // namespace weft::policy

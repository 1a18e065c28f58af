// DatapathInfo: what a peer offers the data plane, carried opaquely in its topology record
// (PeerRecord::datapath) so that every peer learns it by gossip.
//
// Wire format (version 1, big-endian; at most kMaxDatapathBytes, see gossip_codec.hpp):
//   version:u8 (=1) flags:u8 fastdp_port:u16 sleeve_port:u16
//   vxlan_count:u8 { family:u8 (4|6) mac:6 }{vxlan_count}   fastdp devices, one per family
//   mac_count:u16 { mac:6 }{mac_count}                        local container MACs, sorted
//   flags: bit 0 fastdp offered, bit 1 sleeve offered, bit 2 the sleeve can do AES-256-GCM
//   (AES-NI); other bits must be zero.
// A newer version may append fields; a reader of version 1 rejects other versions (the
// peer is then treated as offering nothing, and traffic to it uses no fast datapath).
//
// Contract: pure functions; parse_datapath_info never crashes on any input.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "common/address.hpp"
#include "common/result.hpp"

namespace weft::datapath {

inline constexpr std::size_t kMaxAdvertisedMacs = 1024;

struct VxlanOffer {
  IpFamily family = IpFamily::kV4;
  MacAddress mac{};  // of the peer's VXLAN device (heartbeat frames go to it)
  bool operator==(const VxlanOffer&) const = default;
};

struct DatapathInfo {
  bool fastdp = false;
  bool sleeve = false;
  bool sleeve_aes = false;
  std::uint16_t fastdp_port = 6784;
  std::uint16_t sleeve_port = 6783;
  std::vector<VxlanOffer> vxlan{};
  std::vector<MacAddress> macs{};  // sorted, unique

  bool operator==(const DatapathInfo&) const = default;
  std::optional<MacAddress> vxlan_mac(IpFamily family) const;
};

// Sorts and dedups the MACs; more than kMaxAdvertisedMacs are cut (the rest still works by
// flooding, just without static entries).
std::vector<std::uint8_t> encode_datapath_info(DatapathInfo info);
Result<DatapathInfo> parse_datapath_info(std::span<const std::uint8_t> bytes);

}  // namespace weft::datapath

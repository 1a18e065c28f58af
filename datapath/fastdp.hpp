// FastDatapath: the kernel VXLAN fast datapath of one host, programmed over netlink.
//
// Design note:
//  - One VXLAN device per underlay family ("weft-vx4", "weft-vx6"; VNI kVni, UDP 6784,
//    learning off), each a port of the bridge "weft". Both ports are isolated from each
//    other (bridge port isolation): a host never relays between its families, which would
//    loop broadcasts between dual-stack hosts. Relaying is the sleeve's job.
//  - Per fastdp peer: one all-zero "flood" FDB entry towards its underlay address (head-end
//    replication of broadcast and unknown unicast), a static entry for the peer's own VXLAN
//    device MAC (heartbeats go to it) and static entries for the container MACs it
//    advertises by gossip. No multicast underlay, no learning, no VNI per peer.
//  - MTU: the VXLAN device gets the underlay MTU minus the encapsulation (50 bytes over
//    IPv4, 70 over IPv6); the bridge and container veths use the smallest of the families.
//
// Contract: control thread only; every call is a few netlink round trips. Errors are
// netlink errors; a kernel without VXLAN gives kUnsupported from ensure_device() and the
// caller falls back to the sleeve.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/address.hpp"
#include "common/netlink.hpp"
#include "common/result.hpp"
#include "router/peer_name.hpp"

namespace weft::datapath {

using router::PeerName;

inline constexpr std::uint32_t kVni = 0x5746;  // "WF"
inline constexpr std::uint16_t kFastdpPort = 6784;

// Encapsulation overhead: outer IP + UDP + VXLAN + inner Ethernet.
constexpr std::uint32_t vxlan_overhead(IpFamily family) {
  return family == IpFamily::kV4 ? 50 : 70;
}
std::string vxlan_device_name(IpFamily family);

struct FastdpPeer {
  IpAddress underlay{};                    // where its VXLAN device listens
  std::optional<MacAddress> device_mac{};  // its VXLAN device (heartbeat target)
  std::vector<MacAddress> macs{};          // container MACs it advertises
  // False while the path is being confirmed: only the entry for device_mac (heartbeats) is
  // installed; true adds the flood entry and the container MACs (traffic flows).
  bool forwarding = false;
  bool operator==(const FastdpPeer&) const = default;
};

class FastDatapath {
 public:
  FastDatapath(Netlink& netlink, std::string bridge, std::uint16_t port = kFastdpPort);

  // Creates the family's VXLAN device if missing (or re-creates one whose settings differ)
  // with source `local`, MTU underlay_mtu - overhead, on the bridge, isolated, up; returns
  // its MAC.
  Result<MacAddress> ensure_device(IpFamily family, const IpAddress& local,
                                   std::uint32_t underlay_mtu);
  std::optional<MacAddress> device_mac(IpFamily family) const;
  std::optional<std::uint32_t> device_mtu(IpFamily family) const;

  // Programs (or reprograms, applying only the difference) a peer's FDB entries on the
  // device of its underlay family.
  Result<void> set_peer(PeerName peer, const FastdpPeer& config);
  // Removes a peer's entries (no error when it had none).
  Result<void> remove_peer(PeerName peer);
  bool has_peer(PeerName peer) const { return peers_.contains(peer); }
  std::vector<PeerName> peers() const;

  // Deletes the devices (the FDB entries go with them).
  void teardown();

 private:
  Result<void> add_entries(const std::string& dev, const FastdpPeer& p, const FastdpPeer* before);
  void remove_entries(const std::string& dev, const FastdpPeer& p, const FastdpPeer* after);

  Netlink& nl_;
  std::string bridge_;
  std::uint16_t port_;
  struct Device {
    MacAddress mac{};
    std::uint32_t mtu = 0;
    IpAddress local{};
  };
  std::map<IpFamily, Device> devices_;
  std::map<PeerName, FastdpPeer> peers_;
};

}  // namespace weft::datapath

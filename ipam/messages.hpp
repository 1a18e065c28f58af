// Messages of the ipam channel sent by unicast/broadcast (the rings themselves travel as
// gossip updates, see weftd/ipam_channel.hpp).
//
//   u8 type, then: kHello, kPropose -> u16 n, n x u64 peer; kAccept/kReject ->
//   nothing; kSpaceRequest -> u8 family, u8 has_window, [first, last (4|16 bytes)];
//   kSpaceGrant -> u8 family, u8 has_ring, [ring (ring_codec.hpp)]
// parse_message is a pure function of untrusted bytes (tests/fuzz/ipam_message_fuzz.cpp).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "common/result.hpp"
#include "ipam/ring.hpp"

namespace weft::ipam {

enum class MessageType : std::uint8_t {
  kHello = 1,    // consensus bootstrap: "we (these peers) are initial peers without a ring"
  kPropose = 2,  // consensus bootstrap: seed the ring with these peers?
  kAccept = 3,
  kReject = 4,
  kSpaceRequest = 5,  // out of space: donate some (inside `window` if set)
  kSpaceGrant = 6,    // the donor's ring after the donation (no ring: nothing to give)
};

struct Message {
  MessageType type = MessageType::kHello;
  std::vector<PeerId> peers;        // kHello (the candidates the sender knows), kPropose
  IpFamily family = IpFamily::kV4;  // kSpaceRequest, kSpaceGrant
  std::optional<Run> window;        // kSpaceRequest
  std::optional<Ring> ring;         // kSpaceGrant
};

inline constexpr std::size_t kMaxProposePeers = 4096;

std::vector<std::uint8_t> encode_message(const Message& message);
Result<Message> parse_message(std::span<const std::uint8_t> bytes);

}  // namespace weft::ipam

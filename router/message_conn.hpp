// MessageConn and Transport: the seam between the mesh logic (gossip, topology, connection
// maker) and the way peers reach each other.
//
// The real transport is TCP on port 6783 with the handshake and AEAD-sealed framing of
// router/protocol.hpp (router/tcp_transport.*); simulations use an in-memory transport
// (tests/support/sim_transport.*). The mesh sees only authenticated peers exchanging
// whole messages.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "common/result.hpp"
#include "router/peer_name.hpp"

namespace weft::router {

using PublicKey = std::array<std::uint8_t, 32>;

// What a peer said about itself in the handshake (already verified by the transport).
struct PeerInfo {
  PeerName name;
  std::string nickname;
  std::uint64_t uid = 0;                // per-launch identifier
  std::optional<PublicKey> static_key;  // set when the peer proved a static key
  std::string remote_address;           // "198.18.0.2:6783" / "[fd00:18::2]:6783"
  std::uint16_t listen_port = 6783;     // where the peer accepts connections
  bool encrypted = false;               // session keys bound to the shared password
  std::uint32_t protocol_version = 0;   // negotiated
  // Keys and receiver indices for the sleeve data path with this peer, exported from the
  // handshake (protocol.hpp section 3: labels "weft sleeve tx"/"weft sleeve index"); both
  // ends derive the same values mirrored. Meaningful only for transports that handshake.
  std::array<std::uint8_t, 32> sleeve_tx_key{};
  std::array<std::uint8_t, 32> sleeve_rx_key{};
  std::uint32_t sleeve_tx_index = 0;  // the peer's receiver index for our packets
  std::uint32_t sleeve_rx_index = 0;  // ours for its packets
};

// One established, authenticated connection to a peer carrying whole messages.
//
// Contract: used from the control thread only. receive() is called by one coroutine at a
// time; it returns the next message or an error once the connection is closed, broken,
// timed out (missed heartbeats) or a message failed authentication. send() queues without
// blocking; it fails when the connection is closed or its queue is over the limit (the
// caller treats both as a dead connection). Messages are at most kMaxMessageSize bytes.
class MessageConn {
 public:
  static constexpr std::size_t kMaxMessageSize = 8 * 1024 * 1024;

  virtual ~MessageConn() = default;
  virtual const PeerInfo& remote() const = 0;
  virtual bool outbound() const = 0;
  virtual boost::asio::awaitable<Result<std::vector<std::uint8_t>>> receive() = 0;
  virtual Result<void> send(std::vector<std::uint8_t> message) = 0;
  // Idempotent; wakes a pending receive() with an error.
  virtual void close(std::string reason) = 0;
};

// Dials peers and accepts peers.
//
// Contract: used from the control thread only. dial() completes after a successful
// handshake (or with the reason it failed: refused, timeout, wrong password, untrusted
// key, version mismatch, talking to ourselves). accept() completes with the next
// authenticated incoming connection; failed incoming handshakes are logged and counted by
// the transport and never surface here. Both are cancellable.
class Transport {
 public:
  virtual ~Transport() = default;
  virtual boost::asio::awaitable<Result<std::unique_ptr<MessageConn>>> dial(
      std::string address) = 0;
  virtual boost::asio::awaitable<Result<std::unique_ptr<MessageConn>>> accept() = 0;
};

}  // namespace weft::router

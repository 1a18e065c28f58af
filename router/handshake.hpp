// The connection handshake (router/protocol.hpp sections 2-3): Hello exchange, version
// negotiation, admission checks, key schedule and key confirmation, as one coroutine over a
// ByteStream. Also TransportStats, the counters shared by the handshake, the sealed
// connections and the TCP transport.
//
// Contract: run_handshake() runs on the stream's executor and performs reads and writes
// on the stream only (it never closes it: the caller closes or hands it on). It completes
// with the session (peer identity and the two directional ciphers, the Confirm frames
// already exchanged) or with an error; every failure is counted in `stats` and logged once
// ("handshake failed" with peer, name and reason). It has no timeout of its own: callers
// race it with a timer. derive_session_keys() is a pure function (no I/O) so that the
// key schedule can be tested directly and moved to a crypto thread later.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "common/byte_stream.hpp"
#include "common/result.hpp"
#include "router/crypto.hpp"
#include "router/message_conn.hpp"
#include "router/protocol.hpp"

namespace weft::router {

// Counters for /report and /metrics. Single-threaded (control thread) for now.
struct TransportStats {
  // Handshakes.
  std::uint64_t handshakes_ok = 0;
  std::uint64_t handshake_failed_version = 0;    // no common protocol version
  std::uint64_t handshake_failed_auth = 0;       // password mismatch or failed key confirmation
  std::uint64_t handshake_failed_untrusted = 0;  // static key missing or not in trusted list
  std::uint64_t handshake_failed_self = 0;       // connection to ourselves
  std::uint64_t handshake_failed_timeout = 0;    // counted by the transport
  std::uint64_t handshake_failed_malformed = 0;  // bad Hello or Confirm bytes
  std::uint64_t handshake_failed_io = 0;         // connection broke or closed mid-handshake
  // Sealed frames.
  std::uint64_t frames_sealed = 0;
  std::uint64_t frames_opened = 0;
  std::uint64_t frame_auth_failures = 0;  // tampered, replayed, reordered, wrong key
  std::uint64_t frame_oversize = 0;       // length prefix over the limit
  std::uint64_t frame_malformed = 0;      // length under the minimum, bad plaintext
  std::uint64_t bytes_in = 0;             // on the wire, after the handshake
  std::uint64_t bytes_out = 0;
  std::uint64_t heartbeats_sent = 0;
  std::uint64_t heartbeat_timeouts = 0;  // connections closed for a silent peer
  // Connections.
  std::uint64_t accepts = 0;               // TCP connections accepted (before the handshake)
  std::uint64_t accepts_rate_limited = 0;  // refused by the per-source rate limit
  std::uint64_t accepts_overloaded = 0;    // refused: too many handshakes or unclaimed conns
  std::uint64_t dials_failed = 0;          // could not connect (refused, timeout, resolve)

  std::uint64_t handshakes_failed() const {
    return handshake_failed_version + handshake_failed_auth + handshake_failed_untrusted +
           handshake_failed_self + handshake_failed_timeout + handshake_failed_malformed +
           handshake_failed_io;
  }
};

// What this peer says and proves about itself. Built once at startup and shared.
struct HandshakeConfig {
  PeerName name;
  std::uint64_t uid = 0;  // random per launch (random_u64())
  std::string nickname;   // <= kMaxNickname bytes of printable UTF-8
  std::uint16_t listen_port = kDefaultPort;
  // Versions offered in the Hello. Only version 1 exists; wider ranges are for tests of
  // the negotiation (every version runs the version-1 schedule).
  std::uint16_t min_version = kMinProtocolVersion;
  std::uint16_t max_version = kMaxProtocolVersion;
  std::optional<SecretKey> password_key;  // derive_password_key(password), once at startup
  std::optional<KeyPair> static_key;
  std::vector<PublicKey> trusted_keys;  // non-empty: only peers with these static keys join
};

enum class Role { kDialer, kAcceptor };

// An established session: the peer as verified and the ciphers for each direction, both
// positioned after the Confirm frames (counter 1).
struct Session {
  PeerInfo peer;
  CipherState send;
  CipherState receive;
  Hash transcript{};
};

// Runs the handshake on `stream`. `stream` and `stats` must outlive the coroutine.
boost::asio::awaitable<Result<Session>> run_handshake(ByteStream& stream, Role role,
                                                      std::shared_ptr<const HandshakeConfig> config,
                                                      std::shared_ptr<TransportStats> stats);

// The transcript hash H over both Hellos as sent (dialer's first).
Hash transcript_hash(std::span<const std::uint8_t> dialer_hello,
                     std::span<const std::uint8_t> acceptor_hello);

struct SessionKeys {
  SecretKey send;
  SecretKey receive;
};
// The key schedule of protocol.hpp section 3, from one side's point of view. Fails when a
// peer key is a low-order point.
Result<SessionKeys> derive_session_keys(Role role, const HandshakeConfig& config,
                                        const KeyPair& ephemeral, const Hello& peer_hello,
                                        const Hash& transcript);

// Derives the sleeve keys and receiver indices of PeerInfo from the session keys.
void export_sleeve_keys(Role role, const SessionKeys& keys, PeerInfo& peer);

// Reads exactly out.size() bytes (several read_some calls); eof before that is an error.
boost::asio::awaitable<Result<void>> read_exact(ByteStream& stream, std::span<std::uint8_t> out);

// "198.18.0.2:6783" or "[fd00::2]:6783".
std::string endpoint_text(const Endpoint& endpoint);

}  // namespace weft::router

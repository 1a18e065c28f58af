// Design note: the handshake is Hello/Hello, then Confirm/Confirm (protocol.hpp sections
// 2-3). Both sides write before they read, so there is no round trip to wait for and no
// deadlock: a handshake is two round trips at most. Failures are classified once here
// (the transport only adds timeouts) so that every rejected peer yields exactly one log
// line and one counter.
#include "router/handshake.hpp"

#include <algorithm>
#include <cstring>
#include <utility>

#include <boost/asio/error.hpp>

#include "common/log.hpp"

namespace weft::router {
namespace {

namespace asio = boost::asio;

enum class Failure { kVersion, kAuth, kUntrusted, kSelf, kMalformed, kIo };

struct Rejection {
  Failure kind;
  Error error;
};

void count(TransportStats& s, Failure kind) {
  switch (kind) {
    case Failure::kVersion:
      ++s.handshake_failed_version;
      break;
    case Failure::kAuth:
      ++s.handshake_failed_auth;
      break;
    case Failure::kUntrusted:
      ++s.handshake_failed_untrusted;
      break;
    case Failure::kSelf:
      ++s.handshake_failed_self;
      break;
    case Failure::kMalformed:
      ++s.handshake_failed_malformed;
      break;
    case Failure::kIo:
      ++s.handshake_failed_io;
      break;
  }
}

Error report(TransportStats& stats, Failure kind, const std::string& remote,
             const std::optional<PeerName>& name, Error error) {
  if (error.code == make_error_code(Errc::kCancelled)) {
    return error;  // whoever cancelled (timeout, shutdown) reports it
  }
  count(stats, kind);
  const std::string who = name ? name->to_string() : std::string("unknown");
  // Rejections for a reason the operator must act on are warnings; broken connections
  // (port scanners, peers going away) are routine.
  const log::Level level = kind == Failure::kIo ? log::Level::kInfo : log::Level::kWarn;
  log::write(level, "handshake failed",
             {{"peer", remote}, {"name", who}, {"reason", error.message}});
  error.message = fmt::format("handshake with {} ({}) failed: {}", remote, who, error.message);
  return error;
}

Hello make_hello(const HandshakeConfig& c, const KeyPair& eph) {
  Hello h;
  h.min_version = c.min_version;
  h.max_version = c.max_version;
  h.password = c.password_key.has_value();
  h.name = c.name;
  h.uid = c.uid;
  h.listen_port = c.listen_port;
  h.ephemeral_key = eph.public_key;
  if (c.static_key) {
    h.static_key = c.static_key->public_key;
  }
  h.nickname = c.nickname;
  return h;
}

std::span<const std::uint8_t> bytes_of(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// Admission checks after the Hellos (protocol.hpp section 2), in the documented order.
std::optional<Rejection> admit(const HandshakeConfig& c, const Hello& peer,
                               std::uint16_t& version) {
  if (peer.name == c.name) {
    return Rejection{Failure::kSelf, make_error(Errc::kConflict, "connection to self")};
  }
  auto v = negotiate_version(c.min_version, c.max_version, peer.min_version, peer.max_version);
  if (!v) {
    return Rejection{Failure::kVersion, v.error()};
  }
  version = *v;
  if (c.password_key && !peer.password) {
    return Rejection{Failure::kAuth,
                     make_error(Errc::kAuthFailed, "peer has no password but we require one")};
  }
  if (!c.password_key && peer.password) {
    return Rejection{Failure::kAuth,
                     make_error(Errc::kAuthFailed, "peer requires a password but we have none")};
  }
  if (!c.trusted_keys.empty()) {
    if (!peer.static_key) {
      return Rejection{
          Failure::kUntrusted,
          make_error(Errc::kAuthFailed, "untrusted peer: it has no static key and we require one")};
    }
    const bool trusted = std::any_of(c.trusted_keys.begin(), c.trusted_keys.end(),
                                     [&](const PublicKey& k) { return k == *peer.static_key; });
    if (!trusted) {
      return Rejection{Failure::kUntrusted, make_error(Errc::kAuthFailed, "untrusted key {}",
                                                       key_to_base64(*peer.static_key))};
    }
  }
  return std::nullopt;
}

// Sends one sealed frame (header and ciphertext in one write).
asio::awaitable<Result<void>> write_frame(ByteStream& stream, CipherState& cipher, FrameType type,
                                          std::span<const std::uint8_t> payload) {
  const auto plain = encode_frame_plaintext(type, payload);
  const auto header = encode_frame_header(static_cast<std::uint32_t>(plain.size() + kAeadOverhead));
  std::vector<std::uint8_t> wire(header.begin(), header.end());
  cipher.seal(header, plain, wire);
  co_return co_await stream.write_all(wire);
}

// Key confirmation: our Confirm out, the peer's in. Both ciphers end at counter 1.
asio::awaitable<std::optional<Rejection>> exchange_confirms(ByteStream& stream, Session& s,
                                                            bool keys_used) {
  if (auto w = co_await write_frame(stream, s.send, FrameType::kConfirm, s.transcript); !w) {
    co_return Rejection{Failure::kIo, w.error()};
  }
  std::array<std::uint8_t, kFrameHeaderSize> header{};
  if (auto r = co_await read_exact(stream, header); !r) {
    co_return Rejection{Failure::kIo, r.error()};
  }
  auto size = decode_frame_header(header);
  if (!size) {
    co_return Rejection{Failure::kMalformed, size.error()};
  }
  std::vector<std::uint8_t> sealed(*size);
  if (auto r = co_await read_exact(stream, sealed); !r) {
    co_return Rejection{Failure::kIo, r.error()};
  }
  std::vector<std::uint8_t> plain;
  if (!s.receive.open(header, sealed, plain)) {
    // Without static keys only the password feeds the keys (or the bytes were altered).
    co_return Rejection{
        Failure::kAuth,
        make_error(Errc::kAuthFailed, "{}",
                   keys_used ? "authentication failed (wrong password or key)"
                             : "authentication failed: the peer has a different password")};
  }
  auto frame = decode_frame_plaintext(plain);
  if (!frame || frame->type != FrameType::kConfirm || !equal_ct(frame->payload, s.transcript)) {
    co_return Rejection{
        Failure::kMalformed,
        make_error(Errc::kMalformed, "the first sealed frame is not a valid confirm")};
  }
  co_return std::nullopt;
}

}  // namespace

void export_sleeve_keys(Role role, const SessionKeys& keys, PeerInfo& peer) {
  // The dialer's send key is the acceptor's receive key: name the two directions by it so
  // that both ends derive the same four values, mirrored.
  const SecretKey& d2a = role == Role::kDialer ? keys.send : keys.receive;
  const SecretKey& a2d = role == Role::kDialer ? keys.receive : keys.send;
  const SecretKey k_d2a = derive_key(d2a.bytes, "weft sleeve tx");
  const SecretKey k_a2d = derive_key(a2d.bytes, "weft sleeve tx");
  const SecretKey idx = derive_key(d2a.bytes, "weft sleeve index", a2d.bytes);
  auto u32 = [&](std::size_t at) {
    return (std::uint32_t{idx.bytes[at]} << 24) | (std::uint32_t{idx.bytes[at + 1]} << 16) |
           (std::uint32_t{idx.bytes[at + 2]} << 8) | std::uint32_t{idx.bytes[at + 3]};
  };
  const std::uint32_t acceptor_rx = u32(0) | 1;  // never 0
  const std::uint32_t dialer_rx = u32(4) | 1;
  const bool dialer = role == Role::kDialer;
  peer.sleeve_tx_key = (dialer ? k_d2a : k_a2d).bytes;
  peer.sleeve_rx_key = (dialer ? k_a2d : k_d2a).bytes;
  peer.sleeve_tx_index = dialer ? acceptor_rx : dialer_rx;
  peer.sleeve_rx_index = dialer ? dialer_rx : acceptor_rx;
}

std::string endpoint_text(const Endpoint& endpoint) {
  // A dual-stack listener sees IPv4 peers as ::ffff:a.b.c.d; show them as the IPv4 they are.
  if (endpoint.address().is_v6() && endpoint.address().to_v6().is_v4_mapped()) {
    return fmt::format(
        "{}:{}",
        asio::ip::make_address_v4(asio::ip::v4_mapped, endpoint.address().to_v6()).to_string(),
        endpoint.port());
  }
  if (endpoint.address().is_v6()) {
    return fmt::format("[{}]:{}", endpoint.address().to_string(), endpoint.port());
  }
  return fmt::format("{}:{}", endpoint.address().to_string(), endpoint.port());
}

asio::awaitable<Result<void>> read_exact(ByteStream& stream, std::span<std::uint8_t> out) {
  std::size_t got = 0;
  while (got < out.size()) {
    auto n = co_await stream.read_some(out.subspan(got));
    if (!n) {
      if (n.error().code == asio::error::eof) {
        co_return make_error(Errc::kUnavailable, "connection closed by the peer");
      }
      co_return n.error();
    }
    got += *n;
  }
  co_return Result<void>{};
}

Hash transcript_hash(std::span<const std::uint8_t> dialer_hello,
                     std::span<const std::uint8_t> acceptor_hello) {
  const auto len = [](std::span<const std::uint8_t> b) {
    const auto n = static_cast<std::uint32_t>(b.size());
    return std::array<std::uint8_t, 4>{
        static_cast<std::uint8_t>(n >> 24), static_cast<std::uint8_t>(n >> 16),
        static_cast<std::uint8_t>(n >> 8), static_cast<std::uint8_t>(n)};
  };
  const auto ld = len(dialer_hello);
  const auto la = len(acceptor_hello);
  return blake2b({}, {bytes_of("weft transcript v1"), ld, dialer_hello, la, acceptor_hello});
}

Result<SessionKeys> derive_session_keys(Role role, const HandshakeConfig& config,
                                        const KeyPair& ephemeral, const Hello& peer_hello,
                                        const Hash& transcript) {
  const bool dialer = role == Role::kDialer;
  WEFT_TRY(const SecretKey dh1, x25519(ephemeral.secret_key, peer_hello.ephemeral_key));
  // dh2 = DH(static_d, eph_a), dh3 = DH(eph_d, static_a), each computed from our side.
  const std::optional<PublicKey> our_static =
      config.static_key ? std::optional(config.static_key->public_key) : std::nullopt;
  const bool d_static = dialer ? our_static.has_value() : peer_hello.static_key.has_value();
  const bool a_static = dialer ? peer_hello.static_key.has_value() : our_static.has_value();
  SecretKey dh2;
  SecretKey dh3;
  if (d_static) {
    auto r = dialer ? x25519(config.static_key->secret_key, peer_hello.ephemeral_key)
                    : x25519(ephemeral.secret_key, *peer_hello.static_key);
    WEFT_TRY_VOID(r);
    dh2 = *r;
  }
  if (a_static) {
    auto r = dialer ? x25519(ephemeral.secret_key, *peer_hello.static_key)
                    : x25519(config.static_key->secret_key, peer_hello.ephemeral_key);
    WEFT_TRY_VOID(r);
    dh3 = *r;
  }
  const SecretKey zero;
  const SecretKey& psk = config.password_key ? *config.password_key : zero;
  const std::span<const std::uint8_t> none;
  Hash prk = blake2b(psk.bytes, {bytes_of("weft keys v1"), transcript, dh1.bytes,
                                 d_static ? std::span<const std::uint8_t>(dh2.bytes) : none,
                                 a_static ? std::span<const std::uint8_t>(dh3.bytes) : none});
  SecretKey k_da = derive_key(prk, "weft dialer->acceptor");
  SecretKey k_ad = derive_key(prk, "weft acceptor->dialer");
  secure_zero(prk);
  if (dialer) {
    return SessionKeys{std::move(k_da), std::move(k_ad)};
  }
  return SessionKeys{std::move(k_ad), std::move(k_da)};
}

asio::awaitable<Result<Session>> run_handshake(ByteStream& stream, Role role,
                                               std::shared_ptr<const HandshakeConfig> config,
                                               std::shared_ptr<TransportStats> stats) {
  const std::string remote = endpoint_text(stream.remote_endpoint());
  std::optional<PeerName> peer_name;
  const auto fail = [&](Failure kind, Error e) {
    return report(*stats, kind, remote, peer_name, std::move(e));
  };

  const KeyPair eph = generate_keypair();
  const std::vector<std::uint8_t> ours = encode_hello(make_hello(*config, eph));
  if (auto w = co_await stream.write_all(ours); !w) {
    co_return fail(Failure::kIo, w.error());
  }
  std::vector<std::uint8_t> theirs(kHelloHeaderSize);
  if (auto r = co_await read_exact(stream, theirs); !r) {
    co_return fail(Failure::kIo, r.error());
  }
  auto body = decode_hello_header(theirs);
  if (!body) {
    co_return fail(Failure::kMalformed, body.error());
  }
  theirs.resize(kHelloHeaderSize + *body);
  if (auto r = co_await read_exact(stream, std::span(theirs).subspan(kHelloHeaderSize)); !r) {
    co_return fail(Failure::kIo, r.error());
  }
  auto peer = decode_hello(theirs);
  if (!peer) {
    co_return fail(Failure::kMalformed, peer.error());
  }
  peer_name = peer->name;
  std::uint16_t version = 0;
  if (auto rejected = admit(*config, *peer, version)) {
    co_return fail(rejected->kind, std::move(rejected->error));
  }

  const bool dialer = role == Role::kDialer;
  Session s;
  s.transcript = dialer ? transcript_hash(ours, theirs) : transcript_hash(theirs, ours);
  auto keys = derive_session_keys(role, *config, eph, *peer, s.transcript);
  if (!keys) {
    co_return fail(Failure::kMalformed, keys.error());
  }
  s.send = CipherState(keys->send);
  s.receive = CipherState(keys->receive);

  const bool keys_used = config->static_key || peer->static_key;
  if (auto rejected = co_await exchange_confirms(stream, s, keys_used)) {
    co_return fail(rejected->kind, std::move(rejected->error));
  }

  ++stats->handshakes_ok;
  s.peer.name = peer->name;
  s.peer.nickname = peer->nickname;
  s.peer.uid = peer->uid;
  s.peer.static_key = peer->static_key;  // proven: it fed dh2/dh3 and the confirm opened
  s.peer.remote_address = remote;
  s.peer.listen_port = peer->listen_port;
  s.peer.encrypted = config->password_key.has_value();
  s.peer.protocol_version = version;
  export_sleeve_keys(role, *keys, s.peer);
  co_return s;
}

}  // namespace weft::router

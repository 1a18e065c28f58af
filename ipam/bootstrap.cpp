#include "ipam/bootstrap.hpp"

#include <algorithm>

#include "common/log.hpp"
#include "ipam/wire.hpp"

namespace weft::ipam {

Result<PeerId> parse_peer_id(std::string_view text) {
  PeerId v = 0;
  int digits = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == ':' || c == '-') {
      if (i % 3 != 2) {
        return make_error(Errc::kInvalidArgument, "invalid peer name \"{}\"", text);
      }
      continue;
    }
    int d = -1;
    if (c >= '0' && c <= '9')
      d = c - '0';
    if (c >= 'a' && c <= 'f')
      d = c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
      d = c - 'A' + 10;
    if (d < 0 || ++digits > 12) {
      return make_error(Errc::kInvalidArgument, "invalid peer name \"{}\"", text);
    }
    v = (v << 4) | static_cast<PeerId>(d);
  }
  if (digits != 12 || v == 0) {
    return make_error(Errc::kInvalidArgument, "invalid peer name \"{}\"", text);
  }
  return v;
}

Result<BootstrapConfig> parse_ipalloc_init(std::string_view text, std::size_t initial_peers) {
  BootstrapConfig c;
  c.initial_peers = std::max<std::size_t>(initial_peers, 1);
  if (text == "observer") {
    c.mode = BootstrapConfig::Mode::kObserver;
    return c;
  }
  if (text == "consensus" || text.starts_with("consensus=")) {
    c.mode = BootstrapConfig::Mode::kConsensus;
    if (text.size() > 10) {
      std::size_t n = 0;
      for (char ch : text.substr(10)) {
        if (ch < '0' || ch > '9' || n > 100000) {
          return make_error(Errc::kInvalidArgument, "--ipalloc-init: bad quorum in \"{}\"", text);
        }
        n = n * 10 + static_cast<std::size_t>(ch - '0');
      }
      if (n == 0) {
        return make_error(Errc::kInvalidArgument, "--ipalloc-init: quorum must be >= 1");
      }
      if (initial_peers > 1 && n * 2 <= initial_peers) {
        return make_error(Errc::kInvalidArgument,
                          "--ipalloc-init: quorum {} is not a majority of {} initial peers", n,
                          initial_peers);
      }
      c.quorum = n;
    }
    return c;
  }
  if (text.starts_with("seed=")) {
    c.mode = BootstrapConfig::Mode::kSeed;
    std::string_view rest = text.substr(5);
    while (!rest.empty()) {
      const auto comma = rest.find(',');
      WEFT_TRY(auto id, parse_peer_id(rest.substr(0, comma)));
      c.seeds.push_back(id);
      rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    }
    if (c.seeds.empty()) {
      return make_error(Errc::kInvalidArgument, "--ipalloc-init: empty seed list");
    }
    return c;
  }
  return make_error(Errc::kInvalidArgument,
                    "--ipalloc-init: expected consensus[=N], seed=NAME,... or observer, got \"{}\"",
                    text);
}

Bootstrap::Bootstrap(BootstrapConfig config, PeerId self)
    : config_(std::move(config)),
      self_(self),
      quorum_(config_.quorum != 0 ? config_.quorum : config_.initial_peers) {
  candidates_.insert(self_);
}

Result<void> Bootstrap::restore(std::span<const std::uint8_t> state) {
  if (state.empty()) {
    return {};
  }
  wire::Reader r(state);
  std::uint8_t phase = 0, has = 0;
  PeerId promised = 0;
  if (!r.get_int(phase) || phase > 2 || !r.get_int(has) || has > 1 || !r.get_int(promised) ||
      !r.done()) {
    return make_error(Errc::kMalformed, "ipam bootstrap state: {} bytes", state.size());
  }
  phase_ = phase == 2 ? Phase::kDone : Phase::kWaiting;  // a proposal restarts from scratch
  if (has == 1) {
    promised_ = promised;
  }
  return {};
}

std::vector<std::uint8_t> Bootstrap::encode_state() const {
  std::vector<std::uint8_t> out;
  out.push_back(static_cast<std::uint8_t>(phase_));
  out.push_back(promised_ ? 1 : 0);
  wire::put(out, promised_.value_or(0), 8);
  return out;
}

BootstrapActions Bootstrap::tick() {
  BootstrapActions a;
  if (phase_ == Phase::kDone) {
    return a;
  }
  switch (config_.mode) {
    case BootstrapConfig::Mode::kObserver:
      return a;
    case BootstrapConfig::Mode::kSeed:
      phase_ = Phase::kDone;
      a.seed = config_.seeds;
      a.persist = true;
      return a;
    case BootstrapConfig::Mode::kConsensus:
      break;
  }
  // Hellos carry every candidate we know, so knowledge spreads even where some are lost.
  std::vector<PeerId> known(candidates_.begin(), candidates_.end());
  if (known.size() > kMaxProposePeers)
    known.resize(kMaxProposePeers);
  a.broadcast = Message{MessageType::kHello, std::move(known), IpFamily::kV4, {}, {}};
  if (phase_ == Phase::kProposing) {
    // Lost messages: ask again the members that have not answered.
    for (PeerId p : proposal_) {
      if (!accepted_.contains(p)) {
        a.unicasts.emplace_back(p,
                                Message{MessageType::kPropose, proposal_, IpFamily::kV4, {}, {}});
      }
    }
    return a;
  }
  auto more = maybe_propose();
  a.unicasts = std::move(more.unicasts);
  a.seed = std::move(more.seed);
  a.persist = more.persist;
  return a;
}

BootstrapActions Bootstrap::maybe_propose() {
  BootstrapActions a;
  if (phase_ != Phase::kWaiting || candidates_.size() < quorum_ || *candidates_.begin() != self_ ||
      (promised_ && *promised_ != self_)) {
    return a;
  }
  proposal_.assign(candidates_.begin(), candidates_.end());
  accepted_ = {self_};
  promised_ = self_;
  a.persist = true;
  phase_ = Phase::kProposing;
  log::info("ipam: proposing the initial ring", {{"peers", proposal_.size()}});
  if (proposal_.size() == 1) {
    phase_ = Phase::kDone;
    a.seed = proposal_;
    return a;
  }
  for (PeerId p : proposal_) {
    if (p != self_) {
      a.unicasts.emplace_back(p, Message{MessageType::kPropose, proposal_, IpFamily::kV4, {}, {}});
    }
  }
  return a;
}

BootstrapActions Bootstrap::on_message(PeerId from, const Message& m) {
  BootstrapActions a;
  if (config_.mode != BootstrapConfig::Mode::kConsensus || phase_ == Phase::kDone) {
    return a;
  }
  switch (m.type) {
    case MessageType::kHello: {
      bool fresh = candidates_.insert(from).second;
      for (PeerId p : m.peers) {
        fresh |= p != kNoPeer && candidates_.insert(p).second;
      }
      if (fresh) {
        return maybe_propose();
      }
      break;
    }
    case MessageType::kPropose: {
      const bool member = std::find(m.peers.begin(), m.peers.end(), self_) != m.peers.end();
      const bool ok = member && (!promised_ || *promised_ == from);
      if (ok && !promised_) {
        promised_ = from;
        a.persist = true;
      }
      a.unicasts.emplace_back(
          from,
          Message{ok ? MessageType::kAccept : MessageType::kReject, {}, IpFamily::kV4, {}, {}});
      break;
    }
    case MessageType::kAccept:
      if (phase_ == Phase::kProposing &&
          std::find(proposal_.begin(), proposal_.end(), from) != proposal_.end()) {
        accepted_.insert(from);
        if (accepted_.size() == proposal_.size()) {
          phase_ = Phase::kDone;
          a.seed = proposal_;
          a.persist = true;
        }
      }
      break;
    case MessageType::kReject:
      if (phase_ == Phase::kProposing) {
        log::warn("ipam: a peer promised another proposer; waiting for its ring",
                  {{"peer", fmt::format("{:x}", from)}});
      }
      break;
    default:
      break;
  }
  return a;
}

void Bootstrap::ring_arrived() {
  phase_ = Phase::kDone;
}

}  // namespace weft::ipam

#include "router/connection_maker.hpp"

#include <algorithm>
#include <set>

#include "common/host_port.hpp"

namespace weft::router {

std::string_view to_string(TargetState state) {
  switch (state) {
    case TargetState::kConnecting:
      return "connecting";
    case TargetState::kPending:
      return "pending";
    case TargetState::kEstablished:
      return "established";
    case TargetState::kRetrying:
      return "retrying";
    case TargetState::kFailed:
      return "failed";
  }
  return "unknown";
}

Result<std::string> normalize_address(std::string_view text, std::uint16_t default_port) {
  WEFT_TRY(auto hp, parse_host_port(text));
  return hp.to_string(default_port);
}

ConnectionMaker::ConnectionMaker(ConnectionMakerConfig config, Rng& rng)
    : config_(config), rng_(rng) {}

Clock::Duration ConnectionMaker::backoff(int attempts) {
  Clock::Duration base = config_.initial_backoff;
  for (int i = 1; i < attempts && base < config_.max_backoff; ++i) {
    base *= 2;
  }
  base = std::min(base, config_.max_backoff);
  const auto half = base / 2;
  return half + Clock::Duration(static_cast<Clock::Duration::rep>(
                    rng_.uniform(static_cast<std::uint64_t>(base.count() - half.count()) + 1)));
}

Result<std::string> ConnectionMaker::add(std::string_view address, Clock::TimePoint now) {
  WEFT_TRY(auto normalized, normalize_address(address, config_.default_port));
  auto [it, inserted] = targets_.try_emplace(normalized);
  Target& t = it->second;
  if (inserted) {
    t.address = normalized;
    t.state = TargetState::kRetrying;
    t.next_try = now;
  } else if (t.state == TargetState::kFailed || t.state == TargetState::kRetrying) {
    t.next_try = now;  // an operator asked again: try at once
  }
  t.explicit_target = true;
  return normalized;
}

ConnectionMaker::Forgotten ConnectionMaker::forget(std::string_view address) {
  auto normalized = normalize_address(address, config_.default_port);
  auto it = targets_.find(normalized ? *normalized : std::string(address));
  if (it == targets_.end()) {
    return {};
  }
  Forgotten out{true, it->second.peer};
  targets_.erase(it);
  return out;
}

void ConnectionMaker::set_discovered(const std::vector<std::string>& addresses,
                                     Clock::TimePoint now) {
  const std::set<std::string> wanted(addresses.begin(), addresses.end());
  for (auto it = targets_.begin(); it != targets_.end();) {
    const Target& t = it->second;
    const bool keep = t.explicit_target || wanted.contains(it->first) ||
                      t.state == TargetState::kConnecting || t.state == TargetState::kPending ||
                      t.state == TargetState::kEstablished;
    it = keep ? std::next(it) : targets_.erase(it);
  }
  if (!config_.discovery) {
    return;
  }
  for (const std::string& a : wanted) {
    auto [it, inserted] = targets_.try_emplace(a);
    if (inserted) {
      it->second.address = a;
      it->second.state = TargetState::kRetrying;
      it->second.next_try = now;
    }
  }
}

bool ConnectionMaker::dialable(const Target& t, std::size_t open) const {
  if (t.state != TargetState::kRetrying && t.state != TargetState::kFailed) {
    return false;
  }
  return t.explicit_target || (config_.discovery && open < config_.conn_limit);
}

std::vector<std::string> ConnectionMaker::take_due(Clock::TimePoint now, std::size_t open) {
  std::vector<std::string> due;
  for (auto& [address, t] : targets_) {
    if (t.next_try <= now && dialable(t, open)) {
      t.state = TargetState::kConnecting;
      due.push_back(address);
      ++open;
    }
  }
  return due;
}

std::optional<Clock::TimePoint> ConnectionMaker::next_due(std::size_t open) const {
  std::optional<Clock::TimePoint> best;
  for (const auto& [address, t] : targets_) {
    if (dialable(t, open) && (!best || t.next_try < *best)) {
      best = t.next_try;
    }
  }
  return best;
}

void ConnectionMaker::dial_failed(std::string_view address, std::string error, Clock::TimePoint now,
                                  bool permanent) {
  auto it = targets_.find(std::string(address));
  if (it == targets_.end()) {
    return;
  }
  Target& t = it->second;
  ++t.attempts;
  t.state = TargetState::kFailed;
  t.last_error = std::move(error);
  t.next_try = permanent ? Clock::TimePoint::max() : now + backoff(t.attempts);
}

void ConnectionMaker::dial_succeeded(std::string_view address, PeerName peer) {
  auto it = targets_.find(std::string(address));
  if (it == targets_.end()) {
    return;
  }
  Target& t = it->second;
  t.peer = peer;
  t.attempts = 0;
  t.last_error.clear();
  if (t.state == TargetState::kConnecting) {
    t.state = TargetState::kPending;
  }
}

void ConnectionMaker::peer_established(PeerName peer) {
  for (auto& [address, t] : targets_) {
    if (t.peer == peer) {
      t.state = TargetState::kEstablished;
      t.attempts = 0;
      t.last_error.clear();
    }
  }
}

void ConnectionMaker::peer_lost(PeerName peer, std::string reason, Clock::TimePoint now) {
  for (auto& [address, t] : targets_) {
    if (t.peer == peer &&
        (t.state == TargetState::kPending || t.state == TargetState::kEstablished)) {
      t.state = TargetState::kRetrying;
      t.last_error = reason;
      t.attempts = 0;
      t.next_try = now + backoff(1);
    }
  }
}

void ConnectionMaker::peer_appeared(PeerName peer, Clock::TimePoint now) {
  for (auto& [address, t] : targets_) {
    if (t.peer == peer && (t.state == TargetState::kRetrying || t.state == TargetState::kFailed)) {
      const auto soon =
          now + Clock::Duration(static_cast<Clock::Duration::rep>(
                    rng_.uniform(static_cast<std::uint64_t>(config_.initial_backoff.count()) + 1)));
      t.next_try = std::min(t.next_try, soon);
    }
  }
}

const Target* ConnectionMaker::find(std::string_view address) const {
  auto it = targets_.find(std::string(address));
  return it == targets_.end() ? nullptr : &it->second;
}

std::size_t ConnectionMaker::connecting() const {
  return static_cast<std::size_t>(std::count_if(targets_.begin(), targets_.end(), [](auto& kv) {
    return kv.second.state == TargetState::kConnecting;
  }));
}

}  // namespace weft::router

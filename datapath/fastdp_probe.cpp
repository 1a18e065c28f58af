#include "datapath/fastdp_probe.hpp"

#include <algorithm>
#include <array>
#include <cstring>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/generic/raw_protocol.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "common/log.hpp"
#include "common/task_group.hpp"
#include <arpa/inet.h>
#include <fmt/format.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <sys/socket.h>

namespace weft::datapath {

using router::PeerName;

namespace asio = boost::asio;

namespace {

constexpr std::array<std::uint8_t, 4> kMagic = {'W', 'F', 'T', 'P'};
constexpr std::uint8_t kVersion = 1;
constexpr std::size_t kEthHeader = 14;
constexpr std::size_t kBody = 4 + 1 + 1 + 6 + 6 + 8;
constexpr std::size_t kMinFrame = 60;

void put(std::vector<std::uint8_t>& out, std::uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) {
    out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
  }
}

std::uint64_t get(std::span<const std::uint8_t> in, std::size_t pos, int bytes) {
  std::uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) {
    v = (v << 8) | in[pos + static_cast<std::size_t>(i)];
  }
  return v;
}

MacAddress mac_at(std::span<const std::uint8_t> in, std::size_t pos) {
  MacAddress::Bytes b{};
  std::copy_n(in.begin() + static_cast<std::ptrdiff_t>(pos), 6, b.begin());
  return MacAddress(b);
}

}  // namespace

std::vector<std::uint8_t> encode_probe(const ProbeFrame& f) {
  std::vector<std::uint8_t> out;
  out.reserve(kMinFrame);
  out.insert(out.end(), f.dst.bytes().begin(), f.dst.bytes().end());
  out.insert(out.end(), f.src.bytes().begin(), f.src.bytes().end());
  put(out, kProbeEtherType, 2);
  out.insert(out.end(), kMagic.begin(), kMagic.end());
  out.push_back(kVersion);
  out.push_back(static_cast<std::uint8_t>(f.type));
  put(out, f.from.value, 6);
  put(out, f.to.value, 6);
  put(out, f.nonce, 8);
  out.resize(std::max(out.size(), kMinFrame), 0);
  return out;
}

Result<ProbeFrame> parse_probe(std::span<const std::uint8_t> in) {
  if (in.size() < kEthHeader + kBody) {
    return make_error(Errc::kMalformed, "probe frame of {} bytes is too short", in.size());
  }
  if (get(in, 12, 2) != kProbeEtherType) {
    return make_error(Errc::kMalformed, "not a probe frame (ethertype {:#06x})", get(in, 12, 2));
  }
  if (!std::equal(kMagic.begin(), kMagic.end(), in.begin() + kEthHeader)) {
    return make_error(Errc::kMalformed, "probe frame without the magic");
  }
  if (in[kEthHeader + 4] != kVersion) {
    return make_error(Errc::kUnsupported, "probe version {}", in[kEthHeader + 4]);
  }
  const std::uint8_t type = in[kEthHeader + 5];
  if (type != 1 && type != 2) {
    return make_error(Errc::kMalformed, "probe type {}", type);
  }
  ProbeFrame f;
  f.dst = mac_at(in, 0);
  f.src = mac_at(in, 6);
  f.type = static_cast<ProbeFrame::Type>(type);
  f.from = PeerName{get(in, kEthHeader + 6, 6)};
  f.to = PeerName{get(in, kEthHeader + 12, 6)};
  f.nonce = get(in, kEthHeader + 18, 8);
  if (f.from.empty() || f.to.empty()) {
    return make_error(Errc::kMalformed, "probe with an empty peer name");
  }
  return f;
}

struct FastdpProber::State {
  State(asio::any_io_executor ex, Clock& c, Rng& r, PeerName n)
      : executor(ex), clock(c), rng(r), self(n), tasks(ex) {}
  asio::any_io_executor executor;
  Clock& clock;
  Rng& rng;
  PeerName self;
  TaskGroup tasks;
  std::unique_ptr<asio::generic::raw_protocol::socket> socket;     // sends, on the vxlan device
  std::unique_ptr<asio::generic::raw_protocol::socket> rx_socket;  // receives, on the bridge
  MacAddress mac{};
  Clock::Duration interval{};
  std::map<PeerName, MacAddress> targets;
  struct Health {
    std::uint64_t nonce = 0;
    Clock::TimePoint sent{};
    std::optional<Clock::TimePoint> last_pong;
    std::optional<Clock::Duration> rtt;
  };
  std::map<PeerName, Health> health;
  ProbeStats stats;
  bool closed = false;

  void close_sockets() {
    boost::system::error_code ignored;
    for (auto* sock : {socket.get(), rx_socket.get()}) {
      if (sock != nullptr) {
        sock->close(ignored);
      }
    }
  }
};

FastdpProber::FastdpProber(asio::any_io_executor executor, Clock& clock, Rng& rng, PeerName self)
    : s_(std::make_shared<State>(executor, clock, rng, self)) {}

FastdpProber::~FastdpProber() {
  s_->tasks.cancel();
  s_->close_sockets();
}

namespace {

asio::awaitable<void> send_frame(std::shared_ptr<FastdpProber::State> s, ProbeFrame f);

}  // namespace

namespace {

Result<int> packet_socket(int ifindex, std::string_view what) {
  const int fd =
      ::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, htons(kProbeEtherType));
  if (fd < 0) {
    return errno_error(fmt::format("open AF_PACKET socket for fastdp heartbeats ({})", what));
  }
  sockaddr_ll sll{};
  sll.sll_family = AF_PACKET;
  sll.sll_protocol = htons(kProbeEtherType);
  sll.sll_ifindex = ifindex;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&sll), sizeof(sll)) != 0) {
    auto e = errno_error(fmt::format("bind heartbeat socket ({})", what));
    ::close(fd);
    return e;
  }
  return fd;
}

}  // namespace

Result<void> FastdpProber::open(int vxlan_index, int bridge_index, MacAddress device_mac,
                                Clock::Duration interval) {
  // Sent on the VXLAN device; received on the bridge: the bridge takes every frame that
  // arrives on its ports before protocol-specific packet sockets see it, and hands a frame
  // addressed to a port's own MAC up through the bridge device.
  WEFT_TRY(const int tx, packet_socket(vxlan_index, "send"));
  auto rx = packet_socket(bridge_index, "receive");
  if (!rx) {
    ::close(tx);
    return rx.error();
  }
  const asio::generic::raw_protocol protocol(AF_PACKET, htons(kProbeEtherType));
  s_->socket = std::make_unique<asio::generic::raw_protocol::socket>(s_->executor, protocol, tx);
  s_->rx_socket =
      std::make_unique<asio::generic::raw_protocol::socket>(s_->executor, protocol, *rx);
  s_->mac = device_mac;
  s_->interval = interval;
  auto s = s_;
  s_->tasks.spawn(
      [](std::shared_ptr<State> st) -> asio::awaitable<void> {
        std::array<std::uint8_t, 2048> buf{};
        while (!st->closed) {
          auto [ec, n] = co_await st->rx_socket->async_receive(asio::buffer(buf),
                                                               asio::as_tuple(asio::use_awaitable));
          if (ec) {
            if (ec != asio::error::operation_aborted) {
              log::warn("fastdp heartbeat receive failed", {{"error", ec.message()}});
            }
            co_return;
          }
          auto f = parse_probe(std::span<const std::uint8_t>(buf.data(), n));
          if (!f || f->to != st->self || f->dst != st->mac) {
            ++st->stats.bad_frames;
            continue;
          }
          if (f->type == ProbeFrame::Type::kPing) {
            ProbeFrame pong{.dst = f->src,
                            .src = st->mac,
                            .type = ProbeFrame::Type::kPong,
                            .from = st->self,
                            .to = f->from,
                            .nonce = f->nonce};
            ++st->stats.pongs_sent;
            co_await send_frame(st, pong);
            continue;
          }
          auto h = st->health.find(f->from);
          if (h != st->health.end() && h->second.nonce == f->nonce) {
            ++st->stats.pongs_received;
            const auto now = st->clock.now();
            h->second.last_pong = now;
            h->second.rtt = now - h->second.sent;
          }
        }
      }(s),
      "fastdp-heartbeat-rx");
  s_->tasks.spawn(
      [](std::shared_ptr<State> st) -> asio::awaitable<void> {
        while (!st->closed) {
          const auto targets = st->targets;
          for (const auto& [peer, mac] : targets) {
            auto& h = st->health[peer];
            h.nonce = st->rng.next_u64();
            h.sent = st->clock.now();
            ProbeFrame ping{.dst = mac,
                            .src = st->mac,
                            .type = ProbeFrame::Type::kPing,
                            .from = st->self,
                            .to = peer,
                            .nonce = h.nonce};
            ++st->stats.pings_sent;
            co_await send_frame(st, ping);
          }
          const bool slept = co_await st->clock.sleep_for(st->interval);
          if (!slept) {
            co_return;
          }
        }
      }(s),
      "fastdp-heartbeat-tx");
  return {};
}

namespace {

asio::awaitable<void> send_frame(std::shared_ptr<FastdpProber::State> s, ProbeFrame f) {
  const auto bytes = encode_probe(f);
  auto [ec, n] =
      co_await s->socket->async_send(asio::buffer(bytes), asio::as_tuple(asio::use_awaitable));
  if (ec) {
    log::debug("fastdp heartbeat not sent", {{"peer", f.to.to_string()}, {"error", ec.message()}});
  }
  (void)n;
}

}  // namespace

void FastdpProber::set_targets(std::map<PeerName, MacAddress> targets) {
  for (auto it = s_->health.begin(); it != s_->health.end();) {
    it = targets.contains(it->first) ? std::next(it) : s_->health.erase(it);
  }
  s_->targets = std::move(targets);
}

std::optional<Clock::TimePoint> FastdpProber::last_pong(PeerName peer) const {
  auto it = s_->health.find(peer);
  return it == s_->health.end() ? std::nullopt : it->second.last_pong;
}

std::optional<Clock::Duration> FastdpProber::rtt(PeerName peer) const {
  auto it = s_->health.find(peer);
  return it == s_->health.end() ? std::nullopt : it->second.rtt;
}

const ProbeStats& FastdpProber::stats() const {
  return s_->stats;
}

asio::awaitable<void> FastdpProber::stop() {
  s_->closed = true;
  s_->tasks.cancel();
  s_->close_sockets();
  co_await s_->tasks.join();
}

}  // namespace weft::datapath

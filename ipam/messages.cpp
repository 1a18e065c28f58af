#include "ipam/messages.hpp"

#include "ipam/ring_codec.hpp"
#include "ipam/wire.hpp"

namespace weft::ipam {

std::vector<std::uint8_t> encode_message(const Message& m) {
  std::vector<std::uint8_t> out;
  out.push_back(static_cast<std::uint8_t>(m.type));
  const int w = m.family == IpFamily::kV4 ? 4 : 16;
  switch (m.type) {
    case MessageType::kHello:
    case MessageType::kPropose:
      wire::put(out, m.peers.size(), 2);
      for (PeerId p : m.peers) {
        wire::put(out, p, 8);
      }
      break;
    case MessageType::kSpaceRequest:
      out.push_back(static_cast<std::uint8_t>(m.family));
      out.push_back(m.window ? 1 : 0);
      if (m.window) {
        wire::put(out, m.window->first, w);
        wire::put(out, m.window->last, w);
      }
      break;
    case MessageType::kSpaceGrant:
      out.push_back(static_cast<std::uint8_t>(m.family));
      out.push_back(m.ring ? 1 : 0);
      if (m.ring) {
        append_ring(out, *m.ring);
      }
      break;
    default:
      break;
  }
  return out;
}

Result<Message> parse_message(std::span<const std::uint8_t> bytes) {
  wire::Reader r(bytes);
  Message m;
  std::uint8_t type = 0;
  if (!r.get_int(type) || type < 1 || type > 6) {
    return make_error(Errc::kMalformed, "ipam message: bad type");
  }
  m.type = static_cast<MessageType>(type);
  auto get_family = [&]() -> bool {
    std::uint8_t f = 0;
    if (!r.get_int(f) || (f != 4 && f != 6)) {
      return false;
    }
    m.family = static_cast<IpFamily>(f);
    return true;
  };
  switch (m.type) {
    case MessageType::kHello:
    case MessageType::kPropose: {
      std::uint16_t n = 0;
      if (!r.get_int(n) || n > kMaxProposePeers || r.rest().size() < std::size_t{n} * 8) {
        return make_error(Errc::kMalformed, "ipam message: bad proposal");
      }
      m.peers.resize(n);
      for (auto& p : m.peers) {
        r.get_int(p);
      }
      break;
    }
    case MessageType::kSpaceRequest: {
      std::uint8_t has = 0;
      if (!get_family() || !r.get_int(has) || has > 1) {
        return make_error(Errc::kMalformed, "ipam message: bad space request");
      }
      if (has == 1) {
        const int w = m.family == IpFamily::kV4 ? 4 : 16;
        Run run;
        if (!r.get(run.first, w) || !r.get(run.last, w) || run.last < run.first) {
          return make_error(Errc::kMalformed, "ipam message: bad window");
        }
        m.window = run;
      }
      break;
    }
    case MessageType::kSpaceGrant: {
      std::uint8_t has = 0;
      if (!get_family() || !r.get_int(has) || has > 1) {
        return make_error(Errc::kMalformed, "ipam message: bad space grant");
      }
      if (has == 1) {
        auto rest = r.rest();
        WEFT_TRY(auto ring, parse_ring_prefix(rest));
        if (ring.family() != m.family) {
          return make_error(Errc::kMalformed, "ipam message: grant of the wrong family");
        }
        m.ring = std::move(ring);
        r = wire::Reader(rest);
      }
      break;
    }
    default:
      break;
  }
  if (!r.done()) {
    return make_error(Errc::kMalformed, "ipam message: trailing bytes");
  }
  return m;
}

}  // namespace weft::ipam

#include "policy/nflog.hpp"

#include <cctype>
#include <cstring>

#include "policy/nfnetlink.hpp"
#include <fmt/format.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_log.h>
#include <linux/netlink.h>
#include <sys/socket.h>

namespace weft::policy {
namespace {

std::uint16_t be16(const std::uint8_t* p) {
  return static_cast<std::uint16_t>(p[0] << 8 | p[1]);
}

// The L3 packet: addresses, protocol, ports.
void parse_payload(std::span<const std::uint8_t> p, LoggedPacket& out) {
  if (p.empty()) {
    return;
  }
  const int version = p[0] >> 4;
  std::size_t l4 = 0;
  if (version == 4 && p.size() >= 20) {
    const std::size_t ihl = static_cast<std::size_t>(p[0] & 0x0f) * 4;
    if (ihl < 20 || p.size() < ihl) {
      return;
    }
    out.protocol = p[9];
    out.src = IpAddress::v4(std::array<std::uint8_t, 4>{p[12], p[13], p[14], p[15]});
    out.dst = IpAddress::v4(std::array<std::uint8_t, 4>{p[16], p[17], p[18], p[19]});
    const bool fragment = (be16(p.data() + 6) & 0x1fff) != 0;
    if (fragment) {
      return;
    }
    l4 = ihl;
  } else if (version == 6 && p.size() >= 40) {
    IpAddress::Bytes s{};
    IpAddress::Bytes d{};
    std::memcpy(s.data(), p.data() + 8, 16);
    std::memcpy(d.data(), p.data() + 24, 16);
    out.src = IpAddress::v6(s);
    out.dst = IpAddress::v6(d);
    std::uint8_t next = p[6];
    std::size_t offset = 40;
    // Hop-by-hop, routing, destination options: skip; a fragment header ends the walk.
    for (int hops = 0; hops < 8; ++hops) {
      if (next != 0 && next != 43 && next != 60) {
        break;
      }
      if (p.size() < offset + 2) {
        return;
      }
      const std::size_t len = (static_cast<std::size_t>(p[offset + 1]) + 1) * 8;
      next = p[offset];
      offset += len;
    }
    out.protocol = next;
    l4 = offset;
  } else {
    return;
  }
  if ((out.protocol == 6 || out.protocol == 17 || out.protocol == 132) && p.size() >= l4 + 4) {
    out.src_port = be16(p.data() + l4);
    out.dst_port = be16(p.data() + l4 + 2);
  }
}

void parse_prefix(LoggedPacket& out) {
  // "weft-npc <direction> <namespace> "
  constexpr std::string_view kHead = "weft-npc ";
  std::string_view text = out.prefix;
  if (!text.starts_with(kHead)) {
    return;
  }
  text.remove_prefix(kHead.size());
  const auto space = text.find(' ');
  if (space == std::string_view::npos) {
    return;
  }
  out.direction = std::string(text.substr(0, space));
  text.remove_prefix(space + 1);
  out.namespace_name = std::string(text.substr(0, text.find(' ')));
}

}  // namespace

Result<std::vector<LoggedPacket>> parse_nflog(std::span<const std::uint8_t> bytes) {
  std::vector<LoggedPacket> out;
  std::size_t offset = 0;
  while (offset + sizeof(nlmsghdr) <= bytes.size()) {
    const std::uint8_t* m = bytes.data() + offset;
    const std::uint32_t len = host32(m);
    const std::uint16_t type = host16(m + 4);
    if (len < sizeof(nlmsghdr) || len > bytes.size() - offset) {
      return make_error(Errc::kMalformed, "netlink message of {} bytes at {} (buffer {})", len,
                        offset, bytes.size());
    }
    const std::size_t next = offset + NLMSG_ALIGN(len);
    if (type == ((NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_PACKET)) {
      const std::size_t body = sizeof(nlmsghdr) + sizeof(nfgenmsg);
      if (len < body) {
        return make_error(Errc::kMalformed, "NFLOG message of {} bytes", len);
      }
      LoggedPacket packet;
      std::size_t a = body;
      while (a + 4 <= len) {
        const std::uint16_t alen = host16(m + a);
        const std::uint16_t atype = host16(m + a + 2) & NLA_TYPE_MASK;
        if (alen < 4 || alen > len - a) {
          return make_error(Errc::kMalformed, "NFLOG attribute of {} bytes", alen);
        }
        std::span<const std::uint8_t> value(m + a + 4, alen - 4);
        if (atype == NFULA_PREFIX) {
          const auto* chars = reinterpret_cast<const char*>(value.data());
          packet.prefix.assign(chars, strnlen(chars, value.size()));
        } else if (atype == NFULA_PAYLOAD) {
          parse_payload(value, packet);
        }
        a += NLA_ALIGN(alen);
      }
      parse_prefix(packet);
      out.push_back(std::move(packet));
    }
    if (next <= offset) {
      break;
    }
    offset = next;
  }
  return out;
}

std::vector<std::uint8_t> nflog_bind_request(std::uint16_t group, std::uint32_t copy_range,
                                             std::uint32_t sequence) {
  NfnetlinkRequest request((NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_CONFIG, NLM_F_REQUEST | NLM_F_ACK,
                           sequence, AF_UNSPEC,
                           static_cast<std::uint16_t>((group >> 8) | (group << 8)));
  nfulnl_msg_config_cmd cmd{};
  cmd.command = NFULNL_CFG_CMD_BIND;
  request.attribute(NFULA_CFG_CMD, &cmd, sizeof cmd);
  nfulnl_msg_config_mode mode{};
  mode.copy_range = __builtin_bswap32(copy_range);
  mode.copy_mode = NFULNL_COPY_PACKET;
  request.attribute(NFULA_CFG_MODE, &mode, sizeof mode);
  return std::move(request).take();
}

std::string_view protocol_label(std::uint8_t protocol) {
  switch (protocol) {
    case 6:
      return "tcp";
    case 17:
      return "udp";
    case 132:
      return "sctp";
    default:
      return "other";
  }
}

std::string describe(const LoggedPacket& p) {
  auto end = [&](const std::optional<IpAddress>& a, std::uint16_t port) {
    if (!a) {
      return std::string("?");
    }
    const bool ports = p.protocol == 6 || p.protocol == 17 || p.protocol == 132;
    if (!ports) {
      return a->to_string();
    }
    return a->is_v6() ? fmt::format("[{}]:{}", *a, port) : fmt::format("{}:{}", *a, port);
  };
  std::string proto(protocol_label(p.protocol));
  for (char& c : proto) {
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  if (proto == "OTHER") {
    proto = p.protocol == 1    ? "ICMP"
            : p.protocol == 58 ? "ICMPv6"
                               : fmt::format("proto {}", p.protocol);
  }
  const std::string why = p.namespace_name == "?"
                              ? std::string("local pod not classified yet")
                              : fmt::format("policy namespace {}", p.namespace_name);
  return fmt::format("blocked {} {} {} -> {} ({})", p.direction.empty() ? "?" : p.direction, proto,
                     end(p.src, p.src_port), end(p.dst, p.dst_port), why);
}

}  // namespace weft::policy

#include "policy/nft_counters.hpp"

#include <array>
#include <cerrno>
#include <cstring>
#include <optional>

#include "policy/nfnetlink.hpp"
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

namespace weft::policy {
namespace {

std::uint64_t big64(std::span<const std::uint8_t> value) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < 8; ++i) {
    v = (v << 8) | value[i];
  }
  return v;
}

// Calls each(type, value) for the attributes in bytes; false when one overruns.
template <typename Each>
bool for_each_attribute(std::span<const std::uint8_t> bytes, Each&& each) {
  std::size_t a = 0;
  while (a + 4 <= bytes.size()) {
    const std::uint16_t alen = host16(bytes.data() + a);
    const std::uint16_t atype = host16(bytes.data() + a + 2) & NLA_TYPE_MASK;
    if (alen < 4 || alen > bytes.size() - a) {
      return false;
    }
    each(atype, bytes.subspan(a + 4, alen - 4));
    a += NLA_ALIGN(alen);
  }
  return true;
}

// One NFT_MSG_NEWOBJ message's body (after nfgenmsg): a counter's name and packets.
Result<void> parse_object(std::span<const std::uint8_t> body, CounterDump& dump) {
  std::string name;
  std::uint32_t type = 0;
  std::optional<std::uint64_t> packets;
  bool nested_ok = true;
  const bool ok = for_each_attribute(body, [&](std::uint16_t atype, auto value) {
    if (atype == NFTA_OBJ_NAME) {
      const auto* chars = reinterpret_cast<const char*>(value.data());
      name.assign(chars, strnlen(chars, value.size()));
    } else if (atype == NFTA_OBJ_TYPE && value.size() >= 4) {
      type = __builtin_bswap32(host32(value.data()));
    } else if (atype == NFTA_OBJ_DATA) {
      nested_ok = for_each_attribute(value, [&](std::uint16_t ctype, auto cvalue) {
        if (ctype == NFTA_COUNTER_PACKETS && cvalue.size() >= 8) {
          packets = big64(cvalue);
        }
      });
    }
  });
  if (!ok || !nested_ok) {
    return make_error(Errc::kMalformed, "nftables object: an attribute overruns its message");
  }
  if (type == NFT_OBJECT_COUNTER && !name.empty() && packets) {
    dump.packets[name] = *packets;
  }
  return {};
}

}  // namespace

std::vector<std::uint8_t> counter_dump_request(std::string_view table, std::uint32_t sequence) {
  NfnetlinkRequest request((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETOBJ, NLM_F_REQUEST | NLM_F_DUMP,
                           sequence, NFPROTO_INET);
  std::vector<char> name(table.begin(), table.end());
  name.push_back('\0');
  request.attribute(NFTA_OBJ_TABLE, name.data(), name.size());
  const std::uint32_t type = __builtin_bswap32(NFT_OBJECT_COUNTER);
  request.attribute(NFTA_OBJ_TYPE, &type, sizeof type);
  return std::move(request).take();
}

Result<void> parse_counter_dump(std::span<const std::uint8_t> bytes, CounterDump& dump) {
  std::size_t offset = 0;
  while (offset + sizeof(nlmsghdr) <= bytes.size()) {
    const std::uint8_t* m = bytes.data() + offset;
    const std::uint32_t len = host32(m);
    const std::uint16_t type = host16(m + 4);
    if (len < sizeof(nlmsghdr) || len > bytes.size() - offset) {
      return make_error(Errc::kMalformed, "netlink message of {} bytes at {} (buffer {})", len,
                        offset, bytes.size());
    }
    const std::size_t body = sizeof(nlmsghdr) + sizeof(nfgenmsg);
    if (type == NLMSG_DONE) {
      dump.done = true;
      return {};
    }
    if (type == NLMSG_ERROR) {
      if (len < sizeof(nlmsghdr) + sizeof(std::int32_t)) {
        return make_error(Errc::kMalformed, "netlink error message of {} bytes", len);
      }
      std::int32_t error = 0;
      std::memcpy(&error, m + sizeof(nlmsghdr), sizeof error);
      if (error > 0 || error < -4095) {
        return make_error(Errc::kMalformed, "netlink error message with error {}", error);
      }
      if (error != 0) {
        return make_error(boost::system::error_code(-error, boost::system::system_category()),
                          "nftables counters");
      }
    } else if (type == ((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWOBJ)) {
      if (len < body) {
        return make_error(Errc::kMalformed, "nftables object message of {} bytes", len);
      }
      WEFT_TRY_VOID(parse_object(std::span<const std::uint8_t>(m + body, len - body), dump));
    }
    offset += NLMSG_ALIGN(len);
  }
  return {};
}

Result<std::map<std::string, std::uint64_t>> read_counters(std::string_view table) {
  const int fd = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
  if (fd < 0) {
    return errno_error("nfnetlink socket");
  }
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  timeval timeout{.tv_sec = 2, .tv_usec = 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  const auto request = counter_dump_request(table, 1);
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  if (::sendto(fd, request.data(), request.size(), 0, reinterpret_cast<sockaddr*>(&kernel),
               sizeof kernel) < 0) {
    return errno_error("nfnetlink counter dump");
  }
  CounterDump dump;
  std::vector<std::uint8_t> buffer(64 * 1024);
  while (!dump.done) {
    const ssize_t n = ::recv(fd, buffer.data(), buffer.size(), 0);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return errno_error("nfnetlink counter dump");
    }
    WEFT_TRY_VOID(parse_counter_dump(
        std::span<const std::uint8_t>(buffer.data(), static_cast<std::size_t>(n)), dump));
  }
  return std::move(dump.packets);
}

}  // namespace weft::policy

#include "policy/nflog.hpp"

#include <cstring>

#include <gtest/gtest.h>

#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_log.h>
#include <linux/netlink.h>

namespace weft::policy {
namespace {

// One NFULNL_MSG_PACKET with a prefix and a payload, as the kernel sends it.
std::vector<std::uint8_t> message(const std::string& prefix,
                                  const std::vector<std::uint8_t>& payload) {
  std::vector<std::uint8_t> out(sizeof(nlmsghdr) + sizeof(nfgenmsg), 0);
  auto attr = [&](std::uint16_t type, const void* data, std::size_t size) {
    const auto len = static_cast<std::uint16_t>(4 + size);
    out.push_back(static_cast<std::uint8_t>(len & 0xff));
    out.push_back(static_cast<std::uint8_t>(len >> 8));
    out.push_back(static_cast<std::uint8_t>(type & 0xff));
    out.push_back(static_cast<std::uint8_t>(type >> 8));
    const auto* p = static_cast<const std::uint8_t*>(data);
    out.insert(out.end(), p, p + size);
    out.resize(NLA_ALIGN(out.size()));
  };
  attr(NFULA_PREFIX, prefix.c_str(), prefix.size() + 1);
  attr(NFULA_PAYLOAD, payload.data(), payload.size());
  nlmsghdr h{};
  h.nlmsg_len = static_cast<std::uint32_t>(out.size());
  h.nlmsg_type = (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_PACKET;
  std::memcpy(out.data(), &h, sizeof h);
  return out;
}

std::vector<std::uint8_t> tcp4(std::uint16_t sport, std::uint16_t dport) {
  std::vector<std::uint8_t> p(40, 0);
  p[0] = 0x45;
  p[9] = 6;
  const std::uint8_t src[] = {198, 19, 0, 2};
  const std::uint8_t dst[] = {198, 19, 0, 1};
  std::memcpy(&p[12], src, 4);
  std::memcpy(&p[16], dst, 4);
  p[20] = static_cast<std::uint8_t>(sport >> 8);
  p[21] = static_cast<std::uint8_t>(sport);
  p[22] = static_cast<std::uint8_t>(dport >> 8);
  p[23] = static_cast<std::uint8_t>(dport);
  return p;
}

TEST(PolicyNflog, ParsesPrefixAddressesAndPorts) {
  auto bytes = message("weft-npc ingress x ", tcp4(40112, 81));
  auto second = message("weft-npc egress ? ", tcp4(1, 2));
  bytes.insert(bytes.end(), second.begin(), second.end());
  auto packets = parse_nflog(bytes);
  ASSERT_TRUE(packets) << packets.error().message;
  ASSERT_EQ(packets->size(), 2U);
  const auto& p = (*packets)[0];
  EXPECT_EQ(p.direction, "ingress");
  EXPECT_EQ(p.namespace_name, "x");
  EXPECT_EQ(p.src->to_string(), "198.19.0.2");
  EXPECT_EQ(p.dst_port, 81);
  EXPECT_EQ(describe(p),
            "blocked ingress TCP 198.19.0.2:40112 -> 198.19.0.1:81 (policy namespace x)");
  EXPECT_NE(describe((*packets)[1]).find("local pod not classified yet"), std::string::npos);
}

TEST(PolicyNflog, Ipv6WithExtensionHeaders) {
  std::vector<std::uint8_t> p(40 + 8 + 8, 0);
  p[0] = 0x60;
  p[6] = 0;  // hop-by-hop
  p[8] = 0xfd;
  p[24] = 0xfd;
  p[39] = 1;
  p[40] = 17;  // next: UDP
  p[41] = 0;   // 8 bytes
  p[48] = 0x30;
  p[49] = 0x39;  // 12345
  p[50] = 0;
  p[51] = 53;
  auto packets = parse_nflog(message("weft-npc egress y ", p));
  ASSERT_TRUE(packets);
  ASSERT_EQ(packets->size(), 1U);
  EXPECT_EQ((*packets)[0].protocol, 17);
  EXPECT_EQ((*packets)[0].src_port, 12345);
  EXPECT_EQ((*packets)[0].dst_port, 53);
  EXPECT_EQ((*packets)[0].dst->to_string(), "fd00::1");
}

TEST(PolicyNflog, MalformedInputIsAnError) {
  auto bytes = message("weft-npc ingress x ", tcp4(1, 2));
  std::vector<std::uint8_t> cut(bytes.begin(), bytes.end() - 8);
  EXPECT_FALSE(parse_nflog(cut));
  bytes[sizeof(nlmsghdr) + sizeof(nfgenmsg)] = 2;  // attribute shorter than its header
  EXPECT_FALSE(parse_nflog(bytes));
  EXPECT_TRUE(parse_nflog({}));
}

TEST(PolicyNflog, BindRequestIsWellFormed) {
  const auto req = nflog_bind_request(86, 128, 7);
  nlmsghdr h{};
  std::memcpy(&h, req.data(), sizeof h);
  EXPECT_EQ(h.nlmsg_len, req.size());
  EXPECT_EQ(h.nlmsg_type, (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_CONFIG);
  nfgenmsg g{};
  std::memcpy(&g, req.data() + sizeof h, sizeof g);
  EXPECT_EQ(g.res_id, htons(86));
}

}  // namespace
}  // namespace weft::policy

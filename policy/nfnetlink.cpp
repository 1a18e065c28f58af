#include "policy/nfnetlink.hpp"

#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>

namespace weft::policy {

NfnetlinkRequest::NfnetlinkRequest(std::uint16_t type, std::uint16_t flags, std::uint32_t sequence,
                                   std::uint8_t family, std::uint16_t res_id_network_order) {
  nlmsghdr header{};
  header.nlmsg_type = type;
  header.nlmsg_flags = flags;
  header.nlmsg_seq = sequence;
  put(&header, sizeof header);
  nfgenmsg gen{};
  gen.nfgen_family = family;
  gen.version = NFNETLINK_V0;
  gen.res_id = res_id_network_order;
  put(&gen, sizeof gen);
}

void NfnetlinkRequest::put(const void* data, std::size_t size) {
  const auto* p = static_cast<const std::uint8_t*>(data);
  out_.insert(out_.end(), p, p + size);
  out_.resize(NLMSG_ALIGN(out_.size()));
}

void NfnetlinkRequest::attribute(std::uint16_t type, const void* data, std::size_t size) {
  nlattr a{};
  a.nla_len = static_cast<std::uint16_t>(NLA_HDRLEN + size);
  a.nla_type = type;
  put(&a, sizeof a);  // 4 bytes: stays aligned
  put(data, size);    // padded to 4
}

std::vector<std::uint8_t> NfnetlinkRequest::take() && {
  auto length = static_cast<std::uint32_t>(out_.size());
  std::memcpy(out_.data(), &length, sizeof length);
  return std::move(out_);
}

}  // namespace weft::policy

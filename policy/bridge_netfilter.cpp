#include "policy/bridge_netfilter.hpp"

#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/socket.h>
#include <unistd.h>

namespace weft::policy {
namespace {

class Message {
 public:
  explicit Message(std::uint16_t type, std::uint16_t flags) {
    nlmsghdr h{};
    h.nlmsg_type = type;
    h.nlmsg_flags = flags;
    h.nlmsg_seq = 1;
    append(&h, sizeof h);
  }
  void append(const void* data, std::size_t size) {
    const auto* p = static_cast<const std::uint8_t*>(data);
    bytes_.insert(bytes_.end(), p, p + size);
    bytes_.resize(NLMSG_ALIGN(bytes_.size()));
  }
  // Opens a nested attribute; returns its offset for close().
  std::size_t open(std::uint16_t type) {
    const std::size_t at = bytes_.size();
    rtattr a{};
    a.rta_type = type;
    append(&a, sizeof a);
    return at;
  }
  void close(std::size_t at) {
    const auto len = static_cast<unsigned short>(bytes_.size() - at);
    std::memcpy(bytes_.data() + at, &len, sizeof len);
  }
  void attribute(std::uint16_t type, const void* data, std::size_t size) {
    rtattr a{};
    a.rta_type = type;
    a.rta_len = static_cast<unsigned short>(RTA_LENGTH(size));
    append(&a, sizeof a);  // 4 bytes: stays aligned
    append(data, size);    // padded to 4
  }
  std::vector<std::uint8_t> finish() {
    const auto len = static_cast<std::uint32_t>(bytes_.size());
    std::memcpy(bytes_.data(), &len, sizeof len);
    return bytes_;
  }

 private:
  std::vector<std::uint8_t> bytes_;
};

}  // namespace

Result<void> enable_bridge_netfilter(std::string_view bridge) {
  std::error_code ec;
  if (!std::filesystem::exists("/proc/sys/net/bridge", ec)) {
    return make_error(Errc::kUnsupported,
                      "br_netfilter is not available (no /proc/sys/net/bridge): load the module "
                      "(modprobe br_netfilter)");
  }
  const std::string name(bridge);
  const unsigned index = if_nametoindex(name.c_str());
  if (index == 0) {
    return make_error(Errc::kNotFound, "bridge {} does not exist (yet)", name);
  }
  Message m(RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK);
  ifinfomsg info{};
  info.ifi_family = AF_UNSPEC;
  info.ifi_index = static_cast<int>(index);
  m.append(&info, sizeof info);
  const auto linkinfo = m.open(IFLA_LINKINFO);
  m.attribute(IFLA_INFO_KIND, "bridge", 6);
  const auto data = m.open(IFLA_INFO_DATA);
  const std::uint8_t on = 1;
  m.attribute(IFLA_BR_NF_CALL_IPTABLES, &on, 1);
  m.attribute(IFLA_BR_NF_CALL_IP6TABLES, &on, 1);
  m.close(data);
  m.close(linkinfo);
  const auto request = m.finish();

  const int fd = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd < 0) {
    return errno_error("netlink socket");
  }
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  if (::sendto(fd, request.data(), request.size(), 0, reinterpret_cast<sockaddr*>(&kernel),
               sizeof kernel) < 0) {
    auto e = errno_error("netlink send");
    ::close(fd);
    return e;
  }
  std::array<std::uint8_t, 4096> answer{};
  const ssize_t n = ::recv(fd, answer.data(), answer.size(), 0);
  ::close(fd);
  if (n < static_cast<ssize_t>(sizeof(nlmsghdr) + sizeof(nlmsgerr))) {
    return make_error(Errc::kIo, "no answer from netlink setting {} options", name);
  }
  nlmsghdr h{};
  std::memcpy(&h, answer.data(), sizeof h);
  nlmsgerr err{};
  std::memcpy(&err, answer.data() + sizeof h, sizeof err);
  if (h.nlmsg_type == NLMSG_ERROR && err.error != 0) {
    return make_error(Errc::kIo, "setting nf_call_iptables on {}: {}", name,
                      std::strerror(-err.error));
  }
  return {};
}

}  // namespace weft::policy

#include "common/tap.hpp"

#include <cerrno>
#include <cstring>

#include "common/netlink_libnl.hpp"
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <unistd.h>

namespace weft {
namespace {

constexpr int kMaxQueues = 256;

Error tun_error(int err, std::string_view what, bool first_queue) {
  Errc code = nl_detail::errc_for_errno(err);
  if (err == EBUSY && first_queue) {
    code = Errc::kAlreadyExists;  // IFF_TUN_EXCL: a link of that name exists
  } else if (err == ENOENT || err == ENODEV) {
    code = Errc::kUnsupported;  // no /dev/net/tun or no tun driver
  }
  return make_error(code, "{}: {}", what, nl_detail::errno_text(err));
}

}  // namespace

Result<std::vector<OwnedFd>> open_tap(const Netns& ns, const TapConfig& config) {
  const std::string what = fmt::format("create tap {}", config.name);
  if (!nl_detail::valid_ifname(config.name)) {
    return make_error(Errc::kInvalidArgument, "{}: invalid interface name", what);
  }
  if (config.queues < 1 || config.queues > kMaxQueues) {
    return make_error(Errc::kInvalidArgument, "{}: {} queues (1..{})", what, config.queues,
                      kMaxQueues);
  }
  // The tun driver binds the device to the namespace of the thread that opened
  // /dev/net/tun, and finds existing queues by name in that namespace: open them all there.
  return run_in_netns(ns, [&]() -> Result<std::vector<OwnedFd>> {
    std::vector<OwnedFd> fds;
    for (int q = 0; q < config.queues; ++q) {
      OwnedFd fd(::open("/dev/net/tun", O_RDWR | O_CLOEXEC));
      if (!fd) {
        return tun_error(errno, fmt::format("{}: open /dev/net/tun", what), false);
      }
      ifreq ifr{};
      std::memcpy(ifr.ifr_name, config.name.data(), config.name.size());
      int flags = IFF_TAP | IFF_NO_PI;
      if (config.vnet_hdr) {
        flags |= IFF_VNET_HDR;
      }
      if (config.queues > 1) {
        flags |= IFF_MULTI_QUEUE;
      }
      if (q == 0) {
        flags |= IFF_TUN_EXCL;
      }
      ifr.ifr_flags = static_cast<short>(flags);
      if (::ioctl(fd.get(), TUNSETIFF, &ifr) != 0) {
        return tun_error(errno, fmt::format("{}: queue {}", what, q), q == 0);
      }
      fds.push_back(std::move(fd));
    }
    return fds;
  });
}

namespace nl_detail {

Result<std::vector<OwnedFd>> LibnlNetlink::create_tap(const TapConfig& config) {
  return open_tap(ns_, config);
}

}  // namespace nl_detail
}  // namespace weft

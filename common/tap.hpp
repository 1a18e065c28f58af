// TAP devices: Ethernet frames between the kernel and a file descriptor (the sleeve).
//
// Contract: open_tap() creates the device inside `ns` (the /dev/net/tun queues are opened
// on a thread that joined `ns`, which is what binds a tun device to a namespace) and hands
// the caller one fd per queue. The device lives as long as one of those fds is open (it
// is not persistent), so closing them removes it. The fds are blocking; the caller owns
// them and may use them from any thread. Errors: kAlreadyExists when a link of that name
// exists, kInvalidArgument for a bad config, kUnsupported when the kernel lacks a
// requested feature, kIo otherwise.
#pragma once

#include <string>
#include <vector>

#include "common/netns.hpp"
#include "common/result.hpp"

namespace weft {

struct TapConfig {
  std::string name;
  // IFF_VNET_HDR: every frame is preceded by a struct virtio_net_hdr (offloads, GSO).
  bool vnet_hdr = false;
  // Queues; more than one opens the device with IFF_MULTI_QUEUE.
  int queues = 1;
};

// Frames are raw Ethernet (IFF_TAP | IFF_NO_PI).
Result<std::vector<OwnedFd>> open_tap(const Netns& ns, const TapConfig& config);

}  // namespace weft

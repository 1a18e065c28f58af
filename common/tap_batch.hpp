// TapBatch: reads and writes Ethernet frames on a TAP queue fd (common/tap.hpp) in batches
// for a datapath thread: the fd is switched to non-blocking and read in a loop until it is
// empty or the batch is full. vnet headers (IFF_VNET_HDR, TSO/GSO super-frames) would fit
// behind read()/write() (a frame then starts with a virtio_net_hdr); not done yet.
//
// Contract: one thread at a time. read() returns 0 when nothing is waiting; write() waits
// (poll, up to `wait_ms`) when the queue is full and skips frames the kernel refuses,
// counting them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "common/netns.hpp"
#include "common/result.hpp"

namespace weft {

struct TapFrame {
  std::vector<std::uint8_t> buffer;  // storage (grown to kMaxTapFrame by read())
  std::size_t size = 0;
  std::span<const std::uint8_t> bytes() const { return {buffer.data(), size}; }
};

class TapBatch {
 public:
  static constexpr std::size_t kMaxTapFrame = 65550;

  // Takes the fd and makes it non-blocking.
  static Result<TapBatch> attach(OwnedFd fd);

  int fd() const { return fd_.get(); }
  Result<std::size_t> read(std::span<TapFrame> out);
  struct WriteResult {
    std::size_t written = 0;
    std::size_t dropped = 0;
  };
  WriteResult write(std::span<const std::vector<std::uint8_t>> frames, int wait_ms = 100);

 private:
  explicit TapBatch(OwnedFd fd) : fd_(std::move(fd)) {}
  OwnedFd fd_;
};

}  // namespace weft

#include "common/tap_batch.hpp"

#include <cerrno>

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

namespace weft {

Result<TapBatch> TapBatch::attach(OwnedFd fd) {
  const int flags = ::fcntl(fd.get(), F_GETFL);
  if (flags < 0 || ::fcntl(fd.get(), F_SETFL, flags | O_NONBLOCK) != 0) {
    return errno_error("tap fd non-blocking");
  }
  return TapBatch(std::move(fd));
}

Result<std::size_t> TapBatch::read(std::span<TapFrame> out) {
  std::size_t n = 0;
  while (n < out.size()) {
    TapFrame& f = out[n];
    if (f.buffer.size() < kMaxTapFrame) {
      f.buffer.resize(kMaxTapFrame);
    }
    const ssize_t got = ::read(fd_.get(), f.buffer.data(), f.buffer.size());
    if (got < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        break;
      }
      if (errno == EINTR) {
        continue;
      }
      if (n > 0) {
        break;  // report what we have; the error shows up on the next call
      }
      return errno_error("tap read");
    }
    f.size = static_cast<std::size_t>(got);
    ++n;
  }
  return n;
}

TapBatch::WriteResult TapBatch::write(std::span<const std::vector<std::uint8_t>> frames,
                                      int wait_ms) {
  WriteResult r;
  for (std::size_t i = 0; i < frames.size();) {
    const ssize_t put = ::write(fd_.get(), frames[i].data(), frames[i].size());
    if (put >= 0) {
      ++r.written;
      ++i;
      continue;
    }
    if (errno == EINTR) {
      continue;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      pollfd p{fd_.get(), POLLOUT, 0};
      if (::poll(&p, 1, wait_ms) > 0) {
        continue;
      }
    }
    ++r.dropped;
    ++i;
  }
  return r;
}

}  // namespace weft

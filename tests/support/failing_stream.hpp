// TestStream: an in-memory ByteStream pair (Beast's test::stream idea) for handshake and
// connection tests. A test can make the n-th I/O operation of one end fail (error, eof or
// a short read), watch and change the bytes each end writes (capture, tamper), and inject
// bytes as if one end had written them (replay).
//
// Contract: single-threaded; both ends and every operation run on the executor given to
// make_stream_pair(). Operations (read_some and write_all calls) are numbered from 1 per
// end. Writes complete at once (unbounded buffer). Errors follow common/byte_stream.hpp:
// eof after the peer closed and every byte was read, bad_descriptor after the local close,
// connection_reset for injected errors, Errc::kCancelled on per-operation cancellation.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <span>
#include <utility>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include "common/byte_stream.hpp"

namespace weft::test {

enum class Fault {
  kNone,
  kError,      // the operation fails with connection_reset
  kEof,        // a read returns eof (a write fails with connection_reset)
  kShortRead,  // a read returns one byte even if more are available (no effect on writes)
};

class TestStream final : public ByteStream {
 public:
  struct Pipe;  // one direction: bytes written by one end, read by the other

  TestStream(std::shared_ptr<Pipe> in, std::shared_ptr<Pipe> out, Endpoint local, Endpoint remote);
  ~TestStream() override;

  boost::asio::awaitable<Result<std::size_t>> read_some(std::span<std::uint8_t> out) override;
  boost::asio::awaitable<Result<void>> write_all(std::span<const std::uint8_t> in) override;
  Endpoint local_endpoint() const override { return local_; }
  Endpoint remote_endpoint() const override { return remote_; }
  void close() override;

  // Operations (reads + writes) started so far on this end.
  std::size_t operations() const { return operations_; }
  // Makes operation number `n` (1-based, counted from the stream's creation) fail.
  void fail_at(std::size_t n, Fault fault) {
    fail_at_ = n;
    fault_ = fault;
  }
  // Called with the bytes of every write_all() before they reach the peer; it may change
  // them (tamper) or clear them (drop).
  void set_write_filter(std::function<void(std::vector<std::uint8_t>&)> filter) {
    filter_ = std::move(filter);
  }
  // Every write_all() payload as the caller passed it, in order (before the filter).
  const std::vector<std::vector<std::uint8_t>>& writes() const { return writes_; }
  // Appends bytes to what the peer reads, as if this end had written them.
  void inject(std::span<const std::uint8_t> bytes);
  // Ends this end's sending direction (the peer reads what was sent, then eof); reads
  // continue to work.
  void close_write();
  // Total bytes read by this end.
  std::size_t bytes_read() const { return bytes_read_; }

 private:
  Fault take_fault();

  std::shared_ptr<Pipe> in_;
  std::shared_ptr<Pipe> out_;
  Endpoint local_;
  Endpoint remote_;
  bool closed_ = false;
  std::size_t operations_ = 0;
  std::size_t fail_at_ = 0;
  Fault fault_ = Fault::kNone;
  std::function<void(std::vector<std::uint8_t>&)> filter_;
  std::vector<std::vector<std::uint8_t>> writes_;
  std::size_t bytes_read_ = 0;
};

struct TestStreamPair {
  std::unique_ptr<TestStream> first;   // "dialer" end: 198.18.0.1:40212
  std::unique_ptr<TestStream> second;  // "acceptor" end: 198.18.0.2:6783
};

TestStreamPair make_stream_pair(const boost::asio::any_io_executor& executor);

}  // namespace weft::test

// TcpByteStream: the ByteStream of a real TCP connection (boost::asio::ip::tcp::socket).
//
// Contract: as common/byte_stream.hpp. Errors: eof when the peer closed and everything was
// read; the socket's error (connection_reset, broken_pipe, ...) otherwise;
// bad_descriptor after the local close() (also for operations pending at that moment);
// Errc::kCancelled on per-operation cancellation. TCP_NODELAY is set: the streams carry
// small control messages where latency matters more than packet count.
#pragma once

#include <boost/asio/ip/tcp.hpp>

#include "common/byte_stream.hpp"

namespace weft {

class TcpByteStream final : public ByteStream {
 public:
  // Takes a connected socket.
  explicit TcpByteStream(boost::asio::ip::tcp::socket socket);
  TcpByteStream(const TcpByteStream&) = delete;
  TcpByteStream& operator=(const TcpByteStream&) = delete;
  ~TcpByteStream() override;

  boost::asio::awaitable<Result<std::size_t>> read_some(std::span<std::uint8_t> out) override;
  boost::asio::awaitable<Result<void>> write_all(std::span<const std::uint8_t> in) override;
  Endpoint local_endpoint() const override { return local_; }
  Endpoint remote_endpoint() const override { return remote_; }
  void close() override;

 private:
  Error op_error(const boost::system::error_code& ec, const char* what) const;

  boost::asio::ip::tcp::socket socket_;
  Endpoint local_;
  Endpoint remote_;
  bool closed_ = false;
};

// A tcp endpoint as a weft::Endpoint (address and port).
Endpoint to_endpoint(const boost::asio::ip::tcp::endpoint& endpoint);

}  // namespace weft

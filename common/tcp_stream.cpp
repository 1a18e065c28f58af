#include "common/tcp_stream.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

namespace weft {

namespace asio = boost::asio;
using asio::ip::tcp;

Endpoint to_endpoint(const tcp::endpoint& endpoint) {
  return {endpoint.address(), endpoint.port()};
}

TcpByteStream::TcpByteStream(tcp::socket socket) : socket_(std::move(socket)) {
  boost::system::error_code ec;
  // Cached: a closed socket cannot tell its endpoints any more.
  local_ = to_endpoint(socket_.local_endpoint(ec));
  remote_ = to_endpoint(socket_.remote_endpoint(ec));
  socket_.set_option(tcp::no_delay(true), ec);
}

TcpByteStream::~TcpByteStream() {
  close();
}

Error TcpByteStream::op_error(const boost::system::error_code& ec, const char* what) const {
  if (closed_) {
    return make_error(asio::error::bad_descriptor, "{} on a closed connection", what);
  }
  if (ec == asio::error::operation_aborted) {
    return make_error(Errc::kCancelled, "{} cancelled", what);
  }
  if (ec == asio::error::eof) {
    return make_error(ec, "connection closed by the peer");
  }
  return make_error(ec, "{} failed: {}", what, ec.message());
}

asio::awaitable<Result<std::size_t>> TcpByteStream::read_some(std::span<std::uint8_t> out) {
  if (closed_) {
    co_return op_error({}, "read");
  }
  auto [ec, n] = co_await socket_.async_read_some(asio::buffer(out.data(), out.size()),
                                                  asio::as_tuple(asio::use_awaitable));
  if (ec && n == 0) {
    co_return op_error(ec, "read");
  }
  co_return n;
}

asio::awaitable<Result<void>> TcpByteStream::write_all(std::span<const std::uint8_t> in) {
  if (closed_) {
    co_return op_error({}, "write");
  }
  auto [ec, n] = co_await asio::async_write(socket_, asio::buffer(in.data(), in.size()),
                                            asio::as_tuple(asio::use_awaitable));
  if (ec) {
    co_return op_error(ec, "write");
  }
  co_return Result<void>{};
}

void TcpByteStream::close() {
  if (closed_) {
    return;
  }
  closed_ = true;
  boost::system::error_code ec;
  // shutdown first: the peer reads what we sent, then eof (close alone may reset).
  socket_.shutdown(tcp::socket::shutdown_both, ec);
  socket_.close(ec);
}

}  // namespace weft

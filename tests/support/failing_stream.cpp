#include "tests/support/failing_stream.hpp"

#include <algorithm>
#include <cstring>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace weft::test {

namespace asio = boost::asio;

struct TestStream::Pipe {
  explicit Pipe(const asio::any_io_executor& ex)
      : wakeup(ex, asio::steady_timer::time_point::max()) {}

  std::deque<std::uint8_t> data;
  bool writer_closed = false;  // the writing end closed: eof once data is drained
  bool reader_closed = false;  // the reading end closed: writes fail
  asio::steady_timer wakeup;   // cancelled to wake the reader
};

TestStream::TestStream(std::shared_ptr<Pipe> in, std::shared_ptr<Pipe> out, Endpoint local,
                       Endpoint remote)
    : in_(std::move(in)), out_(std::move(out)), local_(local), remote_(remote) {}

TestStream::~TestStream() {
  close();
}

Fault TestStream::take_fault() {
  ++operations_;
  return operations_ == fail_at_ ? fault_ : Fault::kNone;
}

asio::awaitable<Result<std::size_t>> TestStream::read_some(std::span<std::uint8_t> out) {
  const Fault fault = take_fault();
  if (closed_) {
    co_return make_error(asio::error::bad_descriptor, "read on a closed test stream");
  }
  if (fault == Fault::kError) {
    co_return make_error(asio::error::connection_reset, "injected read error (operation {})",
                         operations_);
  }
  if (fault == Fault::kEof) {
    co_return make_error(asio::error::eof, "injected eof (operation {})", operations_);
  }
  for (;;) {
    if (!in_->data.empty()) {
      std::size_t n = std::min(out.size(), in_->data.size());
      if (fault == Fault::kShortRead) {
        n = std::min<std::size_t>(n, 1);
      }
      std::copy_n(in_->data.begin(), n, out.begin());
      in_->data.erase(in_->data.begin(), in_->data.begin() + static_cast<std::ptrdiff_t>(n));
      bytes_read_ += n;
      co_return n;
    }
    if (in_->writer_closed) {
      co_return make_error(asio::error::eof, "test stream closed by the peer");
    }
    in_->wakeup.expires_at(asio::steady_timer::time_point::max());
    co_await in_->wakeup.async_wait(asio::as_tuple(asio::use_awaitable));
    const asio::cancellation_state cs = co_await asio::this_coro::cancellation_state;
    if (cs.cancelled() != asio::cancellation_type::none) {
      co_return make_error(Errc::kCancelled, "read cancelled");
    }
    if (closed_) {
      co_return make_error(asio::error::bad_descriptor, "test stream closed during read");
    }
  }
}

asio::awaitable<Result<void>> TestStream::write_all(std::span<const std::uint8_t> in) {
  const Fault fault = take_fault();
  if (closed_) {
    co_return make_error(asio::error::bad_descriptor, "write on a closed test stream");
  }
  if (fault == Fault::kError || fault == Fault::kEof) {
    co_return make_error(asio::error::connection_reset, "injected write error (operation {})",
                         operations_);
  }
  writes_.emplace_back(in.begin(), in.end());
  if (out_->reader_closed) {
    co_return make_error(asio::error::connection_reset, "test stream peer closed");
  }
  std::vector<std::uint8_t> bytes(in.begin(), in.end());
  if (filter_) {
    filter_(bytes);
  }
  out_->data.insert(out_->data.end(), bytes.begin(), bytes.end());
  out_->wakeup.cancel();
  co_return Result<void>{};
}

void TestStream::inject(std::span<const std::uint8_t> bytes) {
  out_->data.insert(out_->data.end(), bytes.begin(), bytes.end());
  out_->wakeup.cancel();
}

void TestStream::close_write() {
  out_->writer_closed = true;
  out_->wakeup.cancel();
}

void TestStream::close() {
  if (closed_) {
    return;
  }
  closed_ = true;
  out_->writer_closed = true;
  out_->wakeup.cancel();
  in_->reader_closed = true;
  in_->wakeup.cancel();
}

TestStreamPair make_stream_pair(const asio::any_io_executor& executor) {
  auto ab = std::make_shared<TestStream::Pipe>(executor);
  auto ba = std::make_shared<TestStream::Pipe>(executor);
  const Endpoint a(asio::ip::make_address("198.18.0.1"), 40212);
  const Endpoint b(asio::ip::make_address("198.18.0.2"), 6783);
  return {std::make_unique<TestStream>(ba, ab, a, b), std::make_unique<TestStream>(ab, ba, b, a)};
}

}  // namespace weft::test

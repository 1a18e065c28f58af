// Fuzz target for the handshake as the acceptor sees it: the input is what a remote dialer
// sends (its Hello, then its Confirm frame), delivered in chunks of fuzzed sizes, against a
// configuration chosen by the first byte (password, static key, trusted keys). Whatever the
// bytes, the handshake must end (no hang) and must never succeed: no input can carry a
// valid Confirm for our fresh ephemeral key. The Hello decoder is also fed directly.
// fuzz-deps: weft_router
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>

#include "common/log.hpp"
#include "router/handshake.hpp"

namespace {

namespace asio = boost::asio;
using namespace weft::router;

// Reads come from the fuzz input (at most `chunk` bytes each), then eof; writes vanish.
class InputStream final : public weft::ByteStream {
 public:
  InputStream(std::span<const std::uint8_t> data, std::size_t chunk) : data_(data), chunk_(chunk) {}
  asio::awaitable<weft::Result<std::size_t>> read_some(std::span<std::uint8_t> out) override {
    if (pos_ == data_.size()) {
      co_return weft::make_error(asio::error::eof, "eof");
    }
    const std::size_t n = std::min({out.size(), data_.size() - pos_, chunk_});
    std::copy_n(data_.begin() + static_cast<std::ptrdiff_t>(pos_), n, out.begin());
    pos_ += n;
    co_return n;
  }
  asio::awaitable<weft::Result<void>> write_all(std::span<const std::uint8_t>) override {
    co_return weft::Result<void>{};
  }
  weft::Endpoint local_endpoint() const override {
    return {asio::ip::make_address("198.18.0.2"), 6783};
  }
  weft::Endpoint remote_endpoint() const override {
    return {asio::ip::make_address("198.18.0.1"), 40000};
  }
  void close() override {}

 private:
  std::span<const std::uint8_t> data_;
  std::size_t chunk_;
  std::size_t pos_ = 0;
};

std::shared_ptr<const HandshakeConfig> make_config(std::uint8_t selector) {
  static const KeyPair ours = generate_keypair();
  static const KeyPair trusted = generate_keypair();
  auto c = std::make_shared<HandshakeConfig>();
  c->name = PeerName{0x0200000000aa};
  c->uid = 42;
  c->nickname = "fuzz";
  if ((selector & 1) != 0) {
    c->password_key.emplace();
    c->password_key->bytes.fill(0x5a);  // a fixed key: Argon2 per input would be too slow
  }
  if ((selector & 2) != 0) {
    c->static_key = ours;
  }
  if ((selector & 4) != 0) {
    c->trusted_keys = {trusted.public_key};
  }
  return c;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const bool quiet = [] {
    weft::log::set_level(weft::log::Level::kOff);
    return true;
  }();
  (void)quiet;
  if (size < 2) {
    return 0;
  }
  const std::span<const std::uint8_t> input(data + 2, size - 2);
  (void)decode_hello(input.first(std::min(input.size(), kHelloHeaderSize + kMaxHelloBody)));

  asio::io_context io;
  InputStream stream(input, 1 + data[1] % 64);
  auto stats = std::make_shared<TransportStats>();
  bool done = false;
  bool succeeded = false;
  asio::co_spawn(io, run_handshake(stream, Role::kAcceptor, make_config(data[0]), stats),
                 [&](std::exception_ptr e, weft::Result<Session> r) {
                   if (e) {
                     __builtin_trap();
                   }
                   done = true;
                   succeeded = r.has_value();
                 });
  io.run();
  if (!done || succeeded || stats->handshakes_failed() != 1) {
    __builtin_trap();
  }
  return 0;
}

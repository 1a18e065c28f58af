// The simulated network's streams (TCP-like ByteStreams and their listeners); the rest of
// SimNetwork is in sim_network.cpp. One shared state per connection: side 0 is the
// connecting end, side 1 the accepted end; bytes written by side s travel toward side 1 - s
// as scheduled segments, each arriving no earlier than the one before it.
#include <algorithm>
#include <array>
#include <cstring>
#include <deque>

#include <boost/asio/error.hpp>
#include <boost/assert.hpp>

#include "tests/support/sim_network.hpp"

namespace weft::test {

namespace asio = boost::asio;
using sim_detail::cancelled_error;
using sim_detail::closed_error;
using sim_detail::endpoint_text;

namespace {

// Streams are cut into segments of at most this size, each one scheduled event.
constexpr std::size_t kSegmentSize = 64 * 1024;

}  // namespace

struct SimStreamSide {
  explicit SimStreamSide(const asio::any_io_executor& executor)
      : readable(executor), writable(executor) {}

  HostId host{};
  Endpoint endpoint;
  std::deque<std::vector<std::uint8_t>> rx;  // arrived, not read yet
  std::size_t rx_offset = 0;                 // bytes of rx.front() already read
  std::size_t rx_bytes = 0;
  std::size_t in_flight = 0;        // sent toward this side, not arrived yet
  Clock::TimePoint last_arrival{};  // of anything sent toward this side: keeps order
  bool closed = false;              // this end called close()
  bool eof = false;                 // the peer's close arrived
  SimWakeup readable;               // the reader of this end waits here
  SimWakeup writable;               // the writer of this end waits here (send window)
};

struct SimStreamState {
  explicit SimStreamState(const asio::any_io_executor& executor)
      : side{SimStreamSide(executor), SimStreamSide(executor)} {}

  std::array<SimStreamSide, 2> side;
  bool broken = false;
};

class SimStream final : public ByteStream {
 public:
  SimStream(SimNetwork& network, std::shared_ptr<SimStreamState> state, int side)
      : network_(&network), state_(std::move(state)), side_(side) {
    ++network_->live_stream_ends_;
  }
  ~SimStream() override {
    close();
    --network_->live_stream_ends_;
  }

  asio::awaitable<Result<std::size_t>> read_some(std::span<std::uint8_t> out) override {
    BOOST_ASSERT(!out.empty());
    SimStreamSide& me = state_->side[side_];
    for (;;) {
      if (me.closed) {
        co_return closed_error("stream");
      }
      if (state_->broken) {
        co_return make_error(asio::error::connection_reset, "simulated stream {} broke",
                             endpoint_text(remote_endpoint()));
      }
      if (me.rx_bytes > 0) {
        co_return take(me, out);
      }
      if (me.eof) {
        co_return make_error(asio::error::eof, "simulated stream {} closed by the peer",
                             endpoint_text(remote_endpoint()));
      }
      if (!co_await me.readable.wait()) {
        co_return cancelled_error("read");
      }
    }
  }

  asio::awaitable<Result<void>> write_all(std::span<const std::uint8_t> in) override {
    SimStreamSide& me = state_->side[side_];
    SimStreamSide& peer = state_->side[1 - side_];
    std::size_t done = 0;
    for (;;) {
      if (me.closed) {
        co_return closed_error("stream");
      }
      if (state_->broken || me.eof) {
        co_return make_error(asio::error::connection_reset, "simulated stream {} {}",
                             endpoint_text(remote_endpoint()),
                             state_->broken ? "broke" : "was closed by the peer");
      }
      if (done == in.size()) {
        co_return Result<void>();
      }
      const std::size_t used = peer.in_flight + peer.rx_bytes;
      const std::size_t window = network_->options_.stream_window;
      if (used < window) {
        const std::size_t n = std::min({window - used, in.size() - done, kSegmentSize});
        const auto chunk = in.subspan(done, n);
        network_->send_stream_bytes(state_, side_,
                                    std::vector<std::uint8_t>(chunk.begin(), chunk.end()));
        done += n;
        continue;
      }
      if (!co_await me.writable.wait()) {
        co_return cancelled_error("write");
      }
    }
  }

  Endpoint local_endpoint() const override { return state_->side[side_].endpoint; }
  Endpoint remote_endpoint() const override { return state_->side[1 - side_].endpoint; }

  void close() override {
    SimStreamSide& me = state_->side[side_];
    if (me.closed) {
      return;
    }
    me.closed = true;
    me.rx.clear();
    me.rx_offset = 0;
    me.rx_bytes = 0;
    me.readable.notify();
    me.writable.notify();
    state_->side[1 - side_].writable.notify();  // the window toward us opened
    if (!state_->broken) {
      network_->send_stream_fin(state_, side_);
    }
  }

 private:
  static std::size_t take(SimStreamSide& me, std::span<std::uint8_t> out) {
    std::size_t n = 0;
    while (n < out.size() && !me.rx.empty()) {
      const std::vector<std::uint8_t>& chunk = me.rx.front();
      const std::size_t k = std::min(out.size() - n, chunk.size() - me.rx_offset);
      std::memcpy(out.data() + n, chunk.data() + me.rx_offset, k);
      n += k;
      me.rx_offset += k;
      if (me.rx_offset == chunk.size()) {
        me.rx.pop_front();
        me.rx_offset = 0;
      }
    }
    me.rx_bytes -= n;
    return n;
  }

  SimNetwork* network_;
  std::shared_ptr<SimStreamState> state_;
  int side_;
};

class SimStreamListener final : public StreamListener {
 public:
  SimStreamListener(SimNetwork& network, HostId host, std::uint16_t port, Endpoint local)
      : network_(&network), host_(host), port_(port), local_(local), ready_(network.executor_) {}
  ~SimStreamListener() override { close(); }

  asio::awaitable<Result<std::unique_ptr<ByteStream>>> accept() override {
    for (;;) {
      if (closed_) {
        co_return closed_error("listener");
      }
      if (!backlog_.empty()) {
        std::unique_ptr<ByteStream> stream = std::move(backlog_.front());
        backlog_.pop_front();
        co_return stream;
      }
      if (!co_await ready_.wait()) {
        co_return cancelled_error("accept");
      }
    }
  }

  Endpoint local_endpoint() const override { return local_; }

  void close() override {
    if (closed_) {
      return;
    }
    closed_ = true;
    network_->listeners_.erase({host_, port_});
    backlog_.clear();  // closes them: their peers read eof
    ready_.notify();
  }

  void push(std::unique_ptr<SimStream> stream) {
    backlog_.push_back(std::move(stream));
    ready_.notify();
  }

 private:
  SimNetwork* network_;
  HostId host_;
  std::uint16_t port_;
  Endpoint local_;
  std::deque<std::unique_ptr<SimStream>> backlog_;
  SimWakeup ready_;
  bool closed_ = false;
};

Result<std::unique_ptr<StreamListener>> SimNetwork::listen_stream(HostId host, std::uint16_t port) {
  auto picked = pick_port(host, port, true);
  if (!picked) {
    return picked.error();
  }
  auto listener = std::make_unique<SimStreamListener>(
      *this, host, *picked, Endpoint(host_at(host).addresses.front(), *picked));
  listeners_[{host, *picked}] = listener.get();
  return std::unique_ptr<StreamListener>(std::move(listener));
}

asio::awaitable<Result<std::unique_ptr<ByteStream>>> SimNetwork::connect_stream(HostId from,
                                                                                Endpoint to) {
  const auto server = host_of(to.address());
  const auto source = source_address(from, to.address());
  if (!server || !source) {
    co_return make_error(asio::error::host_unreachable, "no route from {} to {}", name(from),
                         endpoint_text(to));
  }
  std::uint16_t& next = host_at(from).next_tcp_port;
  const Endpoint local(*source, next);
  next = next == 65535 ? 49152 : next + 1;
  const Clock::TimePoint start = clock_.now();
  if (reachable(from, *server)) {
    if (!co_await clock_.sleep_for(sample_latency(from, *server))) {
      co_return cancelled_error("connect");
    }
  }
  // The SYN is lost when the hosts are cut apart while it travels: time out like TCP.
  if (!reachable(from, *server)) {
    if (!co_await clock_.sleep_for(options_.connect_timeout - (clock_.now() - start))) {
      co_return cancelled_error("connect");
    }
    co_return make_error(asio::error::timed_out, "connect from {} to {} timed out", name(from),
                         endpoint_text(to));
  }
  const auto it = listeners_.find({*server, to.port()});
  if (it == listeners_.end()) {
    if (!co_await clock_.sleep_for(sample_latency(*server, from))) {
      co_return cancelled_error("connect");
    }
    co_return make_error(asio::error::connection_refused, "nothing listens on {}",
                         endpoint_text(to));
  }
  auto state = std::make_shared<SimStreamState>(executor_);
  state->side[0].host = from;
  state->side[0].endpoint = local;
  state->side[1].host = *server;
  state->side[1].endpoint = to;
  streams_.emplace(next_stream_id_++, state);
  count(from, &SimCounters::streams_connected);
  it->second->push(std::make_unique<SimStream>(*this, state, 1));
  auto client = std::make_unique<SimStream>(*this, state, 0);
  // The SYN-ACK travels back; if this is cancelled, `client` closes and the server reads eof.
  if (!co_await clock_.sleep_for(sample_latency(*server, from))) {
    co_return cancelled_error("connect");
  }
  co_return std::unique_ptr<ByteStream>(std::move(client));
}

Clock::TimePoint SimNetwork::stream_arrival(SimStreamState& stream, int from_side) {
  SimStreamSide& to = stream.side[1 - from_side];
  const Clock::TimePoint at = std::max(
      clock_.now() + sample_latency(stream.side[from_side].host, to.host), to.last_arrival);
  to.last_arrival = at;
  return at;
}

void SimNetwork::send_stream_bytes(const std::shared_ptr<SimStreamState>& stream, int from_side,
                                   std::vector<std::uint8_t> bytes) {
  stream->side[1 - from_side].in_flight += bytes.size();
  schedule_at(stream_arrival(*stream, from_side),
              [this, stream, to_side = 1 - from_side, bytes = std::move(bytes)]() mutable {
                SimStreamSide& to = stream->side[to_side];
                to.in_flight -= bytes.size();
                stream->side[1 - to_side].writable.notify();
                if (stream->broken || to.closed) {
                  return;
                }
                count(to.host, &SimCounters::stream_bytes, bytes.size());
                to.rx_bytes += bytes.size();
                to.rx.push_back(std::move(bytes));
                to.readable.notify();
              });
}

void SimNetwork::send_stream_fin(const std::shared_ptr<SimStreamState>& stream, int from_side) {
  schedule_at(stream_arrival(*stream, from_side), [stream, to_side = 1 - from_side] {
    if (stream->broken) {
      return;
    }
    SimStreamSide& to = stream->side[to_side];
    to.eof = true;
    to.readable.notify();
    to.writable.notify();
  });
}

void SimNetwork::break_unreachable_streams() {
  for (auto it = streams_.begin(); it != streams_.end();) {
    const std::shared_ptr<SimStreamState> stream = it->second.lock();
    if (stream && !stream->broken && reachable(stream->side[0].host, stream->side[1].host)) {
      ++it;
      continue;
    }
    if (stream && !stream->broken) {
      stream->broken = true;
      ++counters_.streams_broken;
      for (SimStreamSide& side : stream->side) {
        ++host_at(side.host).counters.streams_broken;
        side.rx.clear();
        side.rx_offset = 0;
        side.rx_bytes = 0;
        side.readable.notify();
        side.writable.notify();
      }
    }
    it = streams_.erase(it);  // gone or broken: nothing more to watch
  }
}

}  // namespace weft::test

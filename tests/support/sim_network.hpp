// SimNetwork: an in-memory network of many simulated hosts in one process, for the
// deterministic simulations of the mesh and IPAM. Hosts get addresses (198.18.x.y and
// fd00:18::x), bind datagram connections (PacketConn) and open TCP-like streams
// (ByteStream); links lose, delay, duplicate and reorder datagrams from one seeded Rng;
// partitions and per-pair blocks cut hosts apart.
//
// Design note: every delivery is an event in one time-ordered queue (time, then the order it
// was scheduled); the queue is driven by coroutines sleeping on the injected Clock. With a
// VirtualClock and the same seed, the same program produces the same deliveries in the same
// order, and run_until_idle() stops when nothing is in flight. Streams model TCP: no loss,
// no reordering (an arrival never overtakes an earlier one), a send window, a handshake of
// one round trip; a partition or block breaks them at once (modelling a timeout without
// waiting for it). No NAT and no bandwidth limit yet.
//
// Contract: single-threaded; every call and every coroutine runs on the executor given to
// the constructor. The network must outlive its connections, listeners and streams and any
// pending connect_stream(); destroy them first (then the network, then the io_context).
// HostIds come from add_host(); passing another value is a bug (asserted).
#pragma once

#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/steady_timer.hpp>

#include "common/byte_stream.hpp"
#include "common/clock.hpp"
#include "common/packet_conn.hpp"
#include "common/result.hpp"
#include "common/rng.hpp"
#include "common/task_group.hpp"
#include "tests/support/virtual_clock.hpp"

namespace weft::test {

enum class HostId : std::uint32_t {};

// How a link treats datagrams, one direction. Streams use only latency and jitter.
struct LinkProfile {
  double loss = 0.0;          // probability a datagram is dropped
  double duplicate = 0.0;     // probability a datagram arrives twice
  Clock::Duration latency{};  // one-way base delay
  Clock::Duration jitter{};   // extra delay, uniform in [0, jitter]; reorders datagrams
};

// A profile in one expression (GCC 12 warns on designated initializers that skip fields).
inline LinkProfile link_profile(Clock::Duration latency, Clock::Duration jitter = {},
                                double loss = 0.0, double duplicate = 0.0) {
  LinkProfile profile;
  profile.latency = latency;
  profile.jitter = jitter;
  profile.loss = loss;
  profile.duplicate = duplicate;
  return profile;
}

// Counters, global and per host. A host counts the datagrams it sent and their fate
// (drops are charged to the sender), what it received, the streams it opened, its streams
// that broke, and the stream bytes it received.
struct SimCounters {
  std::uint64_t sent = 0;
  std::uint64_t bytes_sent = 0;
  std::uint64_t duplicated = 0;
  std::uint64_t delivered = 0;  // queued on the receiving connection (duplicates included)
  std::uint64_t bytes_delivered = 0;
  std::uint64_t dropped_loss = 0;
  std::uint64_t dropped_partition = 0;    // partition or block between the hosts
  std::uint64_t dropped_no_route = 0;     // no host has the address, or no source address
  std::uint64_t dropped_no_listener = 0;  // nothing bound to the port at arrival
  std::uint64_t dropped_queue_full = 0;   // the receiver's queue was full at arrival
  std::uint64_t streams_connected = 0;
  std::uint64_t streams_broken = 0;
  std::uint64_t stream_bytes = 0;

  std::uint64_t dropped() const {
    return dropped_loss + dropped_partition + dropped_no_route + dropped_no_listener +
           dropped_queue_full;
  }
  bool operator==(const SimCounters&) const = default;
};

// Accepts streams on one port (the listening socket). Same affinity and lifetime rules as
// ByteStream; closing it resets the connections not accepted yet.
class StreamListener {
 public:
  virtual ~StreamListener() = default;
  // Waits for the next connection; bad_descriptor after close(), Errc::kCancelled when
  // cancelled.
  virtual boost::asio::awaitable<Result<std::unique_ptr<ByteStream>>> accept() = 0;
  virtual Endpoint local_endpoint() const = 0;
  virtual void close() = 0;
};

// Wakes the one coroutine waiting on it (a condition variable for one executor). wait()
// returns true when notify() woke it and false when the operation was cancelled; the
// caller then returns Errc::kCancelled without co_awaiting again (a cancelled coroutine
// throws at its next co_await). Callers re-check their condition after every wake-up.
class SimWakeup {
 public:
  explicit SimWakeup(const boost::asio::any_io_executor& executor);
  boost::asio::awaitable<bool> wait();
  void notify();

 private:
  boost::asio::steady_timer timer_;
  bool notified_ = false;
};

namespace sim_detail {
std::string endpoint_text(const Endpoint& endpoint);
Error closed_error(std::string_view what);     // asio::error::bad_descriptor
Error cancelled_error(std::string_view what);  // Errc::kCancelled
}  // namespace sim_detail

class SimPacketConn;
class SimStream;
class SimStreamListener;
struct SimStreamState;

class SimNetwork {
 public:
  struct Options {
    std::size_t receive_queue_limit = 4096;  // datagrams queued per connection
    std::size_t stream_window = 256 * 1024;  // unread + in-flight bytes per direction
    Clock::Duration connect_timeout = std::chrono::seconds(3);
  };

  SimNetwork(boost::asio::any_io_executor executor, Clock& clock, std::uint64_t seed);
  SimNetwork(boost::asio::any_io_executor executor, Clock& clock, std::uint64_t seed,
             Options options);
  SimNetwork(const SimNetwork&) = delete;
  SimNetwork& operator=(const SimNetwork&) = delete;
  ~SimNetwork();

  // Hosts. A new host gets one IPv4 (198.18.0.0/15) and one IPv6 (fd00:18::/64) address.
  HostId add_host(std::string name);
  // Adds another address; kAlreadyExists when some host has it.
  Result<void> add_address(HostId host, boost::asio::ip::address address);
  const std::string& name(HostId host) const;
  const std::vector<boost::asio::ip::address>& addresses(HostId host) const;
  boost::asio::ip::address ipv4(HostId host) const;  // the first IPv4 address
  boost::asio::ip::address ipv6(HostId host) const;  // the first IPv6 address
  std::size_t host_count() const { return hosts_.size(); }

  // Datagrams: binds `port` on every address of the host (0 picks a free one from 49152).
  // kAlreadyExists when the port is taken. local_endpoint() shows the first address.
  Result<std::unique_ptr<PacketConn>> bind(HostId host, std::uint16_t port);

  // Streams. listen_stream() binds like bind() (its own port space, as TCP beside UDP).
  Result<std::unique_ptr<StreamListener>> listen_stream(HostId host, std::uint16_t port);
  // Completes after one round trip: the stream, or connection_refused (no listener),
  // timed_out (partitioned for Options::connect_timeout), host_unreachable (no host has
  // the address), Errc::kCancelled.
  boost::asio::awaitable<Result<std::unique_ptr<ByteStream>>> connect_stream(HostId from,
                                                                             Endpoint to);

  // Links. A pair without its own profile uses the default; a host to itself has a perfect
  // link unless set explicitly.
  void set_default_link(const LinkProfile& profile) { default_link_ = profile; }
  void set_link(HostId a, HostId b, const LinkProfile& profile);  // both directions
  void set_link_one_way(HostId from, HostId to, const LinkProfile& profile);
  void clear_link(HostId a, HostId b);  // both directions back to the default
  const LinkProfile& link(HostId from, HostId to) const;

  // Faults, checked when a datagram is sent and when a stream connects; streams between
  // hosts that become unreachable break at once. partition() replaces the previous
  // partition; hosts named in no group form one more group together. block() cuts one pair
  // in both directions. heal() removes the partition and every block.
  void partition(const std::vector<std::vector<HostId>>& groups);
  void block(HostId a, HostId b);
  void unblock(HostId a, HostId b);
  void heal();
  bool reachable(HostId from, HostId to) const;

  const SimCounters& counters() const { return counters_; }
  const SimCounters& counters(HostId host) const { return host_at(host).counters; }
  // Deliveries scheduled and not yet happened.
  std::size_t in_flight() const { return events_.size(); }
  Clock& clock() { return clock_; }
  const boost::asio::any_io_executor& executor() const { return executor_; }

 private:
  friend class SimPacketConn;
  friend class SimStream;
  friend class SimStreamListener;

  struct Host {
    std::string name;
    std::vector<boost::asio::ip::address> addresses;
    SimCounters counters;
    std::uint16_t next_udp_port = 49152;
    std::uint16_t next_tcp_port = 49152;
  };
  using PortKey = std::pair<HostId, std::uint16_t>;
  using EventKey = std::pair<Clock::TimePoint, std::uint64_t>;

  Host& host_at(HostId host);
  const Host& host_at(HostId host) const;
  void count(HostId host, std::uint64_t SimCounters::*field, std::uint64_t n = 1);
  std::optional<HostId> host_of(const boost::asio::ip::address& address) const;
  std::optional<boost::asio::ip::address> source_address(
      HostId host, const boost::asio::ip::address& destination) const;
  // `port`, or a free one from 49152 when 0; in the stream or the datagram port space.
  Result<std::uint16_t> pick_port(HostId host, std::uint16_t port, bool stream);
  Clock::Duration sample_latency(HostId from, HostId to);

  // The event queue.
  void schedule(Clock::Duration delay, std::function<void()> event);
  void schedule_at(Clock::TimePoint at, std::function<void()> event);
  void fire_due(Clock::TimePoint at);
  static boost::asio::awaitable<void> wake_at(std::shared_ptr<bool> alive, Clock* clock,
                                              Clock::TimePoint at, SimNetwork* network);

  // Datagrams.
  void transmit(HostId from, std::uint16_t from_port, const Datagram& datagram);
  void arrive(HostId from, Endpoint source, HostId to, std::uint16_t port,
              std::vector<std::uint8_t> bytes);

  // Streams.
  void send_stream_bytes(const std::shared_ptr<SimStreamState>& stream, int from_side,
                         std::vector<std::uint8_t> bytes);
  void send_stream_fin(const std::shared_ptr<SimStreamState>& stream, int from_side);
  Clock::TimePoint stream_arrival(SimStreamState& stream, int from_side);
  void break_unreachable_streams();

  boost::asio::any_io_executor executor_;
  Clock& clock_;
  SeededRng rng_;
  Options options_;
  std::vector<Host> hosts_;
  std::map<boost::asio::ip::address, HostId> address_owner_;
  std::map<PortKey, SimPacketConn*> conns_;
  std::map<PortKey, SimStreamListener*> listeners_;
  std::map<std::uint64_t, std::weak_ptr<SimStreamState>> streams_;
  std::uint64_t next_stream_id_ = 1;
  std::size_t live_stream_ends_ = 0;  // SimStream objects alive (asserted 0 at destruction)

  LinkProfile default_link_;
  std::map<std::pair<HostId, HostId>, LinkProfile> links_;
  bool partitioned_ = false;
  std::map<HostId, std::size_t> group_of_;      // hosts named in the partition
  std::set<std::pair<HostId, HostId>> blocks_;  // (min, max)

  SimCounters counters_;

  std::map<EventKey, std::function<void()>> events_;
  std::uint64_t event_seq_ = 0;
  std::set<Clock::TimePoint> waker_times_;  // one waker coroutine per distinct due time
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  TaskGroup wakers_;
};

// Runs `task` on `io` in virtual time until it finishes and returns its value (rethrows its
// exception); throws when it has not finished once nothing is left to run or `limit` of
// virtual time passed. The simulation's counterpart of test::run (coro.hpp).
template <class T>
T run_virtual(boost::asio::io_context& io, VirtualClock& clock, boost::asio::awaitable<T> task,
              Clock::Duration limit = std::chrono::hours(1)) {
  struct State {
    std::optional<T> value;
    std::exception_ptr error;
    bool done = false;
  };
  auto state = std::make_shared<State>();
  boost::asio::co_spawn(io, std::move(task), [state](std::exception_ptr e, T v) {
    state->error = e;
    if (!e) {
      state->value.emplace(std::move(v));
    }
    state->done = true;
  });
  const auto done = [&state] {
    return state->done;
  };
  if (!clock.run_until(io, done, limit)) {
    throw std::runtime_error("coroutine did not finish in virtual time");
  }
  if (state->error) {
    std::rethrow_exception(state->error);
  }
  return std::move(*state->value);
}

}  // namespace weft::test

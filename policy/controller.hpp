// Controller: weft-npc's I/O shell around the policy core. It keeps the node's nftables
// program in step with the API server:
//
//   Reflectors (kube/) for pods, namespaces, networkpolicies
//      │ replace()/apply()                               (events, relists, resyncs)
//      v
//   ClusterCache ──changed──> sync (after `settle`): compile for this node's pods
//                             (spec.nodeName == node_name), render, write in ONE nft
//                             transaction (ProgramWriter)
//   verify loop (every verify_interval): program missing (an admin's flush, a reboot of
//   nftables) -> written again at once; bridge netfilter option re-applied (weftd may have
//   recreated the bridge).
//
// Fail closed, never "allow until synced":
// - Until every reflector has delivered its first list, the controller does not replace a
//   program that is already installed (a restart after kill -9 keeps the previous rules in
//   the kernel: no allow window), and installs the empty program where there is none: every
//   local pod port is then unclassified, so nothing reaches or leaves local pods.
// - After that, a local pod whose address the compiled program does not know yet stays
//   unclassified (dropped) until a sync that knows it; the time from its address arriving
//   from the API server to its rules being written is measured (pod_rules_latency).
// - A write that fails leaves the previous program in place (the transaction is atomic) and
//   is retried after `retry_after`.
// - Writes are deltas from the installed program (policy/nft_program.hpp render_update);
//   the whole program is written at start, after a failure, when it was found missing, and
//   every resync_interval (so that anything an admin changed by hand is undone).
//
// Contract: every method, sink call and coroutine runs on the executor given to the
// constructor (the control thread). start() once; co_await stop() before destruction.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "common/clock.hpp"
#include "common/result.hpp"
#include "common/rng.hpp"
#include "common/task_group.hpp"
#include "kube/client.hpp"
#include "kube/reflector.hpp"
#include "policy/cluster_cache.hpp"
#include "policy/compiler.hpp"
#include "policy/nflog.hpp"
#include "policy/nft_program.hpp"

namespace weft::policy {

// Where the program goes. Production: NftProgramWriter (libnftables in this namespace).
class ProgramWriter {
 public:
  virtual ~ProgramWriter() = default;
  // One nft script, one transaction.
  virtual Result<void> write(const std::string& script) = 0;
  // The program's inet table in the kernel (the one of program_tables() whose chain
  // filter_forward is hooked, with the bridge table beside it); nullopt when there is none.
  virtual Result<std::optional<std::string>> installed() = 0;
  // The named counters of blocked connections (blocked_<direction>_<protocol>) of an inet
  // table -> packets.
  virtual Result<std::map<std::string, std::uint64_t>> counters(const std::string& table) = 0;
};

class NftProgramWriter final : public ProgramWriter {
 public:
  explicit NftProgramWriter(NftOptions options) : options_(std::move(options)) {}
  Result<void> write(const std::string& script) override;
  Result<std::optional<std::string>> installed() override;
  Result<std::map<std::string, std::uint64_t>> counters(const std::string& table) override;

 private:
  NftOptions options_;
};

struct ControllerOptions {
  std::string node_name;
  NftOptions nft;
  Clock::Duration settle = std::chrono::milliseconds(5);  // gather events before compiling
  Clock::Duration retry_after = std::chrono::seconds(1);  // after a failed write
  Clock::Duration verify_interval = std::chrono::seconds(10);
  Clock::Duration resync_interval = std::chrono::minutes(5);  // reflectors' full relists
  std::size_t recent_blocks = 20;                             // kept for /status
  bool manage_bridge = true;       // enable_bridge_netfilter(nft.bridge) in the verify loop
  std::size_t write_chunk = 4096;  // elements per transaction of a whole write (render_staged)
};

struct BlockRecord {
  Clock::TimePoint when;
  std::string line;  // describe(LoggedPacket)
};

struct ControllerStatus {
  bool synced = false;  // every reflector listed, and a program written from their state
  std::uint64_t syncs = 0;
  std::uint64_t writes = 0;
  std::uint64_t full_writes = 0;  // whole program (start, heal, periodic, after a failure)
  std::uint64_t write_failures = 0;
  std::uint64_t heals = 0;  // program found missing and written again
  std::string last_error;
  double last_sync_seconds = 0;  // compile + render + write
  std::size_t policies = 0;
  std::size_t local_pods = 0;
  std::size_t isolated_ingress = 0;  // local pods selected by an ingress policy
  std::size_t isolated_egress = 0;
  std::size_t groups = 0;
  std::size_t rejected = 0;
  // Seconds from a local pod's address arriving from the API server to a program with its
  // rules written: the last one and a histogram (upper bounds in seconds -> count).
  double last_pod_rules_seconds = 0;
  std::map<double, std::uint64_t> pod_rules_histogram;
  double pod_rules_sum = 0;
  std::uint64_t pod_rules_count = 0;
};

class Controller {
 public:
  Controller(boost::asio::any_io_executor executor, kube::Client& client, ProgramWriter& writer,
             Clock& clock, Rng& rng, ControllerOptions options);
  Controller(const Controller&) = delete;
  Controller& operator=(const Controller&) = delete;
  ~Controller();

  void start();
  boost::asio::awaitable<void> stop();

  // A blocked connection from the NFLOG reader (kept for /status).
  void record_block(const LoggedPacket& packet);

  const ControllerStatus& status() const { return status_; }
  const std::deque<BlockRecord>& recent_blocks() const { return recent_blocks_; }
  const ClusterCache& cache() const { return cache_; }
  std::vector<const kube::Reflector*> reflectors() const;
  const ControllerOptions& options() const { return options_; }
  // The inet table the program is in (program_tables(): they alternate at whole writes);
  // empty before the first write or discovery.
  const std::string& active_table() const { return active_table_; }
  // The blocked-connection counters since weft-npc started: the kernel's (they restart in
  // each new table) plus what the tables swapped out had counted.
  Result<std::map<std::string, std::uint64_t>> counters();

 private:
  class Sink;
  void changed();
  boost::asio::awaitable<void> sync_loop();
  boost::asio::awaitable<void> verify_loop();
  Result<void> sync_now();
  // The whole program, staged into the spare table and swapped in (render_staged).
  Result<void> write_whole(const ProgramState& program);
  // Whether a program is in the kernel (and which table holds it, into active_table_).
  Result<bool> discover();
  void note_written(const CompiledNode& compiled, Clock::TimePoint now);
  Clock::Duration now_minus(Clock::TimePoint then) const;
  bool all_listed() const;
  void note_addresses();

  boost::asio::any_io_executor executor_;
  ProgramWriter& writer_;
  Clock& clock_;
  ControllerOptions options_;
  ClusterCache cache_;
  std::vector<std::unique_ptr<Sink>> sinks_;
  std::vector<std::unique_ptr<kube::Reflector>> reflectors_;
  ControllerStatus status_;
  std::deque<BlockRecord> recent_blocks_;
  bool dirty_ = false;
  bool sync_running_ = false;
  bool stopping_ = false;
  // Local pod addresses not yet in a written program -> when they arrived.
  std::map<IpAddress, Clock::TimePoint> pending_addresses_;
  std::set<IpAddress> written_addresses_;  // local addresses of the last written program
  // What the last successful write left in the kernel; updates are deltas from it. Invalid
  // at start, after a failed write and when the program was found missing: the next write
  // is the whole program.
  ProgramState installed_;
  IdentityTable identities_;  // the numbers of the last compile, kept by the next
  bool installed_valid_ = false;
  std::string active_table_;
  std::map<std::string, std::uint64_t> counted_before_;  // by the tables swapped out
  Clock::TimePoint last_full_write_{};
  TaskGroup tasks_;
};

}  // namespace weft::policy

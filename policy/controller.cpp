#include "policy/controller.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "common/log.hpp"
#include "common/nft.hpp"
#include "policy/bridge_netfilter.hpp"
#include "policy/decode.hpp"
#include "policy/nft_counters.hpp"
#include <malloc.h>

namespace weft::policy {

namespace {
constexpr std::size_t kTrimAfterBytes = 256 * 1024;
}  // namespace

// ---- NftProgramWriter ----

Result<void> NftProgramWriter::write(const std::string& script) {
  auto written = nft_run(script);
  // libnftables holds about 1.4 KiB per element while it parses; after a whole program that
  // is most of the process's peak, and glibc keeps freed pages unless asked to give them
  // back. A delta is small: nothing to give back.
  if (script.size() > kTrimAfterBytes) {
    malloc_trim(0);
  }
  return written;
}

Result<std::optional<std::string>> NftProgramWriter::installed() {
  auto chains = nft_query("list chains", true);
  if (!chains) {
    return chains.error();
  }
  auto doc = nlohmann::json::parse(*chains, nullptr, false);
  const auto names = program_tables(options_);
  bool bridge = false;
  std::optional<std::string> inet;
  if (doc.is_object() && doc.contains("nftables") && doc["nftables"].is_array()) {
    for (const auto& item : doc["nftables"]) {
      if (!item.is_object() || !item.contains("chain") || !item["chain"].is_object()) {
        continue;
      }
      const auto& c = item["chain"];
      const std::string table = c.value("table", "");
      const std::string family = c.value("family", "");
      if (family == "bridge" && table == options_.table) {
        bridge = true;
      } else if (family == "inet" && c.value("name", "") == "filter_forward" &&
                 c.contains("hook") &&
                 std::find(names.begin(), names.end(), table) != names.end()) {
        inet = table;
      }
    }
  }
  return bridge ? inet : std::nullopt;
}

Result<std::map<std::string, std::uint64_t>> NftProgramWriter::counters(const std::string& table) {
  return read_counters(table);
}

// ---- the watch sinks ----

class Controller::Sink final : public kube::WatchSink {
 public:
  Sink(Controller& controller, ObjectKind kind) : controller_(controller), kind_(kind) {}

  void replace(std::vector<nlohmann::json> items, std::string) override {
    listed_ = true;
    const bool changed = controller_.cache_.replace(kind_, items);
    // The last first list writes the program even when it left the state empty.
    if (changed || (!controller_.status_.synced && controller_.all_listed())) {
      controller_.changed();
    }
  }
  void apply(kube::EventType type, nlohmann::json object) override {
    const WatchChange change = type == kube::EventType::kDeleted ? WatchChange::kDeleted
                               : type == kube::EventType::kAdded ? WatchChange::kAdded
                                                                 : WatchChange::kModified;
    if (controller_.cache_.apply(kind_, change, object)) {
      controller_.changed();
    }
  }
  bool listed() const { return listed_; }

 private:
  Controller& controller_;
  ObjectKind kind_;
  bool listed_ = false;
};

// ---- Controller ----

Controller::Controller(boost::asio::any_io_executor executor, kube::Client& client,
                       ProgramWriter& writer, Clock& clock, Rng& rng, ControllerOptions options)
    : executor_(std::move(executor)),
      writer_(writer),
      clock_(clock),
      options_(std::move(options)),
      tasks_(executor_) {
  const std::pair<ObjectKind, const char*> resources[] = {
      {ObjectKind::kNamespace, "/api/v1/namespaces"},
      {ObjectKind::kPod, "/api/v1/pods"},
      {ObjectKind::kNetworkPolicy, "/apis/networking.k8s.io/v1/networkpolicies"},
  };
  for (const auto& [kind, path] : resources) {
    sinks_.push_back(std::make_unique<Sink>(*this, kind));
    kube::ReflectorOptions ro;
    ro.path = path;
    ro.resync_interval = options_.resync_interval;
    ro.transform = kind == ObjectKind::kPod         ? slim_pod
                   : kind == ObjectKind::kNamespace ? slim_namespace
                                                    : slim_network_policy;
    reflectors_.push_back(
        std::make_unique<kube::Reflector>(client, *sinks_.back(), clock, rng, std::move(ro)));
  }
  for (double bound : {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0}) {
    status_.pod_rules_histogram[bound] = 0;
  }
}

Controller::~Controller() = default;

std::vector<const kube::Reflector*> Controller::reflectors() const {
  std::vector<const kube::Reflector*> out;
  for (const auto& r : reflectors_) {
    out.push_back(r.get());
  }
  return out;
}

bool Controller::all_listed() const {
  return std::all_of(sinks_.begin(), sinks_.end(), [](const auto& s) { return s->listed(); });
}

void Controller::start() {
  // Nothing installed (a fresh boot): the empty program, so that local pods fail closed
  // until the first sync. An installed program (a restart) stays until then.
  auto present = discover();
  if (present && !*present) {
    auto written = write_whole(program_of(CompiledNode{}));
    if (!written) {
      log::error("weft-npc: cannot install the initial program",
                 {{"error", written.error().to_string()}});
    }
  }
  for (auto& r : reflectors_) {
    r->start();
  }
  tasks_.spawn(verify_loop(), "npc-verify");
}

boost::asio::awaitable<void> Controller::stop() {
  stopping_ = true;
  for (auto& r : reflectors_) {
    co_await r->stop();
  }
  tasks_.cancel();
  co_await tasks_.join();
}

void Controller::changed() {
  dirty_ = true;
  note_addresses();
  if (!sync_running_ && !stopping_) {
    sync_running_ = true;
    tasks_.spawn(sync_loop(), "npc-sync");
  }
}

// Local pod addresses that the written program does not have yet start their clock here.
void Controller::note_addresses() {
  const auto now = clock_.now();
  for (const auto& [key, pod] : cache_.state().pods) {
    if (pod.node_name != options_.node_name || !is_selectable(pod)) {
      continue;
    }
    for (const auto& a : pod.addresses) {
      if (!written_addresses_.contains(a)) {
        pending_addresses_.try_emplace(a, now);
      }
    }
  }
}

boost::asio::awaitable<void> Controller::sync_loop() {
  while (dirty_ && !stopping_) {
    if (!(co_await clock_.sleep_for(options_.settle))) {
      break;
    }
    if (!all_listed()) {
      break;  // the last first list calls changed() again
    }
    dirty_ = false;
    auto synced = sync_now();
    if (!synced) {
      dirty_ = true;
      if (!(co_await clock_.sleep_for(options_.retry_after))) {
        break;
      }
    }
  }
  sync_running_ = false;
}

Clock::Duration Controller::now_minus(Clock::TimePoint then) const {
  return clock_.now() - then;
}

// The local addresses of a written program: their wait is over (pod_rules latency), and
// addresses of pods that went away before being written are no longer waited for.
void Controller::note_written(const CompiledNode& compiled, Clock::TimePoint now) {
  written_addresses_.clear();
  for (const auto& [address, index] : compiled.by_address) {
    written_addresses_.insert(address);
  }
  // Addresses now in the program: their wait is over.
  for (auto it = pending_addresses_.begin(); it != pending_addresses_.end();) {
    if (compiled.by_address.contains(it->first)) {
      const double seconds = std::chrono::duration<double>(now - it->second).count();
      status_.last_pod_rules_seconds = seconds;
      status_.pod_rules_sum += seconds;
      ++status_.pod_rules_count;
      for (auto& [bound, count] : status_.pod_rules_histogram) {
        if (seconds <= bound) {
          ++count;
        }
      }
      it = pending_addresses_.erase(it);
    } else {
      ++it;
    }
  }
  // Addresses of pods gone before they were written are not waited for.
  if (!pending_addresses_.empty()) {
    std::set<IpAddress> live;
    for (const auto& [key, pod] : cache_.state().pods) {
      live.insert(pod.addresses.begin(), pod.addresses.end());
    }
    std::erase_if(pending_addresses_,
                  [&](const auto& entry) { return !live.contains(entry.first); });
  }
}

Result<void> Controller::sync_now() {
  const auto start = clock_.now();
  const std::string& node = options_.node_name;
  CompiledNode compiled =
      compile(cache_.state(), {.is_local = [&node](const Pod& p) { return p.node_name == node; },
                               .previous_identities = &identities_});
  identities_ = std::move(compiled.identities);
  ProgramState next = program_of(compiled);
  ++status_.syncs;
  const bool full = !installed_valid_ || (options_.resync_interval > Clock::Duration::zero() &&
                                          now_minus(last_full_write_) >= options_.resync_interval);
  Result<void> written;
  if (!full) {
    NftOptions nft = options_.nft;
    nft.inet_table = active_table_;
    const std::string delta = render_update(installed_, next, nft);
    if (!delta.empty()) {
      written = writer_.write(delta);
      if (!written) {
        log::warn("weft-npc: update refused; writing the whole program",
                  {{"error", written.error().to_string()}});
      }
    }
  }
  if (full || !written) {
    written = write_whole(next);
    if (written) {
      ++status_.full_writes;
      last_full_write_ = clock_.now();
    }
  }
  if (!written) {
    installed_valid_ = false;
    ++status_.write_failures;
    status_.last_error = written.error().to_string();
    log::error("weft-npc: cannot write the program (the previous one stays)",
               {{"error", status_.last_error}});
    return written.error();
  }
  ++status_.writes;
  installed_ = std::move(next);
  installed_valid_ = true;
  const auto now = clock_.now();
  status_.synced = true;
  status_.last_sync_seconds = std::chrono::duration<double>(now - start).count();
  status_.policies = compiled.policy_count;
  status_.local_pods = compiled.pods.size();
  status_.groups = compiled.groups.size();
  status_.rejected = cache_.rejected().size();
  status_.isolated_ingress = static_cast<std::size_t>(
      std::count_if(compiled.pods.begin(), compiled.pods.end(),
                    [](const auto& p) { return p.ingress != CompiledNode::kUnrestricted; }));
  status_.isolated_egress = static_cast<std::size_t>(
      std::count_if(compiled.pods.begin(), compiled.pods.end(),
                    [](const auto& p) { return p.egress != CompiledNode::kUnrestricted; }));
  note_written(compiled, now);
  for (const auto& [what, why] : cache_.rejected()) {
    log::warn("weft-npc: object not understood", {{"object", what}, {"error", why}});
  }
  log::debug("weft-npc: program written", {{"policies", std::to_string(compiled.policy_count)},
                                           {"local_pods", std::to_string(compiled.pods.size())},
                                           {"groups", std::to_string(compiled.groups.size())}});
  return {};
}

boost::asio::awaitable<void> Controller::verify_loop() {
  bool bridge_warned = false;
  while (!stopping_) {
    if (options_.manage_bridge) {
      auto enabled = enable_bridge_netfilter(options_.nft.bridge);
      if (!enabled && !bridge_warned) {
        // kNotFound: weftd has not made the bridge yet (temporary); anything else is logged.
        log::warn("weft-npc: bridge netfilter not enabled yet",
                  {{"bridge", options_.nft.bridge}, {"error", enabled.error().message}});
        bridge_warned = true;
      } else if (enabled) {
        bridge_warned = false;
      }
    }
    // The periodic whole write (anything changed by hand is undone).
    if (status_.synced && options_.resync_interval > Clock::Duration::zero() &&
        now_minus(last_full_write_) >= options_.resync_interval) {
      installed_valid_ = false;
      dirty_ = true;
      if (!sync_running_) {
        sync_running_ = true;
        tasks_.spawn(sync_loop(), "npc-sync");
      }
    }
    auto present = discover();
    if (present && !*present && !stopping_) {
      ++status_.heals;
      installed_valid_ = false;
      log::warn("weft-npc: the program was removed from the kernel; writing it again", {});
      if (status_.synced) {
        dirty_ = true;
        if (!sync_running_) {
          sync_running_ = true;
          tasks_.spawn(sync_loop(), "npc-sync");
        }
      } else {
        (void)write_whole(program_of(CompiledNode{}));
      }
    }
    if (!(co_await clock_.sleep_for(options_.verify_interval))) {
      break;
    }
  }
}

Result<bool> Controller::discover() {
  auto table = writer_.installed();
  if (!table) {
    return table.error();
  }
  if (*table) {
    active_table_ = **table;
  }
  return table->has_value();
}

Result<void> Controller::write_whole(const ProgramState& program) {
  const auto names = program_tables(options_.nft);
  NftOptions nft = options_.nft;
  nft.inet_table = active_table_ == names[0] ? names[1] : names[0];
  const auto scripts = render_staged(program, nft, options_.write_chunk);
  std::map<std::string, std::uint64_t> old_counts;
  for (std::size_t i = 0; i < scripts.size(); ++i) {
    if (i + 1 == scripts.size() && !active_table_.empty()) {
      // Just before the swap: what the old table counted, carried over (the few packets
      // counted in between are lost).
      if (auto counted = writer_.counters(active_table_)) {
        old_counts = std::move(*counted);
      }
    }
    auto written = writer_.write(scripts[i]);
    if (!written) {
      // The old program (if any) is untouched; the half-filled table goes.
      (void)writer_.write(
          fmt::format("add table inet {0}\ndelete table inet {0}\n", nft.inet_table));
      return written.error();
    }
  }
  for (const auto& [name, packets] : old_counts) {
    counted_before_[name] += packets;
  }
  active_table_ = nft.inet_table;
  return {};
}

Result<std::map<std::string, std::uint64_t>> Controller::counters() {
  auto now = writer_.counters(active_table_);
  if (!now) {
    return now.error();
  }
  for (const auto& [name, packets] : counted_before_) {
    (*now)[name] += packets;
  }
  return now;
}

void Controller::record_block(const LoggedPacket& packet) {
  recent_blocks_.push_back({clock_.now(), describe(packet)});
  while (recent_blocks_.size() > options_.recent_blocks) {
    recent_blocks_.pop_front();
  }
}

}  // namespace weft::policy

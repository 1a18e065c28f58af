#include "weftd/daemon.hpp"

#include <algorithm>
#include <csignal>
#include <filesystem>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "common/host_port.hpp"
#include "common/http_server.hpp"
#include "common/log.hpp"
#include "common/netlink.hpp"
#include "common/netns.hpp"
#include "common/rng.hpp"
#include "common/sqlite.hpp"
#include "common/sqlite_migrate.hpp"
#include "datapath/dataplane.hpp"
#include "router/crypto.hpp"
#include "router/identity.hpp"
#include "router/tcp_transport.hpp"
#include "weftd/containers.hpp"
#include "weftd/http_api.hpp"
#include "weftd/ipam_service.hpp"
#include "weftd/metrics.hpp"
#include "weftd/policy_service.hpp"
#include "weftd/report.hpp"
#include <fmt/ranges.h>
#include <unistd.h>

namespace weft::weftd {

using datapath::Dataplane;
using datapath::DataplaneConfig;
using datapath::PeerDatapath;
using router::derive_password_key;
using router::ensure_sodium;
using router::HandshakeConfig;
using router::Identity;
using router::identity_migrations;
using router::load_or_create_identity;
using router::parse_public_key;
using router::PeerName;
using router::random_u64;
using router::Router;
using router::RouterConfig;
using router::RouterStatus;
using router::TcpTransport;
using router::TcpTransportOptions;
namespace {

namespace asio = boost::asio;
using nlohmann::json;

std::string host_name() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0) {
    return "weft";
  }
  return buf;
}

Result<std::shared_ptr<HandshakeConfig>> handshake_config(const DaemonConfig& c,
                                                          const Identity& id) {
  auto hs = std::make_shared<HandshakeConfig>();
  hs->name = id.name;
  hs->uid = random_u64();
  hs->nickname = c.nickname.empty() ? host_name() : c.nickname;
  hs->listen_port = c.port;
  if (!c.password.empty()) {
    WEFT_TRY(auto key, derive_password_key(c.password));
    hs->password_key = key;
  }
  hs->static_key = id.static_key;
  for (const auto& text : c.trusted_keys) {
    WEFT_TRY(auto key, parse_public_key(text));
    hs->trusted_keys.push_back(key);
  }
  return hs;
}

Result<asio::ip::tcp::endpoint> status_endpoint(const std::string& text) {
  WEFT_TRY(auto hp, parse_host_port(text));
  boost::system::error_code ec;
  const auto addr = asio::ip::make_address(hp.host, ec);
  if (ec) {
    return make_error(Errc::kInvalidArgument, "--status-addr {}: host must be an IP address", text);
  }
  return asio::ip::tcp::endpoint(addr, hp.port.value_or(6784));
}

Result<sqlite::Database> open_state(const std::string& data_dir) {
  std::error_code ec;
  std::filesystem::create_directories(data_dir, ec);
  if (ec) {
    return make_error(Errc::kIo, "cannot create data directory {}: {}", data_dir, ec.message());
  }
  WEFT_TRY(auto db, sqlite::Database::open(data_dir + "/weft.db"));
  WEFT_TRY(auto version, sqlite::migrate(db, identity_migrations()));
  (void)version;
  return db;
}

TcpTransportOptions transport_options(const DaemonConfig& c) {
  TcpTransportOptions o;
  o.listen_address = c.host.empty() ? "::" : c.host;
  o.port = c.port;
  return o;
}

class Daemon {
 public:
  Daemon(DaemonConfig config, Identity identity, std::shared_ptr<HandshakeConfig> hs)
      : config_(std::move(config)),
        identity_(std::move(identity)),
        hs_(std::move(hs)),
        started_(clock_.now()),
        transport_(io_.get_executor(), clock_, hs_, transport_options(config_)),
        router_(io_.get_executor(), clock_, rng_, transport_, router_config()),
        status_server_(io_.get_executor()),
        api_server_(io_.get_executor()),
        signals_(io_, SIGINT, SIGTERM) {}

  Result<void> start();
  int run();

 private:
  RouterConfig router_config() const {
    RouterConfig rc;
    rc.name = identity_.name;
    rc.nickname = hs_->nickname;
    rc.uid = hs_->uid;
    rc.port = config_.port;
    rc.conn_limit = static_cast<std::size_t>(config_.conn_limit);
    rc.discovery = config_.discovery;
    return rc;
  }
  DaemonStatus status() const;
  std::map<PeerName, PeerDatapath> datapaths(const RouterStatus& status) const {
    std::map<PeerName, PeerDatapath> out;
    if (dataplane_) {
      for (const auto& c : status.connections) {
        if (c.peer) {
          if (auto dp = dataplane_->peer(*c.peer)) {
            out[*c.peer] = *dp;
          }
        }
      }
    }
    return out;
  }
  Result<void> start_dataplane();
  Result<void> start_ipam();
  void start_policy();
  bool ready() const;
  void bind_routes();
  asio::awaitable<void> shutdown();

  DaemonConfig config_;
  Identity identity_;
  std::shared_ptr<HandshakeConfig> hs_;
  asio::io_context io_;
  SteadyClock clock_;
  SystemRng rng_;
  Clock::TimePoint started_;
  TcpTransport transport_;
  Router router_;
  std::unique_ptr<datapath::Datapath> dataplane_;  // null with --no-dataplane
  std::unique_ptr<IpamService> ipam_;              // null with --no-ipam
  std::unique_ptr<ContainerRegistry> containers_;
  std::unique_ptr<PolicyService> policy_;
  HttpServer status_server_;
  HttpServer api_server_;
  asio::signal_set signals_;
  std::vector<std::string> targets_;  // explicit targets, for the report
  std::vector<std::string> initial_;
};

DaemonStatus Daemon::status() const {
  DaemonStatus out;
  out.router = router_.status();
  out.transport = transport_.stats();
  out.now = clock_.now();
  out.uptime = std::chrono::duration_cast<std::chrono::seconds>(out.now - started_);
  out.port = config_.port;
  out.password = !config_.password.empty();
  if (identity_.static_key) {
    out.static_key = identity_.static_key->public_key;
  }
  out.trusted_keys = hs_->trusted_keys.size();
  out.trusted_subnets = config_.trusted_subnets;
  out.discovery = config_.discovery;
  out.conn_limit = static_cast<std::size_t>(config_.conn_limit);
  out.targets = targets_;
  out.datapaths = datapaths(out.router);
  if (dataplane_) {
    out.dataplane = dataplane_->status();
  }
  if (ipam_) {
    out.ipam = ipam_->status();
  }
  if (containers_) {
    out.containers = containers_->count();
  }
  if (policy_) {
    if (const PolicySummary* local = policy_->local()) {
      out.policy = *local;
      out.policy_url = config_.npc_status_url;
    }
    out.policies = policy_->entries();
  }
  return out;
}

// Ready once every initial peer has been tried at least once (or one is established).
bool Daemon::ready() const {
  const RouterStatus status = router_.status();
  for (const auto& c : status.connections) {
    if (c.state == router::TargetState::kEstablished) {
      return true;
    }
  }
  for (const auto& target : initial_) {
    for (const auto& c : status.connections) {
      if (c.outbound && c.address == target && c.state == router::TargetState::kConnecting &&
          c.attempts <= 1) {
        return false;
      }
    }
  }
  return true;
}

// Every route of weftd's API (api/paths.hpp) on its server(s): weftd/http_api.cpp.
void Daemon::bind_routes() {
  bind_http_api(HttpApiDeps{.router = router_,
                            .targets = targets_,
                            .containers = *containers_,
                            .ipam = [this] { return ipam_.get(); },
                            .dataplane = [this] { return dataplane_.get(); },
                            .ready = [this] { return ready(); },
                            .status_text = [this] { return status_text(status()); },
                            .report = [this] { return build_report(status()); },
                            .metrics =
                                [this] {
                                  return render_metrics(status());
                                }},
                api_server_, status_server_);
}

Result<void> Daemon::start() {
  WEFT_TRY_VOID(transport_.listen());
  WEFT_TRY(auto status_at, status_endpoint(config_.status_addr));
  WEFT_TRY(auto container_store, ContainerStore::open(config_.data_dir + "/weft.db"));
  containers_ = std::make_unique<ContainerRegistry>(std::move(container_store), config_.bridge,
                                                    current_netns_links(), system_unix_clock());
  bind_routes();
  WEFT_TRY(auto bound, status_server_.listen_tcp(status_at));
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(config_.api_socket).parent_path(), ec);
  WEFT_TRY_VOID(api_server_.listen_unix(config_.api_socket, 0600));
  initial_ = config_.peers;
  targets_ = config_.peers;
  WEFT_TRY_VOID(router_.start(config_.peers));
  if (config_.ipam) {
    WEFT_TRY_VOID(start_ipam());
  }
  start_policy();
  if (config_.dataplane) {
    if (auto ok = start_dataplane(); !ok) {
      // The mesh still works (and status says why the data plane does not).
      log::error("data plane unavailable", {{"error", ok.error().to_string()}});
    }
  }
  status_server_.start();
  api_server_.start();
  log::info("weftd started",
            {{"name", identity_.name},
             {"nickname", hs_->nickname},
             {"port", config_.port},
             {"status", bound.address().to_string() + ":" + std::to_string(bound.port())},
             {"api", config_.api_socket},
             {"encryption", config_.password.empty() ? "disabled" : "enabled"},
             {"peers", config_.peers.size()}});
  return {};
}

Result<void> Daemon::start_ipam() {
  ipam::AllocatorConfig ac;
  std::vector<Cidr> ranges = config_.ipalloc_ranges;
  if (ranges.empty()) {
    ranges = {*parse_cidr("10.32.0.0/12"), *parse_cidr("fd10:32::/48")};
  }
  for (const Cidr& r : ranges) {
    (r.family() == IpFamily::kV4 ? ac.range_v4 : ac.range_v6) = r;
  }
  for (const Cidr& d : config_.ipalloc_default_subnets) {
    (d.family() == IpFamily::kV4 ? ac.default_subnet_v4 : ac.default_subnet_v6) = d;
  }
  ac.bootstrap = config_.ipalloc_init;
  auto service = std::make_unique<IpamService>(io_.get_executor(), clock_, router_);
  WEFT_TRY_VOID(service->start(std::move(ac), config_.data_dir + "/ipam.db"));
  ipam_ = std::move(service);
  return {};
}

void Daemon::start_policy() {
  PolicyServiceConfig pc;
  if (!config_.npc_status_url.empty()) {
    pc.url = parse_npc_status_url(config_.npc_status_url).value();  // checked by the parser
  }
  policy_ = std::make_unique<PolicyService>(io_.get_executor(), clock_, router_, std::move(pc));
  policy_->start();
}

Result<void> Daemon::start_dataplane() {
  DataplaneConfig dc;
  dc.bridge = config_.bridge;
  dc.mode = config_.datapath;
  dc.encryption_required = !config_.password.empty() || !hs_->trusted_keys.empty();
  dc.trusted_subnets = config_.trusted_subnets;
  dc.mtu = config_.mtu;
  WEFT_TRY(auto ns, Netns::current());
  WEFT_TRY(auto netlink, open_netlink(ns));
  auto dp = std::make_unique<Dataplane>(io_.get_executor(), clock_, rng_, router_,
                                        std::move(netlink), dc);
  WEFT_TRY_VOID(dp->start());
  dataplane_ = std::move(dp);
  router_.on_topology_changed([this] {
    if (dataplane_) {
      dataplane_->refresh();
    }
  });
  return {};
}

asio::awaitable<void> Daemon::shutdown() {
  log::info("weftd stopping");
  co_await status_server_.stop();
  co_await api_server_.stop();
  if (dataplane_) {
    co_await dataplane_->stop();
  }
  if (ipam_) {
    co_await ipam_->stop();
  }
  if (policy_) {
    co_await policy_->stop();
  }
  co_await router_.stop();
  transport_.close();
  std::error_code ec;
  std::filesystem::remove(config_.api_socket, ec);
  io_.stop();
}

int Daemon::run() {
  signals_.async_wait([this](const boost::system::error_code& ec, int signo) {
    if (ec) {
      return;
    }
    log::info("signal received", {{"signal", signo}});
    asio::co_spawn(io_, shutdown(), asio::detached);
  });
  io_.run();
  log::info("weftd stopped");
  return 0;
}

}  // namespace

int run_daemon(DaemonConfig config) {
  log::set_level(config.log_level);
  ::signal(SIGPIPE, SIG_IGN);
  ensure_sodium();
  auto db = open_state(config.data_dir);
  if (!db) {
    log::error("cannot open state", {{"error", db.error().to_string()}});
    return 1;
  }
  auto identity = load_or_create_identity(*db, config.name, config.static_key);
  if (!identity) {
    log::error("cannot load identity", {{"error", identity.error().to_string()}});
    return 1;
  }
  auto hs = handshake_config(config, *identity);
  if (!hs) {
    log::error("bad configuration", {{"error", hs.error().to_string()}});
    return 2;
  }
  Daemon daemon(std::move(config), std::move(*identity), std::move(*hs));
  if (auto ok = daemon.start(); !ok) {
    log::error("cannot start", {{"error", ok.error().to_string()}});
    return 1;
  }
  return daemon.run();
}

}  // namespace weft::weftd

#include "policy/npc_run.hpp"

#include <csignal>
#include <random>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/signal_set.hpp>

#include "common/host_port.hpp"
#include "common/http_server.hpp"
#include "common/log.hpp"
#include "kube/client.hpp"
#include "kube/config.hpp"
#include "policy/controller.hpp"
#include "policy/nflog_reader.hpp"
#include "policy/npc_report.hpp"

namespace weft::policy {
namespace {

namespace asio = boost::asio;

// At most `rate` lines per second (burst 2 x rate); the lines held back are counted and
// reported with the next line that passes.
class LineLimiter {
 public:
  LineLimiter(Clock& clock, double rate) : clock_(clock), rate_(rate), tokens_(2 * rate) {}
  void log(const std::string& line) {
    const auto now = clock_.now();
    tokens_ =
        std::min(2 * rate_, tokens_ + rate_ * std::chrono::duration<double>(now - last_).count());
    last_ = now;
    if (tokens_ < 1) {
      ++held_back_;
      return;
    }
    tokens_ -= 1;
    if (held_back_ > 0) {
      log::info(line, {{"not_logged_before", std::to_string(held_back_)}});
      held_back_ = 0;
    } else {
      log::info(line);
    }
  }

 private:
  Clock& clock_;
  double rate_;
  double tokens_;
  Clock::TimePoint last_{};
  std::uint64_t held_back_ = 0;
};

Result<asio::ip::tcp::endpoint> listen_endpoint(const std::string& text) {
  WEFT_TRY(auto hp, parse_host_port(text));
  boost::system::error_code ec;
  auto address = asio::ip::make_address(hp.host, ec);
  if (ec) {
    return make_error(Errc::kInvalidArgument, "--metrics-address {}: an IP address is needed",
                      text);
  }
  return asio::ip::tcp::endpoint(address, hp.port.value_or(6781));
}

NftOptions nft_options(const NpcConfig& config) {
  NftOptions nft;
  nft.bridge = config.bridge;
  nft.pod_port_patterns.clear();
  for (const auto& prefix : config.pod_port_prefixes) {
    nft.pod_port_patterns.push_back(prefix + "*");
  }
  nft.log_group = config.nflog_group;
  return nft;
}

// /metrics and /status on `address`; 0, or the exit code of the failure.
int serve_status(HttpServer& server, const std::string& address, Controller& controller,
                 Clock& clock) {
  auto at = listen_endpoint(address);
  if (!at) {
    log::error("weft-npc: bad --metrics-address", {{"error", at.error().to_string()}});
    return 2;
  }
  register_npc_routes(server, controller, clock);
  auto listening = server.listen_tcp(*at);
  if (!listening) {
    log::error("weft-npc: cannot listen", {{"error", listening.error().to_string()}});
    return 1;
  }
  server.start();
  log::info(
      "weft-npc: metrics and status",
      {{"address", fmt::format("{}:{}", listening->address().to_string(), listening->port())}});
  return 0;
}

}  // namespace

int run_controller(const NpcConfig& config) {
  log::Level level{};
  log::parse_level(config.log_level, level);
  log::set_level(level);
  ::signal(SIGPIPE, SIG_IGN);
  const NftOptions nft = nft_options(config);
  NftProgramWriter writer(nft);
  if (config.cleanup) {
    auto removed = writer.write(render_removal(nft));
    if (!removed) {
      log::error("weft-npc: cannot remove the program", {{"error", removed.error().to_string()}});
      return 1;
    }
    log::info("weft-npc: program removed: pods are no longer policed");
    return 0;
  }

  Result<kube::KubeConfig> kube_config =
      config.kubeconfig.empty() ? kube::in_cluster_config_from_env()
                                : kube::load_kubeconfig(config.kubeconfig, config.context);
  if (!kube_config) {
    log::error("weft-npc: no usable Kubernetes configuration (give --kubeconfig outside a pod)",
               {{"error", kube_config.error().to_string()}});
    return 2;
  }
  asio::io_context io;
  auto client = kube::Client::open(io.get_executor(), std::move(*kube_config));
  if (!client) {
    log::error("weft-npc: cannot set up the API client", {{"error", client.error().to_string()}});
    return 2;
  }
  SteadyClock clock;
  SeededRng rng(std::random_device{}());
  ControllerOptions options;
  options.node_name = config.node_name;
  options.nft = nft;
  options.resync_interval = config.resync_interval;
  options.verify_interval = config.verify_interval;
  Controller controller(io.get_executor(), **client, writer, clock, rng, options);

  LineLimiter limiter(clock, 10);
  NflogReader reader(io.get_executor(), nft.log_group, [&](const LoggedPacket& packet) {
    controller.record_block(packet);
    limiter.log("weft-npc: " + describe(packet));
  });
  if (auto opened = reader.open(); !opened) {
    log::warn("weft-npc: blocked connections are counted but not logged",
              {{"error", opened.error().to_string()}});
  } else {
    reader.start();
  }

  HttpServer server(io.get_executor());
  if (config.metrics_address != "off") {
    if (int failed = serve_status(server, config.metrics_address, controller, clock)) {
      return failed;
    }
  }

  log::info("weft-npc: starting", {{"node", config.node_name}, {"bridge", config.bridge}});
  controller.start();
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int signo) {
    if (ec) {
      return;
    }
    log::info("weft-npc: stopping (the program stays: pods remain policed)",
              {{"signal", std::to_string(signo)}});
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
          co_await controller.stop();
          co_await reader.stop();
          co_await server.stop();
          io.stop();
        },
        asio::detached);
  });
  io.run();
  return 0;
}

}  // namespace weft::policy

// Fail closed at pod start, measured by real traffic (driven by bench/npc). Runs in the node's
// network namespace, next to weft-npc, and talks to the API server of --kubeconfig.
//
//   bench_npc_pod_start setup COMMON --pod NAME:KEY=VALUE:ADDR[,ADDR] ...
//       Creates the namespace, its two NetworkPolicies — deny all ingress, and allow ingress to
//       role=server pods from role=client pods on TCP --port — and the given pods (on --node,
//       with their addresses in status.podIPs).
//   bench_npc_pod_start trial COMMON --pod NAME:KEY=VALUE:ADDR[,ADDR] --netns NETNS
//                       --allowed-from NETNS --forbidden-from NETNS [--other-port N]
//                       [--before-ms N] [--after-ms N] [--limit-ms N] [--interval-us N]
//       The server pod's namespace (--netns) already has its addresses, as weft-cni leaves it
//       before the API knows the pod. Listens there on --port and --other-port; probes from
//       --allowed-from (a role=client pod) to --port (allowed once the pod is classified) and
//       --other-port (never), and from --forbidden-from to both (never), in both families;
//       after --before-ms creates the Pod and writes its addresses; stops --after-ms after
//       every allowed target connected (or after --limit-ms). Prints one line:
//         live_ms=12.3 live_v4_ms=.. live_v6_ms=.. api_ms=.. early=0 forbidden=0 attempts=N
//       live_ms: from the create call to the start of the first connecting attempt in the
//       later family ("none" when the limit passed); api_ms: the create and status calls;
//       early: connections to the allowed port in attempts started before the addresses were
//       written (must be 0: the pod was not classified); forbidden: connections to targets
//       the policies forbid, at any time (must be 0).
//   COMMON: --kubeconfig FILE --node NAME --namespace NS --port N
// Exit status: 0 when it ran (whatever it measured), 1 on a failure, 2 on bad usage.
#include <cstdio>
#include <map>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

#include "bench/connect_prober.hpp"
#include "kube/client.hpp"
#include "kube/config.hpp"
#include "kube/resource.hpp"
#include <fmt/format.h>
#include <sys/resource.h>

namespace {

using namespace weft;
using namespace std::chrono_literals;
using bench::ConnectProber;
using bench::ProbeTarget;
using nlohmann::json;
using SteadyClock = std::chrono::steady_clock;

struct PodSpec {
  std::string name;
  std::string label_key;
  std::string label_value;
  std::vector<IpAddress> addresses;
};

struct Args {
  std::string kubeconfig;
  std::string node;
  std::string namespace_name;
  std::uint16_t port = 80;
  std::uint16_t other_port = 81;
  std::vector<PodSpec> pods;
  std::string netns;
  std::string allowed_from;
  std::string forbidden_from;
  std::chrono::milliseconds before{300};
  std::chrono::milliseconds after{300};
  std::chrono::milliseconds limit{10'000};
  std::chrono::microseconds interval{1000};
};

// NAME:KEY=VALUE:ADDR[,ADDR]
PodSpec parse_pod(const std::string& text) {
  const auto c1 = text.find(':');
  const auto eq = text.find('=', c1);
  const auto c2 = text.find(':', eq);
  if (c1 == std::string::npos || eq == std::string::npos || c2 == std::string::npos) {
    throw std::invalid_argument("--pod " + text + ": NAME:KEY=VALUE:ADDR[,ADDR] expected");
  }
  PodSpec p{
      text.substr(0, c1), text.substr(c1 + 1, eq - c1 - 1), text.substr(eq + 1, c2 - eq - 1), {}};
  std::size_t at = c2 + 1;
  while (at <= text.size()) {
    const auto comma = std::min(text.find(',', at), text.size());
    auto address = parse_ip_address(text.substr(at, comma - at));
    if (!address) {
      throw std::invalid_argument("--pod " + text + ": " + address.error().message);
    }
    p.addresses.push_back(*address);
    at = comma + 1;
  }
  return p;
}

Args parse_args(int argc, char** argv) {
  Args a;
  for (int i = 0; i < argc; ++i) {
    const std::string flag = argv[i];
    if (i + 1 >= argc) {
      throw std::invalid_argument(flag + " needs a value");
    }
    const std::string value = argv[++i];
    auto number = [&] {
      return std::stoul(value);
    };
    if (flag == "--kubeconfig") {
      a.kubeconfig = value;
    } else if (flag == "--node") {
      a.node = value;
    } else if (flag == "--namespace") {
      a.namespace_name = value;
    } else if (flag == "--port") {
      a.port = static_cast<std::uint16_t>(number());
    } else if (flag == "--other-port") {
      a.other_port = static_cast<std::uint16_t>(number());
    } else if (flag == "--pod") {
      a.pods.push_back(parse_pod(value));
    } else if (flag == "--netns") {
      a.netns = value;
    } else if (flag == "--allowed-from") {
      a.allowed_from = value;
    } else if (flag == "--forbidden-from") {
      a.forbidden_from = value;
    } else if (flag == "--before-ms") {
      a.before = std::chrono::milliseconds(number());
    } else if (flag == "--after-ms") {
      a.after = std::chrono::milliseconds(number());
    } else if (flag == "--limit-ms") {
      a.limit = std::chrono::milliseconds(number());
    } else if (flag == "--interval-us") {
      a.interval = std::chrono::microseconds(number());
    } else {
      throw std::invalid_argument("unknown flag " + flag);
    }
  }
  if (a.kubeconfig.empty() || a.node.empty() || a.namespace_name.empty() || a.pods.empty()) {
    throw std::invalid_argument("--kubeconfig, --node, --namespace and --pod are needed");
  }
  return a;
}

// The API calls, one at a time, each run to completion on the caller's thread.
class Api {
 public:
  explicit Api(const Args& args) : args_(args) {
    auto config = kube::load_kubeconfig(args.kubeconfig);
    if (!config) {
      throw ErrorException(config.error());
    }
    auto client = kube::Client::open(io_.get_executor(), std::move(*config));
    if (!client) {
      throw ErrorException(client.error());
    }
    client_ = std::move(*client);
  }

  // Opens the keep-alive connection (TCP + TLS) that the timed calls then reuse.
  void warm_up() {
    complete(client_->get(kube::object_path(kube::kNamespaces, "", args_.namespace_name)));
  }

  void create(const kube::ResourceType& type, json object) {
    const std::string ns = type.namespaced ? args_.namespace_name : "";
    complete(client_->create(kube::collection_path(type, ns), std::move(object)));
  }
  // As the kubelet does it: the Pod first, its addresses once the sandbox has them.
  void create_pod(const PodSpec& pod) {
    create(
        kube::kPods,
        {{"apiVersion", "v1"},
         {"kind", "Pod"},
         {"metadata",
          {{"name", pod.name},
           {"namespace", args_.namespace_name},
           {"labels", {{pod.label_key, pod.label_value}}}}},
         {"spec",
          {{"nodeName", args_.node}, {"containers", {{{"name", "probe"}, {"image", "probe"}}}}}}});
    written_ = SteadyClock::now();
    json ips = json::array();
    for (const auto& a : pod.addresses) {
      ips.push_back({{"ip", a.to_string()}});
    }
    complete(client_->patch(
        kube::object_path(kube::kPods, args_.namespace_name, pod.name) + "/status",
        {{"status", {{"phase", "Running"}, {"podIP", ips[0]["ip"]}, {"podIPs", ips}}}}));
  }
  // When the last create_pod began writing the addresses.
  bench::SteadyTime addresses_written() const { return written_; }

 private:
  void complete(boost::asio::awaitable<Result<json>> call) {
    std::optional<Result<json>> out;
    boost::asio::co_spawn(io_, std::move(call), [&](const std::exception_ptr& e, Result<json> r) {
      if (e) {
        std::rethrow_exception(e);
      }
      out.emplace(std::move(r));
    });
    io_.restart();
    io_.run();
    if (!out || !*out) {
      throw ErrorException(out ? out->error() : make_error(Errc::kIo, "API call unfinished"));
    }
  }

  const Args& args_;
  boost::asio::io_context io_;
  std::unique_ptr<kube::Client> client_;
  bench::SteadyTime written_;
};

json policy(const std::string& name, const std::string& ns, json spec) {
  return {{"apiVersion", "networking.k8s.io/v1"},
          {"kind", "NetworkPolicy"},
          {"metadata", {{"name", name}, {"namespace", ns}}},
          {"spec", std::move(spec)}};
}

int setup(const Args& args) {
  Api api(args);
  const std::string& ns = args.namespace_name;
  api.create(kube::kNamespaces,
             {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", ns}}}});
  api.create(
      kube::kNetworkPolicies,
      policy("deny-ingress", ns, {{"podSelector", json::object()}, {"policyTypes", {"Ingress"}}}));
  api.create(kube::kNetworkPolicies,
             policy("server-from-client", ns,
                    {{"podSelector", {{"matchLabels", {{"role", "server"}}}}},
                     {"policyTypes", {"Ingress"}},
                     {"ingress",
                      {{{"from", {{{"podSelector", {{"matchLabels", {{"role", "client"}}}}}}}},
                        {"ports", {{{"protocol", "TCP"}, {"port", args.port}}}}}}}}));
  for (const auto& pod : args.pods) {
    api.create_pod(pod);
  }
  return 0;
}

Netns open_netns(const std::string& name) {
  auto ns = Netns::open_name(name);
  if (!ns) {
    throw ErrorException(ns.error());
  }
  return std::move(*ns);
}

std::string ms_since(bench::SteadyTime from, const std::optional<bench::SteadyTime>& to) {
  return to ? fmt::format("{:.1f}", std::chrono::duration<double, std::milli>(*to - from).count())
            : "none";
}

int trial(const Args& args) {
  const PodSpec& pod = args.pods.front();
  Api api(args);
  bench::ProbeServer server;
  if (auto s = server.start(open_netns(args.netns), {args.port, args.other_port}); !s) {
    throw ErrorException(s.error());
  }
  // Client targets: the allowed port in each family first, then the other port.
  std::vector<ProbeTarget> from_client;
  std::vector<ProbeTarget> from_other;
  for (std::uint16_t port : {args.port, args.other_port}) {
    for (const auto& a : pod.addresses) {
      from_client.push_back({a, port});
      from_other.push_back({a, port});
    }
  }
  const std::size_t allowed = pod.addresses.size();
  const bench::ProbePace pace{args.interval, 100ms};
  ConnectProber client(from_client, pace);
  ConnectProber other(from_other, pace);
  for (auto [prober, name] :
       {std::pair{&client, &args.allowed_from}, std::pair{&other, &args.forbidden_from}}) {
    if (auto s = prober->start(open_netns(*name)); !s) {
      throw ErrorException(s.error());
    }
  }
  api.warm_up();
  std::this_thread::sleep_for(args.before);
  const auto created = SteadyClock::now();
  api.create_pod(pod);
  const auto api_done = SteadyClock::now();
  auto all_allowed = [&] {
    for (std::size_t i = 0; i < allowed; ++i) {
      if (!client.connected(i)) {
        return false;
      }
    }
    return true;
  };
  while (!all_allowed() && SteadyClock::now() - created < args.limit) {
    std::this_thread::sleep_for(1ms);
  }
  std::this_thread::sleep_for(args.after);
  const auto client_tallies = client.stop();
  const auto other_tallies = other.stop();
  server.stop();

  std::uint64_t early = 0;
  std::uint64_t forbidden = 0;
  std::uint64_t attempts = 0;
  std::optional<bench::SteadyTime> live;
  std::map<IpFamily, std::optional<bench::SteadyTime>> live_by_family;
  for (std::size_t i = 0; i < client_tallies.size(); ++i) {
    const auto& t = client_tallies[i];
    attempts += t.attempts;
    if (i >= allowed) {
      forbidden += t.connected.size();
      continue;
    }
    const auto first = t.first_connected();
    live_by_family[from_client[i].address.family()] = first;
    early += t.connected_before(api.addresses_written());
    if (first) {
      live = live ? std::max(*live, *first) : *first;
    }
  }
  for (const auto& t : other_tallies) {
    attempts += t.attempts;
    forbidden += t.connected.size();
  }
  const bool complete = live_by_family.size() == allowed && all_allowed();
  std::printf(
      "live_ms=%s live_v4_ms=%s live_v6_ms=%s api_ms=%s early=%llu forbidden=%llu "
      "attempts=%llu\n",
      (complete ? ms_since(created, live) : "none").c_str(),
      ms_since(created, live_by_family[IpFamily::kV4]).c_str(),
      ms_since(created, live_by_family[IpFamily::kV6]).c_str(), ms_since(created, api_done).c_str(),
      static_cast<unsigned long long>(early), static_cast<unsigned long long>(forbidden),
      static_cast<unsigned long long>(attempts));
  return 0;
}

// Thousands of probe sockets may be open at once.
void raise_file_limit() {
  rlimit files{};
  if (::getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &files);
  }
}

}  // namespace

int main(int argc, char** argv) {
  const std::string command = argc >= 2 ? argv[1] : "";
  if (command != "setup" && command != "trial") {
    std::fprintf(stderr,
                 "usage: bench_npc_pod_start setup|trial --kubeconfig FILE ... "
                 "(see bench/npc_pod_start_bench.cpp)\n");
    return 2;
  }
  Args args;
  try {
    args = parse_args(argc - 2, argv + 2);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_npc_pod_start: %s\n", e.what());
    return 2;
  }
  raise_file_limit();
  try {
    return command == "setup" ? setup(args) : trial(args);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_npc_pod_start %s: %s\n", command.c_str(), e.what());
    return 1;
  }
}

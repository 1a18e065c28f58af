// NetworkPolicy controller benchmark (driven by bench/npc):
//
//   bench_npc scale [--pods N] [--policies A,B,C] [--local N] [--changes N]
//       For a synthetic cluster of N pods (50 namespaces, 20 apps each, labels app/tier/team)
//       and each policy count: compile (policy/compiler.hpp) and render the nftables program
//       for a node's local pods, apply it with libnftables in the current network namespace
//       (run it in a fresh one), then time incremental changes (one pod relabelled, compiled,
//       rendered and applied again) and print one table row per policy count.
//   bench_npc populate --kubeconfig FILE [--pods N] [--policies N]
//       Creates the synthetic cluster (namespaces, pods with their addresses, policies)
//       through an API server, for a real weft-npc to list (bench/npc's process section).
//   bench_npc program --policies N [--pods N] --pod NS/NAME=ADDR[,ADDR] ...
//       Prints the program of a node whose local pods are the --pod ones, inside the same
//       synthetic cluster with N policies, some of which select the --pod pods and allow
//       traffic between them (so that their packets walk the group chains).
//
// The synthetic policies mix what clusters run: default deny per namespace, app-to-app
// allows on ports, namespace selectors, matchExpressions, ipBlock with except, named ports,
// endPort ranges, egress to a database tier and to DNS.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

#include "common/nft.hpp"
#include "kube/client.hpp"
#include "kube/config.hpp"
#include "kube/resource.hpp"
#include "policy/compiler.hpp"
#include "policy/nft_program.hpp"
#include <fmt/format.h>
#include <sys/resource.h>

namespace {

using namespace weft;
using namespace weft::policy;
using Clock = std::chrono::steady_clock;

constexpr int kNamespaces = 50;
constexpr int kApps = 20;

LabelSelector sel(const std::vector<std::pair<std::string, std::string>>& labels) {
  LabelSelector s;
  for (const auto& [k, v] : labels) {
    s.requirements.push_back({k, LabelRequirement::Op::kIn, {v}});
  }
  std::sort(s.requirements.begin(), s.requirements.end());
  return s;
}

// Policy i of the synthetic cluster (see the header comment for the mix).
NetworkPolicy synthetic_policy(int i, const std::function<int(int)>& pick) {
  NetworkPolicy np;
  const int ns = pick(kNamespaces);
  np.namespace_name = fmt::format("ns{}", ns);
  np.name = fmt::format("np{}", i);
  PolicyRule rule;
  switch (i % 8) {
    case 0:  // default deny ingress
      break;
    case 1:  // app to app on a port
      np.pod_selector = sel({{"app", fmt::format("app{}", pick(kApps))}});
      rule.peers.push_back(
          {sel({{"app", fmt::format("app{}", pick(kApps))}}), std::nullopt, std::nullopt});
      rule.ports.push_back({Protocol::kTcp, 8080, "", std::nullopt});
      break;
    case 2:  // from a team's namespaces, named port
      np.pod_selector = sel({{"tier", "api"}});
      rule.peers.push_back(
          {std::nullopt, sel({{"team", fmt::format("t{}", pick(5))}}), std::nullopt});
      rule.ports.push_back({Protocol::kTcp, std::nullopt, "http", std::nullopt});
      break;
    case 3:  // both selectors, matchExpressions
      np.pod_selector = sel({{"tier", "db"}});
      rule.peers.push_back(
          {LabelSelector{{{"app", LabelRequirement::Op::kIn, {"app1", "app2", "app3"}}}},
           LabelSelector{{{"team", LabelRequirement::Op::kNotIn, {"t4"}}}}, std::nullopt});
      rule.ports.push_back({Protocol::kTcp, 5432, "", std::nullopt});
      break;
    case 4:  // ipBlock with except
      np.pod_selector = sel({{"tier", "web"}});
      rule.peers.push_back({std::nullopt, std::nullopt,
                            IpBlock{*parse_cidr("0.0.0.0/0"),
                                    {*parse_cidr("10.0.0.0/8"), *parse_cidr("198.19.0.0/16")}}});
      rule.ports.push_back({Protocol::kTcp, 443, "", std::nullopt});
      break;
    case 5:  // endPort range from everything in the namespace
      np.pod_selector = sel({{"app", fmt::format("app{}", pick(kApps))}});
      rule.peers.push_back({LabelSelector{}, std::nullopt, std::nullopt});
      rule.ports.push_back({Protocol::kUdp, 30000, "", 32767});
      break;
    case 6: {  // egress: to the db tier and to DNS
      np.pod_selector = sel({{"tier", "api"}});
      np.applies_to_ingress = false;
      np.applies_to_egress = true;
      PolicyRule db;
      db.peers.push_back({sel({{"tier", "db"}}), std::nullopt, std::nullopt});
      db.ports.push_back({Protocol::kTcp, 5432, "", std::nullopt});
      np.egress.push_back(db);
      rule.peers.push_back(
          {std::nullopt, sel({{"kubernetes.io/metadata.name", "kube-system"}}), std::nullopt});
      rule.ports.push_back({Protocol::kUdp, 53, "", std::nullopt});
      rule.ports.push_back({Protocol::kTcp, 53, "", std::nullopt});
      np.egress.push_back(rule);
      return np;
    }
    default:  // metrics scraping from a monitoring namespace
      np.pod_selector = LabelSelector{{{"app", LabelRequirement::Op::kExists, {}}}};
      rule.peers.push_back({std::nullopt, sel({{"team", "t0"}}), std::nullopt});
      rule.ports.push_back({Protocol::kTcp, std::nullopt, "metrics", std::nullopt});
  }
  if (i % 8 != 0) {
    np.ingress.push_back(rule);
  }
  return np;
}

ClusterState synthetic(int pods, int policies, std::uint32_t seed) {
  std::mt19937 rng(seed);
  const std::function<int(int)> pick = [&](int n) {
    return static_cast<int>(rng() % static_cast<unsigned>(n));
  };
  ClusterState st;
  for (int n = 0; n < kNamespaces; ++n) {
    const std::string name = fmt::format("ns{}", n);
    st.namespaces[name] = Namespace{
        name, {{"kubernetes.io/metadata.name", name}, {"team", fmt::format("t{}", n % 5)}}};
  }
  st.namespaces["kube-system"] =
      Namespace{"kube-system", {{"kubernetes.io/metadata.name", "kube-system"}}};
  for (int i = 0; i < pods; ++i) {
    Pod p;
    p.namespace_name = fmt::format("ns{}", i % kNamespaces);
    p.name = fmt::format("pod{}", i);
    p.uid = p.name;
    const int app = (i / kNamespaces) % kApps;
    p.labels = {{"app", fmt::format("app{}", app)},
                {"tier", app < 5    ? "web"
                         : app < 15 ? "api"
                                    : "db"}};
    p.node_name = fmt::format("node{}", i % 46);  // ~110 pods per node at 5,000
    const auto host = static_cast<std::uint32_t>(i + 10);
    p.addresses = {
        IpAddress::v4(0xc6130000U + host),
        *IpAddress::from_value(IpFamily::kV6, parse_ip_address("fd00:19::")->value() + host)};
    p.ports = {{"http", 8080, Protocol::kTcp}, {"metrics", 9090, Protocol::kTcp}};
    st.pods[p.key()] = p;
  }
  for (int i = 0; i < policies; ++i) {
    NetworkPolicy np = synthetic_policy(i, pick);
    st.policies[np.key()] = std::move(np);
  }
  return st;
}

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

std::vector<int> parse_list(const char* text) {
  std::vector<int> out;
  std::string s(text);
  std::size_t start = 0;
  while (start < s.size()) {
    const auto comma = s.find(',', start);
    out.push_back(std::atoi(s.substr(start, comma - start).c_str()));
    if (comma == std::string::npos) {
      break;
    }
    start = comma + 1;
  }
  return out;
}

long rss_kib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss;
}

double percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0
                   : v[std::min(v.size() - 1,
                                static_cast<std::size_t>(p * static_cast<double>(v.size())))];
}

// The node's local pods: `local` pods spread over every namespace (every k-th pod).
std::vector<std::string> local_pod_keys(const ClusterState& st, int pods, int local) {
  std::vector<std::string> keys;
  const int stride = std::max(1, pods / std::max(1, local));
  int index = 0;
  for (const auto& [key, pod] : st.pods) {
    if (index++ % stride == 0 && static_cast<int>(keys.size()) < local) {
      keys.push_back(key);
    }
  }
  std::sort(keys.begin(), keys.end());
  return keys;
}

// Elements of the program: the peers maps' entries and the groups' set elements.
std::size_t element_count(const CompiledNode& node) {
  std::size_t elements = node.identity_by_address.size();
  for (const auto& g : node.groups) {
    elements += g.rules.any.element_count();
    for (const auto& p : g.rules.ports) {
      elements += p.peers.element_count();
    }
  }
  return elements;
}

// One row of `scale`: the whole program, then `changes` incremental changes (a pod
// relabelled: it moves between peer sets and maybe groups; compile + delta + apply, as
// weft-npc does for an event).
int scale_row(int pods, int count, int local, int changes) {
  ClusterState st = synthetic(pods, count, 42);
  const std::vector<std::string> local_keys = local_pod_keys(st, pods, local);
  // As weft-npc does, each compile keeps the identity numbers of the one before.
  IdentityTable numbers;
  const CompileOptions options{.is_local =
                                   [&](const Pod& p) {
                                     return std::binary_search(local_keys.begin(), local_keys.end(),
                                                               p.key());
                                   },
                               .previous_identities = &numbers};
  auto start = Clock::now();
  CompiledNode node = compile(st, options);
  const double compile_ms = ms_since(start);
  numbers = node.identities;
  start = Clock::now();
  ProgramState installed = program_of(node);
  const std::string script = render_program(installed, NftOptions{});
  const double render_ms = ms_since(start);
  start = Clock::now();
  auto applied = nft_run(script);
  const double apply_ms = ms_since(start);
  if (!applied) {
    std::fprintf(stderr, "bench_npc: nft refused the program: %s\n",
                 applied.error().message.c_str());
    return 1;
  }
  std::vector<double> change_ms;
  for (int c = 0; c < changes; ++c) {
    auto it = std::next(st.pods.begin(), c * 37 % static_cast<int>(st.pods.size()));
    it->second.labels["app"] = fmt::format("app{}", (c * 7) % kApps);
    start = Clock::now();
    node = compile(st, options);
    numbers = node.identities;
    ProgramState next = program_of(node);
    const std::string delta = render_update(installed, next, NftOptions{});
    auto again = delta.empty() ? Result<void>{} : nft_run(delta);
    installed = std::move(next);
    change_ms.push_back(ms_since(start));
    if (!again) {
      std::fprintf(stderr, "bench_npc: %s\n", again.error().message.c_str());
      return 1;
    }
  }
  std::printf("%8d %6d %6d %7zu %10zu %7.1fms %7.1fms %7.1fms %7.1fms %9.1fms %9.1fms %6ldMiB\n",
              count, pods, local, node.groups.size(), element_count(node), compile_ms, render_ms,
              apply_ms, compile_ms + render_ms + apply_ms, percentile(change_ms, 0.5),
              percentile(change_ms, 0.99), rss_kib() / 1024);
  std::fflush(stdout);
  return 0;
}

int scale(int argc, char** argv) {
  int pods = 5000;
  int local = 110;
  int changes = 30;
  std::vector<int> policy_counts = {100, 1000, 5000};
  for (int i = 0; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--pods") {
      pods = std::atoi(argv[i + 1]);
    } else if (flag == "--policies") {
      policy_counts = parse_list(argv[i + 1]);
    } else if (flag == "--local") {
      local = std::atoi(argv[i + 1]);
    } else if (flag == "--changes") {
      changes = std::atoi(argv[i + 1]);
    }
  }
  std::printf("%8s %6s %6s %7s %10s %9s %9s %9s %9s %11s %11s %9s\n", "policies", "pods", "local",
              "groups", "elements", "compile", "render", "apply", "total", "change p50",
              "change p99", "rss");
  for (int count : policy_counts) {
    if (scale_row(pods, count, local, changes) != 0) {
      return 1;
    }
  }
  return 0;
}

int program(int argc, char** argv) {
  int policies = 0;
  int pods = 5000;
  std::vector<Pod> real;
  for (int i = 0; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const std::string value = argv[i + 1];
    if (flag == "--policies") {
      policies = std::atoi(value.c_str());
    } else if (flag == "--pods") {
      pods = std::atoi(value.c_str());
    } else if (flag == "--pod") {
      Pod p;
      const auto slash = value.find('/');
      const auto eq = value.find('=');
      p.namespace_name = value.substr(0, slash);
      p.name = value.substr(slash + 1, eq - slash - 1);
      p.node_name = "bench-node";
      p.labels = {{"app", "bench"}};
      std::string addresses = value.substr(eq + 1);
      std::size_t start = 0;
      while (start < addresses.size()) {
        const auto comma = addresses.find(',', start);
        p.addresses.push_back(*parse_ip_address(addresses.substr(start, comma - start)));
        if (comma == std::string::npos) {
          break;
        }
        start = comma + 1;
      }
      real.push_back(p);
    }
  }
  ClusterState st = synthetic(pods, policies, 42);
  for (const auto& p : real) {
    st.namespaces.try_emplace(
        p.namespace_name,
        Namespace{p.namespace_name, {{"kubernetes.io/metadata.name", p.namespace_name}}});
    st.pods[p.key()] = p;
  }
  if (policies > 0) {
    // The real pods are selected in both directions and allowed to reach each other.
    for (const auto& p : real) {
      for (Direction d : {Direction::kIngress, Direction::kEgress}) {
        NetworkPolicy np;
        np.namespace_name = p.namespace_name;
        np.name = fmt::format("bench-{}-{}", p.name, to_string(d));
        np.pod_selector = sel({{"app", "bench"}});
        np.applies_to_ingress = d == Direction::kIngress;
        np.applies_to_egress = d == Direction::kEgress;
        PolicyRule rule;
        rule.peers.push_back({sel({{"app", "bench"}}), LabelSelector{}, std::nullopt});
        rule.ports.push_back({Protocol::kTcp, 5201, "", std::nullopt});
        (d == Direction::kIngress ? np.ingress : np.egress).push_back(rule);
        PolicyRule icmp;  // ping: every protocol from the other bench pods
        icmp.peers = rule.peers;
        (d == Direction::kIngress ? np.ingress : np.egress).push_back(icmp);
        st.policies[np.key()] = np;
      }
    }
  }
  const CompiledNode node = compile(st, {.is_local = [](const Pod& p) {
                                      return p.node_name == "bench-node";
                                    }});
  std::fputs(render_program(node, NftOptions{}).c_str(), stdout);
  return 0;
}

// ---------------------------------------------------------------- populate: the cluster
// as Kubernetes objects, created through an API server (bench/npc's process section).

using nlohmann::json;

json selector_json(const LabelSelector& selector) {
  static constexpr const char* kOperators[] = {"In", "NotIn", "Exists", "DoesNotExist"};
  json expressions = json::array();
  for (const auto& r : selector.requirements) {
    json e = {{"key", r.key}, {"operator", kOperators[static_cast<int>(r.op)]}};
    if (!r.values.empty()) {
      e["values"] = r.values;
    }
    expressions.push_back(std::move(e));
  }
  return expressions.empty() ? json::object() : json{{"matchExpressions", expressions}};
}

json rule_json(const PolicyRule& rule, const char* peers_key) {
  json peers = json::array();
  for (const auto& peer : rule.peers) {
    json p = json::object();
    if (peer.pod_selector) {
      p["podSelector"] = selector_json(*peer.pod_selector);
    }
    if (peer.namespace_selector) {
      p["namespaceSelector"] = selector_json(*peer.namespace_selector);
    }
    if (peer.ip_block) {
      json except = json::array();
      for (const auto& c : peer.ip_block->except) {
        except.push_back(c.to_string());
      }
      p["ipBlock"] = {{"cidr", peer.ip_block->cidr.to_string()}, {"except", except}};
    }
    peers.push_back(std::move(p));
  }
  json ports = json::array();
  for (const auto& port : rule.ports) {
    json p = {{"protocol", std::string(to_string(port.protocol))}};
    if (!port.name.empty()) {
      p["port"] = port.name;
    } else if (port.port) {
      p["port"] = *port.port;
    }
    if (port.end_port) {
      p["endPort"] = *port.end_port;
    }
    ports.push_back(std::move(p));
  }
  json out = json::object();
  if (!peers.empty()) {
    out[peers_key] = peers;
  }
  if (!ports.empty()) {
    out["ports"] = ports;
  }
  return out;
}

json policy_json(const NetworkPolicy& np) {
  json types = json::array();
  if (np.applies_to_ingress) {
    types.push_back("Ingress");
  }
  if (np.applies_to_egress) {
    types.push_back("Egress");
  }
  json spec = {{"podSelector", selector_json(np.pod_selector)}, {"policyTypes", types}};
  for (const auto& r : np.ingress) {
    spec["ingress"].push_back(rule_json(r, "from"));
  }
  for (const auto& r : np.egress) {
    spec["egress"].push_back(rule_json(r, "to"));
  }
  return {{"apiVersion", "networking.k8s.io/v1"},
          {"kind", "NetworkPolicy"},
          {"metadata", {{"name", np.name}, {"namespace", np.namespace_name}}},
          {"spec", spec}};
}

json pod_json(const Pod& pod) {
  json ports = json::array();
  for (const auto& cp : pod.ports) {
    ports.push_back({{"name", cp.name},
                     {"containerPort", cp.port},
                     {"protocol", std::string(to_string(cp.protocol))}});
  }
  return {
      {"apiVersion", "v1"},
      {"kind", "Pod"},
      {"metadata", {{"name", pod.name}, {"namespace", pod.namespace_name}, {"labels", pod.labels}}},
      {"spec",
       {{"nodeName", pod.node_name},
        {"containers", {{{"name", "app"}, {"image", "app"}, {"ports", ports}}}}}}};
}

json pod_status_json(const Pod& pod) {
  json ips = json::array();
  for (const auto& a : pod.addresses) {
    ips.push_back({{"ip", a.to_string()}});
  }
  return {{"status", {{"phase", "Running"}, {"podIP", ips.at(0)["ip"]}, {"podIPs", ips}}}};
}

// Runs one API call to completion.
Result<json> complete(boost::asio::io_context& io, boost::asio::awaitable<Result<json>> call) {
  std::optional<Result<json>> out;
  boost::asio::co_spawn(io, std::move(call), [&](const std::exception_ptr& e, Result<json> r) {
    if (e) {
      std::rethrow_exception(e);
    }
    out.emplace(std::move(r));
  });
  io.restart();
  io.run();
  return out ? std::move(*out) : make_error(Errc::kIo, "API call unfinished");
}

// bench_npc populate --kubeconfig FILE [--pods N] [--policies N]: the synthetic cluster's
// namespaces, pods (with their addresses in status) and policies, created in the API.
int populate(int argc, char** argv) {
  std::string kubeconfig;
  int pods = 5000;
  int policies = 5000;
  for (int i = 0; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--kubeconfig") {
      kubeconfig = argv[i + 1];
    } else if (flag == "--pods") {
      pods = std::atoi(argv[i + 1]);
    } else if (flag == "--policies") {
      policies = std::atoi(argv[i + 1]);
    }
  }
  auto config = kube::load_kubeconfig(kubeconfig);
  boost::asio::io_context io;
  auto client = config ? kube::Client::open(io.get_executor(), std::move(*config))
                       : Result<std::unique_ptr<kube::Client>>(config.error());
  if (!client) {
    std::fprintf(stderr, "bench_npc populate: %s\n", client.error().message.c_str());
    return 1;
  }
  const ClusterState st = synthetic(pods, policies, 42);
  auto call = [&](boost::asio::awaitable<Result<json>> c) {
    auto r = complete(io, std::move(c));
    if (!r) {
      std::fprintf(stderr, "bench_npc populate: %s\n", r.error().message.c_str());
    }
    return r.has_value();
  };
  for (const auto& [name, ns] : st.namespaces) {
    auto r =
        complete(io, (*client)->create(kube::collection_path(kube::kNamespaces, ""),
                                       {{"apiVersion", "v1"},
                                        {"kind", "Namespace"},
                                        {"metadata", {{"name", name}, {"labels", ns.labels}}}}));
    // kube-system is there from the start.
    if (!r && r.error().code != make_error_code(Errc::kAlreadyExists)) {
      std::fprintf(stderr, "bench_npc populate: %s\n", r.error().message.c_str());
      return 1;
    }
  }
  for (const auto& [key, pod] : st.pods) {
    if (!call((*client)->create(kube::collection_path(kube::kPods, pod.namespace_name),
                                pod_json(pod))) ||
        !call((*client)->patch(
            kube::object_path(kube::kPods, pod.namespace_name, pod.name) + "/status",
            pod_status_json(pod)))) {
      return 1;
    }
  }
  for (const auto& [key, np] : st.policies) {
    if (!call((*client)->create(kube::collection_path(kube::kNetworkPolicies, np.namespace_name),
                                policy_json(np)))) {
      return 1;
    }
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const std::string command = argc >= 2 ? argv[1] : "";
    if (command == "scale") {
      return scale(argc - 2, argv + 2);
    }
    if (command == "program") {
      return program(argc - 2, argv + 2);
    }
    if (command == "populate") {
      return populate(argc - 2, argv + 2);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_npc: %s\n", e.what());
    return 1;
  }
  std::fprintf(stderr,
               "usage: bench_npc scale [...] | bench_npc program [...] | bench_npc populate "
               "[...]\n");
  return 2;
}

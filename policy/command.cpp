#include "policy/command.hpp"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

#include <nlohmann/json.hpp>

#include "common/version.hpp"
#include "policy/analyze.hpp"
#include "policy/manifest.hpp"
#include "policy/npc_run.hpp"
#include <fmt/format.h>
#include <unistd.h>

namespace weft::policy {
namespace {

void print(std::FILE* f, std::string_view text) {
  std::fwrite(text.data(), 1, text.size(), f);
}

Result<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return make_error(Errc::kNotFound, "cannot read {}", path);
  }
  std::string text;
  char buffer[65536];
  while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
    text.append(buffer, static_cast<std::size_t>(in.gcount()));
    if (text.size() > kMaxManifestBytes) {
      return make_error(Errc::kTooLarge, "{} is over {} bytes", path, kMaxManifestBytes);
    }
  }
  return text;
}

// FILE arguments: files, "-" for standard input, or directories (their *.yaml, *.yml and
// *.json files, sorted by name, as kubectl -f reads a directory).
Result<std::vector<std::string>> expand_paths(const std::vector<std::string>& paths) {
  std::vector<std::string> out;
  for (const auto& path : paths) {
    std::error_code ec;
    if (path != "-" && std::filesystem::is_directory(path, ec)) {
      std::vector<std::string> files;
      for (const auto& entry : std::filesystem::directory_iterator(path, ec)) {
        const auto ext = entry.path().extension().string();
        if (entry.is_regular_file() && (ext == ".yaml" || ext == ".yml" || ext == ".json")) {
          files.push_back(entry.path().string());
        }
      }
      if (ec) {
        return make_error(Errc::kNotFound, "cannot list {}: {}", path, ec.message());
      }
      std::sort(files.begin(), files.end());
      out.insert(out.end(), files.begin(), files.end());
    } else {
      out.push_back(path);
    }
  }
  return out;
}

Result<std::vector<Cidr>> parse_cidr_list(std::string_view flag, std::string_view value) {
  std::vector<Cidr> out;
  std::size_t start = 0;
  while (start <= value.size()) {
    const auto comma = value.find(',', start);
    const auto item =
        value.substr(start, comma == std::string_view::npos ? value.npos : comma - start);
    auto cidr = parse_cidr(item);
    if (!cidr) {
      return make_error(Errc::kInvalidArgument, "{} {}: {}", flag, item, cidr.error().message);
    }
    out.push_back(*cidr);
    if (comma == std::string_view::npos) {
      break;
    }
    start = comma + 1;
  }
  return out;
}

}  // namespace

std::string analyze_usage() {
  return R"(Usage: weft-npc analyze [--pod-cidr CIDR] [--external CIDR] [--output table|json] FILE...

Reads Kubernetes manifests (YAML, several documents per file, or JSON; List kinds too;
a directory means its *.yaml, *.yml and *.json files; - is standard input) and prints
which connections the NetworkPolicies among them allow, as weft-npc would enforce them.
Namespaces, Pods, and Deployment/ReplicaSet/StatefulSet/DaemonSet/Job/CronJob pod
templates (one pod each) are read; other kinds are ignored with a warning.

  --pod-cidr CIDR    addresses for pods without status.podIP, in input order; give one
                     block per family for dual-stack (repeat the flag or separate by commas)
  --external CIDR    also judge connections between every pod and this block (its first
                     address stands for it); repeatable
  --output FORMAT    table (default): one reachability matrix per protocol and port;
                     json: one object per line,
                     {"src":"ns/pod","dst":"ns/pod","protocol":"TCP","port":80,"allowed":true}
                     for every ordered pod pair over the destination's declared ports and
                     every port the policies name, plus per pair and protocol a row with
                     "port":"other" for every port listed nowhere
  -h, --help         this text

Exit status: 0 done, 1 unreadable or invalid input, 2 bad usage.
)";
}

std::string npc_usage() {
  return fmt::format(
      R"USAGE(Usage: weft-npc [flags]                  run the NetworkPolicy controller of this node
       weft-npc --cleanup [flags]        remove its nftables program and exit
       weft-npc analyze [flags] FILE...  which connections manifests' policies allow
                                         (weft-npc analyze --help)

weft-npc {} enforces Kubernetes NetworkPolicies (networking.k8s.io/v1: pod and
namespace selectors, ipBlock with except, named ports, endPort, TCP/UDP/SCTP, ingress
and egress, IPv4 and IPv6) for the pods of this node on the bridge of weftd. It lists
and watches pods, namespaces and NetworkPolicies, and keeps one nftables program (tables
"bridge weft_npc" and "inet weft_npc") in step, replacing it in one transaction. A pod
is blocked until its rules are in place; stopping weft-npc leaves the rules in force.

  --kubeconfig FILE         API server and credentials (default: $KUBECONFIG, else the
                            in-cluster service account)
  --context NAME            kubeconfig context (default: its current-context)
  --node-name NAME          this node (default: $NODE_NAME, else the hostname); only its
                            pods get rules
  --bridge NAME             weftd's bridge (default weft)
  --pod-port-prefix P       bridge ports of local pods, by name prefix (default vethwc,
                            weft-cni's); repeatable
  --metrics-address A:P     /metrics (Prometheus) and /status (JSON) (default
                            127.0.0.1:6781; off to disable)
  --nflog-group N           NFLOG group of blocked connections (default 86)
  --resync-interval D       full relist of every resource (default 5m)
  --verify-interval D       check that the program is in the kernel, rewrite it if not
                            (default 10s)
  --log-level L             debug, info, warn, error (default info)
  -h, --help | --version

Metrics: weft_npc_blocked_total{{direction,protocol}}, weft_npc_pod_rules_seconds
(from a pod's address reaching weft-npc to its rules being live), weft_npc_policies,
weft_npc_isolated_pods, weft_npc_synced, ... Blocked connections are also logged, at
most 10 lines a second: "blocked ingress TCP 198.19.0.2:40112 -> 198.19.0.1:81
(policy namespace x)".
)USAGE",
      kVersion);
}

int run_analyze(const std::vector<std::string>& args, std::FILE* out, std::FILE* err) {
  AnalyzeOptions options;
  bool json_output = false;
  std::vector<std::string> paths;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    auto value = [&](std::string_view flag) -> std::optional<std::string> {
      const std::string prefix = std::string(flag) + "=";
      if (arg.starts_with(prefix)) {
        return arg.substr(prefix.size());
      }
      if (arg == flag && i + 1 < args.size()) {
        return args[++i];
      }
      return std::nullopt;
    };
    if (arg == "-h" || arg == "--help") {
      print(out, analyze_usage());
      return 0;
    }
    if (arg.starts_with("--pod-cidr") || arg.starts_with("--external")) {
      const std::string flag = arg.starts_with("--pod-cidr") ? "--pod-cidr" : "--external";
      auto v = value(flag);
      if (!v) {
        print(err, fmt::format("weft-npc analyze: {} needs a CIDR\n", flag));
        return 2;
      }
      auto cidrs = parse_cidr_list(flag, *v);
      if (!cidrs) {
        print(err, fmt::format("weft-npc analyze: {}\n", cidrs.error().message));
        return 2;
      }
      auto& list = flag == "--pod-cidr" ? options.pod_cidrs : options.externals;
      list.insert(list.end(), cidrs->begin(), cidrs->end());
      continue;
    }
    if (arg.starts_with("--output")) {
      auto v = value("--output");
      if (!v || (*v != "table" && *v != "json")) {
        print(err, "weft-npc analyze: --output is table or json\n");
        return 2;
      }
      json_output = *v == "json";
      continue;
    }
    if (arg.size() > 1 && arg.starts_with("-")) {
      print(err, fmt::format("weft-npc analyze: unknown flag {}\n\n{}", arg, analyze_usage()));
      return 2;
    }
    paths.push_back(arg);
  }
  for (IpFamily family : {IpFamily::kV4, IpFamily::kV6}) {
    if (std::count_if(options.pod_cidrs.begin(), options.pod_cidrs.end(),
                      [&](const Cidr& c) { return c.family() == family; }) > 1) {
      print(err, "weft-npc analyze: at most one --pod-cidr per family\n");
      return 2;
    }
  }
  if (paths.empty()) {
    print(err, fmt::format("weft-npc analyze: no FILE given\n\n{}", analyze_usage()));
    return 2;
  }
  auto files = expand_paths(paths);
  if (!files) {
    print(err, fmt::format("weft-npc analyze: {}\n", files.error().message));
    return 1;
  }
  std::vector<nlohmann::json> objects;
  for (const auto& file : *files) {
    Result<std::string> text = std::string();
    if (file == "-") {
      std::ostringstream buffer;
      buffer << std::cin.rdbuf();
      text = buffer.str();
    } else {
      text = read_file(file);
    }
    if (!text) {
      print(err, fmt::format("weft-npc analyze: {}\n", text.error().message));
      return 1;
    }
    auto parsed = parse_manifests(*text, file == "-" ? "stdin" : file);
    if (!parsed) {
      print(err, fmt::format("weft-npc analyze: {}\n", parsed.error().message));
      return 1;
    }
    std::move(parsed->begin(), parsed->end(), std::back_inserter(objects));
  }
  auto input = build_cluster(objects, options);
  if (!input) {
    print(err, fmt::format("weft-npc analyze: {}\n", input.error().message));
    return 1;
  }
  for (const auto& warning : input->warnings) {
    print(err, fmt::format("weft-npc analyze: {}\n", warning));
  }
  const auto connections = analyze(*input, options);
  if (json_output) {
    std::string text;
    for (const auto& c : connections) {
      text += to_json_line(c);
      text += '\n';
    }
    print(out, text);
  } else {
    print(out, format_table(connections));
  }
  return 0;
}

int run_npc(const std::vector<std::string>& args, std::FILE* out, std::FILE* err) {
  if (!args.empty() && args[0] == "analyze") {
    return run_analyze({args.begin() + 1, args.end()}, out, err);
  }
  if (!args.empty() && (args[0] == "-h" || args[0] == "--help")) {
    print(out, npc_usage());
    return 0;
  }
  if (!args.empty() && args[0] == "--version") {
    print(out, fmt::format("weft-npc {}\n", kVersion));
    return 0;
  }
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  auto config = parse_npc_args(
      args,
      [](std::string_view name) -> std::optional<std::string> {
        const char* v = std::getenv(std::string(name).c_str());
        return v ? std::optional<std::string>(v) : std::nullopt;
      },
      host);
  if (!config) {
    print(err, fmt::format("weft-npc: {}\n\n{}", config.error().message, npc_usage()));
    return 2;
  }
  if (config->help) {
    print(out, npc_usage());
    return 0;
  }
  if (config->version) {
    print(out, fmt::format("weft-npc {}\n", kVersion));
    return 0;
  }
  return run_controller(*config);
}

}  // namespace weft::policy

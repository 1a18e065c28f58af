#include "tests/support/cni_lab.hpp"

#include <atomic>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "common/http_client.hpp"

namespace weft::test {

using nlohmann::json;

CniCall call_cni(const std::string& host_netns, const std::string& scratch_dir,
                 const CniRequest& request, const json& config) {
  static std::atomic<int> counter{0};
  const std::string file = fmt::format("{}/cni-{}.json", scratch_dir, counter.fetch_add(1));
  std::ofstream(file) << config.dump();
  const std::string plugin =
      request.plugin.empty() ? weft_bin_dir() + "/weft-cni" : request.plugin;
  std::string env = "CNI_COMMAND=" + shell_quote(request.command);
  if (!request.container_id.empty()) env += " CNI_CONTAINERID=" + shell_quote(request.container_id);
  if (!request.netns.empty()) env += " CNI_NETNS=" + shell_quote(request.netns);
  if (!request.ifname.empty()) env += " CNI_IFNAME=" + shell_quote(request.ifname);
  env += " CNI_ARGS='IgnoreUnknown=1;K8S_POD_NAME=test'";
  env += " CNI_PATH=" + shell_quote(request.cni_path.empty() ? "/usr/lib/cni" : request.cni_path);
  const CommandResult r =
      run_in_netns(host_netns, fmt::format("env {} {} < {}", env, shell_quote(plugin), file));
  CniCall call;
  call.exit_status = r.exit_status;
  call.raw = r.out;
  call.out = json::parse(r.out, nullptr, /*allow_exceptions=*/false);
  if (call.out.is_discarded()) call.out = nullptr;
  return call;
}

json weft_config(const WeftHost& host, const std::string& version) {
  return {{"cniVersion", version},
          {"name", "weftnet"},
          {"type", "weft-cni"},
          {"socket", host.api_socket()}};
}

std::vector<std::string> cni_weftd_args(int consensus, const std::vector<std::string>& peers) {
  std::vector<std::string> args = {"--no-discovery",  "--ipalloc-range", "198.19.0.0/16",
                                   "--ipalloc-range", "fd00:19::/48",    "--ipalloc-init",
                                   fmt::format("consensus={}", consensus)};
  args.insert(args.end(), peers.begin(), peers.end());
  return args;
}

std::string cni_host_gap(const WeftHost& host) {
  json r = host.report();
  if (r.is_null()) return host.label() + ": weftd not answering";
  if (!r["router"]["dataplane"].is_object()) return host.label() + ": no data plane yet";
  if (!r["ipam"].is_object() || r["ipam"]["ready"] != true) {
    return host.label() + ": ipam not ready: " + r["ipam"].dump();
  }
  return "";
}

std::vector<std::string> held_addresses(const WeftHost& host, const std::string& container_id) {
  auto r = http_call("unix:" + host.api_socket(), Method::kGet, "/ip/" + container_id, {});
  std::vector<std::string> out;
  if (!r || r->status != 200) return out;
  std::istringstream in(r->body);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) out.push_back(line);
  }
  return out;
}

}  // namespace weft::test

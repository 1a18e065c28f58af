#include "tests/support/cni_lab.hpp"

#include <atomic>
#include <fstream>
#include <sstream>

#include "common/http_client.hpp"
#include <fmt/format.h>

namespace weft::test {

using nlohmann::json;

CniCall call_cni(const std::string& host_netns, const std::string& scratch_dir,
                 const CniRequest& request, const json& config) {
  static std::atomic<int> counter{0};
  const std::string file = fmt::format("{}/cni-{}.json", scratch_dir, counter.fetch_add(1));
  std::ofstream(file) << config.dump();
  const std::string plugin = request.plugin.empty() ? weft_bin_dir() + "/weft-cni" : request.plugin;
  std::string env = "CNI_COMMAND=" + shell_quote(request.command);
  if (!request.container_id.empty())
    env += " CNI_CONTAINERID=" + shell_quote(request.container_id);
  if (!request.netns.empty())
    env += " CNI_NETNS=" + shell_quote(request.netns);
  if (!request.ifname.empty())
    env += " CNI_IFNAME=" + shell_quote(request.ifname);
  env += " CNI_ARGS='IgnoreUnknown=1;K8S_POD_NAME=test'";
  env += " CNI_PATH=" + shell_quote(request.cni_path.empty() ? "/usr/lib/cni" : request.cni_path);
  const CommandResult r =
      run_in_netns(host_netns, fmt::format("env {} {} < {}", env, shell_quote(plugin), file));
  CniCall call;
  call.exit_status = r.exit_status;
  call.raw = r.out;
  call.out = json::parse(r.out, nullptr, /*allow_exceptions=*/false);
  if (call.out.is_discarded())
    call.out = nullptr;
  return call;
}

json weft_config(const WeftHost& host, const std::string& version) {
  return {{"cniVersion", version},
          {"name", "weftnet"},
          {"type", "weft-cni"},
          {"socket", host.api_socket()}};
}

std::vector<std::string> cni_weftd_args(int consensus, const std::vector<std::string>& peers) {
  std::vector<std::string> args = {"--no-discovery",
                                   "--ipalloc-range",
                                   "198.19.0.0/16",
                                   "--ipalloc-range",
                                   "fd00:19::/48",
                                   "--ipalloc-init",
                                   fmt::format("consensus={}", consensus)};
  args.insert(args.end(), peers.begin(), peers.end());
  return args;
}

std::string cni_host_gap(const WeftHost& host) {
  json r = host.report();
  if (r.is_null())
    return host.label() + ": weftd not answering";
  if (!r["router"]["dataplane"].is_object())
    return host.label() + ": no data plane yet";
  if (!r["ipam"].is_object() || r["ipam"]["ready"] != true) {
    return host.label() + ": ipam not ready: " + r["ipam"].dump();
  }
  return "";
}

std::vector<std::string> held_addresses(const WeftHost& host, const std::string& container_id) {
  auto r = http_call("unix:" + host.api_socket(), Method::kGet, "/ip/" + container_id, {});
  std::vector<std::string> out;
  if (!r || r->status != 200)
    return out;
  std::istringstream in(r->body);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty())
      out.push_back(line);
  }
  return out;
}

std::string start_cni_hosts(WeftLab& lab, int n) {
  using namespace std::chrono_literals;
  for (int h = 1; h <= n; ++h) {
    auto host = lab.add_host(fmt::format("h{}", h), {fmt::format("198.18.0.{}/24", h)});
    if (!host)
      return host.error().to_string();
  }
  for (int h = 1; h <= n; ++h) {
    std::vector<std::string> peers;
    if (h > 1)
      peers.push_back("198.18.0.1");
    auto ok = lab.host(fmt::format("h{}", h)).start_weftd(cni_weftd_args(n, peers));
    if (!ok)
      return ok.error().to_string();
  }
  const std::string gap = eventually(
      [&] {
        for (int h = 1; h <= n; ++h) {
          if (auto g = cni_host_gap(lab.host(fmt::format("h{}", h))); !g.empty())
            return g;
        }
        return std::string();
      },
      40s);
  return gap.empty() ? gap : gap + "\n" + lab.logs();
}

json registered_containers(const WeftHost& host) {
  auto r = http_call("unix:" + host.api_socket(), Method::kGet, "/containers", {});
  if (!r || r->status != 200)
    return json::array();
  json doc = json::parse(r->body, nullptr, /*allow_exceptions=*/false);
  return doc.is_object() && doc["containers"].is_array() ? doc["containers"] : json::array();
}

std::string weft_source_dir() {
  return WEFT_SOURCE_DIR;
}

Result<void> make_busybox_rootfs(const std::string& dir) {
  const CommandResult r = run_command(fmt::format(
      "set -e; mkdir -p {0}/bin {0}/etc {0}/tmp {0}/proc {0}/sys {0}/dev {0}/www; "
      "cp /bin/busybox {0}/bin/busybox; "
      "for a in $(/bin/busybox --list); do [ -e {0}/bin/$a ] || ln -s busybox {0}/bin/$a; done; "
      "echo 'root:x:0:0:root:/:/bin/sh' > {0}/etc/passwd; echo 'root:x:0:' > {0}/etc/group; "
      "echo hello-from-weft > {0}/www/index.html",
      shell_quote(dir)));
  if (!r.ok())
    return make_error(Errc::kIo, "cannot make a busybox rootfs in {}", dir);
  return {};
}

CommandResult install_cni(const std::string& bin_dir, const std::string& conf_dir,
                          const std::string& socket) {
  return run_command(
      fmt::format("{}/scripts/install-cni --bin-dir {} --conf-dir {} --socket {} "
                  "--from {}",
                  shell_quote(weft_source_dir()), shell_quote(bin_dir), shell_quote(conf_dir),
                  shell_quote(socket), shell_quote(weft_bin_dir())));
}

}  // namespace weft::test

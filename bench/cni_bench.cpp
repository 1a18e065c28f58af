// bench_cni: ADD and DEL latency of CNI plugins, called as a runtime calls them (fork/exec,
// CNI_* environment, config on stdin) for N sequential containers, each a fresh netns. Runs
// in the host netns it was started in. Rows are given as
//   --row NAME PLUGIN CONFIG_FILE CNI_PATH
// Rows are grouped by the last word of their name ("... ipv4", "... dual"); the row of a group
// whose name starts with "ref" is the baseline of that group's ratio columns.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "common/netns.hpp"
#include <fcntl.h>
#include <fmt/format.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace {

struct Row {
  std::string name, plugin, config, cni_path;
  std::vector<double> add_ms, del_ms;
  int failures = 0;
};

// Runs `plugin` with CNI_* for `command` and `config` on stdin; returns (ok, milliseconds).
std::pair<bool, double> call(const Row& row, const std::string& command, const std::string& id,
                             const std::string& netns) {
  std::vector<std::string> env;
  for (char** e = environ; e && *e; ++e)
    env.emplace_back(*e);
  env.push_back("CNI_COMMAND=" + command);
  env.push_back("CNI_CONTAINERID=" + id);
  env.push_back("CNI_NETNS=" + netns);
  env.push_back("CNI_IFNAME=eth0");
  env.push_back("CNI_PATH=" + row.cni_path);
  std::vector<char*> envp;
  for (auto& e : env)
    envp.push_back(e.data());
  envp.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, row.config.c_str(), O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  std::string arg0 = row.plugin;
  char* argv[] = {arg0.data(), nullptr};
  const auto start = std::chrono::steady_clock::now();
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, row.plugin.c_str(), &fa, nullptr, argv, envp.data());
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0)
    return {false, 0};
  int status = 0;
  waitpid(pid, &status, 0);
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  return {WIFEXITED(status) && WEXITSTATUS(status) == 0, ms};
}

double percentile(std::vector<double> v, double p) {
  if (v.empty())
    return 0;
  std::sort(v.begin(), v.end());
  const auto i = static_cast<std::size_t>(p / 100.0 * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

}  // namespace

int main(int argc, char** argv) {
  int n = 200;
  std::vector<Row> rows;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--n" && i + 1 < argc) {
      n = std::stoi(argv[++i]);
    } else if (a == "--row" && i + 4 < argc) {
      rows.push_back(Row{argv[i + 1], argv[i + 2], argv[i + 3], argv[i + 4], {}, {}, 0});
      i += 4;
    } else {
      std::fprintf(stderr, "usage: bench_cni [--n N] --row NAME PLUGIN CONFIG CNI_PATH ...\n");
      return 2;
    }
  }
  const std::string tag = fmt::format("wbc{}", ::getpid());
  for (int i = 0; i < n; ++i) {
    // Interleave the rows so that machine noise hits them alike.
    for (std::size_t r = 0; r < rows.size(); ++r) {
      const std::string name = fmt::format("{}-{}-{}", tag, r, i);
      auto ns = weft::Netns::create(name);
      if (!ns) {
        std::fprintf(stderr, "bench_cni: %s\n", ns.error().message.c_str());
        return 1;
      }
      const std::string path = weft::Netns::named_path(name);
      const std::string id = fmt::format("bench{}{}x{}", tag, r, i);
      auto [add_ok, add_ms] = call(rows[r], "ADD", id, path);
      auto [del_ok, del_ms] = call(rows[r], "DEL", id, path);
      (void)weft::Netns::remove(name);
      if (!add_ok || !del_ok) {
        ++rows[r].failures;
        continue;
      }
      rows[r].add_ms.push_back(add_ms);
      rows[r].del_ms.push_back(del_ms);
    }
  }
  auto group = [](const std::string& name) {
    return name.substr(name.rfind(' ') + 1);
  };
  std::printf("%-36s %8s %8s %8s %8s %8s %8s %5s\n", "plugin (containers)", "ADD p50", "ADD p99",
              "DEL p50", "DEL p99", "ADD/ref", "DEL/ref", "fail");
  for (const auto& r : rows) {
    double ref_add = 0, ref_del = 0;
    for (const auto& b : rows) {
      if (b.name.rfind("ref", 0) == 0 && group(b.name) == group(r.name)) {
        ref_add = percentile(b.add_ms, 50);
        ref_del = percentile(b.del_ms, 50);
        break;
      }
    }
    const double a50 = percentile(r.add_ms, 50), d50 = percentile(r.del_ms, 50);
    std::printf("%-36s %6.1fms %6.1fms %6.1fms %6.1fms %7.2fx %7.2fx %5d\n",
                fmt::format("{} ({})", r.name, r.add_ms.size()).c_str(), a50,
                percentile(r.add_ms, 99), d50, percentile(r.del_ms, 99),
                ref_add > 0 ? a50 / ref_add : 0.0, ref_del > 0 ? d50 / ref_del : 0.0, r.failures);
  }
  return 0;
}

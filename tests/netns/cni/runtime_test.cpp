// Real container runtimes calling weft-cni as installed by scripts/install-cni (conflist
// with the chained reference portmap plugin):
//  - podman 4.3 with its CNI backend on two hosts: busybox containers get weft addresses,
//    ping each other across the overlay in both families, a published port answers from
//    the other host through portmap, and removing the containers releases their addresses
//    (`weft status ipam` counts them).
//  - containerd 1.6 `ctr run --cni` on one host: two containers ping each other; the
//    addresses go when they exit.
// Traps from ENVIRONMENT.md: podman runs under `nsenter --net` with a test containers.conf
// (CONTAINERS_CONF; ulimits the sandbox can set; runc, since crun refuses hybrid cgroups
// here); ctr reads /opt/cni/bin and the first file in /etc/cni/net.d, so it runs in a
// private mount namespace with the test's directories bound there.
#include <filesystem>
#include <fstream>
#include <regex>

#include <gtest/gtest.h>

#include "common/http_client.hpp"
#include "tests/support/cni_lab.hpp"
#include <fmt/format.h>

namespace weft::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

// The v4 and v6 address (without prefix) of the registry entry whose id starts with `id`.
std::vector<std::string> addresses_of(const WeftHost& h, const std::string& id) {
  for (auto& c : registered_containers(h)) {
    if (c["id"].get<std::string>().rfind(id, 0) != 0)
      continue;
    std::vector<std::string> out;
    for (auto& a : c["addresses"]) {
      const std::string s = a.get<std::string>();
      out.push_back(s.substr(0, s.find('/')));
    }
    return out;
  }
  return {};
}

// "N allocations here" from `weft status ipam`.
int allocations_here(const WeftHost& h) {
  const CommandResult r = h.weft("status ipam");
  std::smatch m;
  if (!std::regex_search(r.out, m, std::regex("(\\d+) allocations here")))
    return -1;
  return std::stoi(m[1]);
}

bool has_root_and(const char* path) {
  return ::geteuid() == 0 && std::filesystem::exists(path);
}

class RuntimeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0)
      GTEST_SKIP() << "netns tests need root";
    ASSERT_EQ(lab_.error(), "");
  }
  void start_hosts(int n) {
    ASSERT_EQ(start_cni_hosts(lab_, n), "");
    ASSERT_TRUE(make_busybox_rootfs(lab_.dir() + "/rootfs"));
  }

  WeftLab lab_;
};

// One podman "installation" per host: storage, CNI directories, containers.conf.
class Podman {
 public:
  Podman(const WeftLab& lab, const WeftHost& host)
      : host_(host), dir_(lab.dir() + "/podman-" + host.label()) {
    std::filesystem::create_directories(dir_);
    std::ofstream(dir_ + "/containers.conf")
        << "[containers]\n"
        << "default_ulimits = [\"nofile=20000:20000\", \"nproc=4096:4096\"]\n"
        << "[network]\nnetwork_backend = \"cni\"\n"
        << "cni_plugin_dirs = [\"" << dir_ << "/bin\"]\n"
        << "network_config_dir = \"" << dir_ << "/net.d\"\n"
        << "[engine]\ncgroup_manager = \"cgroupfs\"\nevents_logger = \"file\"\n"
        << "runtime = \"runc\"\n";
  }
  ~Podman() { (void)run("rm -a -f -t 0"); }

  CommandResult install() const {
    return install_cni(dir_ + "/bin", dir_ + "/net.d", host_.api_socket());
  }
  // `podman ARGS` in the host's netns (nsenter, not `ip netns exec`: see ENVIRONMENT.md).
  CommandResult run(const std::string& args) const {
    return run_command(fmt::format(
        "CONTAINERS_CONF={0}/containers.conf nsenter --net=/run/netns/{1} podman --root "
        "{0}/storage --runroot {0}/run --storage-driver vfs {2}",
        dir_, host_.netns(), args));
  }
  CommandResult import_rootfs(const std::string& rootfs) const {
    return run_command(fmt::format(
        "tar -C {0} -c . | CONTAINERS_CONF={1}/containers.conf podman --root {1}/storage "
        "--runroot {1}/run --storage-driver vfs import - localhost/bbox:1 >/dev/null",
        rootfs, dir_));
  }

 private:
  const WeftHost& host_;
  std::string dir_;
};

TEST_F(RuntimeTest, PodmanContainersOnTwoHostsPingAndPublishAPort) {
  if (!has_root_and("/usr/bin/podman"))
    GTEST_FAIL() << "podman missing: run scripts/setup";
  ASSERT_NO_FATAL_FAILURE(start_hosts(2));
  WeftHost& h1 = lab_.host("h1");
  WeftHost& h2 = lab_.host("h2");
  Podman p1(lab_, h1), p2(lab_, h2);
  for (const Podman* p : {&p1, &p2}) {
    ASSERT_TRUE(p->install().ok());
    ASSERT_TRUE(p->import_rootfs(lab_.dir() + "/rootfs").ok());
  }
  const int before = allocations_here(h1);

  CommandResult r = p1.run("run -d --name c1 --network weft localhost/bbox:1 sleep 1000");
  ASSERT_TRUE(r.ok()) << r.out << lab_.logs();
  const std::string c1_id = r.out.substr(0, 12);
  r = p2.run("run -d --name c2 --network weft localhost/bbox:1 sleep 1000");
  ASSERT_TRUE(r.ok()) << r.out;
  const std::string c2_id = r.out.substr(0, 12);

  const auto a1 = addresses_of(h1, c1_id);
  const auto a2 = addresses_of(h2, c2_id);
  ASSERT_EQ(a1.size(), 2u) << registered_containers(h1).dump();
  ASSERT_EQ(a2.size(), 2u) << registered_containers(h2).dump();
  EXPECT_TRUE(prefix("198.19.0.0/16").contains(ip(a1[0])));
  EXPECT_TRUE(prefix("fd00:19::/48").contains(ip(a2[1])));
  // podman's own view agrees with weft's registry.
  r = p1.run("inspect c1 --format '{{.NetworkSettings.Networks.weft.IPAddress}}'");
  EXPECT_EQ(r.out.substr(0, r.out.find('\n')), a1[0]) << r.out;
  EXPECT_EQ(allocations_here(h1), before + 2 + (before == 0 ? 2 : 0));  // + the bridge's

  for (int family = 0; family < 2; ++family) {
    const std::string cmd = family == 0 ? "ping" : "ping6";
    EXPECT_TRUE(
        wait_until([&] { return p1.run("exec c1 " + cmd + " -c1 -W1 " + a2[family]).ok(); }, 15s))
        << "c1 -> c2 " << a2[family];
    EXPECT_TRUE(p2.run("exec c2 " + cmd + " -c1 -W2 " + a1[family]).ok()) << a1[family];
  }

  // The chained portmap publishes a port of a container on h1 to the other host.
  r = p1.run(
      "run -d --name web -p 18080:8080 --network weft localhost/bbox:1 httpd -f -p 8080 "
      "-h /www");
  ASSERT_TRUE(r.ok()) << r.out;
  std::string body;
  EXPECT_TRUE(wait_until(
      [&] {
        // bash's /dev/tcp: no HTTP client package needed on the host.
        body = run_in_netns(h2.netns(),
                            "timeout 3 bash -c 'exec 3<>/dev/tcp/198.18.0.1/18080 && printf "
                            "\"GET / HTTP/1.0\\r\\n\\r\\n\" >&3 && cat <&3'")
                   .out;
        return body.find("hello-from-weft") != std::string::npos;
      },
      15s))
      << "published port answered: " << body;

  // Removing the containers releases their addresses.
  ASSERT_TRUE(p1.run("rm -f -t 0 c1 web").ok());
  ASSERT_TRUE(p2.run("rm -f -t 0 c2").ok());
  EXPECT_TRUE(addresses_of(h1, c1_id).empty());
  EXPECT_TRUE(addresses_of(h2, c2_id).empty());
  EXPECT_EQ(registered_containers(h1).size(), 0u) << registered_containers(h1).dump();
  EXPECT_EQ(allocations_here(h1), before + (before == 0 ? 2 : 0));
}

TEST_F(RuntimeTest, ContainerdCtrRunWithCni) {
  if (!has_root_and("/usr/bin/ctr"))
    GTEST_FAIL() << "containerd missing: run scripts/setup";
  ASSERT_NO_FATAL_FAILURE(start_hosts(1));
  WeftHost& h1 = lab_.host("h1");
  const std::string dir = lab_.dir() + "/containerd";
  std::filesystem::create_directories(dir);
  ASSERT_TRUE(install_cni(dir + "/bin", dir + "/net.d", h1.api_socket()).ok());
  std::ofstream(dir + "/config.toml")
      << "version = 2\nroot = \"" << dir << "/root\"\nstate = \"" << dir << "/state\"\n"
      << "disabled_plugins = [\"io.containerd.grpc.v1.cri\"]\n"
      << "[grpc]\n  address = \"" << dir << "/containerd.sock\"\n";
  auto containerd = ChildProcess::spawn({"/usr/bin/containerd", "--config", dir + "/config.toml"},
                                        {h1.netns(), dir + "/containerd.log", {}});
  ASSERT_TRUE(containerd);
  ASSERT_TRUE(wait_until([&] { return std::filesystem::exists(dir + "/containerd.sock"); }, 15s));
  // ctr takes its CNI directories from fixed paths: bind ours there, privately.
  std::filesystem::create_directories("/opt/cni/bin");
  std::filesystem::create_directories("/etc/cni/net.d");
  const std::string rootfs = lab_.dir() + "/rootfs";
  auto ctr = [&](const std::string& args) {
    return fmt::format(
        "mount --bind {0}/bin /opt/cni/bin && mount --bind {0}/net.d /etc/cni/net.d && "
        "exec nsenter --net=/run/netns/{1} ctr --address {0}/containerd.sock {2}",
        dir, h1.netns(), args);
  };
  const std::string a_id = fmt::format("wa{}", ::getpid());
  const std::string b_id = fmt::format("wb{}", ::getpid());
  // Container A runs until /tmp/stop-A appears in the (shared) rootfs; --rm makes ctr
  // remove its network (CNI DEL) when it exits.
  auto a = ChildProcess::spawn(
      {"/usr/bin/unshare", "-m", "/bin/sh", "-c",
       ctr(fmt::format("run --rm --cni --env PATH=/bin --rootfs {} {} /bin/sh -c 'while [ ! -e "
                       "/tmp/stop-{} ]; do sleep 0.2; done'",
                       rootfs, a_id, a_id))},
      {"", dir + "/ctr-a.log", {}});
  ASSERT_TRUE(a);
  std::vector<std::string> addrs;
  EXPECT_TRUE(wait_until(
      [&] {
        addrs = addresses_of(h1, "default-" + a_id);
        return addrs.size() == 2;
      },
      20s))
      << registered_containers(h1).dump() << lab_.logs();
  ASSERT_EQ(addrs.size(), 2u);
  const CommandResult b = run_command(
      "unshare -m /bin/sh -c " +
      shell_quote(ctr(fmt::format("run --rm --cni --env PATH=/bin --rootfs {} {} /bin/sh -c "
                                  "'ping -c2 -W2 {} && ping6 -c2 -W2 {}'",
                                  rootfs, b_id, addrs[0], addrs[1]))));
  EXPECT_TRUE(b.ok()) << b.out;
  EXPECT_TRUE(addresses_of(h1, "default-" + b_id).empty()) << "B's DEL released its addresses";

  std::ofstream(rootfs + "/tmp/stop-" + a_id) << "\n";
  EXPECT_EQ(a->wait(20s), std::optional<int>(0));
  EXPECT_TRUE(addresses_of(h1, "default-" + a_id).empty());
  EXPECT_TRUE(registered_containers(h1).empty()) << registered_containers(h1).dump();
}

}  // namespace
}  // namespace weft::test

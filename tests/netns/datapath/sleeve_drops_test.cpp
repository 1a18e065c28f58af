// Tampered and replayed sleeve packets sent to a real weftd are dropped and counted in its
// /report (router.dataplane.sleeve.stats), and traffic keeps flowing.
#include <gtest/gtest.h>

#include "common/attach.hpp"
#include "tests/support/netns_fixture.hpp"
#include "tests/support/process.hpp"
#include "tests/support/weft_lab.hpp"
#include <fmt/format.h>

namespace weft::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

// Replays every captured UDP payload from `pcap` (IPv4/Ethernet) to 198.18.0.2:6783 once as
// captured and once with a fresh counter and one ciphertext bit flipped (header layout:
// datapath/sleeve_wire.hpp — type u8, receiver index u32, counter u64).
constexpr const char* kReplay = R"PY(
import socket, struct, sys
data = open(sys.argv[1], 'rb').read()
pos, sent = 24, 0
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
while pos + 16 <= len(data):
    incl = struct.unpack('<I', data[pos + 8:pos + 12])[0]
    frame = data[pos + 16:pos + 16 + incl]
    pos += 16 + incl
    ihl = (frame[14] & 0x0f) * 4
    payload = frame[14 + ihl + 8:]
    if len(payload) < 40:
        continue
    s.sendto(payload, ('198.18.0.2', 6783))
    # A fresh counter (so the replay window lets it through), then one ciphertext bit
    # flipped: only the authentication can catch it.
    bad = bytearray(payload)
    counter = struct.unpack('>Q', bytes(bad[5:13]))[0] + 1000000
    bad[5:13] = struct.pack('>Q', counter)
    bad[-5] ^= 0x40
    s.sendto(bytes(bad), ('198.18.0.2', 6783))
    sent += 1
print(sent)
)PY";

TEST(SleeveDropsNetnsTest, TamperedAndReplayedPacketsAreDroppedAndCounted) {
  WEFT_REQUIRE_ROOT();
  WeftLab lab;
  ASSERT_EQ(lab.error(), "");
  const std::vector<std::string> env = {"WEFT_PASSWORD=drops-test"};
  ASSERT_TRUE(lab.add_host("h1", {"198.18.0.1/24"}));
  ASSERT_TRUE(lab.add_host("h2", {"198.18.0.2/24"}));
  ASSERT_TRUE(lab.host("h2").start_weftd({"--no-discovery"}, env));
  ASSERT_TRUE(lab.host("h1").start_weftd({"--no-discovery", "198.18.0.2"}, env));
  ASSERT_EQ(eventually(
                [&] {
                  json r = lab.host("h1").report();
                  json c = r["router"]["connections"][0];
                  return c.is_object() && c["datapath"] == "sleeve" &&
                                 c.value("datapath_info", "").find("not confirmed") ==
                                     std::string::npos
                             ? std::string()
                             : r["router"]["connections"].dump();
                },
                30s),
            "")
      << lab.logs();
  std::vector<std::unique_ptr<ScopedNetns>> cs;
  for (int h : {1, 2}) {
    auto c = std::make_unique<ScopedNetns>();
    ASSERT_TRUE(c->ok());
    AttachSpec spec;
    spec.host_netns = &lab.host(fmt::format("h{}", h)).ns().netns();
    spec.container_netns = &c->netns();
    spec.host_ifname = "vc1";
    spec.addresses = {prefix(fmt::format("198.19.{}.1/16", h))};
    ASSERT_TRUE(attach_container(spec));
    cs.push_back(std::move(c));
  }
  const std::string pcap = lab.dir() + "/h1.pcap";
  auto dump = ChildProcess::spawn({"/usr/bin/tcpdump", "-i", "eth0", "-U", "-w", pcap,
                                   "udp and dst host 198.18.0.2 and dst port 6783"},
                                  {lab.host("h1").netns(), lab.dir() + "/tcpdump.log", {}});
  ASSERT_TRUE(dump);
  ASSERT_TRUE(wait_until(
      [&] { return run_command("grep -q listening " + lab.dir() + "/tcpdump.log").ok(); }, 5s));
  ASSERT_TRUE(ping_ok(cs[0]->name(), "198.19.2.1", 8));
  ASSERT_TRUE(cs[0]->run("ping -c 5 -i 0.2 -W 1 198.19.2.1 >/dev/null").ok());
  dump->stop(2s);

  const std::string script = lab.dir() + "/replay.py";
  ASSERT_TRUE(run_command(fmt::format("cat > {} <<'EOF'\n{}\nEOF", script, kReplay)).ok());
  const CommandResult sent = lab.host("h1").ns().run("python3 " + script + " " + pcap);
  ASSERT_TRUE(sent.ok()) << sent.out;
  ASSERT_GT(std::stoi(sent.out), 0) << "no sleeve packets captured";

  const std::string gap = eventually(
      [&] {
        json r = lab.host("h2").report();
        json st = r["router"]["dataplane"]["sleeve"]["stats"];
        if (st.value("drop_replay", 0) > 0 && st.value("drop_auth_failed", 0) > 0) {
          return std::string();
        }
        return st.dump();
      },
      5s);
  EXPECT_EQ(gap, "");
  // /metrics carries the same counters.
  const CommandResult metrics = lab.host("h2").ns().run(
      "python3 -c \"import urllib.request as u; "
      "print(u.urlopen('http://127.0.0.1:6784/metrics').read().decode())\"");
  EXPECT_NE(metrics.out.find("weft_sleeve_dropped_total{reason=\"auth_failed\"}"),
            std::string::npos)
      << metrics.out;
  EXPECT_NE(metrics.out.find("weft_sleeve_dropped_total{reason=\"replay\"}"), std::string::npos);
  // Traffic still flows.
  EXPECT_TRUE(ping_ok(cs[0]->name(), "198.19.2.1"));
}

}  // namespace
}  // namespace weft::test

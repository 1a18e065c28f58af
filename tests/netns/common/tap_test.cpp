// TAP devices (the sleeve's port on the bridge): created inside the right namespace from a
// thread in another one, frames written to one TAP's fd come out of another's after
// crossing the bridge, counters move, and closing the fds removes the device.
#include <array>
#include <chrono>
#include <cstring>
#include <string_view>

#include <gtest/gtest.h>

#include "common/netlink.hpp"
#include "tests/support/netns_fixture.hpp"
#include <poll.h>
#include <unistd.h>

namespace weft {
namespace {

using test::errc_of;

constexpr std::uint16_t kEtherType = 0x88b5;  // IEEE local experimental
constexpr std::string_view kMarker = "weft-tap-test";

std::vector<std::uint8_t> test_frame() {
  std::vector<std::uint8_t> f(64, 0);
  std::memset(f.data(), 0xff, 6);                                       // broadcast
  const std::array<std::uint8_t, 6> src = {0x02, 0x57, 0, 0, 0, 0x01};  // locally administered
  std::memcpy(f.data() + 6, src.data(), src.size());
  f[12] = kEtherType >> 8;
  f[13] = kEtherType & 0xff;
  std::memcpy(f.data() + 14, kMarker.data(), kMarker.size());
  return f;
}

// Reads frames from `fd` until our test frame arrives (other traffic, e.g. IPv6 router
// solicitations, is skipped) or `timeout` passes.
bool receive_test_frame(int fd, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::array<std::uint8_t, 2048> buf{};
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) {
      continue;
    }
    const ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n >= 14 + static_cast<ssize_t>(kMarker.size()) && buf[12] == (kEtherType >> 8) &&
        buf[13] == (kEtherType & 0xff) &&
        std::memcmp(buf.data() + 14, kMarker.data(), kMarker.size()) == 0) {
      return true;
    }
  }
  return false;
}

TEST(Tap, SleeveOnBridgeForwardsFramesBetweenTaps) {
  WEFT_REQUIRE_ROOT();
  WEFT_SCOPED_NETNS(ns);
  auto opened = open_netlink(ns.netns());
  WEFT_ASSERT_OK(opened);
  Netlink& nl = **opened;

  auto sleeve = nl.create_tap({"weft-sleeve"});
  WEFT_ASSERT_OK(sleeve);
  ASSERT_EQ(sleeve->size(), 1u);
  EXPECT_TRUE((*sleeve)[0].valid());
  auto other = nl.create_tap({"weft-tap2"});
  WEFT_ASSERT_OK(other);

  auto info = nl.link_by_name("weft-sleeve");
  WEFT_ASSERT_OK(info);
  EXPECT_EQ(info->kind, "tun");
  const auto j = ns.json("ip -j -d link show dev weft-sleeve");
  ASSERT_TRUE(j.is_array() && j.size() == 1);
  EXPECT_EQ(j[0]["linkinfo"]["info_kind"], "tun");
  EXPECT_EQ(j[0]["linkinfo"]["info_data"]["type"], "tap");
  EXPECT_EQ(j[0]["linkinfo"]["info_data"]["pi"], false);

  WEFT_ASSERT_OK(nl.create_bridge("weft", std::nullopt));
  for (const char* tap : {"weft-sleeve", "weft-tap2"}) {
    WEFT_ASSERT_OK(nl.set_master(tap, "weft"));
    WEFT_ASSERT_OK(nl.set_up(tap));
  }
  WEFT_ASSERT_OK(nl.set_up("weft"));
  EXPECT_EQ(nl.link_by_name("weft-sleeve")->master_name, "weft");

  const auto frame = test_frame();
  ASSERT_EQ(::write((*sleeve)[0].get(), frame.data(), frame.size()),
            static_cast<ssize_t>(frame.size()));
  // The bridge floods the broadcast frame to the other port.
  EXPECT_TRUE(receive_test_frame((*other)[0].get(), std::chrono::seconds(3)));

  // The kernel counted it as received on the sleeve (written by us = rx for the device).
  info = nl.link_by_name("weft-sleeve");
  WEFT_ASSERT_OK(info);
  EXPECT_GE(info->rx_packets, 1u);
  const auto stats = ns.json("ip -s -j link show dev weft-sleeve");
  ASSERT_TRUE(stats.is_array() && stats.size() == 1);
  EXPECT_GE(stats[0]["stats64"]["rx"]["packets"].get<std::uint64_t>(), 1u);
  EXPECT_GE(nl.link_by_name("weft-tap2")->tx_packets, 1u);

  // The device lives as long as its fds.
  sleeve->clear();
  EXPECT_EQ(errc_of(nl.link_by_name("weft-sleeve")), Errc::kNotFound);
  EXPECT_FALSE(ns.run("ip link show dev weft-sleeve >/dev/null 2>&1").ok());
}

TEST(Tap, MultiQueueWithVnetHeaders) {
  WEFT_REQUIRE_ROOT();
  WEFT_SCOPED_NETNS(ns);
  auto opened = open_netlink(ns.netns());
  WEFT_ASSERT_OK(opened);
  auto fds = (*opened)->create_tap({"weft-mq", true, 3});
  WEFT_ASSERT_OK(fds);
  ASSERT_EQ(fds->size(), 3u);
  const auto j = ns.json("ip -j -d link show dev weft-mq");
  ASSERT_TRUE(j.is_array() && j.size() == 1);
  const auto& data = j[0]["linkinfo"]["info_data"];
  EXPECT_EQ(data["vnet_hdr"], true);
  EXPECT_EQ(data["multi_queue"], true);
  EXPECT_EQ(data["numqueues"], 3);
}

TEST(Tap, TakenNamesAndBadConfigsAreRefused) {
  WEFT_REQUIRE_ROOT();
  WEFT_SCOPED_NETNS(ns);
  auto opened = open_netlink(ns.netns());
  WEFT_ASSERT_OK(opened);
  Netlink& nl = **opened;
  auto first = nl.create_tap({"weft-sleeve"});
  WEFT_ASSERT_OK(first);
  EXPECT_EQ(errc_of(nl.create_tap({"weft-sleeve"})), Errc::kAlreadyExists);
  WEFT_ASSERT_OK(nl.create_bridge("weft", std::nullopt));
  auto clash = nl.create_tap({"weft"});
  EXPECT_EQ(errc_of(clash), Errc::kAlreadyExists) << (clash ? "" : clash.error().to_string());
  EXPECT_EQ(errc_of(nl.create_tap({"bad/name"})), Errc::kInvalidArgument);
  EXPECT_EQ(errc_of(nl.create_tap({"weft-q0", false, 0})), Errc::kInvalidArgument);
  EXPECT_EQ(nl.link_by_name("weft")->kind, "bridge");
}

}  // namespace
}  // namespace weft

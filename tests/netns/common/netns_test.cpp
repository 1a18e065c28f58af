// Network namespace handles, named namespaces and run_in_netns, against `ip netns` and
// /proc.
#include "common/netns.hpp"

#include <atomic>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "tests/support/netns_fixture.hpp"
#include <sys/syscall.h>
#include <unistd.h>

namespace weft {
namespace {

using test::errc_of;

bool listed_by_ip(const std::string& name) {
  const auto r = test::run_command("ip netns list");
  EXPECT_TRUE(r.ok());
  // Lines look like "NAME" or "NAME (id: 3)".
  std::size_t pos = 0;
  while (pos < r.out.size()) {
    const auto end = r.out.find('\n', pos);
    const std::string line = r.out.substr(pos, end == std::string::npos ? end : end - pos);
    if (line == name || line.rfind(name + " ", 0) == 0) {
      return true;
    }
    if (end == std::string::npos) {
      break;
    }
    pos = end + 1;
  }
  return false;
}

TEST(Netns, CreateListOpenAndRemoveLikeIpNetns) {
  WEFT_REQUIRE_ROOT();
  std::string name;
  {
    WEFT_SCOPED_NETNS(ns);
    name = ns.name();
    EXPECT_EQ(name.rfind(fmt::format("weft-t{}-", getpid()), 0), 0u) << name;
    EXPECT_TRUE(listed_by_ip(name));
    auto again = Netns::open_name(name);
    WEFT_ASSERT_OK(again);
    EXPECT_TRUE(again->same_as(ns.netns()));
    auto by_path = Netns::open_path(ns.path());
    WEFT_ASSERT_OK(by_path);
    EXPECT_TRUE(by_path->same_as(ns.netns()));
    auto current = Netns::current();
    WEFT_ASSERT_OK(current);
    EXPECT_FALSE(current->same_as(ns.netns()));
    // A fresh namespace has only lo, as iproute2 sees it.
    const auto links = ns.json("ip -j link show");
    ASSERT_TRUE(links.is_array());
    ASSERT_EQ(links.size(), 1u) << links.dump();
    EXPECT_EQ(links[0]["ifname"], "lo");
  }
  EXPECT_FALSE(listed_by_ip(name));
  EXPECT_EQ(errc_of(Netns::open_name(name)), Errc::kNotFound);
}

TEST(Netns, RunInNetnsUsesAHelperThreadAndLeavesTheCallerAlone) {
  WEFT_REQUIRE_ROOT();
  WEFT_SCOPED_NETNS(ns);
  auto before = Netns::current();
  WEFT_ASSERT_OK(before);
  const auto caller_tid = static_cast<pid_t>(::syscall(SYS_gettid));
  pid_t worker_tid = 0;
  auto inside = run_in_netns(ns.netns(), [&]() -> Result<Netns> {
    worker_tid = static_cast<pid_t>(::syscall(SYS_gettid));
    // open_pid on our own tid sees the namespace this thread joined.
    return Netns::open_pid(worker_tid);
  });
  WEFT_ASSERT_OK(inside);
  EXPECT_NE(worker_tid, caller_tid);
  EXPECT_TRUE(inside->same_as(ns.netns()));
  auto after = Netns::current();
  WEFT_ASSERT_OK(after);
  EXPECT_TRUE(after->same_as(*before));
  // The process (main thread) is not in the test namespace either.
  auto process = Netns::open_pid(getpid());
  WEFT_ASSERT_OK(process);
  EXPECT_FALSE(process->same_as(ns.netns()));
}

TEST(Netns, RunInNetnsReturnsTheFunctionsError) {
  WEFT_REQUIRE_ROOT();
  WEFT_SCOPED_NETNS(ns);
  auto r = run_in_netns(
      ns.netns(), []() -> Result<void> { return make_error(Errc::kConflict, "inner failure"); });
  ASSERT_FALSE(r);
  EXPECT_EQ(errc_of(r), Errc::kConflict);
  EXPECT_EQ(r.error().message, "inner failure");
}

TEST(Netns, ErrorsAreCleanAndCoded) {
  WEFT_REQUIRE_ROOT();
  WEFT_SCOPED_NETNS(ns);
  auto dup = Netns::create(ns.name());
  EXPECT_EQ(errc_of(dup), Errc::kAlreadyExists) << (dup ? "" : dup.error().to_string());
  const std::string missing = fmt::format("weft-t{}-missing", getpid());
  EXPECT_EQ(errc_of(Netns::remove(missing)), Errc::kNotFound);
  EXPECT_EQ(errc_of(Netns::open_name(missing)), Errc::kNotFound);
  EXPECT_EQ(errc_of(Netns::create("a/b")), Errc::kInvalidArgument);
  EXPECT_EQ(errc_of(Netns::create("..")), Errc::kInvalidArgument);
  // A regular file is not a namespace; another namespace type is not a network namespace.
  EXPECT_EQ(errc_of(Netns::open_path("/etc/hostname")), Errc::kNotFound);
  EXPECT_EQ(errc_of(Netns::open_path("/proc/self/ns/uts")), Errc::kInvalidArgument);
  EXPECT_EQ(errc_of(Netns::open_pid(0x3fffffff)), Errc::kNotFound);
}

TEST(Netns, HandleOutlivesTheName) {
  WEFT_REQUIRE_ROOT();
  std::optional<Netns> kept;
  {
    WEFT_SCOPED_NETNS(ns);
    auto d = ns.netns().duplicate();
    WEFT_ASSERT_OK(d);
    EXPECT_TRUE(d->same_as(ns.netns()));
    kept.emplace(std::move(*d));
  }
  // The name is gone but the namespace is still usable through the handle.
  auto inside = run_in_netns(*kept, [] { return Netns::current(); });
  WEFT_ASSERT_OK(inside);
  EXPECT_TRUE(inside->same_as(*kept));
}

TEST(Netns, ParallelThreadsWorkInDifferentNamespaces) {
  WEFT_REQUIRE_ROOT();
  constexpr int kThreads = 4;
  constexpr int kRounds = 20;
  std::vector<std::unique_ptr<test::ScopedNetns>> spaces;
  for (int i = 0; i < kThreads; ++i) {
    spaces.push_back(std::make_unique<test::ScopedNetns>());
    ASSERT_TRUE(spaces.back()->ok()) << spaces.back()->error();
  }
  std::atomic<int> mismatches{0};
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      for (int round = 0; round < kRounds; ++round) {
        auto inside = run_in_netns(spaces[i]->netns(), [] { return Netns::current(); });
        if (!inside || !inside->same_as(spaces[i]->netns())) {
          ++mismatches;
        }
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  EXPECT_EQ(mismatches.load(), 0);
}

}  // namespace
}  // namespace weft

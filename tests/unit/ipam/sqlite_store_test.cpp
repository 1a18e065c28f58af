// SqliteStore: reopen gives the identical state; an allocator killed with SIGKILL in the
// middle of an allocation loop restarts with every reported address and no duplicate.
#include "ipam/sqlite_store.hpp"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "ipam/allocator.hpp"
#include "tests/unit/ipam/loopback.hpp"
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

namespace weft::ipam {
namespace {

class SqliteStoreTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("weft-ipam-" + std::to_string(::getpid()) + "-" +
            testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string path() const { return (dir_ / "weft.db").string(); }
  std::filesystem::path dir_;
};

AllocatorConfig one_peer() {
  AllocatorConfig c;
  c.range_v4 = parse_cidr("10.32.0.0/16").value();
  c.range_v6 = parse_cidr("fd00:19::/64").value();
  c.bootstrap.mode = BootstrapConfig::Mode::kSeed;
  c.bootstrap.seeds = {1};
  return c;
}

TEST_F(SqliteStoreTest, ReopenGivesTheSameState) {
  StoredState saved;
  {
    auto store = SqliteStore::open(path()).value();
    test::Loopback lb(one_peer());
    auto& a = lb.add(1, &store);
    lb.tick_all();
    for (int i = 0; i < 50; ++i) {
      ASSERT_TRUE(a.allocate("c" + std::to_string(i), "eth0", FamilyChoice::kDual));
    }
    ASSERT_TRUE(a.release("c7"));
    saved = store.load().value();
    EXPECT_EQ(saved.allocations.size(), 98u);
    EXPECT_EQ(saved.rings.size(), 2u);
    // The unique index refuses a duplicate address even if asked directly.
    Allocation dup = saved.allocations.front();
    dup.key.container = "other";
    EXPECT_FALSE(store.add_allocation(dup));
  }
  auto store = SqliteStore::open(path()).value();
  auto again = store.load().value();
  EXPECT_EQ(again.allocations, saved.allocations);
  EXPECT_EQ(again.rings, saved.rings);
  EXPECT_EQ(again.bootstrap, saved.bootstrap);
}

// The child allocates in a loop and writes each address (as a host-order u32) to a pipe
// after allocate() returned; the parent kills it at varying moments and reloads.
[[noreturn]] void child(const std::string& path, int fd) {
  auto store = SqliteStore::open(path);
  if (!store)
    ::_exit(2);
  test::Loopback lb(one_peer());
  auto& a = lb.add(1, &*store);
  lb.tick_all();
  for (int i = 0;; ++i) {
    auto got = a.allocate("k" + std::to_string(::getpid()) + "-" + std::to_string(i), "eth0",
                          FamilyChoice::kV4);
    if (!got)
      ::_exit(3);
    const std::uint32_t v = got->at(0).address.address().v4_value();
    if (::write(fd, &v, sizeof v) != sizeof v)
      ::_exit(4);
    if (i % 3 == 0)
      (void)a.release("k" + std::to_string(::getpid()) + "-" + std::to_string(i));
  }
}

TEST_F(SqliteStoreTest, SigkillMidAllocationNeverLosesOrDuplicates) {
  const int delays_ms[] = {0, 2, 10, 30, 60};
  for (int round = 0; round < 5; ++round) {
    int fds[2];
    ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::close(fds[0]);
      child(path(), fds[1]);
    }
    ::close(fds[1]);
    std::this_thread::sleep_for(std::chrono::milliseconds(delays_ms[round]));
    ASSERT_EQ(::kill(pid, SIGKILL), 0);
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFSIGNALED(status)) << "child exited " << status;
    std::vector<std::uint32_t> reported;
    std::uint32_t v = 0;
    while (::read(fds[0], &v, sizeof v) == sizeof v)
      reported.push_back(v);
    ::close(fds[0]);

    auto store = SqliteStore::open(path()).value();
    auto state = store.load().value();
    std::set<IpAddress> held;
    for (const auto& a : state.allocations) {
      EXPECT_TRUE(held.insert(a.address.address()).second) << "duplicate " << a.address;
    }
    // Every reported address whose release was not started is still held, and a reloaded
    // allocator hands out none of the held ones again.
    std::printf("round %d: %zu reported, %zu held\n", round, reported.size(), held.size());
    test::Loopback lb(one_peer());
    auto& a = lb.add(1, &store);
    EXPECT_EQ(a.list().size(), held.size());
    lb.tick_all();  // seeds the ring if the child was killed before it did
    for (int i = 0; i < 20; ++i) {
      auto got = a.allocate("after" + std::to_string(round) + "-" + std::to_string(i), "eth0",
                            FamilyChoice::kV4)
                     .value();
      EXPECT_FALSE(held.contains(got.at(0).address.address()));
      held.insert(got.at(0).address.address());
    }
    for (std::size_t i = 0; i < reported.size(); ++i) {
      if (i % 3 != 0) {
        EXPECT_TRUE(held.contains(IpAddress::v4(reported[i]))) << "lost " << i;
      }
    }
  }
}

}  // namespace
}  // namespace weft::ipam

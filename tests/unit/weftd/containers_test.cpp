// The container registry: the sqlite store (replace, sorted list, delete one or all, survives
// reopening) and the registry's operations ("created" stamped, "attached" and the bridge MAC
// from the link list). The body parser is tested in tests/unit/api/containers_test.cpp, the
// routes on real servers in http_api_test.cpp.
#include "weftd/containers.hpp"

#include <filesystem>

#include <gtest/gtest.h>

#include "common/mac_address.hpp"
#include <fmt/format.h>
#include <unistd.h>

namespace weft::weftd {
namespace {

namespace fs = std::filesystem;

constexpr const char* kFull = R"({"netns": "/proc/123/ns/net", "host_ifname": "vethwe1a2b3c4d",
  "mac": "AA:BB:CC:DD:EE:0F", "addresses": ["10.32.0.5/12", "fd10:32::5/48"], "source": "cni",
  "future_field": {"x": 1}})";

class ContainerStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           fmt::format("weft-containers-{}-{}", ::getpid(),
                       ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string db_path() const { return (dir_ / "weft.db").string(); }

  static ContainerRecord record(std::string id, std::string ifname, std::int64_t created = 7) {
    auto r = api::parse_container_body(id, ifname, kFull);
    EXPECT_TRUE(r);
    r->created = created;
    return *r;
  }

  fs::path dir_;
};

TEST_F(ContainerStoreTest, PutListRemoveAndSurviveReopening) {
  {
    auto store = ContainerStore::open(db_path());
    ASSERT_TRUE(store) << store.error().to_string();
    ASSERT_TRUE(store->put(record("b", "eth0")));
    ASSERT_TRUE(store->put(record("a", "net1")));
    ASSERT_TRUE(store->put(record("a", "eth0")));
    ContainerRecord replaced = record("b", "eth0", 9);
    replaced.addresses = {parse_host_cidr("10.32.0.9/12").value()};
    ASSERT_TRUE(store->put(replaced));
    auto count = store->count();
    ASSERT_TRUE(count);
    EXPECT_EQ(*count, 3);
  }
  auto store = ContainerStore::open(db_path());
  ASSERT_TRUE(store) << store.error().to_string();
  auto list = store->list();
  ASSERT_TRUE(list) << list.error().to_string();
  ASSERT_EQ(list->size(), 3u);
  EXPECT_EQ((*list)[0], record("a", "eth0"));
  EXPECT_EQ((*list)[1], record("a", "net1"));
  EXPECT_EQ((*list)[2].addresses, std::vector<Cidr>{parse_host_cidr("10.32.0.9/12").value()});
  EXPECT_EQ((*list)[2].created, 9);

  auto one = store->remove("a", std::string("net1"));
  ASSERT_TRUE(one);
  EXPECT_EQ(*one, 1);
  auto again = store->remove("a", std::string("net1"));
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, 0);
  ASSERT_TRUE(store->put(record("a", "net2")));
  auto all = store->remove("a", std::nullopt);
  ASSERT_TRUE(all);
  EXPECT_EQ(*all, 2);
  list = store->list();
  ASSERT_TRUE(list);
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].id, "b");
}

TEST_F(ContainerStoreTest, SharesTheDaemonDatabaseWithOtherTables) {
  {
    auto db = sqlite::Database::open(db_path());
    ASSERT_TRUE(db);
    ASSERT_TRUE(
        db->exec("CREATE TABLE identity (key TEXT PRIMARY KEY, value BLOB NOT NULL);"
                 "PRAGMA user_version = 1"));
  }
  auto store = ContainerStore::open(db_path());
  ASSERT_TRUE(store) << store.error().to_string();
  ASSERT_TRUE(store->put(record("x", "eth0")));
  auto db = sqlite::Database::open(db_path());
  ASSERT_TRUE(db);
  auto version = db->query_one<std::int64_t>("PRAGMA user_version");
  ASSERT_TRUE(version);
  EXPECT_EQ(version->value_or(-1), 1) << "the registry must leave the schema version alone";
}

class ContainerRegistryTest : public ContainerStoreTest {
 protected:
  void SetUp() override {
    ContainerStoreTest::SetUp();
    auto store = ContainerStore::open(db_path());
    ASSERT_TRUE(store);
    auto links = [this]() -> Result<std::vector<LinkInfo>> {
      return links_;
    };
    registry_ = std::make_unique<ContainerRegistry>(std::move(*store), "weft", links,
                                                    [this] { return now_; });
  }

  std::vector<LinkInfo> links_;
  std::int64_t now_ = 1'700'000'000;
  std::unique_ptr<ContainerRegistry> registry_;
};

TEST_F(ContainerRegistryTest, PutStampsListShowsAttachedAndRemoveCounts) {
  auto stored = registry_->put(record("abc", "eth0", 0));
  ASSERT_TRUE(stored) << stored.error().to_string();
  EXPECT_EQ(stored->created, now_);
  now_ += 5;
  ContainerRecord other = record("my id", "net1", 0);
  other.host_ifname = "vx2";
  ASSERT_TRUE(registry_->put(other));
  ContainerRecord bare = *api::parse_container_body("abc", "net1", "{}");
  ASSERT_TRUE(registry_->put(bare));

  LinkInfo port;
  port.name = "vethwe1a2b3c4d";
  port.master_name = "weft";
  LinkInfo stray;
  stray.name = "vx2";
  stray.master_name = "docker0";
  LinkInfo bridge;
  bridge.name = "weft";
  bridge.mac = *parse_mac_address("02:00:00:00:00:01");
  links_ = {port, stray, bridge};

  auto list = registry_->list();
  ASSERT_TRUE(list) << list.error().to_string();
  ASSERT_EQ(list->containers.size(), 3u);
  const auto& c = list->containers;
  EXPECT_EQ(c[0].record.id, "abc");
  EXPECT_EQ(c[0].record.ifname, "eth0");
  EXPECT_EQ(c[0].attached, true);
  EXPECT_EQ(c[0].record.netns, "/proc/123/ns/net");
  EXPECT_EQ(c[1].record.ifname, "net1");
  EXPECT_EQ(c[1].attached, false) << "no host_ifname";
  EXPECT_EQ(c[2].record.id, "my id");
  EXPECT_EQ(c[2].record.created, now_);
  EXPECT_EQ(c[2].attached, false) << "a port of another bridge";
  ASSERT_TRUE(list->bridge);
  EXPECT_EQ(list->bridge->mac, "02:00:00:00:00:01");

  EXPECT_EQ(registry_->remove("abc", std::string("net1")).value(), 1);
  EXPECT_EQ(registry_->remove("abc", std::string("net1")).value(), 0);
  EXPECT_EQ(registry_->remove("my id", std::nullopt).value(), 1);
  EXPECT_EQ(registry_->remove("nobody", std::nullopt).value(), 0);
  EXPECT_EQ(registry_->count().value(), 1);
}

TEST_F(ContainerRegistryTest, UnknownLinksMeanNotAttached) {
  ASSERT_TRUE(registry_->put(record("abc", "eth0")));
  auto failing = std::make_unique<ContainerRegistry>(
      *ContainerStore::open(db_path()), "weft",
      []() -> Result<std::vector<LinkInfo>> { return make_error(Errc::kIo, "no netlink"); },
      [] { return std::int64_t{0}; });
  auto list = failing->list();
  ASSERT_TRUE(list);
  EXPECT_EQ(list->containers[0].attached, false);
  EXPECT_FALSE(list->bridge);
}

}  // namespace
}  // namespace weft::weftd

// The container registry: the PUT body parser (defaults, normalisation, every rejection with
// a message naming the field), the sqlite store (replace, sorted list, delete one or all,
// survives reopening), and the HTTP routes on a real server pair (unix socket for changes,
// GET on both; percent-decoded ids; "attached" and the bridge MAC from the link list).
#include "weftd/containers.hpp"

#include <filesystem>

#include <gtest/gtest.h>

#include "common/http_client.hpp"
#include "common/http_server.hpp"
#include "tests/support/coro.hpp"
#include <fmt/format.h>
#include <unistd.h>

namespace weft::weftd {
namespace {

namespace asio = boost::asio;
namespace fs = std::filesystem;
using nlohmann::json;
using namespace std::chrono_literals;

constexpr const char* kFull = R"({"netns": "/proc/123/ns/net", "host_ifname": "vethwe1a2b3c4d",
  "mac": "AA:BB:CC:DD:EE:0F", "addresses": ["10.32.0.5/12", "fd10:32::5/48"], "source": "cni",
  "future_field": {"x": 1}})";

TEST(ContainerBody, FullBodyIsNormalised) {
  auto r = parse_container_body("abc", "eth0", kFull);
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->id, "abc");
  EXPECT_EQ(r->ifname, "eth0");
  EXPECT_EQ(r->netns, "/proc/123/ns/net");
  EXPECT_EQ(r->host_ifname, "vethwe1a2b3c4d");
  EXPECT_EQ(r->mac, "aa:bb:cc:dd:ee:0f");
  EXPECT_EQ(r->addresses, (std::vector<std::string>{"10.32.0.5/12", "fd10:32::5/48"}));
  EXPECT_EQ(r->source, "cni");
  EXPECT_EQ(r->created, 0);
}

TEST(ContainerBody, MissingFieldsAreEmptyAndSourceDefaultsToApi) {
  for (const char* body : {"{}", R"({"netns": null, "addresses": null, "source": ""})"}) {
    auto r = parse_container_body("c1", "net1", body);
    ASSERT_TRUE(r) << body << ": " << r.error().to_string();
    EXPECT_EQ(r->netns, "");
    EXPECT_EQ(r->host_ifname, "");
    EXPECT_EQ(r->mac, "");
    EXPECT_TRUE(r->addresses.empty());
    EXPECT_EQ(r->source, "api");
  }
}

TEST(ContainerBody, RejectsWithAMessageNamingTheProblem) {
  struct Case {
    const char* id;
    const char* ifname;
    const char* body;
    const char* message;
  };
  for (const Case& c : std::vector<Case>{
           {"c", "eth0", "", "not JSON"},
           {"c", "eth0", "{", "not JSON"},
           {"c", "eth0", "[]", "JSON object"},
           {"c", "eth0", "\"x\"", "JSON object"},
           {"c", "eth0", R"({"netns": 5})", "\"netns\" must be a string"},
           {"c", "eth0", R"({"mac": "aa:bb:cc:dd:ee"})", "bad \"mac\""},
           {"c", "eth0", R"({"mac": true})", "\"mac\" must be a string"},
           {"c", "eth0", R"({"addresses": "10.0.0.1/8"})", "\"addresses\" must be an array"},
           {"c", "eth0", R"({"addresses": [1]})", "\"addresses\" must be an array"},
           {"c", "eth0", R"({"addresses": ["10.0.0.300/8"]})", "bad address \"10.0.0.300/8\""},
           {"c", "eth0", R"({"addresses": ["10.0.0.1"]})", "bad address"},
           {"c", "eth0", R"({"host_ifname": "a-name-that-is-too-long"})", "host_ifname"},
           {"c", "eth0", R"({"host_ifname": "a/b"})", "host_ifname"},
           {"c", "eth0", R"({"source": ["cni"]})", "\"source\" must be a string"},
           {"", "eth0", "{}", "empty container id"},
           {"a/b", "eth0", "{}", "container id must not contain '/'"},
           {"c", "", "{}", "empty interface name"},
           {"c", "et/h0", "{}", "interface name must not contain '/'"},
       }) {
    auto r = parse_container_body(c.id, c.ifname, c.body);
    ASSERT_FALSE(r) << c.body;
    EXPECT_EQ(r.error().code, make_error_code(Errc::kInvalidArgument)) << c.body;
    EXPECT_NE(r.error().message.find(c.message), std::string::npos)
        << c.body << " -> " << r.error().message;
  }
}

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
    auto r = parse_container_body(id, ifname, kFull);
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
    replaced.addresses = {"10.32.0.9/12"};
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
  EXPECT_EQ((*list)[2].addresses, std::vector<std::string>{"10.32.0.9/12"});
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

// A registry behind two real servers, as weftd wires it.
class ContainerRegistryHttpTest : public ContainerStoreTest {
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
    api_ = std::make_unique<HttpServer>(io_.get_executor());
    status_ = std::make_unique<HttpServer>(io_.get_executor());
    registry_->add_routes(*api_, *status_);
    api_target_ = "unix:" + (dir_ / "api.sock").string();
    status_target_ = "unix:" + (dir_ / "status.sock").string();
    ASSERT_TRUE(api_->listen_unix((dir_ / "api.sock").string()));
    ASSERT_TRUE(status_->listen_unix((dir_ / "status.sock").string()));
    api_->start();
    status_->start();
  }
  void TearDown() override {
    test::run(io_, api_->stop(), 10s);
    test::run(io_, status_->stop(), 10s);
    ContainerStoreTest::TearDown();
  }

  Response call(const std::string& target, Method method, const std::string& path,
                const std::string& body = {}) {
    HttpClient client(io_.get_executor());
    auto r = test::run(io_, client.request(target, method, path, body), 20s);
    EXPECT_TRUE(r) << r.error().to_string();
    return r ? *r : Response{};
  }
  json get_json(const std::string& target, Method method, const std::string& path,
                const std::string& body = {}) {
    const Response r = call(target, method, path, body);
    EXPECT_EQ(r.status, 200) << path << ": " << r.body;
    return json::parse(r.body, nullptr, false);
  }

  asio::io_context io_;
  std::vector<LinkInfo> links_;
  std::int64_t now_ = 1'700'000'000;
  std::unique_ptr<ContainerRegistry> registry_;
  std::unique_ptr<HttpServer> api_, status_;
  std::string api_target_, status_target_;
};

TEST_F(ContainerRegistryHttpTest, PutGetDeleteOverHttp) {
  json stored = get_json(api_target_, Method::kPut, "/containers/abc/eth0", kFull);
  EXPECT_EQ(stored["mac"], "aa:bb:cc:dd:ee:0f");
  EXPECT_EQ(stored["created"], now_);
  EXPECT_EQ(stored["source"], "cni");
  now_ += 5;
  get_json(api_target_, Method::kPut, "/containers/my%20id/net1", R"({"host_ifname": "vx2"})");
  get_json(api_target_, Method::kPut, "/containers/abc/net1", "{}");

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

  for (const auto& target : {api_target_, status_target_}) {
    json list = get_json(target, Method::kGet, "/containers");
    ASSERT_EQ(list["containers"].size(), 3u) << list.dump(2);
    json& c = list["containers"];
    EXPECT_EQ(c[0]["id"], "abc");
    EXPECT_EQ(c[0]["ifname"], "eth0");
    EXPECT_EQ(c[0]["attached"], true);
    EXPECT_EQ(c[0]["addresses"], json({"10.32.0.5/12", "fd10:32::5/48"}));
    EXPECT_EQ(c[0]["netns"], "/proc/123/ns/net");
    EXPECT_EQ(c[1]["ifname"], "net1");
    EXPECT_EQ(c[1]["attached"], false) << "no host_ifname";
    EXPECT_EQ(c[2]["id"], "my id");
    EXPECT_EQ(c[2]["created"], now_);
    EXPECT_EQ(c[2]["attached"], false) << "a port of another bridge";
    EXPECT_EQ(list["bridge"]["mac"], "02:00:00:00:00:01");
  }
  // Mutations do not exist on the status server.
  EXPECT_EQ(call(status_target_, Method::kPut, "/containers/abc/eth0", "{}").status, 404);
  EXPECT_EQ(call(status_target_, Method::kDelete, "/containers/abc").status, 404);

  EXPECT_EQ(get_json(api_target_, Method::kDelete, "/containers/abc/net1")["removed"], 1);
  EXPECT_EQ(get_json(api_target_, Method::kDelete, "/containers/abc/net1")["removed"], 0);
  EXPECT_EQ(get_json(api_target_, Method::kDelete, "/containers/my%20id")["removed"], 1);
  EXPECT_EQ(get_json(api_target_, Method::kDelete, "/containers/nobody")["removed"], 0);
  EXPECT_EQ(registry_->count().value_or(-1), 1);
}

TEST_F(ContainerRegistryHttpTest, BadRequestsAre400WithAMessage) {
  const Response bad_json = call(api_target_, Method::kPut, "/containers/abc/eth0", "{nope");
  EXPECT_EQ(bad_json.status, 400);
  EXPECT_NE(bad_json.body.find("not JSON"), std::string::npos) << bad_json.body;
  const Response bad_mac =
      call(api_target_, Method::kPut, "/containers/abc/eth0", R"({"mac": "zz"})");
  EXPECT_EQ(bad_mac.status, 400);
  EXPECT_NE(bad_mac.body.find("mac"), std::string::npos) << bad_mac.body;
  const Response slash = call(api_target_, Method::kPut, "/containers/a%2Fb/eth0", "{}");
  EXPECT_EQ(slash.status, 400);
  EXPECT_NE(slash.body.find("'/'"), std::string::npos) << slash.body;
  EXPECT_EQ(call(api_target_, Method::kDelete, "/containers/a%2Fb").status, 400);
  EXPECT_EQ(registry_->count().value_or(-1), 0);
}

TEST_F(ContainerRegistryHttpTest, UnknownLinksMeanNotAttached) {
  get_json(api_target_, Method::kPut, "/containers/abc/eth0", kFull);
  auto failing = std::make_unique<ContainerRegistry>(
      *ContainerStore::open(db_path()), "weft",
      []() -> Result<std::vector<LinkInfo>> { return make_error(Errc::kIo, "no netlink"); },
      [] { return std::int64_t{0}; });
  const Response r = failing->handle_list();
  ASSERT_EQ(r.status, 200);
  json list = json::parse(r.body);
  EXPECT_EQ(list["containers"][0]["attached"], false);
  EXPECT_FALSE(list.contains("bridge"));
}

}  // namespace
}  // namespace weft::weftd

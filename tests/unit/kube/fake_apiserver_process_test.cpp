// The fake-apiserver binary as tests of other processes use it: it writes a kubeconfig that
// kube::Client loads, answers the /_fake/ controls, and a restarted process with the same
// --state keeps its objects, resourceVersion, token, port and certificates (the client of the
// first process keeps working).
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include "kube/api_status.hpp"
#include "kube/client.hpp"
#include "kube/resource.hpp"
#include "tests/support/coro.hpp"
#include "tests/support/process.hpp"
#include "tests/support/weft_lab.hpp"

namespace weft::kube {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using nlohmann::json;

class FakeApiServerProcess : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("weft-fake-apiserver-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    server_.reset();
    fs::remove_all(dir_);
  }
  // Starts the binary and waits for its kubeconfig.
  void start() {
    fs::remove(dir_ / "kubeconfig");
    test::SpawnOptions options;
    options.log_path = (dir_ / "server.log").string();
    auto spawned = test::ChildProcess::spawn(
        {test::weft_bin_dir() + "/fake-apiserver", "--state", (dir_ / "state.json").string(),
         "--kubeconfig", (dir_ / "kubeconfig").string(), "--log-requests"},
        options);
    ASSERT_TRUE(spawned) << spawned.error().message;
    server_.emplace(std::move(*spawned));
    ASSERT_TRUE(test::wait_until([&] { return fs::exists(dir_ / "kubeconfig"); }, 10s))
        << "no kubeconfig; log: " << log();
  }
  std::string log() const {
    std::ifstream in(dir_ / "server.log");
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }
  static json config_map() {
    return {{"metadata", {{"name", "kept"}, {"namespace", "default"}}}, {"data", {{"k", "v"}}}};
  }

  fs::path dir_;
  std::optional<test::ChildProcess> server_;
  boost::asio::io_context io_;
};

TEST_F(FakeApiServerProcess, RestartKeepsStateAndCredentials) {
  start();
  auto config = load_kubeconfig((dir_ / "kubeconfig").string());
  ASSERT_TRUE(config) << config.error().message;
  auto client = Client::open(io_.get_executor(), *config).value();
  const std::string path = object_path(kConfigMaps, "default", "kept");
  auto created =
      test::run(io_, client->create(collection_path(kConfigMaps, "default"), config_map()));
  ASSERT_TRUE(created) << created.error().message;
  const std::string rv = resource_version_of(*created);

  auto compacted = test::run(io_, client->request(Method::kPost, "/_fake/compact"));
  ASSERT_TRUE(compacted);
  EXPECT_EQ(compacted->status, 200);
  auto requests = test::run(io_, client->get("/_fake/requests"));
  ASSERT_TRUE(requests);
  ASSERT_TRUE(requests->is_array());
  EXPECT_EQ((*requests)[0]["method"], "POST");
  EXPECT_EQ((*requests)[0]["status"], 201);

  EXPECT_EQ(server_->stop(), 0) << log();
  start();
  auto got = test::run(io_, client->get(path));  // same port, CA and token
  ASSERT_TRUE(got) << got.error().message << "; log: " << log();
  EXPECT_EQ(resource_version_of(*got), rv);
  auto another = test::run(
      io_, client->create(collection_path(kNamespaces), {{"metadata", {{"name", "after"}}}}));
  ASSERT_TRUE(another);
  EXPECT_GT(std::stoull(resource_version_of(*another)), std::stoull(rv));

  // An API server restart from within: connections drop, the port comes back.
  auto restart = test::run(io_, client->request(Method::kPost, "/_fake/restart?downtime_ms=300"));
  ASSERT_TRUE(restart);
  EXPECT_EQ(restart->status, 200);
  const auto t0 = std::chrono::steady_clock::now();
  Result<json> back = make_error(Errc::kUnavailable, "not yet");
  while (!back && std::chrono::steady_clock::now() - t0 < 5s) {
    std::this_thread::sleep_for(20ms);
    back = test::run(io_, client->get(path));
  }
  ASSERT_TRUE(back) << back.error().message;
}

}  // namespace
}  // namespace weft::kube

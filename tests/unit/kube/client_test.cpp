// kube::Client against the in-process fake API server over loopback TLS: CRUD, keep-alive,
// errors as upstream reports them, TLS verification, client certificates, token files,
// plain HTTP, pagination and watch streams.
#include "kube/client.hpp"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <gtest/gtest.h>

#include "kube/api_status.hpp"
#include "kube/resource.hpp"
#include "tests/support/coro.hpp"
#include "tests/support/fake_apiserver.hpp"

namespace weft::kube {
namespace {

namespace asio = boost::asio;
using nlohmann::json;
using test::FakeApiServer;
using test::FakeApiServerOptions;

json namespace_object(const std::string& name) {
  return {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", name}}}};
}

json config_map(const std::string& name, const std::string& value) {
  return {{"apiVersion", "v1"},
          {"kind", "ConfigMap"},
          {"metadata", {{"name", name}, {"labels", {{"app", "weft"}}}}},
          {"data", {{"k", value}}}};
}

// GCC 12 miscompiles brace-initialised arguments (JSON initializer lists, `{}` options) in
// co_await expressions and coroutine bodies:
// the tests build their JSON in these plain functions.
json labels_patch() {
  return {{"metadata", {{"labels", {{"x", "y"}}}}}};
}
json annotations_patch() {
  return {{"metadata", {{"annotations", {{"a", "b"}}}}}};
}
json delete_options() {
  return {{"kind", "DeleteOptions"}, {"apiVersion", "v1"}};
}
ListOptions other_selector() {
  ListOptions o;
  o.label_selector = "app=other";
  o.limit = 2;
  return o;
}

class KubeClient : public ::testing::Test {
 protected:
  void SetUp() override { start(FakeApiServerOptions{}); }
  void TearDown() override {
    if (server_) {
      test::run(io_, server_->stop());
    }
  }
  void start(FakeApiServerOptions options) {
    if (server_) {
      test::run(io_, server_->stop());
    }
    options.namespace_deletion_delay = std::chrono::milliseconds(0);
    server_ = FakeApiServer::create(io_.get_executor(), options).value();
    ASSERT_TRUE(server_->start());
  }
  std::unique_ptr<Client> client(KubeConfig config) {
    auto c = Client::open(io_.get_executor(), std::move(config));
    EXPECT_TRUE(c) << c.error().message;
    return std::move(c).value();
  }
  std::unique_ptr<Client> client() { return client(server_->kube_config()); }

  asio::io_context io_;
  std::unique_ptr<FakeApiServer> server_;
};

TEST_F(KubeClient, CrudOverOneKeepAliveConnection) {
  auto c = client();
  test::run(io_, [&]() -> asio::awaitable<void> {
    auto ns = co_await c->create(collection_path(kNamespaces), namespace_object("shop"));
    EXPECT_TRUE(ns) << ns.error().message;
    auto created = co_await c->create(collection_path(kConfigMaps, "shop"), config_map("a", "1"));
    EXPECT_TRUE(created) << created.error().message;
    const std::string path = object_path(kConfigMaps, "shop", "a");
    auto got = co_await c->get(path);
    EXPECT_TRUE(got);
    EXPECT_EQ((*got)["data"]["k"], std::string("1"));
    json changed = *got;
    changed["data"]["k"] = "2";
    auto updated = co_await c->update(path, changed);
    EXPECT_TRUE(updated) << updated.error().message;
    EXPECT_EQ((*updated)["data"]["k"], std::string("2"));
    auto patched = co_await c->patch(path, labels_patch());
    EXPECT_TRUE(patched);
    EXPECT_EQ((*patched)["metadata"]["labels"].dump(), std::string(R"({"app":"weft","x":"y"})"));
    auto strategic = co_await c->patch(path, annotations_patch(), PatchType::kStrategicMerge);
    EXPECT_TRUE(strategic);
    auto removed = co_await c->remove(path, delete_options());
    EXPECT_TRUE(removed);
    EXPECT_EQ((*removed)["status"], std::string("Success"));
    auto missing = co_await c->get(path);
    EXPECT_FALSE(missing);
    EXPECT_TRUE(is_not_found(missing.error()));
    EXPECT_EQ(
        missing.error().message,
        std::string(
            "GET /api/v1/namespaces/shop/configmaps/a: 404 NotFound: configmaps \"a\" not found"));
  }());
  EXPECT_EQ(c->stats().connections_opened, 1u);
  EXPECT_EQ(c->stats().requests, 8u);
}

TEST_F(KubeClient, ConflictsAndExistingNamesAreDistinguishable) {
  auto c = client();
  test::run(io_, [&]() -> asio::awaitable<void> {
    const std::string pods = collection_path(kConfigMaps, "default");
    auto first = co_await c->create(pods, config_map("a", "1"));
    EXPECT_TRUE(first);
    auto again = co_await c->create(pods, config_map("a", "1"));
    EXPECT_FALSE(again);
    EXPECT_TRUE(is_already_exists(again.error()));
    EXPECT_FALSE(is_conflict(again.error()));
    json stale = *first;
    auto ok = co_await c->update(object_path(kConfigMaps, "default", "a"), config_map("a", "2"));
    EXPECT_TRUE(ok) << ok.error().message;  // no resourceVersion: unconditional
    auto conflict = co_await c->update(object_path(kConfigMaps, "default", "a"), stale);
    EXPECT_FALSE(conflict);
    EXPECT_TRUE(is_conflict(conflict.error()));
    auto wrong_ns = co_await c->create(collection_path(kConfigMaps, "nope"), config_map("b", ""));
    EXPECT_TRUE(is_not_found(wrong_ns.error()));
  }());
}

TEST_F(KubeClient, ServerAndConnectionFailuresAreTemporary) {
  auto c = client();
  test::run(io_, [&]() -> asio::awaitable<void> {
    server_->fail_next(503, 1);
    auto failed = co_await c->get("/api/v1/namespaces/default");
    EXPECT_FALSE(failed);
    EXPECT_TRUE(is_temporary(failed.error()));
    auto ok = co_await c->get("/api/v1/namespaces/default");
    EXPECT_TRUE(ok);
    co_await server_->stop();
    auto refused = co_await c->get("/api/v1/namespaces/default");
    EXPECT_FALSE(refused);
    EXPECT_TRUE(is_temporary(refused.error())) << refused.error().message;
    EXPECT_NE(refused.error().message.find("cannot connect"), std::string::npos)
        << refused.error().message;
    EXPECT_TRUE(server_->start());
    auto back = co_await c->get("/api/v1/namespaces/default");
    EXPECT_TRUE(back) << back.error().message;
  }());
}

TEST_F(KubeClient, StaleKeepAliveConnectionIsRetriedOnce) {
  auto c = client();
  test::run(io_, [&]() -> asio::awaitable<void> {
    EXPECT_TRUE(co_await c->get("/api"));
    co_await server_->stop();  // an API server restart closes every connection
    EXPECT_TRUE(server_->start());
    auto r = co_await c->get("/api");
    EXPECT_TRUE(r) << r.error().message;
  }());
  EXPECT_EQ(c->stats().stale_retries, 1u);
  EXPECT_EQ(c->stats().connections_opened, 2u);
}

TEST_F(KubeClient, WrongTokenIsAuthFailed) {
  KubeConfig config = server_->kube_config();
  config.token = "not-the-token";
  auto c = client(config);
  auto r = test::run(io_, c->get("/api/v1/namespaces"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, make_error_code(Errc::kAuthFailed));
  EXPECT_NE(r.error().message.find("401 Unauthorized"), std::string::npos) << r.error().message;
}

TEST_F(KubeClient, VerifiesTheServerCertificate) {
  auto other = test::generate_tls_identity({"localhost"}, {"127.0.0.1"}).value();
  KubeConfig wrong_ca = server_->kube_config();
  wrong_ca.ca.data = other.ca_cert_pem;
  auto r = test::run(io_, client(wrong_ca)->get("/api"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, make_error_code(Errc::kAuthFailed)) << r.error().message;

  KubeConfig wrong_name = server_->kube_config();
  wrong_name.tls_server_name = "api.example.com";
  r = test::run(io_, client(wrong_name)->get("/api"));
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("mismatch"), std::string::npos) << r.error().message;

  KubeConfig insecure = server_->kube_config();
  insecure.ca = {};
  insecure.insecure_skip_tls_verify = true;
  r = test::run(io_, client(insecure)->get("/api"));
  EXPECT_TRUE(r) << r.error().message;

  KubeConfig by_name = server_->kube_config();
  by_name.host = "localhost";  // resolved, and checked against the DNS name in the certificate
  r = test::run(io_, client(by_name)->get("/api"));
  EXPECT_TRUE(r) << r.error().message;

  KubeConfig bad_pem = server_->kube_config();
  bad_pem.ca.data = "not a certificate";
  EXPECT_FALSE(Client::open(io_.get_executor(), bad_pem));
}

TEST_F(KubeClient, ClientCertificateAuthenticates) {
  auto cert = server_->issue_client_certificate("alice").value();
  KubeConfig config = server_->kube_config();
  config.token.clear();
  config.client_cert.data = cert.cert_pem;
  config.client_key.data = cert.key_pem;
  auto r = test::run(io_, client(config)->get("/api/v1/namespaces/default"));
  EXPECT_TRUE(r) << r.error().message;
  ASSERT_FALSE(server_->requests().empty());
  EXPECT_EQ(server_->requests().back().user, std::string("alice"));
}

TEST_F(KubeClient, TokenFileIsReadAgainWhenItChanges) {
  const auto file =
      std::filesystem::temp_directory_path() / ("weft-kube-token-" + std::to_string(::getpid()));
  std::ofstream(file) << "expired\n";
  KubeConfig config = server_->kube_config();
  config.token.clear();
  config.token_file = file.string();
  auto c = client(config);
  auto r = test::run(io_, c->get("/api"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, make_error_code(Errc::kAuthFailed));
  std::ofstream(file) << server_->token() << "\n";  // rotated (another size and time)
  r = test::run(io_, c->get("/api"));
  EXPECT_TRUE(r) << r.error().message;
  r = test::run(io_, c->get("/api"));
  EXPECT_TRUE(r);
  EXPECT_EQ(c->stats().token_reads, 2u);
  std::filesystem::remove(file);
  r = test::run(io_, c->get("/api"));  // the last token stays in use while the file is away
  EXPECT_TRUE(r);
}

TEST_F(KubeClient, PlainHttpServer) {
  FakeApiServerOptions options;
  options.tls = false;
  start(options);
  KubeConfig config = server_->kube_config();
  EXPECT_FALSE(config.tls);
  auto r = test::run(io_, client(config)->get("/version"));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ((*r)["major"], std::string("1"));
}

TEST_F(KubeClient, KubeconfigWrittenByTheFakeLoads) {
  const auto file =
      std::filesystem::temp_directory_path() / ("weft-kubeconfig-" + std::to_string(::getpid()));
  ASSERT_TRUE(server_->write_kubeconfig(file.string()));
  auto config = load_kubeconfig(file.string());
  std::filesystem::remove(file);
  ASSERT_TRUE(config) << config.error().message;
  EXPECT_EQ(config->namespace_name, std::string("default"));
  auto r = test::run(io_, client(*config)->get("/api/v1/namespaces/kube-system"));
  EXPECT_TRUE(r) << r.error().message;
}

TEST_F(KubeClient, ListsEveryPage) {
  auto c = client();
  test::run(io_, [&]() -> asio::awaitable<void> {
    for (int i = 0; i < 7; ++i) {
      auto r = co_await c->create(collection_path(kConfigMaps, "default"),
                                  config_map("cm" + std::to_string(i), "v"));
      EXPECT_TRUE(r);
    }
    ListOptions options;
    options.limit = 3;
    options.label_selector = "app=weft";
    auto page = co_await c->list(collection_path(kConfigMaps, "default"), options);
    EXPECT_TRUE(page);
    EXPECT_EQ(page->items.size(), 3u);
    EXPECT_FALSE(page->continue_token.empty());
    server_->clear_requests();
    auto all = co_await c->list_all(collection_path(kConfigMaps), options);
    EXPECT_TRUE(all) << all.error().message;
    EXPECT_EQ(all->items.size(), 7u);
    EXPECT_EQ(all->kind, std::string("ConfigMapList"));
    EXPECT_EQ(all->resource_version, page->resource_version);
    EXPECT_EQ(server_->requests().size(), 3u);
    // A continue token that expires mid-list (410) starts the list over, once.
    options.continue_token = page->continue_token;
    auto later = co_await c->create(collection_path(kConfigMaps, "default"), config_map("z", "v"));
    EXPECT_TRUE(later);
    server_->compact();  // the first page's snapshot is older than the compaction now
    auto expired = co_await c->list(collection_path(kConfigMaps, "default"), options);
    EXPECT_FALSE(expired);
    EXPECT_TRUE(is_gone(expired.error()));
    auto selected = co_await c->list_all(collection_path(kConfigMaps, "default"), other_selector());
    EXPECT_TRUE(selected);
    EXPECT_TRUE(selected->items.empty());
  }());
}

TEST_F(KubeClient, WatchDeliversEventsBookmarksAndEnds) {
  auto c = client();
  test::run(io_, [&]() -> asio::awaitable<void> {
    const ListOptions everything;
    auto list = co_await c->list(collection_path(kConfigMaps), everything);
    EXPECT_TRUE(list);
    WatchOptions options;
    options.resource_version = list->resource_version;
    options.timeout = std::chrono::seconds(1);
    auto opened = co_await c->watch(collection_path(kConfigMaps), options);
    EXPECT_TRUE(opened) << opened.error().message;
    auto& watch = *opened;
    auto created =
        co_await c->create(collection_path(kConfigMaps, "default"), config_map("w", "1"));
    EXPECT_TRUE(created);
    auto event = co_await watch->next();
    EXPECT_TRUE(event && *event);
    EXPECT_EQ((*event)->type, EventType::kAdded);
    EXPECT_EQ(name_of((*event)->object), std::string("w"));
    EXPECT_EQ((*event)->object["kind"], std::string("ConfigMap"));
    auto removed = co_await c->remove(object_path(kConfigMaps, "default", "w"));
    EXPECT_TRUE(removed);
    event = co_await watch->next();
    EXPECT_EQ((*event)->type, EventType::kDeleted);
    // A change elsewhere moves the resourceVersion: the next bookmark carries it.
    auto ns = co_await c->create(collection_path(kNamespaces), namespace_object("elsewhere"));
    EXPECT_TRUE(ns);
    server_->bookmark_now();
    event = co_await watch->next();
    EXPECT_EQ((*event)->type, EventType::kBookmark);
    EXPECT_EQ(resource_version_of((*event)->object), resource_version_of(*ns));
    const auto t0 = std::chrono::steady_clock::now();
    event = co_await watch->next();  // timeoutSeconds=1: the server ends the stream
    EXPECT_TRUE(event);
    EXPECT_FALSE(*event);
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(3));
  }());
}

TEST_F(KubeClient, WatchFromACompactedVersionIsGone) {
  auto c = client();
  test::run(io_, [&]() -> asio::awaitable<void> {
    const auto old_rv = std::to_string(server_->resource_version());
    auto r = co_await c->create(collection_path(kConfigMaps, "default"), config_map("x", "1"));
    EXPECT_TRUE(r);
    server_->compact();
    WatchOptions options;
    options.resource_version = old_rv;
    auto opened = co_await c->watch(collection_path(kConfigMaps), options);
    EXPECT_TRUE(opened) << opened.error().message;  // upstream: 200, then an ERROR event
    auto event = co_await (*opened)->next();
    EXPECT_TRUE(event && *event);
    EXPECT_EQ((*event)->type, EventType::kError);
    EXPECT_EQ(parse_status((*event)->object)->code, 410);
  }());
  FakeApiServerOptions options;
  options.gone_as_http_status = true;
  start(options);
  auto c2 = client();
  test::run(io_, [&]() -> asio::awaitable<void> {
    server_->compact();
    WatchOptions watch_options;
    watch_options.resource_version = "1";
    auto opened = co_await c2->watch(collection_path(kPods), watch_options);
    EXPECT_FALSE(opened);
    EXPECT_TRUE(is_gone(opened.error())) << opened.error().message;
  }());
}

TEST_F(KubeClient, AbruptlyDroppedWatchIsAnError) {
  auto c = client();
  test::run(io_, [&]() -> asio::awaitable<void> {
    const WatchOptions from_now;
    auto opened = co_await c->watch(collection_path(kPods), from_now);
    EXPECT_TRUE(opened);
    server_->drop_watches(true);
    auto event = co_await (*opened)->next();
    EXPECT_FALSE(event);
    EXPECT_TRUE(is_temporary(event.error())) << event.error().message;
    auto again = co_await c->watch(collection_path(kPods), from_now);
    EXPECT_TRUE(again);
    server_->drop_watches(false);  // a clean end of stream
    event = co_await (*again)->next();
    EXPECT_TRUE(event);
    EXPECT_FALSE(*event);
  }());
}

}  // namespace
}  // namespace weft::kube

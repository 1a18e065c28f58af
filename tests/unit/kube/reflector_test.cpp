// kube::Reflector against the in-process fake API server (real loopback TLS, real time with
// short intervals): the initial list (paged), ADDED/MODIFIED/DELETED, bookmarks, 410 Gone ->
// one replace() without an empty state in between, an API server restart mid-watch, the
// periodic resync, selectors, failing lists with backoff, and stop().
#include "kube/reflector.hpp"

#include <chrono>
#include <functional>
#include <map>

#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include "common/clock.hpp"
#include "common/rng.hpp"
#include "kube/resource.hpp"
#include "tests/support/coro.hpp"
#include "tests/support/fake_apiserver.hpp"

namespace weft::kube {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using test::FakeApiServer;
using test::FakeApiServerOptions;

// Keeps the state a consumer would keep, and records how it got there.
class RecordingSink final : public WatchSink {
 public:
  void replace(std::vector<json> items, std::string resource_version) override {
    std::map<std::string, json> next;
    for (auto& item : items) {
      const auto key = namespace_of(item) + "/" + name_of(item);
      next[key] = std::move(item);
    }
    state = std::move(next);
    ++replaces;
    last_replace_rv = std::move(resource_version);
    check();
  }
  void apply(EventType type, json object) override {
    const auto key = namespace_of(object) + "/" + name_of(object);
    if (type == EventType::kDeleted) {
      state.erase(key);
    } else {
      state[key] = std::move(object);
    }
    applied.push_back(std::string(to_string(type)) + " " + key);
    check();
  }
  std::string value(const std::string& key) const {
    auto it = state.find(key);
    return it == state.end() ? std::string("<none>") : it->second["data"].value("k", "");
  }
  std::size_t calls() const { return replaces + applied.size(); }

  std::map<std::string, json> state;
  std::vector<std::string> applied;
  std::size_t replaces = 0;
  std::string last_replace_rv;
  bool went_empty = false;  // the state was empty after having had objects

 private:
  void check() {
    if (state.empty() && had_objects_) {
      went_empty = true;
    }
    had_objects_ = had_objects_ || !state.empty();
  }
  bool had_objects_ = false;
};

json config_map(const std::string& name, const std::string& value,
                const std::string& app = "weft") {
  return {{"metadata", {{"name", name}, {"namespace", "default"}, {"labels", {{"app", app}}}}},
          {"data", {{"k", value}}}};
}

class KubeReflector : public ::testing::Test {
 protected:
  void SetUp() override { start_server({}); }
  void TearDown() override {
    if (reflector_) {
      test::run(io_, reflector_->stop());
    }
    test::run(io_, server_->stop());
  }
  void start_server(FakeApiServerOptions options) {
    if (server_) {
      test::run(io_, server_->stop());
    }
    options.bookmark_interval = 100ms;
    server_ = FakeApiServer::create(io_.get_executor(), options).value();
    ASSERT_TRUE(server_->start());
    client_ = Client::open(io_.get_executor(), server_->kube_config()).value();
  }
  ReflectorOptions options() {
    ReflectorOptions o;
    o.path = collection_path(kConfigMaps);
    o.page_size = 2;
    o.resync_interval = 0s;
    o.backoff_initial = 20ms;
    o.backoff_max = 200ms;
    return o;
  }
  void start(ReflectorOptions o) {
    reflector_ = std::make_unique<Reflector>(*client_, sink_, clock_, rng_, std::move(o));
    reflector_->start();
  }
  bool run_until(const std::function<bool()>& done, std::chrono::milliseconds limit = 5s) {
    return test::run_until(io_, done, limit);
  }
  void create(const std::string& name, const std::string& value, const std::string& app = "weft") {
    ASSERT_TRUE(server_->create("configmaps", config_map(name, value, app)));
  }
  void set(const std::string& name, const std::string& value) {
    ASSERT_TRUE(server_->merge_patch("configmaps", "default", name, {{"data", {{"k", value}}}}));
  }
  std::string server_rv() const { return std::to_string(server_->resource_version()); }

  // An API server restart while the reflector is away long enough for its version to be
  // compacted: the watch gets 410, the reflector relists and hands over one snapshot.
  void expect_gone_replaces_the_state() {
    ASSERT_TRUE(run_until([&] { return server_->open_watches() == 1; }));
    test::run(io_, server_->stop());
    set("b", "2");
    ASSERT_TRUE(server_->remove("configmaps", "default", "c"));
    create("d", "1");
    server_->compact();
    ASSERT_TRUE(server_->start());
    ASSERT_TRUE(
        run_until([&] { return reflector_->status().relists_gone == 1 && sink_.replaces == 2; }));
    EXPECT_EQ(sink_.state.size(), 3u);
    EXPECT_EQ(sink_.value("default/b"), "2");
    EXPECT_EQ(sink_.value("default/c"), "<none>");
    EXPECT_EQ(sink_.value("default/d"), "1");
    EXPECT_TRUE(sink_.applied.empty());
    EXPECT_FALSE(sink_.went_empty);
    EXPECT_EQ(reflector_->status().lists, 2u);
  }

  boost::asio::io_context io_;
  std::unique_ptr<FakeApiServer> server_;
  std::unique_ptr<Client> client_;
  SteadyClock clock_;
  SeededRng rng_{7};
  RecordingSink sink_;
  std::unique_ptr<Reflector> reflector_;
};

TEST_F(KubeReflector, ListsThenAppliesEveryChange) {
  create("a", "1");
  create("b", "1");
  create("c", "1");
  start(options());
  ASSERT_TRUE(run_until([&] { return reflector_->status().synced; }));
  EXPECT_EQ(sink_.replaces, 1u);
  EXPECT_EQ(sink_.state.size(), 3u);  // three pages of two
  EXPECT_EQ(sink_.last_replace_rv, server_rv());
  set("a", "2");
  create("d", "1");
  ASSERT_TRUE(server_->remove("configmaps", "default", "b"));
  ASSERT_TRUE(run_until([&] { return sink_.applied.size() == 3; }));
  EXPECT_EQ(sink_.applied, (std::vector<std::string>{"MODIFIED default/a", "ADDED default/d",
                                                     "DELETED default/b"}));
  EXPECT_EQ(sink_.value("a"), "<none>");  // keys are namespace/name
  EXPECT_EQ(sink_.value("default/a"), "2");
  EXPECT_EQ(sink_.state.size(), 3u);
  EXPECT_EQ(reflector_->status().resource_version, server_rv());
  EXPECT_EQ(reflector_->status().events, 3u);
  EXPECT_EQ(reflector_->status().lists, 1u);
  EXPECT_EQ(reflector_->status().watch_restarts, 0u);
}

// A transform sees every object, listed or watched, before the sink does; the reflector still
// follows the resourceVersion of events whose metadata the transform drops.
TEST_F(KubeReflector, TransformShapesWhatTheSinkKeeps) {
  create("a", "1");
  create("b", "1");
  create("c", "1");
  auto o = options();
  o.transform = [](nlohmann::json& object) {
    object["data"]["k"] = object["data"].value("k", "") + "!";
    object["metadata"].erase("resourceVersion");
  };
  start(std::move(o));
  ASSERT_TRUE(run_until([&] { return reflector_->status().synced; }));
  EXPECT_EQ(sink_.value("default/a"), "1!");
  EXPECT_EQ(sink_.value("default/c"), "1!");  // the last page too
  set("a", "2");
  ASSERT_TRUE(run_until([&] { return sink_.applied.size() == 1; }));
  EXPECT_EQ(sink_.value("default/a"), "2!");
  EXPECT_EQ(reflector_->status().resource_version, server_rv());
}

TEST_F(KubeReflector, BookmarksAdvanceTheResourceVersion) {
  create("a", "1");
  start(options());
  ASSERT_TRUE(run_until([&] { return reflector_->status().synced; }));
  ASSERT_TRUE(server_->create("namespaces", {{"metadata", {{"name", "elsewhere"}}}}));
  ASSERT_TRUE(run_until([&] { return reflector_->status().resource_version == server_rv(); }));
  EXPECT_GE(reflector_->status().bookmarks, 1u);
  EXPECT_TRUE(sink_.applied.empty());  // bookmarks never reach the sink
}

TEST_F(KubeReflector, GoneAsErrorEventRelistsIntoOneReplace) {
  create("a", "1");
  create("b", "1");
  create("c", "1");
  start(options());
  ASSERT_TRUE(run_until([&] { return reflector_->status().synced; }));
  expect_gone_replaces_the_state();
}

TEST_F(KubeReflector, GoneAsHttpStatusRelistsIntoOneReplace) {
  FakeApiServerOptions o;
  o.gone_as_http_status = true;
  start_server(o);
  create("a", "1");
  create("b", "1");
  create("c", "1");
  start(options());
  ASSERT_TRUE(run_until([&] { return reflector_->status().synced; }));
  expect_gone_replaces_the_state();
}

TEST_F(KubeReflector, RestartMidWatchResumesFromItsVersion) {
  create("a", "1");
  start(options());
  ASSERT_TRUE(run_until([&] { return server_->open_watches() == 1; }));
  test::run(io_, server_->stop());
  set("a", "2");
  create("b", "1");
  ASSERT_TRUE(run_until([&] { return reflector_->status().errors >= 1; }));  // refused
  ASSERT_TRUE(server_->start());
  ASSERT_TRUE(
      run_until([&] { return sink_.state.size() == 2 && sink_.value("default/a") == "2"; }));
  EXPECT_EQ(reflector_->status().lists, 1u);  // the missed changes came as events: no relist
  EXPECT_GE(reflector_->status().watch_restarts, 1u);
  EXPECT_EQ(sink_.applied, (std::vector<std::string>{"MODIFIED default/a", "ADDED default/b"}));
  EXPECT_FALSE(reflector_->status().last_error.empty());
}

TEST_F(KubeReflector, EndedStreamsAreWatchedAgain) {
  create("a", "1");
  start(options());
  ASSERT_TRUE(run_until([&] { return server_->open_watches() == 1; }));
  server_->drop_watches(false);
  ASSERT_TRUE(run_until([&] { return reflector_->status().watches == 2; }));
  set("a", "3");
  ASSERT_TRUE(run_until([&] { return sink_.value("default/a") == "3"; }));
  EXPECT_EQ(reflector_->status().lists, 1u);
}

TEST_F(KubeReflector, PeriodicResyncReplacesTheState) {
  create("a", "1");
  create("b", "1");
  auto o = options();
  o.resync_interval = 300ms;
  start(o);
  ASSERT_TRUE(run_until([&] { return sink_.replaces >= 3; }));  // the list and two resyncs
  EXPECT_GE(reflector_->status().resyncs, 2u);
  EXPECT_EQ(sink_.state.size(), 2u);
  EXPECT_FALSE(sink_.went_empty);
  set("b", "2");  // the watch between resyncs still delivers
  ASSERT_TRUE(run_until([&] { return sink_.value("default/b") == "2"; }));
}

TEST_F(KubeReflector, SelectorsFollowObjectsInAndOut) {
  create("a", "1");
  create("b", "1", "other");
  auto o = options();
  o.label_selector = "app=weft";
  start(o);
  ASSERT_TRUE(run_until([&] { return reflector_->status().synced; }));
  EXPECT_EQ(sink_.state.size(), 1u);
  ASSERT_TRUE(server_->merge_patch("configmaps", "default", "b",
                                   {{"metadata", {{"labels", {{"app", "weft"}}}}}}));
  ASSERT_TRUE(server_->merge_patch("configmaps", "default", "a",
                                   {{"metadata", {{"labels", {{"app", "gone"}}}}}}));
  ASSERT_TRUE(run_until([&] { return sink_.applied.size() == 2; }));
  EXPECT_EQ(sink_.applied, (std::vector<std::string>{"ADDED default/b", "DELETED default/a"}));
}

TEST_F(KubeReflector, FailingListsBackOffUntilTheyWork) {
  create("a", "1");
  server_->fail_next(503, 3);
  start(options());
  ASSERT_TRUE(run_until([&] { return reflector_->status().synced; }));
  EXPECT_EQ(reflector_->status().errors, 3u);
  EXPECT_NE(reflector_->status().last_error.find("503"), std::string::npos)
      << reflector_->status().last_error;
  EXPECT_EQ(sink_.state.size(), 1u);
}

TEST_F(KubeReflector, NothingReachesTheSinkAfterStop) {
  create("a", "1");
  start(options());
  ASSERT_TRUE(run_until([&] { return reflector_->status().synced; }));
  test::run(io_, reflector_->stop());
  const auto calls = sink_.calls();
  set("a", "2");
  create("b", "1");
  run_until([] { return false; }, 200ms);
  EXPECT_EQ(sink_.calls(), calls);
  EXPECT_EQ(server_->open_watches(), 0u);
  reflector_.reset();
}

}  // namespace
}  // namespace weft::kube

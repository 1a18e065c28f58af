// FakeApiServer: construction, persistence, kubeconfigs and the C++ API over the store; the
// HTTP layer is fake_apiserver_http.cpp (design note in fake_apiserver_state.hpp).
#include "tests/support/fake_apiserver.hpp"

#include <filesystem>
#include <fstream>
#include <iterator>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "common/http_parse.hpp"
#include "common/log.hpp"
#include "kube/api_status.hpp"
#include "kube/base64.hpp"
#include "tests/support/fake_apiserver_state.hpp"

namespace weft::test {

namespace asio = boost::asio;
using nlohmann::json;
using State = FakeApiServer::State;

namespace fake_server {

// ---------------------------------------------------------------- persistence

void save_state(const State& s) {
  if (s.options.state_file.empty()) {
    return;
  }
  json state = {{"version", 1},
                {"port", s.port},
                {"token", s.token},
                {"tls",
                 {{"caCert", s.identity.ca_cert_pem},
                  {"caKey", s.identity.ca_key_pem},
                  {"serverCert", s.identity.server_cert_pem},
                  {"serverKey", s.identity.server_key_pem}}},
                {"store", s.store.dump()}};
  const std::string tmp = s.options.state_file + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << state.dump();
    if (!out) {
      log::warn("fake apiserver cannot write state", {{"file", tmp}});
      return;
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, s.options.state_file, ec);
  if (ec) {
    log::warn("fake apiserver cannot write state",
              {{"file", s.options.state_file}, {"error", ec.message()}});
  }
}

void schedule_save(State& s) {
  if (s.options.state_file.empty() || s.save_scheduled) {
    return;
  }
  s.save_scheduled = true;
  asio::post(s.executor, [weak = s.weak_from_this()] {
    if (auto locked = weak.lock()) {
      locked->save_scheduled = false;
      save_state(*locked);
    }
  });
}

}  // namespace fake_server

namespace {

std::string random_token() {
  SystemRng rng;
  std::string out;
  for (int i = 0; i < 4; ++i) {
    out += fmt::format("{:016x}", rng.next_u64());
  }
  return out;
}

Result<void> load_state(State& s) {
  std::ifstream in(s.options.state_file, std::ios::binary);
  if (!in) {
    return {};  // a first start
  }
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto doc = parse_json_body(text, 128, 1024 * 1024 * 1024);
  if (!doc || !doc->is_object() || !(*doc)["tls"].is_object()) {
    return make_error(Errc::kMalformed, "fake apiserver state {}: not a state file",
                      s.options.state_file);
  }
  const json& tls = (*doc)["tls"];
  s.identity.ca_cert_pem = tls.value("caCert", "");
  s.identity.ca_key_pem = tls.value("caKey", "");
  s.identity.server_cert_pem = tls.value("serverCert", "");
  s.identity.server_key_pem = tls.value("serverKey", "");
  if (s.token.empty()) {
    s.token = doc->value("token", "");
  }
  if (s.port == 0) {
    s.port = doc->value("port", std::uint16_t{0});
  }
  auto restored = s.store.restore((*doc)["store"]);
  if (!restored) {
    return make_error(Errc::kMalformed, "fake apiserver state {}: {}", s.options.state_file,
                      restored.error().message);
  }
  return {};
}

// ---------------------------------------------------------------- HTTP pieces

// The namespace controller: a Terminating namespace goes after namespace_deletion_delay.
asio::awaitable<void> finalize_later(std::weak_ptr<State> weak, std::string name) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  if (auto s = weak.lock()) {
    timer.expires_after(s->options.namespace_deletion_delay);
  }
  co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  if (auto s = weak.lock()) {
    (void)s->store.finalize_namespace(name);
  }
}

Result<json> to_result(const fake::Outcome<json>& outcome) {
  if (outcome) {
    return *outcome;
  }
  const auto& f = outcome.error();
  return kube::status_error(kube::ApiStatus{f.code, f.reason, f.message}, "fake apiserver");
}

Result<const fake::Resource*> resource_named(const std::string& name) {
  const fake::Resource* r = fake::find_resource(name);
  if (r == nullptr) {
    return make_error(Errc::kInvalidArgument, "fake apiserver: unknown resource {}", name);
  }
  return r;
}

std::string meta_string(const json& object, const char* key) {
  return kube::field_value(object, std::string("metadata.") + key).value_or("");
}

}  // namespace

// ---------------------------------------------------------------- FakeApiServer

FakeApiServer::FakeApiServer(std::shared_ptr<State> state) : state_(std::move(state)) {}

FakeApiServer::~FakeApiServer() {
  if (state_->tasks) {
    state_->stopping = true;
    state_->tasks->cancel();
  }
}

Result<std::unique_ptr<FakeApiServer>> FakeApiServer::create(asio::any_io_executor executor,
                                                             FakeApiServerOptions options) {
  auto s = std::make_shared<State>(std::move(executor), std::move(options));
  s->token = s->options.token;
  s->port = s->options.port;
  if (!s->options.state_file.empty()) {
    WEFT_TRY_VOID(load_state(*s));
  }
  if (s->identity.server_cert_pem.empty()) {
    WEFT_TRY(s->identity, generate_tls_identity({"localhost"}, {"127.0.0.1", "::1"}));
  }
  if (s->token.empty()) {
    s->token = random_token();
  }
  if (s->options.tls) {
    WEFT_TRY(s->tls, fake_server::server_tls(s->identity));
  }
  if (s->options.seed_namespaces && s->store.resource_version() == 1) {
    for (const char* name : {"default", "kube-system", "kube-public", "kube-node-lease"}) {
      auto created = s->store.create(*fake::find_resource("namespaces"), {},
                                     json{{"metadata", {{"name", name}}}});
      if (!created) {
        return make_error(Errc::kIo, "fake apiserver: seeding namespace {}: {}", name,
                          created.error().message);
      }
    }
  }
  s->store.set_deferred_namespace_deletion(s->options.namespace_deletion_delay.count() > 0);
  s->store.subscribe([raw = s.get()](const fake::Event& event) {
    fake_server::schedule_save(*raw);
    if (event.resource->kind == "Namespace" && event.type == kube::EventType::kModified &&
        !meta_string(event.object, "deletionTimestamp").empty() &&
        meta_string(event.previous, "deletionTimestamp").empty()) {
      asio::co_spawn(raw->executor,
                     finalize_later(raw->weak_from_this(), meta_string(event.object, "name")),
                     asio::detached);
    }
  });
  return std::make_unique<FakeApiServer>(std::move(s));
}

Result<void> FakeApiServer::start() {
  return fake_server::start_listening(state_);
}

asio::awaitable<void> FakeApiServer::stop() {
  co_await fake_server::stop_listening(state_);
}

bool FakeApiServer::listening() const {
  return state_->acceptor.has_value();
}

std::uint16_t FakeApiServer::port() const {
  return state_->port;
}

std::string FakeApiServer::url() const {
  return fmt::format("{}://{}", state_->options.tls ? "https" : "http", state_->address_port());
}

const std::string& FakeApiServer::token() const {
  return state_->token;
}

const TlsIdentity& FakeApiServer::identity() const {
  return state_->identity;
}

std::string FakeApiServer::kubeconfig(const std::string& token) const {
  const std::string ca = state_->options.tls
                             ? fmt::format("    certificate-authority-data: {}\n",
                                           kube::base64_encode(state_->identity.ca_cert_pem))
                             : std::string();
  return fmt::format(
      "apiVersion: v1\n"
      "kind: Config\n"
      "clusters:\n"
      "- name: weft-fake\n"
      "  cluster:\n"
      "    server: {}\n"
      "{}"
      "contexts:\n"
      "- name: weft-fake\n"
      "  context:\n"
      "    cluster: weft-fake\n"
      "    user: weft-fake\n"
      "    namespace: default\n"
      "current-context: weft-fake\n"
      "preferences: {{}}\n"
      "users:\n"
      "- name: weft-fake\n"
      "  user:\n"
      "    token: {}\n",
      url(), ca, token.empty() ? state_->token : token);
}

Result<void> FakeApiServer::write_kubeconfig(const std::string& path) const {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << kubeconfig();
    if (!out) {
      return make_error(Errc::kIo, "cannot write {}", tmp);
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    return make_error(Errc::kIo, "cannot write {}: {}", path, ec.message());
  }
  return {};
}

kube::KubeConfig FakeApiServer::kube_config() const {
  kube::KubeConfig config;
  (void)kube::parse_server_url(url(), config);
  if (state_->options.tls) {
    config.ca.data = state_->identity.ca_cert_pem;
  }
  config.token = state_->token;
  config.context_name = "weft-fake";
  return config;
}

Result<ClientCertificate> FakeApiServer::issue_client_certificate(const std::string& user) const {
  return test::issue_client_certificate(state_->identity, user, {});
}

Result<json> FakeApiServer::create(const std::string& resource, json object) {
  WEFT_TRY(const auto* r, resource_named(resource));
  const auto ns = meta_string(object, "namespace");
  return to_result(state_->store.create(*r, r->namespaced ? ns : std::string(), std::move(object)));
}

Result<json> FakeApiServer::get(const std::string& resource, const std::string& ns,
                                const std::string& name) const {
  WEFT_TRY(const auto* r, resource_named(resource));
  return to_result(state_->store.get(*r, r->namespaced ? ns : std::string(), name));
}

Result<json> FakeApiServer::update(const std::string& resource, json object) {
  WEFT_TRY(const auto* r, resource_named(resource));
  const auto ns = r->namespaced ? meta_string(object, "namespace") : std::string();
  const auto name = meta_string(object, "name");
  return to_result(state_->store.update(*r, ns, name, std::move(object), false));
}

Result<json> FakeApiServer::update_status(const std::string& resource, json object) {
  WEFT_TRY(const auto* r, resource_named(resource));
  const auto ns = r->namespaced ? meta_string(object, "namespace") : std::string();
  const auto name = meta_string(object, "name");
  return to_result(state_->store.update(*r, ns, name, std::move(object), r->status_subresource));
}

Result<json> FakeApiServer::merge_patch(const std::string& resource, const std::string& ns,
                                        const std::string& name, const json& patch) {
  WEFT_TRY(const auto* r, resource_named(resource));
  return to_result(state_->store.patch(*r, r->namespaced ? ns : std::string(), name,
                                       fake::PatchKind::kMerge, patch, false));
}

Result<json> FakeApiServer::remove(const std::string& resource, const std::string& ns,
                                   const std::string& name) {
  WEFT_TRY(const auto* r, resource_named(resource));
  return to_result(state_->store.remove(*r, r->namespaced ? ns : std::string(), name));
}

std::vector<json> FakeApiServer::list(const std::string& resource, const std::string& ns) const {
  const fake::Resource* r = fake::find_resource(resource);
  if (r == nullptr) {
    return {};
  }
  fake::Filter filter;
  filter.resource = r;
  filter.ns = ns;
  return state_->store.objects(filter);
}

std::uint64_t FakeApiServer::resource_version() const {
  return state_->store.resource_version();
}

void FakeApiServer::compact() {
  state_->store.compact();
}

void FakeApiServer::drop_watches(bool abrupt) {
  fake_server::drop_watches(*state_, abrupt);
}

void FakeApiServer::bookmark_now() {
  for (Watcher* w : state_->watchers) {
    w->bookmark_due = true;
    w->wake();
  }
}

void FakeApiServer::fail_next(int status, int count) {
  state_->fail_status = status;
  state_->fail_count = count;
}

std::size_t FakeApiServer::open_watches() const {
  return state_->watchers.size();
}

const std::vector<RequestRecord>& FakeApiServer::requests() const {
  return state_->log;
}

void FakeApiServer::clear_requests() {
  state_->log.clear();
}

}  // namespace weft::test

// FakeApiServer: a small, faithful Kubernetes API server for tests, in-process (this class)
// or as the `fake-apiserver` binary (fake_apiserver_main.cpp). The real `kubectl` (Debian's
// 1.20 and newer ones) drives it in tests/kube/kubectl_test.sh: that is its fidelity proof.
//
// What it serves (HTTPS, HTTP/1.1 with keep-alive):
// - Authentication: `Authorization: Bearer <token>`, or a client certificate signed by its CA
//   (issue_client_certificate()). Anything else gets 401 with a Status body. /healthz,
//   /livez and /readyz are open.
// - Discovery: /version (it claims v1.23: see below), /api, /api/v1, /apis,
//   /apis/networking.k8s.io, /apis/networking.k8s.io/v1 (legacy discovery documents: a
//   client asking for aggregated discovery gets these, as from a pre-1.26 server),
//   /openapi/v2 (a document without definitions, protobuf or JSON; clients then skip their
//   client-side schema validation), /openapi/v3 -> 404 (as with the feature off).
// - Resources (fake_apiserver_resources.hpp): namespaces, pods (+/status), nodes (+/status),
//   configmaps, networking.k8s.io/v1 networkpolicies; namespaced where upstream is.
// - Verbs: list (all namespaces or one; labelSelector with =,==,!=,in,notin,exists,!key,>,<;
//   fieldSelector on metadata.name, metadata.namespace and the kind's field labels, others
//   400; limit + continue with consistent snapshots), watch (below), get, create (POST: uid,
//   resourceVersion, creationTimestamp, generation for networkpolicies, generateName, upstream's
//   defaults; 409 AlreadyExists; 404 when the namespace does not exist), update (PUT; 409
//   Conflict on a stale resourceVersion), patch (merge-patch+json RFC 7386,
//   strategic-merge-patch+json for map fields, json-patch+json RFC 6902; apply-patch -> 415),
//   delete (DeleteOptions body with preconditions; returns the object for pods and
//   namespaces, a Status otherwise, like upstream). Server-side printing: `Accept: ...;as=Table`
//   gets a meta.k8s.io Table with upstream's columns (what `kubectl get` shows).
// - Watch (?watch=1): a chunked stream of one JSON event per line. resourceVersion "" or "0":
//   the current objects as ADDED first; RV: the events after RV; RV older than the compaction
//   point: an ERROR event with a Status 410 Expired (or HTTP 410 when gone_as_http_status).
//   BOOKMARK events every bookmark_interval when allowWatchBookmarks=true and the RV moved.
//   timeoutSeconds ends the stream cleanly (default 1800 s). Selectors as in
//   fake_apiserver_store.hpp (objects entering/leaving a selector arrive as ADDED/DELETED).
// - Differences from upstream, on purpose: deletes are immediate (no graceful pod deletion,
//   no finalizers; a deleted namespace is Terminating for namespace_deletion_delay, then its
//   objects and itself go); no admission (no service
//   account injection, no quota), no dryRun, no server-side apply, no deletecollection, no
//   watch in Table form, status of pods reset on create as upstream, and then only changed
//   through /status.
//
// Test controls (C++ below; for the binary the same under /_fake/, with the same token):
//   POST /_fake/compact, POST /_fake/drop-watches[?abrupt=1], POST /_fake/bookmark,
//   POST /_fake/fail?status=503&count=N, POST /_fake/restart?downtime_ms=N,
//   GET /_fake/requests (the request log as JSON), DELETE /_fake/requests, GET /_fake/state.
//
// Contract: single-threaded; every call on the executor given to create() (the test's
// io_context). start() listens (port 0 the first time: an ephemeral port, kept for every
// later start()); stop() closes the listener and every connection (watches break
// mid-stream, like a server restart) and keeps the store; `co_await stop()` before
// destruction. Errors of the C++ API are Result errors like the client's (kube/api_status.hpp:
// kNotFound, kAlreadyExists, kConflict, ...).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <nlohmann/json.hpp>

#include "common/result.hpp"
#include "kube/config.hpp"
#include "tests/support/fake_apiserver_tls.hpp"

namespace weft::test {

struct FakeApiServerOptions {
  std::string address = "127.0.0.1";
  std::uint16_t port = 0;  // 0: ephemeral (or the port saved in state_file)
  std::string token;       // empty: a random one (or the one saved in state_file)
  bool tls = true;         // false: plain HTTP (tests of http:// servers)
  std::chrono::milliseconds bookmark_interval{60'000};
  std::size_t max_events = 10'000;   // watch history kept before automatic compaction
  bool gone_as_http_status = false;  // 410 on the watch request instead of an ERROR event
  // Objects, resourceVersion, token, port and TLS identity are loaded from this file at
  // create() when it exists, and written to it after every change (a restarted process
  // keeps its state and its clients' kubeconfigs stay valid).
  std::string state_file;
  bool log_requests = false;  // one log line per request (weft::log, info)
  // Create the namespaces every cluster has (default, kube-system, kube-public,
  // kube-node-lease) when the store starts empty.
  bool seed_namespaces = true;
  // A deleted namespace stays Terminating this long before its objects and itself go (the
  // namespace controller's work). 0: at once, within the DELETE.
  std::chrono::milliseconds namespace_deletion_delay{200};
};

struct RequestRecord {
  std::string method;
  std::string target;
  std::string accept;
  std::string content_type;
  std::string user_agent;
  std::string user;  // "token", the client certificate's CN, or "" (rejected)
  int status = 0;
  bool watch = false;
};

class FakeApiServer {
 public:
  static Result<std::unique_ptr<FakeApiServer>> create(boost::asio::any_io_executor executor,
                                                       FakeApiServerOptions options = {});
  FakeApiServer(const FakeApiServer&) = delete;
  FakeApiServer& operator=(const FakeApiServer&) = delete;
  ~FakeApiServer();

  // ---- listening
  Result<void> start();
  boost::asio::awaitable<void> stop();
  bool listening() const;
  std::uint16_t port() const;
  std::string url() const;  // "https://127.0.0.1:<port>"

  // ---- credentials and kubeconfigs
  const std::string& token() const;
  const TlsIdentity& identity() const;
  // A kubeconfig (YAML) with the server URL, the CA as certificate-authority-data and the
  // token; `token` overrides the server's (e.g. a wrong one).
  std::string kubeconfig(const std::string& token = {}) const;
  Result<void> write_kubeconfig(const std::string& path) const;
  // The same, parsed, for an in-process kube::Client.
  kube::KubeConfig kube_config() const;
  Result<ClientCertificate> issue_client_certificate(const std::string& user) const;

  // ---- the store, without HTTP or authentication. `resource`: a plural ("pods",
  // "networkpolicies"); `ns` is ignored for cluster-scoped resources.
  Result<nlohmann::json> create(const std::string& resource, nlohmann::json object);
  Result<nlohmann::json> get(const std::string& resource, const std::string& ns,
                             const std::string& name) const;
  Result<nlohmann::json> update(const std::string& resource, nlohmann::json object);
  Result<nlohmann::json> update_status(const std::string& resource, nlohmann::json object);
  Result<nlohmann::json> merge_patch(const std::string& resource, const std::string& ns,
                                     const std::string& name, const nlohmann::json& patch);
  Result<nlohmann::json> remove(const std::string& resource, const std::string& ns,
                                const std::string& name);
  std::vector<nlohmann::json> list(const std::string& resource, const std::string& ns = {}) const;
  std::uint64_t resource_version() const;

  // ---- test controls
  void compact();                             // every older resourceVersion -> 410
  void drop_watches(bool abrupt = false);     // end every watch (abrupt: close the connection)
  void bookmark_now();                        // send a bookmark on every watch that allows them
  void fail_next(int status, int count = 1);  // the next `count` API requests get `status`
  std::size_t open_watches() const;
  const std::vector<RequestRecord>& requests() const;
  void clear_requests();

  struct State;
  explicit FakeApiServer(std::shared_ptr<State> state);

 private:
  std::shared_ptr<State> state_;  // shared with the running connections
};

}  // namespace weft::test

// Client: requests to the Kubernetes API server over keep-alive HTTPS (or HTTP)
// connections: get, list (selectors, pagination), create, update, merge patch, delete, and
// watch streams. Objects are nlohmann::json; decoding them is the caller's business.
//
// Contract:
// - Thread: every call runs on the executor given to open(); several calls may run at once
//   (each takes an idle keep-alive connection or opens one; a watch owns its connection).
//   The Client must outlive its calls and WatchStreams.
// - Paths are API paths with their query ("/api/v1/namespaces/a/pods?limit=5"); the
//   server's base path from the config is put in front. resource.hpp builds them.
// - Credentials: a bearer token, a token file (re-read whenever its modification time or
//   size changes: bound service-account tokens rotate), a client certificate (TLS), or
//   basic auth; whichever the KubeConfig carries.
// - Errors (never thrown, except operation_aborted on cancellation): failed requests decode
//   the API's Status (api_status.hpp: kNotFound, kAlreadyExists, kConflict, KubeErrc::kGone,
//   ...); connection failures, timeouts and 5xx are kUnavailable (temporary); a reused
//   keep-alive connection that the server closed is retried once on a new one.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <nlohmann/json.hpp>

#include "common/http.hpp"
#include "common/result.hpp"
#include "kube/config.hpp"
#include "kube/watch_event.hpp"

namespace weft::kube {

struct ClientOptions {
  std::chrono::milliseconds request_timeout{30'000};  // connect + request + whole response
  std::size_t max_response_bytes = 256 * 1024 * 1024;
  std::size_t max_idle_connections = 4;
  std::string user_agent;  // default "weft/<version>"
};

struct ListOptions {
  std::string label_selector;  // "app=web,tier in (a,b)"
  std::string field_selector;  // "metadata.name=x"
  std::size_t limit = 0;       // page size; 0: everything in one response
  std::string continue_token;  // from the previous page
  std::string resource_version;
  // list_all: applied to each item as its page arrives, so that a consumer that reads a few
  // fields does not hold every object whole (client-go's informer transform).
  std::function<void(nlohmann::json&)> transform;
};

struct WatchOptions {
  std::string resource_version;  // events after this version ("" or "0": current state first)
  std::string label_selector;
  std::string field_selector;
  bool allow_bookmarks = true;
  // timeoutSeconds: the server ends the stream after this (cleanly: next() returns nullopt).
  std::chrono::seconds timeout{300};
  // No byte for this long (bookmarks included) -> kUnavailable. 0: timeout + 30 s.
  std::chrono::milliseconds idle_timeout{0};
};

enum class PatchType { kMerge, kStrategicMerge, kJson };

struct ClientStats {
  std::uint64_t requests = 0;
  std::uint64_t connections_opened = 0;
  std::uint64_t connections_reused = 0;
  std::uint64_t stale_retries = 0;  // reused connections found closed, request sent again
  std::uint64_t watches = 0;
  std::uint64_t token_reads = 0;  // token file (re)reads
};

class Client;

// One open watch. Not copyable; close() or destruction drops its connection.
class WatchStream {
 public:
  ~WatchStream();
  WatchStream(const WatchStream&) = delete;
  WatchStream& operator=(const WatchStream&) = delete;

  // The next event, or nullopt when the server ended the stream normally. ERROR events are
  // returned as events (their object is a Status). After an error, or after a cancelled
  // call, the stream is unusable: close it and watch again.
  boost::asio::awaitable<Result<std::optional<WatchEvent>>> next();
  void close();

  struct State;
  explicit WatchStream(std::unique_ptr<State> state);

 private:
  std::unique_ptr<State> state_;
};

class Client {
 public:
  // Builds the TLS context (reading files that `config` names); kInvalidArgument when the
  // CA, certificate or key do not load, kIo when their files cannot be read.
  static Result<std::unique_ptr<Client>> open(boost::asio::any_io_executor executor,
                                              KubeConfig config, ClientOptions options = {});
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;
  ~Client();

  boost::asio::awaitable<Result<nlohmann::json>> get(std::string path);
  // One page (options.limit) of a collection.
  boost::asio::awaitable<Result<ObjectList>> list(std::string path, ListOptions options);
  // Every page, concatenated (pages of options.limit; 0: one request). The resourceVersion is
  // the first page's (the snapshot the pages belong to). A continue token that expired
  // (410) restarts the list once from the first page.
  boost::asio::awaitable<Result<ObjectList>> list_all(std::string path, ListOptions options);
  // POST to a collection path.
  boost::asio::awaitable<Result<nlohmann::json>> create(std::string path, nlohmann::json object);
  // PUT to an object path (metadata.resourceVersion, when set, must be current: else kConflict).
  boost::asio::awaitable<Result<nlohmann::json>> update(std::string path, nlohmann::json object);
  boost::asio::awaitable<Result<nlohmann::json>> patch(std::string path, nlohmann::json patch,
                                                       PatchType type = PatchType::kMerge);
  // DELETE; `delete_options` (a DeleteOptions object) is sent as the body when not null.
  // Returns what the server returns: the deleted object or a Status.
  boost::asio::awaitable<Result<nlohmann::json>> remove(std::string path,
                                                        nlohmann::json delete_options = nullptr);
  // Opens a watch on a collection path.
  boost::asio::awaitable<Result<std::unique_ptr<WatchStream>>> watch(std::string path,
                                                                     WatchOptions options);

  // Any request; the raw response (non-2xx statuses are not errors here).
  boost::asio::awaitable<Result<Response>> request(Method method, std::string path,
                                                   std::string body = {},
                                                   std::string content_type = {});

  const KubeConfig& config() const;
  const ClientOptions& options() const;
  const ClientStats& stats() const;
  boost::asio::any_io_executor executor() const;

  struct State;
  explicit Client(std::unique_ptr<State> state);

 private:
  boost::asio::awaitable<Result<nlohmann::json>> call_json(Method method, std::string path,
                                                           std::string body,
                                                           std::string content_type);

  std::unique_ptr<State> state_;
};

// "path?k=v&..." with percent-encoded values; empty values are left out.
std::string with_query(std::string path,
                       std::initializer_list<std::pair<std::string_view, std::string>> query);

}  // namespace weft::kube

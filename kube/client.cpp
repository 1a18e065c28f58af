// Design note: a small pool of idle keep-alive connections (max_idle_connections) serves
// ordinary requests; every watch opens its own connection and closes it at the end, so a
// long stream never holds up a request. The whole exchange of a request races one timer
// (`op || timer`), as common/http_client.cpp does.
#include "kube/client.hpp"

#include <filesystem>
#include <fstream>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "common/http_parse.hpp"
#include "common/log.hpp"
#include "common/version.hpp"
#include "kube/api_status.hpp"
#include "kube/base64.hpp"
#include "kube/connection.hpp"

namespace weft::kube {

namespace asio = boost::asio;
// Used in `co_await (op || timer)`; clang-tidy 14 does not see uses inside coroutines.
using asio::experimental::awaitable_operators::operator||;  // NOLINT(misc-unused-using-decls)
using detail::Connection;
using nlohmann::json;

struct Client::State {
  asio::any_io_executor executor;
  KubeConfig config;
  ClientOptions options;
  std::shared_ptr<asio::ssl::context> tls;
  detail::Endpoint endpoint;
  std::vector<std::unique_ptr<Connection>> idle;
  ClientStats stats;
  // The token file's last contents and what it looked like when read.
  std::string file_token;
  std::filesystem::file_time_type token_mtime{};
  std::uintmax_t token_size = 0;
  bool token_read = false;
};

struct WatchStream::State {
  asio::any_io_executor executor;
  std::unique_ptr<Connection> connection;
  LineSplitter lines;
  std::chrono::milliseconds idle_timeout{};
  std::string context;  // "watch /api/v1/pods" for messages
  bool ended = false;
};

namespace {

constexpr std::size_t kMaxTokenBytes = 64 * 1024;

bool valid_path(std::string_view path) {
  if (path.empty() || path.front() != '/') {
    return false;
  }
  for (const char c : path) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f) {
      return false;
    }
  }
  return true;
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) {
    s.pop_back();
  }
  std::size_t start = 0;
  while (start < s.size() && (s[start] == ' ' || s[start] == '\n')) {
    ++start;
  }
  return s.substr(start);
}

// The token of the token file, read again when the file changed since the last read.
Result<std::string> file_token(Client::State& s) {
  std::error_code ec;
  const auto mtime = std::filesystem::last_write_time(s.config.token_file, ec);
  const auto size = ec ? 0 : std::filesystem::file_size(s.config.token_file, ec);
  if (ec) {
    if (s.token_read) {
      return s.file_token;  // keep using the last one while the file is being replaced
    }
    return make_error(Errc::kIo, "token file {}: {}", s.config.token_file, ec.message());
  }
  if (s.token_read && mtime == s.token_mtime && size == s.token_size) {
    return s.file_token;
  }
  std::ifstream in(s.config.token_file, std::ios::binary);
  std::string text(kMaxTokenBytes, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  if (in.bad() || (!in && in.gcount() == 0 && !in.eof())) {
    return make_error(Errc::kIo, "token file {}: cannot read", s.config.token_file);
  }
  text.resize(static_cast<std::size_t>(in.gcount()));
  s.file_token = trim(std::move(text));
  s.token_mtime = mtime;
  s.token_size = size;
  s.token_read = true;
  ++s.stats.token_reads;
  return s.file_token;
}

Result<Headers> request_headers(Client::State& s, std::string content_type) {
  Headers headers{{"Accept", "application/json"}, {"User-Agent", s.options.user_agent}};
  if (!content_type.empty()) {
    headers.emplace_back("Content-Type", std::move(content_type));
  }
  if (!s.config.token.empty()) {
    headers.emplace_back("Authorization", "Bearer " + s.config.token);
  } else if (!s.config.token_file.empty()) {
    WEFT_TRY(auto token, file_token(s));
    if (!token.empty()) {
      headers.emplace_back("Authorization", "Bearer " + token);
    }
  } else if (!s.config.username.empty()) {
    headers.emplace_back("Authorization",
                         "Basic " + base64_encode(s.config.username + ":" + s.config.password));
  }
  return headers;
}

asio::awaitable<Result<Response>> attempt(Client::State* s, Method method, std::string target,
                                          Headers headers, std::string body) {
  for (int round = 0; round < 2; ++round) {
    std::unique_ptr<Connection> conn;
    const bool reused = round == 0 && !s->idle.empty();
    if (reused) {
      conn = std::move(s->idle.back());
      s->idle.pop_back();
      ++s->stats.connections_reused;
    } else {
      conn = std::make_unique<Connection>(s->executor, s->tls);
      auto connected = co_await conn->connect(s->endpoint);
      if (!connected) {
        co_return connected.error();
      }
      ++s->stats.connections_opened;
    }
    bool stale = false;
    auto r = co_await conn->round_trip(method, target, headers, body, s->options.max_response_bytes,
                                       &stale);
    if (!r) {
      if (reused && stale) {
        // The server closed it while idle (or restarted): the others are likely gone too.
        ++s->stats.stale_retries;
        s->idle.clear();
        continue;
      }
      co_return r.error();
    }
    if (conn->reusable() && s->idle.size() < s->options.max_idle_connections) {
      s->idle.push_back(std::move(conn));
    }
    co_return r;
  }
  co_return make_error(Errc::kUnavailable, "connection closed by {}", s->endpoint.to_string());
}

struct OpenedWatch {
  std::unique_ptr<Connection> connection;
  Response head;
};

asio::awaitable<Result<OpenedWatch>> open_watch(Client::State* s, std::string target,
                                                Headers headers) {
  OpenedWatch out;
  out.connection = std::make_unique<Connection>(s->executor, s->tls);
  auto connected = co_await out.connection->connect(s->endpoint);
  if (!connected) {
    co_return connected.error();
  }
  ++s->stats.connections_opened;
  auto head = co_await out.connection->open_stream(Method::kGet, target, headers);
  if (!head) {
    co_return head.error();
  }
  out.head = std::move(*head);
  co_return out;
}

Error with_context(const Error& e, std::string_view context) {
  return Error{e.code, fmt::format("{}: {}", context, e.message)};
}

std::string patch_content_type(PatchType type) {
  switch (type) {
    case PatchType::kMerge:
      return "application/merge-patch+json";
    case PatchType::kStrategicMerge:
      return "application/strategic-merge-patch+json";
    case PatchType::kJson:
      return "application/json-patch+json";
  }
  return "application/merge-patch+json";
}

std::string dump(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace

// ---------------------------------------------------------------- WatchStream

WatchStream::WatchStream(std::unique_ptr<State> state) : state_(std::move(state)) {}

WatchStream::~WatchStream() {
  close();
}

void WatchStream::close() {
  if (state_->connection) {
    state_->connection->close();
  }
}

asio::awaitable<Result<std::optional<WatchEvent>>> WatchStream::next() {
  State& st = *state_;
  while (true) {
    if (auto line = st.lines.next()) {
      auto event = parse_watch_event(*line);
      if (!event) {
        co_return with_context(event.error(), st.context);
      }
      co_return std::optional<WatchEvent>(std::move(*event));
    }
    if (st.ended) {
      co_return std::optional<WatchEvent>();
    }
    asio::steady_timer timer(st.executor, st.idle_timeout);
    auto r = co_await (st.connection->read_some() ||
                       timer.async_wait(asio::as_tuple(asio::use_awaitable)));
    if (r.index() == 1) {
      co_return make_error(Errc::kUnavailable, "{}: nothing received for {} ms", st.context,
                           st.idle_timeout.count());
    }
    auto& bytes = std::get<0>(r);
    if (!bytes) {
      co_return with_context(bytes.error(), st.context);
    }
    if (bytes->empty()) {
      st.ended = true;
      bytes->push_back('\n');  // a last line without its newline
    }
    auto fed = st.lines.feed(*bytes);
    if (!fed) {
      co_return with_context(fed.error(), st.context);
    }
  }
}

// ---------------------------------------------------------------- Client

Client::Client(std::unique_ptr<State> state) : state_(std::move(state)) {}

Client::~Client() = default;

Result<std::unique_ptr<Client>> Client::open(asio::any_io_executor executor, KubeConfig config,
                                             ClientOptions options) {
  WEFT_TRY_VOID(load_files(config));
  auto state = std::make_unique<State>();
  if (config.tls) {
    WEFT_TRY(state->tls, detail::make_tls_context(config));
  }
  state->endpoint.host = config.host;
  state->endpoint.port = config.port;
  state->endpoint.tls = config.tls;
  state->endpoint.verify = !config.insecure_skip_tls_verify;
  state->endpoint.verify_name = config.tls_server_name;
  if (options.user_agent.empty()) {
    options.user_agent = fmt::format("weft/{}", kVersion);
  }
  state->executor = std::move(executor);
  state->config = std::move(config);
  state->options = std::move(options);
  return std::make_unique<Client>(std::move(state));
}

const KubeConfig& Client::config() const {
  return state_->config;
}
const ClientOptions& Client::options() const {
  return state_->options;
}
const ClientStats& Client::stats() const {
  return state_->stats;
}
asio::any_io_executor Client::executor() const {
  return state_->executor;
}

asio::awaitable<Result<Response>> Client::request(Method method, std::string path, std::string body,
                                                  std::string content_type) {
  State& s = *state_;
  const std::string context = fmt::format("{} {}", to_string(method), path);
  if (!valid_path(path)) {
    co_return make_error(Errc::kInvalidArgument, "bad API path \"{}\"", path);
  }
  auto headers = request_headers(s, std::move(content_type));
  if (!headers) {
    co_return with_context(headers.error(), context);
  }
  ++s.stats.requests;
  asio::steady_timer timer(s.executor, s.options.request_timeout);
  auto r = co_await (
      attempt(&s, method, s.config.base_path + path, std::move(*headers), std::move(body)) ||
      timer.async_wait(asio::as_tuple(asio::use_awaitable)));
  if (r.index() == 1) {
    co_return make_error(Errc::kUnavailable, "{}: no response within {} ms", context,
                         s.options.request_timeout.count());
  }
  auto& res = std::get<0>(r);
  if (!res) {
    co_return with_context(res.error(), context);
  }
  co_return std::move(*res);
}

asio::awaitable<Result<json>> Client::call_json(Method method, std::string path, std::string body,
                                                std::string content_type) {
  const std::string context = fmt::format("{} {}", to_string(method), path);
  auto res = co_await request(method, std::move(path), std::move(body), std::move(content_type));
  if (!res) {
    co_return res.error();
  }
  if (!res->ok()) {
    co_return status_error(res->status, res->body, context);
  }
  if (res->body.empty()) {
    co_return json(nullptr);
  }
  auto parsed = parse_json_body(res->body, kMaxJsonNesting, res->body.size());
  if (!parsed) {
    co_return with_context(parsed.error(), context);
  }
  co_return std::move(*parsed);
}

asio::awaitable<Result<json>> Client::get(std::string path) {
  co_return co_await call_json(Method::kGet, std::move(path), std::string(), std::string());
}

asio::awaitable<Result<json>> Client::create(std::string path, json object) {
  co_return co_await call_json(Method::kPost, std::move(path), dump(object), "application/json");
}

asio::awaitable<Result<json>> Client::update(std::string path, json object) {
  co_return co_await call_json(Method::kPut, std::move(path), dump(object), "application/json");
}

asio::awaitable<Result<json>> Client::patch(std::string path, json patch, PatchType type) {
  co_return co_await call_json(Method::kPatch, std::move(path), dump(patch),
                               patch_content_type(type));
}

asio::awaitable<Result<json>> Client::remove(std::string path, json delete_options) {
  std::string body = delete_options.is_null() ? std::string() : dump(delete_options);
  std::string type = body.empty() ? std::string() : std::string("application/json");
  co_return co_await call_json(Method::kDelete, std::move(path), std::move(body), std::move(type));
}

asio::awaitable<Result<ObjectList>> Client::list(std::string path, ListOptions options) {
  const std::string context = fmt::format("GET {}", path);
  std::string target = with_query(
      std::move(path), {{"labelSelector", options.label_selector},
                        {"fieldSelector", options.field_selector},
                        {"limit", options.limit > 0 ? std::to_string(options.limit) : ""},
                        {"continue", options.continue_token},
                        {"resourceVersion", options.resource_version}});
  auto res = co_await request(Method::kGet, std::move(target));
  if (!res) {
    co_return res.error();
  }
  if (!res->ok()) {
    co_return status_error(res->status, res->body, context);
  }
  auto list = parse_object_list(res->body, state_->options.max_response_bytes);
  if (!list) {
    co_return with_context(list.error(), context);
  }
  co_return std::move(*list);
}

asio::awaitable<Result<ObjectList>> Client::list_all(std::string path, ListOptions options) {
  ObjectList all;
  bool restarted = false;
  options.continue_token.clear();
  bool first = true;
  while (true) {
    auto page = co_await list(path, options);
    if (!page) {
      if (!first && !restarted && is_gone(page.error())) {
        // The snapshot the pages belonged to was compacted away: start over, once.
        restarted = true;
        first = true;
        all = ObjectList();
        options.continue_token.clear();
        continue;
      }
      co_return page.error();
    }
    if (first) {
      all.resource_version = page->resource_version;
      all.kind = page->kind;
      first = false;
    }
    for (auto& item : page->items) {
      if (options.transform) {
        options.transform(item);
      }
      all.items.push_back(std::move(item));
    }
    if (page->continue_token.empty() || options.limit == 0) {
      break;
    }
    options.continue_token = std::move(page->continue_token);
  }
  co_return all;
}

asio::awaitable<Result<std::unique_ptr<WatchStream>>> Client::watch(std::string path,
                                                                    WatchOptions options) {
  State& s = *state_;
  const std::string context = fmt::format("watch {}", path);
  std::string target =
      with_query(std::move(path),
                 {{"watch", "1"},
                  {"resourceVersion", options.resource_version},
                  {"allowWatchBookmarks", options.allow_bookmarks ? "true" : ""},
                  {"timeoutSeconds",
                   options.timeout.count() > 0 ? std::to_string(options.timeout.count()) : ""},
                  {"labelSelector", options.label_selector},
                  {"fieldSelector", options.field_selector}});
  if (!valid_path(target)) {
    co_return make_error(Errc::kInvalidArgument, "bad API path \"{}\"", target);
  }
  auto headers = request_headers(s, {});
  if (!headers) {
    co_return with_context(headers.error(), context);
  }
  ++s.stats.requests;
  asio::steady_timer timer(s.executor, s.options.request_timeout);
  auto r = co_await (open_watch(&s, s.config.base_path + target, std::move(*headers)) ||
                     timer.async_wait(asio::as_tuple(asio::use_awaitable)));
  if (r.index() == 1) {
    co_return make_error(Errc::kUnavailable, "{}: no response within {} ms", context,
                         s.options.request_timeout.count());
  }
  auto& opened = std::get<0>(r);
  if (!opened) {
    co_return with_context(opened.error(), context);
  }
  if (!opened->head.ok()) {
    co_return status_error(opened->head.status, opened->head.body, context);
  }
  ++s.stats.watches;
  auto state = std::make_unique<WatchStream::State>();
  state->executor = s.executor;
  state->connection = std::move(opened->connection);
  state->idle_timeout = options.idle_timeout.count() > 0
                            ? options.idle_timeout
                            : std::chrono::milliseconds(options.timeout) + std::chrono::seconds(30);
  state->context = context;
  co_return std::make_unique<WatchStream>(std::move(state));
}

std::string with_query(std::string path,
                       std::initializer_list<std::pair<std::string_view, std::string>> query) {
  char sep = path.find('?') == std::string::npos ? '?' : '&';
  for (const auto& [key, value] : query) {
    if (value.empty()) {
      continue;
    }
    path += sep;
    path += key;
    path += '=';
    path += percent_encode(value);
    sep = '&';
  }
  return path;
}

}  // namespace weft::kube

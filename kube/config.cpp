#include "kube/config.hpp"

#include <charconv>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>

#include "kube/base64.hpp"
#include <yaml-cpp/yaml.h>

namespace weft::kube {
namespace {

constexpr std::size_t kMaxConfigBytes = 4 * 1024 * 1024;
constexpr std::size_t kMaxPemBytes = 1024 * 1024;
// yaml-cpp recurses once per level of flow nesting; real kubeconfigs nest a handful of levels.
constexpr int kMaxFlowDepth = 64;

Error config_error(std::string message) {
  return Error{make_error_code(Errc::kInvalidArgument), "kubeconfig: " + std::move(message)};
}

bool too_deep(std::string_view text) {
  int depth = 0;
  for (const char c : text) {
    if (c == '[' || c == '{') {
      if (++depth > kMaxFlowDepth) {
        return true;
      }
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return false;
}

// The string value of `key` in the map `node`: nullopt when absent or null, an error when it
// is not a scalar.
Result<std::optional<std::string>> scalar(const YAML::Node& node, const char* key,
                                          std::string_view where) {
  const YAML::Node value = node[key];
  if (!value.IsDefined() || value.IsNull()) {
    return std::optional<std::string>();
  }
  if (!value.IsScalar()) {
    return config_error(fmt::format("{}: {} must be a string", where, key));
  }
  return std::optional<std::string>(value.Scalar());
}

Result<bool> boolean(const YAML::Node& node, const char* key, std::string_view where) {
  const YAML::Node value = node[key];
  if (!value.IsDefined() || value.IsNull()) {
    return false;
  }
  bool out = false;
  if (!value.IsScalar() || !YAML::convert<bool>::decode(value, out)) {
    return config_error(fmt::format("{}: {} must be true or false", where, key));
  }
  return out;
}

// YAML::Node converts implicitly from almost anything, so a Result<YAML::Node> is built
// from an Error explicitly.
Result<YAML::Node> node_error(std::string message) {
  return Result<YAML::Node>(boost::system::in_place_error, config_error(std::move(message)));
}

// The `inner` map of the entry called `name` in the list `list` ("clusters", "cluster").
Result<YAML::Node> find_named(const YAML::Node& root, const char* list, const char* inner,
                              const std::string& name) {
  const YAML::Node entries = root[list];
  if (entries.IsDefined() && !entries.IsNull() && !entries.IsSequence()) {
    return node_error(fmt::format("{} must be a list", list));
  }
  if (entries.IsSequence()) {
    for (const auto& entry : entries) {
      if (!entry.IsMap()) {
        return node_error(fmt::format("{}: entries must be maps with name and {}", list, inner));
      }
      const YAML::Node n = entry["name"];
      if (n.IsScalar() && n.Scalar() == name) {
        YAML::Node body = entry[inner];
        if (!body.IsDefined() || body.IsNull()) {
          return YAML::Node(YAML::NodeType::Map);
        }
        if (!body.IsMap()) {
          return node_error(fmt::format("{} \"{}\": {} must be a map", list, name, inner));
        }
        return body;
      }
    }
  }
  return node_error(fmt::format("no {} named \"{}\" in {}", inner, name, list));
}

std::string resolve_path(const std::string& path, const std::string& base_dir) {
  if (path.empty() || path.front() == '/' || base_dir.empty()) {
    return path;
  }
  return (std::filesystem::path(base_dir) / path).lexically_normal().string();
}

// Sets `out` from the inline "<key>-data" (base64) or the file "<key>".
Result<void> material(const YAML::Node& node, const std::string& key, std::string_view where,
                      const std::string& base_dir, Material& out) {
  WEFT_TRY(auto data, scalar(node, (key + "-data").c_str(), where));
  WEFT_TRY(auto path, scalar(node, key.c_str(), where));
  if (data && !data->empty()) {
    auto decoded = base64_decode(*data);
    if (!decoded) {
      return config_error(fmt::format("{}: {}-data is not valid base64", where, key));
    }
    out.data = std::move(*decoded);
  } else if (path && !path->empty()) {
    out.path = resolve_path(*path, base_dir);
  }
  return {};
}

Result<void> parse_cluster(const YAML::Node& cluster, const std::string& where,
                           const std::string& base_dir, KubeConfig& config) {
  WEFT_TRY(auto server, scalar(cluster, "server", where));
  if (!server || server->empty()) {
    return config_error(fmt::format("{}: no server", where));
  }
  auto parsed = parse_server_url(*server, config);
  if (!parsed) {
    return config_error(fmt::format("{}: {}", where, parsed.error().message));
  }
  WEFT_TRY_VOID(material(cluster, "certificate-authority", where, base_dir, config.ca));
  WEFT_TRY(config.insecure_skip_tls_verify, boolean(cluster, "insecure-skip-tls-verify", where));
  if (config.insecure_skip_tls_verify && !config.ca.empty()) {
    return config_error(fmt::format(
        "{}: a certificate authority together with insecure-skip-tls-verify is not allowed",
        where));
  }
  WEFT_TRY(auto server_name, scalar(cluster, "tls-server-name", where));
  config.tls_server_name = server_name.value_or("");
  return {};
}

Result<void> parse_user(const YAML::Node& user, const std::string& where,
                        const std::string& base_dir, KubeConfig& config) {
  if (user["exec"].IsDefined() && !user["exec"].IsNull()) {
    return config_error(fmt::format("{}: exec credential plugins are not supported", where));
  }
  if (user["auth-provider"].IsDefined() && !user["auth-provider"].IsNull()) {
    return config_error(fmt::format("{}: auth-provider plugins are not supported", where));
  }
  WEFT_TRY(auto token, scalar(user, "token", where));
  WEFT_TRY(auto token_file, scalar(user, "tokenFile", where));
  if (token && !token->empty()) {
    config.token = *token;
  } else if (token_file && !token_file->empty()) {
    config.token_file = resolve_path(*token_file, base_dir);
  }
  WEFT_TRY_VOID(material(user, "client-certificate", where, base_dir, config.client_cert));
  WEFT_TRY_VOID(material(user, "client-key", where, base_dir, config.client_key));
  if (config.client_cert.empty() != config.client_key.empty()) {
    return config_error(
        fmt::format("{}: {} without {}", where,
                    config.client_cert.empty() ? "client-key" : "client-certificate",
                    config.client_cert.empty() ? "client-certificate" : "client-key"));
  }
  WEFT_TRY(auto username, scalar(user, "username", where));
  WEFT_TRY(auto password, scalar(user, "password", where));
  config.username = username.value_or("");
  config.password = password.value_or("");
  return {};
}

Result<KubeConfig> parse_document(const YAML::Node& root, const KubeConfigOptions& options) {
  if (!root.IsMap()) {
    return config_error("not a kubeconfig (want a map with clusters, users and contexts)");
  }
  KubeConfig config;
  std::string context = options.context;
  if (context.empty()) {
    WEFT_TRY(auto current, scalar(root, "current-context", "kubeconfig"));
    if (!current || current->empty()) {
      return config_error("no current-context set and no context given");
    }
    context = *current;
  }
  config.context_name = context;
  WEFT_TRY(auto ctx, find_named(root, "contexts", "context", context));
  const std::string ctx_where = fmt::format("context \"{}\"", context);
  WEFT_TRY(auto cluster_name, scalar(ctx, "cluster", ctx_where));
  if (!cluster_name || cluster_name->empty()) {
    return config_error(fmt::format("{}: no cluster", ctx_where));
  }
  WEFT_TRY(auto cluster, find_named(root, "clusters", "cluster", *cluster_name));
  WEFT_TRY_VOID(parse_cluster(cluster, fmt::format("cluster \"{}\" ({})", *cluster_name, ctx_where),
                              options.base_dir, config));
  WEFT_TRY(auto user_name, scalar(ctx, "user", ctx_where));
  if (user_name && !user_name->empty()) {
    WEFT_TRY(auto user, find_named(root, "users", "user", *user_name));
    WEFT_TRY_VOID(parse_user(user, fmt::format("user \"{}\" ({})", *user_name, ctx_where),
                             options.base_dir, config));
  }
  WEFT_TRY(auto ns, scalar(ctx, "namespace", ctx_where));
  if (ns && !ns->empty()) {
    config.namespace_name = *ns;
  }
  return config;
}

Result<std::string> read_small_file(const std::string& path, std::size_t limit,
                                    std::string_view what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return make_error(Errc::kIo, "{}: cannot read {}", what, path);
  }
  std::string data;
  data.resize(limit + 1);
  in.read(data.data(), static_cast<std::streamsize>(data.size()));
  if (in.bad()) {
    return make_error(Errc::kIo, "{}: cannot read {}", what, path);
  }
  data.resize(static_cast<std::size_t>(in.gcount()));
  if (data.size() > limit) {
    return make_error(Errc::kTooLarge, "{}: {} is over {} bytes", what, path, limit);
  }
  return data;
}

Result<void> load_material(Material& m, std::string_view what) {
  if (!m.data.empty() || m.path.empty()) {
    return {};
  }
  WEFT_TRY(m.data, read_small_file(m.path, kMaxPemBytes, what));
  return {};
}

Result<std::uint16_t> parse_port(std::string_view text) {
  unsigned value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || ptr != end || value == 0 || value > 65535) {
    return make_error(Errc::kInvalidArgument, "bad port \"{}\"", text);
  }
  return static_cast<std::uint16_t>(value);
}

}  // namespace

Result<void> parse_server_url(std::string_view url, KubeConfig& config) {
  config.server = std::string(url);
  std::string_view rest = url;
  config.tls = true;
  if (rest.starts_with("https://")) {
    rest.remove_prefix(8);
  } else if (rest.starts_with("http://")) {
    rest.remove_prefix(7);
    config.tls = false;
  } else if (rest.find("://") != std::string_view::npos) {
    return make_error(Errc::kInvalidArgument, "server \"{}\": want https:// or http://", url);
  }
  if (rest.find_first_of("?#@") != std::string_view::npos) {
    return make_error(Errc::kInvalidArgument,
                      "server \"{}\": user info, query and fragment are not allowed", url);
  }
  const auto slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? "" : rest.substr(slash);
  while (path.ends_with('/')) {
    path.remove_suffix(1);
  }
  std::string_view host = authority;
  std::string_view port;
  if (authority.starts_with('[')) {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) {
      return make_error(Errc::kInvalidArgument, "server \"{}\": unclosed '['", url);
    }
    host = authority.substr(1, close - 1);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') {
        return make_error(Errc::kInvalidArgument, "server \"{}\": bad host", url);
      }
      port = after.substr(1);
    }
  } else if (const auto colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) {
      return make_error(Errc::kInvalidArgument, "server \"{}\": IPv6 hosts need [brackets]", url);
    }
  }
  if (host.empty()) {
    return make_error(Errc::kInvalidArgument, "server \"{}\": no host", url);
  }
  for (const char c : host) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f || c == '/' || c == '\\') {
      return make_error(Errc::kInvalidArgument, "server \"{}\": bad host", url);
    }
  }
  config.host = std::string(host);
  if (port.empty()) {
    config.port = config.tls ? 443 : 80;
  } else {
    auto p = parse_port(port);
    if (!p) {
      return make_error(Errc::kInvalidArgument, "server \"{}\": {}", url, p.error().message);
    }
    config.port = *p;
  }
  config.base_path = std::string(path);
  return {};
}

Result<KubeConfig> parse_kubeconfig(std::string_view text, const KubeConfigOptions& options) {
  if (text.size() > kMaxConfigBytes) {
    return make_error(Errc::kTooLarge, "kubeconfig: over {} bytes", kMaxConfigBytes);
  }
  if (too_deep(text)) {
    return config_error("nested too deeply");
  }
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    return config_error(fmt::format("not valid YAML or JSON: {}", e.what()));
  }
  try {
    return parse_document(root, options);
  } catch (const YAML::Exception& e) {
    // The accessors above check node types first; this is a second line of defence.
    return config_error(fmt::format("unexpected structure: {}", e.what()));
  }
}

Result<void> load_files(KubeConfig& config) {
  WEFT_TRY_VOID(load_material(config.ca, "certificate-authority"));
  WEFT_TRY_VOID(load_material(config.client_cert, "client-certificate"));
  WEFT_TRY_VOID(load_material(config.client_key, "client-key"));
  return {};
}

Result<KubeConfig> load_kubeconfig(const std::string& path, std::string context) {
  WEFT_TRY(auto text, read_small_file(path, kMaxConfigBytes, "kubeconfig"));
  KubeConfigOptions options;
  options.context = std::move(context);
  std::error_code ec;
  const auto absolute = std::filesystem::absolute(path, ec);
  options.base_dir = ec ? std::string() : absolute.parent_path().string();
  auto config = parse_kubeconfig(text, options);
  if (!config) {
    return Error{config.error().code, fmt::format("{}: {}", path, config.error().message)};
  }
  WEFT_TRY_VOID(load_files(*config));
  return config;
}

Result<KubeConfig> in_cluster_config(std::string_view host, std::string_view port,
                                     const std::string& service_account_dir) {
  if (host.empty() || port.empty()) {
    return make_error(Errc::kInvalidArgument,
                      "in-cluster config: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT "
                      "must be set (not running in a pod?)");
  }
  const bool v6 = host.find(':') != std::string_view::npos;
  KubeConfig config;
  auto parsed = parse_server_url(
      v6 ? fmt::format("https://[{}]:{}", host, port) : fmt::format("https://{}:{}", host, port),
      config);
  if (!parsed) {
    return make_error(Errc::kInvalidArgument, "in-cluster config: {}", parsed.error().message);
  }
  config.context_name = "in-cluster";
  const std::filesystem::path dir(service_account_dir);
  config.ca.path = (dir / "ca.crt").string();
  config.token_file = (dir / "token").string();
  WEFT_TRY_VOID(load_material(config.ca, "in-cluster ca.crt"));
  auto ns = read_small_file((dir / "namespace").string(), 256, "in-cluster namespace");
  if (ns && !ns->empty()) {
    while (!ns->empty() && (ns->back() == '\n' || ns->back() == ' ')) {
      ns->pop_back();
    }
    config.namespace_name = std::move(*ns);
  }
  return config;
}

Result<KubeConfig> in_cluster_config_from_env(const std::string& service_account_dir) {
  const char* host = std::getenv("KUBERNETES_SERVICE_HOST");  // NOLINT(concurrency-mt-unsafe)
  const char* port = std::getenv("KUBERNETES_SERVICE_PORT");  // NOLINT(concurrency-mt-unsafe)
  return in_cluster_config(host != nullptr ? host : "", port != nullptr ? port : "",
                           service_account_dir);
}

}  // namespace weft::kube

// Where the API server is and how to authenticate to it: a kubeconfig file (`--kubeconfig`,
// what kubectl accepts) or the in-cluster service account of a pod.
//
// Design note: parsing is pure (text -> KubeConfig, no file access) so that it can be fuzzed
// and tested on strings; files that a kubeconfig names (certificate-authority,
// client-certificate, client-key) are kept as paths, resolved against the kubeconfig's
// directory as kubectl does, and read by load_files(). A token file is never read here: the
// client re-reads it whenever it changes (bound service-account tokens rotate).
//
// kubeconfig support (the subset of client-go's clientcmd that token and certificate users
// need; YAML or JSON, unknown fields ignored as kubectl does):
//   current-context, or the context named in KubeConfigOptions::context
//   contexts[].context: cluster, user, namespace
//   clusters[].cluster: server (https://host:port[/path] or http://), certificate-authority,
//     certificate-authority-data (base64, overrides the file), insecure-skip-tls-verify,
//     tls-server-name
//   users[].user: token (wins over tokenFile), tokenFile, client-certificate(-data) +
//     client-key(-data) (the -data forms override the files), username + password
//   Refused with a clear error: exec and auth-provider plugins, a CA together with
//   insecure-skip-tls-verify (kubectl refuses it too), half a client key pair.
// Errors: kInvalidArgument with a message that names the missing or bad field
//   ("kubeconfig: cluster \"c1\" (context \"ctx\"): no server"); kIo for unreadable files.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace weft::kube {

// PEM material given inline (already decoded) or as a file path (read by load_files()).
struct Material {
  std::string data;
  std::string path;  // absolute, or relative to the process's working directory
  bool empty() const { return data.empty() && path.empty(); }
};

struct KubeConfig {
  // The server, split: "https://10.96.0.1:443/prefix" -> https, 10.96.0.1, 443, "/prefix".
  std::string server;
  bool tls = true;
  std::string host;  // IPv6 without brackets
  std::uint16_t port = 443;
  std::string base_path;  // "" or "/prefix" (no trailing '/'), put before every API path

  // TLS: the CA bundle to trust (empty: the system's roots), or no verification at all.
  Material ca;
  bool insecure_skip_tls_verify = false;
  std::string tls_server_name;  // name checked in the server certificate (default: host)

  // Credentials, at most one kind used: token, token file, client certificate, basic.
  std::string token;
  std::string token_file;
  Material client_cert;
  Material client_key;
  std::string username;
  std::string password;

  std::string namespace_name = "default";  // the context's namespace
  std::string context_name;                // for messages ("in-cluster" for the pod config)
};

struct KubeConfigOptions {
  std::string context;   // empty: current-context
  std::string base_dir;  // directory of the kubeconfig file; relative paths are joined to it
};

// Parses kubeconfig text (YAML or JSON) into the selected context's settings.
Result<KubeConfig> parse_kubeconfig(std::string_view text, const KubeConfigOptions& options = {});

// Parses "https://host:port/prefix" (port default 443/80; IPv6 in brackets) into `config`.
Result<void> parse_server_url(std::string_view url, KubeConfig& config);

// Reads ca, client_cert and client_key files named by path into data (data already set
// wins). kIo naming the field and the file when one cannot be read.
Result<void> load_files(KubeConfig& config);

// Reads and parses a kubeconfig file, then load_files().
Result<KubeConfig> load_kubeconfig(const std::string& path, std::string context = {});

inline constexpr std::string_view kServiceAccountDir =
    "/var/run/secrets/kubernetes.io/serviceaccount";

// The in-cluster config of a pod: https://host:port, the CA <dir>/ca.crt (read now), the
// token file <dir>/token (re-read by the client when it changes), the namespace from
// <dir>/namespace when present. kInvalidArgument when host or port is empty (not in a pod).
Result<KubeConfig> in_cluster_config(std::string_view host, std::string_view port,
                                     const std::string& service_account_dir);
// The same from KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT.
Result<KubeConfig> in_cluster_config_from_env(
    const std::string& service_account_dir = std::string(kServiceAccountDir));

}  // namespace weft::kube

// kubeconfig parsing (kube/config.hpp): contexts, credentials, CA data and files, relative
// paths, JSON, the server URL, errors that name the field; load_kubeconfig from files; the
// in-cluster config from a service-account directory.
#include "kube/config.hpp"

#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "kube/base64.hpp"

namespace weft::kube {
namespace {

namespace fs = std::filesystem;

const char* const kTwoContexts = R"(apiVersion: v1
kind: Config
current-context: dev
clusters:
- name: dev-cluster
  cluster:
    server: https://10.0.0.1:6443
    certificate-authority-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg==
- name: prod-cluster
  cluster:
    server: https://[fd00::1]/k8s/clusters/c-1/
    certificate-authority: certs/ca.pem
    tls-server-name: api.example.com
users:
- name: dev-user
  user:
    token: dev-token
- name: prod-user
  user:
    tokenFile: ../tokens/prod
    client-certificate: client.crt
    client-key: /abs/client.key
contexts:
- name: dev
  context:
    cluster: dev-cluster
    user: dev-user
    namespace: shop
- name: prod
  context:
    cluster: prod-cluster
    user: prod-user
)";

TEST(KubeConfig, CurrentContextWithTokenAndCaData) {
  auto c = parse_kubeconfig(kTwoContexts);
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->context_name, "dev");
  EXPECT_TRUE(c->tls);
  EXPECT_EQ(c->host, "10.0.0.1");
  EXPECT_EQ(c->port, 6443);
  EXPECT_EQ(c->base_path, "");
  EXPECT_EQ(c->token, "dev-token");
  EXPECT_EQ(c->ca.data, "-----BEGIN CERTIFICATE-----\n");
  EXPECT_TRUE(c->ca.path.empty());
  EXPECT_EQ(c->namespace_name, "shop");
}

TEST(KubeConfig, ExplicitContextResolvesPathsAgainstTheConfigDirectory) {
  KubeConfigOptions options;
  options.context = "prod";
  options.base_dir = "/home/op/.kube";
  auto c = parse_kubeconfig(kTwoContexts, options);
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->host, "fd00::1");
  EXPECT_EQ(c->port, 443);
  EXPECT_EQ(c->base_path, "/k8s/clusters/c-1");
  EXPECT_EQ(c->tls_server_name, "api.example.com");
  EXPECT_EQ(c->ca.path, "/home/op/.kube/certs/ca.pem");
  EXPECT_EQ(c->token_file, "/home/op/tokens/prod");
  EXPECT_EQ(c->client_cert.path, "/home/op/.kube/client.crt");
  EXPECT_EQ(c->client_key.path, "/abs/client.key");
  EXPECT_EQ(c->namespace_name, "default");
}

TEST(KubeConfig, JsonWithClientCertificateDataAndInsecure) {
  const std::string text = R"({"apiVersion":"v1","kind":"Config","current-context":"c",
    "clusters":[{"name":"k","cluster":{"server":"https://localhost:8443",
                 "insecure-skip-tls-verify":true}}],
    "users":[{"name":"u","user":{"client-certificate-data":")" +
                           base64_encode("CERT") + R"(","client-key-data":")" +
                           base64_encode("KEY") + R"("}}],
    "contexts":[{"name":"c","context":{"cluster":"k","user":"u"}}]})";
  auto c = parse_kubeconfig(text);
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->host, "localhost");
  EXPECT_TRUE(c->insecure_skip_tls_verify);
  EXPECT_EQ(c->client_cert.data, "CERT");
  EXPECT_EQ(c->client_key.data, "KEY");
  EXPECT_TRUE(c->token.empty());
}

TEST(KubeConfig, TokenWinsOverTokenFileAndDataOverFiles) {
  const char* text = R"(current-context: c
clusters: [{name: k, cluster: {server: "http://127.0.0.1:8080", certificate-authority: ca.pem,
            certificate-authority-data: UEVN}}]
users: [{name: u, user: {token: t, tokenFile: f}}]
contexts: [{name: c, context: {cluster: k, user: u}}]
)";
  auto c = parse_kubeconfig(text);
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_FALSE(c->tls);
  EXPECT_EQ(c->port, 8080);
  EXPECT_EQ(c->token, "t");
  EXPECT_TRUE(c->token_file.empty());
  EXPECT_EQ(c->ca.data, "PEM");
  EXPECT_TRUE(c->ca.path.empty());
}

TEST(KubeConfig, ErrorsNameTheProblem) {
  struct Case {
    std::string text;
    std::string context;
    std::string want;
  };
  const std::string head =
      "clusters: [{name: k, cluster: {server: https://h:1}}]\n"
      "users: [{name: u, user: {token: t}}]\n";
  const std::vector<Case> cases = {
      {head + "contexts: [{name: c, context: {cluster: k, user: u}}]\n", "", "no current-context"},
      {head + "contexts: [{name: c, context: {cluster: k, user: u}}]\n", "other",
       "no context named \"other\""},
      {head + "contexts: [{name: c, context: {user: u}}]\ncurrent-context: c\n", "",
       "context \"c\": no cluster"},
      {"clusters: [{name: k, cluster: {}}]\ncontexts: [{name: c, context: {cluster: k}}]\n"
       "current-context: c\n",
       "", R"(cluster "k" (context "c"): no server)"},
      {"clusters: [{name: k, cluster: {server: 'ftp://x'}}]\n"
       "contexts: [{name: c, context: {cluster: k}}]\ncurrent-context: c\n",
       "", "want https:// or http://"},
      {"clusters: [{name: k, cluster: {server: 'https://h:99999'}}]\n"
       "contexts: [{name: c, context: {cluster: k}}]\ncurrent-context: c\n",
       "", "bad port"},
      {head + "contexts: [{name: c, context: {cluster: k, user: nobody}}]\ncurrent-context: c\n",
       "", "no user named \"nobody\""},
      {"clusters: [{name: k, cluster: {server: https://h, certificate-authority-data: '%%%'}}]\n"
       "contexts: [{name: c, context: {cluster: k}}]\ncurrent-context: c\n",
       "", "certificate-authority-data is not valid base64"},
      {"clusters: [{name: k, cluster: {server: https://h, certificate-authority: ca.pem,"
       " insecure-skip-tls-verify: true}}]\n"
       "contexts: [{name: c, context: {cluster: k}}]\ncurrent-context: c\n",
       "", "insecure-skip-tls-verify is not allowed"},
      {"clusters: [{name: k, cluster: {server: https://h}}]\n"
       "users: [{name: u, user: {client-certificate: c.crt}}]\n"
       "contexts: [{name: c, context: {cluster: k, user: u}}]\ncurrent-context: c\n",
       "", "client-certificate without client-key"},
      {"clusters: [{name: k, cluster: {server: https://h}}]\n"
       "users: [{name: u, user: {exec: {command: aws}}}]\n"
       "contexts: [{name: c, context: {cluster: k, user: u}}]\ncurrent-context: c\n",
       "", "exec credential plugins are not supported"},
      {"clusters: 7\ncontexts: [{name: c, context: {cluster: k}}]\ncurrent-context: c\n", "",
       "clusters must be a list"},
      {"[1, 2]", "", "not a kubeconfig"},
      {"a: [b", "", "not valid YAML or JSON"},
      {std::string(100, '['), "", "nested too deeply"},
  };
  for (const auto& c : cases) {
    KubeConfigOptions options;
    options.context = c.context;
    auto parsed = parse_kubeconfig(c.text, options);
    ASSERT_FALSE(parsed) << c.text;
    EXPECT_EQ(parsed.error().code, make_error_code(Errc::kInvalidArgument)) << c.text;
    EXPECT_NE(parsed.error().message.find(c.want), std::string::npos)
        << "want \"" << c.want << "\" in: " << parsed.error().message;
  }
}

TEST(KubeConfig, ServerUrls) {
  struct Case {
    const char* url;
    bool tls;
    const char* host;
    int port;
    const char* base;
  };
  for (const auto& c :
       {Case{"https://k8s.example.com", true, "k8s.example.com", 443, ""},
        Case{"http://10.1.2.3", false, "10.1.2.3", 80, ""},
        Case{"https://[::1]:6443/", true, "::1", 6443, ""},
        Case{"https://h:1/a/b//", true, "h", 1, "/a/b"}, Case{"h:6443", true, "h", 6443, ""}}) {
    KubeConfig config;
    auto r = parse_server_url(c.url, config);
    ASSERT_TRUE(r) << c.url << ": " << r.error().message;
    EXPECT_EQ(config.tls, c.tls) << c.url;
    EXPECT_EQ(config.host, c.host) << c.url;
    EXPECT_EQ(config.port, c.port) << c.url;
    EXPECT_EQ(config.base_path, c.base) << c.url;
  }
  for (const char* bad : {"https://", "https://h:0", "https://u@h", "https://h?x", "https://[::1",
                          "https://::1:443", "https://h:12ab", "https://a b"}) {
    KubeConfig config;
    EXPECT_FALSE(parse_server_url(bad, config)) << bad;
  }
}

class KubeConfigFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("weft-kubeconfig-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
            "-" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "sub");
  }
  void TearDown() override { fs::remove_all(dir_); }
  void write(const fs::path& path, const std::string& text) { std::ofstream(dir_ / path) << text; }
  fs::path dir_;
};

TEST_F(KubeConfigFiles, LoadsRelativeFilesNextToTheKubeconfig) {
  write("sub/ca.pem", "CA PEM");
  write("sub/c.crt", "CERT PEM");
  write("sub/c.key", "KEY PEM");
  write("sub/config", R"(current-context: c
clusters: [{name: k, cluster: {server: "https://127.0.0.1:6443", certificate-authority: ca.pem}}]
users: [{name: u, user: {client-certificate: c.crt, client-key: c.key}}]
contexts: [{name: c, context: {cluster: k, user: u}}]
)");
  auto c = load_kubeconfig((dir_ / "sub/config").string());
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->ca.data, "CA PEM");
  EXPECT_EQ(c->client_cert.data, "CERT PEM");
  EXPECT_EQ(c->client_key.data, "KEY PEM");
}

TEST_F(KubeConfigFiles, MissingFilesAreIoErrorsNamingThem) {
  write("config", R"(current-context: c
clusters: [{name: k, cluster: {server: "https://h", certificate-authority: nope.pem}}]
contexts: [{name: c, context: {cluster: k}}]
)");
  auto c = load_kubeconfig((dir_ / "config").string());
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code, make_error_code(Errc::kIo));
  EXPECT_NE(c.error().message.find("nope.pem"), std::string::npos) << c.error().message;
  auto missing = load_kubeconfig((dir_ / "absent").string());
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, make_error_code(Errc::kIo));
}

TEST_F(KubeConfigFiles, InClusterConfigFromAServiceAccountDirectory) {
  write("ca.crt", "CLUSTER CA");
  write("token", "abc\n");
  write("namespace", "kube-system\n");
  auto c = in_cluster_config("10.96.0.1", "443", dir_.string());
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->server, "https://10.96.0.1:443");
  EXPECT_EQ(c->ca.data, "CLUSTER CA");
  EXPECT_EQ(c->token_file, (dir_ / "token").string());
  EXPECT_TRUE(c->token.empty());  // read by the client, again when it rotates
  EXPECT_EQ(c->namespace_name, "kube-system");
  auto v6 = in_cluster_config("fd00::1", "6443", dir_.string());
  ASSERT_TRUE(v6) << v6.error().message;
  EXPECT_EQ(v6->host, "fd00::1");
  EXPECT_EQ(v6->port, 6443);
  auto outside = in_cluster_config("", "", dir_.string());
  ASSERT_FALSE(outside);
  EXPECT_NE(outside.error().message.find("KUBERNETES_SERVICE_HOST"), std::string::npos);
  auto no_ca = in_cluster_config("10.96.0.1", "443", (dir_ / "sub").string());
  ASSERT_FALSE(no_ca);
  EXPECT_EQ(no_ca.error().code, make_error_code(Errc::kIo));
}

}  // namespace
}  // namespace weft::kube

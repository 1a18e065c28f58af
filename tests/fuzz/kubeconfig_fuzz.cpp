// Fuzz target for kubeconfig parsing (kube/config.hpp): YAML or JSON text from an operator's
// file, the selected context, and server URLs.
// fuzz-deps: weft_kube weft_common
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "kube/config.hpp"

// libFuzzer's entry point names itself.
extern "C" int LLVMFuzzerTestOneInput(  // NOLINT(readability-identifier-naming)
    const std::uint8_t* data, std::size_t size) {
  using namespace weft::kube;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  for (const char* context : {"", "c"}) {
    KubeConfigOptions options;
    options.context = context;
    options.base_dir = "/etc/weft";
    auto config = parse_kubeconfig(text, options);
    if (!config) {
      if (config.error().message.empty()) {
        __builtin_trap();
      }
      continue;
    }
    if (config->host.empty() || config->port == 0 ||
        (config->insecure_skip_tls_verify && !config->ca.empty()) ||
        config->client_cert.empty() != config->client_key.empty()) {
      __builtin_trap();
    }
  }
  KubeConfig url;
  if (parse_server_url(text, url) && (url.host.empty() || url.port == 0)) {
    __builtin_trap();
  }
  return 0;
}

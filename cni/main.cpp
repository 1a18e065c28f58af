// weft-cni: thin main. Reads the CNI_* environment and the configuration on stdin, runs
// one command (cni/plugin.hpp), prints the result or error object on stdout.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include "cni/plugin.hpp"
#include "common/version.hpp"
#include <unistd.h>

namespace {

constexpr std::size_t kMaxConfigBytes = 1024 * 1024;

std::optional<std::string> read_stdin() {
  std::string text;
  char buf[8192];
  while (true) {
    const ssize_t n = ::read(0, buf, sizeof buf);
    if (n == 0)
      return text;
    if (n < 0)
      return std::nullopt;
    text.append(buf, static_cast<std::size_t>(n));
    if (text.size() > kMaxConfigBytes)
      return std::nullopt;
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 &&
      (std::strcmp(argv[1], "--version") == 0 || std::strcmp(argv[1], "version") == 0)) {
    std::printf("weft-cni %.*s (CNI spec 0.3.0-1.1.0)\n", static_cast<int>(weft::kVersion.size()),
                weft::kVersion.data());
    return 0;
  }
  auto get = [](const char* name) -> std::optional<std::string_view> {
    const char* v = std::getenv(name);
    return v ? std::optional<std::string_view>(v) : std::nullopt;
  };
  // Without CNI_COMMAND this is a person at a terminal: say what this is.
  if (!get("CNI_COMMAND")) {
    std::fprintf(stderr,
                 "weft-cni: a CNI plugin, run by container runtimes with CNI_COMMAND set "
                 "(ADD, DEL, CHECK, STATUS, GC, VERSION) and the network configuration on stdin.\n"
                 "See https://www.cni.dev/docs/spec/ and weft's README.\n");
  }
  auto text = read_stdin();
  weft::cni::PluginOutput out;
  if (!text) {
    out = weft::cni::render_failure(
        "", weft::cni::cni_error(weft::cni::kCodeIoFailure, "cannot read the configuration",
                                 "stdin is unreadable or over 1 MiB"));
  } else {
    out = weft::cni::run_plugin_from(get, *text);
  }
  std::fwrite(out.stdout_text.data(), 1, out.stdout_text.size(), stdout);
  std::fflush(stdout);
  return out.exit_code;
}

// weftd: the Weft router daemon (thin main; see weftd/daemon.hpp).
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "common/version.hpp"
#include "weftd/daemon.hpp"
#include "weftd/daemon_config.hpp"

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  auto parsed =
      weft::weftd::parse_daemon_args(args, [](std::string_view name) -> std::optional<std::string> {
        const char* v = std::getenv(std::string(name).c_str());
        return v ? std::optional<std::string>(v) : std::nullopt;
      });
  if (!parsed) {
    std::fprintf(stderr, "weftd: %s\n\n%s", parsed.error().message.c_str(),
                 weft::weftd::daemon_usage().c_str());
    return 2;
  }
  auto& config = parsed->config;
  if (config.help) {
    std::printf("%s", weft::weftd::daemon_usage().c_str());
    return 0;
  }
  if (config.version) {
    std::printf("weftd %.*s\n", static_cast<int>(weft::kVersion.size()), weft::kVersion.data());
    return 0;
  }
  if (!parsed->password_file.empty()) {
    std::ifstream in(parsed->password_file);
    if (!in || !std::getline(in, config.password) || config.password.empty()) {
      std::fprintf(stderr, "weftd: cannot read a password from %s\n",
                   parsed->password_file.c_str());
      return 2;
    }
  }
  return weft::weftd::run_daemon(std::move(config));
}

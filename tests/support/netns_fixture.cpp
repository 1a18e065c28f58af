#include "tests/support/netns_fixture.hpp"

#include <array>
#include <atomic>
#include <cstdio>

#include "common/log.hpp"
#include <sys/wait.h>

namespace weft::test {

IpAddress ip(std::string_view text) {
  auto a = parse_ip_address(text);
  if (!a) {
    ADD_FAILURE() << a.error().to_string();
    return {};
  }
  return *a;
}

MacAddress mac(std::string_view text) {
  auto m = parse_mac_address(text);
  if (!m) {
    ADD_FAILURE() << m.error().to_string();
    return {};
  }
  return *m;
}

Cidr prefix(std::string_view text) {
  auto c = parse_host_cidr(text);
  if (!c) {
    ADD_FAILURE() << c.error().to_string();
    return {};
  }
  return *c;
}

bool has_flag(const nlohmann::json& flags, std::string_view flag) {
  if (!flags.is_array()) {
    return false;
  }
  for (const auto& f : flags) {
    if (f.is_string() && f.get<std::string>() == flag) {
      return true;
    }
  }
  return false;
}

bool ping_ok(std::string_view netns_name, std::string_view target, int attempts) {
  for (int i = 0; i < attempts; ++i) {
    if (run_in_netns(netns_name, fmt::format("ping -c1 -W1 {} >/dev/null", target)).ok()) {
      return true;
    }
  }
  return false;
}

CommandResult run_command(const std::string& command) {
  CommandResult result;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) {
    return result;
  }
  std::array<char, 4096> buf{};
  std::size_t n = 0;
  while ((n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0) {
    result.out.append(buf.data(), n);
  }
  const int status = ::pclose(pipe);
  if (status != -1 && WIFEXITED(status)) {
    result.exit_status = WEXITSTATUS(status);
  }
  return result;
}

std::string shell_quote(std::string_view s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  out += "'";
  return out;
}

CommandResult run_in_netns(std::string_view netns_name, const std::string& command) {
  return run_command(
      fmt::format("ip netns exec {} sh -c {}", shell_quote(netns_name), shell_quote(command)));
}

nlohmann::json json_in_netns(std::string_view netns_name, const std::string& command) {
  const CommandResult r = run_in_netns(netns_name, command);
  if (!r.ok()) {
    ADD_FAILURE() << "`" << command << "` in netns " << netns_name << " exited with "
                  << r.exit_status;
    return nullptr;
  }
  auto parsed = nlohmann::json::parse(r.out, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) {
    ADD_FAILURE() << "`" << command << "` printed no JSON: " << r.out;
    return nullptr;
  }
  return parsed;
}

ScopedNetns::ScopedNetns() {
  static std::atomic<int> counter{0};
  name_ = fmt::format("weft-t{}-{}", ::getpid(), counter.fetch_add(1));
  auto ns = Netns::create(name_);
  if (ns) {
    netns_.emplace(std::move(*ns));
  } else {
    error_ = ns.error().to_string();
  }
}

ScopedNetns::~ScopedNetns() {
  if (!netns_) {
    return;
  }
  netns_.reset();
  if (auto ok = Netns::remove(name_); !ok) {
    log::warn("cannot delete test netns", {{"netns", name_}, {"error", ok.error().to_string()}});
  }
}

}  // namespace weft::test

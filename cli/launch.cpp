#include "cli/launch.hpp"

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "cli/commands.hpp"
#include "common/version.hpp"
#include <fmt/format.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace weft::cli {
namespace {

namespace fs = std::filesystem;

constexpr const char* kUnitName = "weftd.service";
constexpr const char* kEnvFile = "/etc/weft/weftd.env";

bool is_executable(const fs::path& p) {
  std::error_code ec;
  return fs::is_regular_file(p, ec) && ::access(p.c_str(), X_OK) == 0;
}

std::vector<char*> c_argv(const std::vector<std::string>& argv) {
  std::vector<char*> out;
  for (const auto& a : argv) {
    out.push_back(const_cast<char*>(a.c_str()));
  }
  out.push_back(nullptr);
  return out;
}

// Writes `text` to `path` through a temporary file and a rename (never a half-written unit).
Result<void> write_file(const fs::path& path, const std::string& text) {
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  const fs::path tmp = path.string() + ".tmp";
  {
    std::ofstream f(tmp, std::ios::trunc);
    f << text;
    f.close();
    if (!f) {
      return make_error(Errc::kIo, "cannot write {}", tmp.string());
    }
  }
  fs::permissions(tmp, fs::perms(0644), ec);
  fs::rename(tmp, path, ec);
  if (ec) {
    fs::remove(tmp, ec);
    return make_error(Errc::kIo, "cannot write {}: {}", path.string(), ec.message());
  }
  return {};
}

int run_systemctl(const LaunchEnv& env, const std::string& systemctl,
                  const std::vector<std::string>& args, std::ostream& err) {
  std::vector<std::string> argv = {systemctl};
  argv.insert(argv.end(), args.begin(), args.end());
  const int status = env.run(argv);
  if (status != 0) {
    err << "weft: `systemctl " << fmt::format("{}", fmt::join(args, " ")) << "` failed ("
        << (status < 0 ? std::string("could not run it") : fmt::format("exit {}", status)) << ")\n";
    return kExitFailure;
  }
  return kExitOk;
}

int launch_systemd(const LaunchOptions& o, const LaunchEnv& env, const std::string& weftd,
                   std::ostream& out, std::ostream& err) {
  const fs::path unit = fs::path(o.unit_dir) / kUnitName;
  if (auto ok = write_file(unit, systemd_unit(weftd, o.weftd_args)); !ok) {
    err << "weft: " << ok.error().message << "\n";
    return kExitFailure;
  }
  out << "wrote " << unit.string() << " (ExecStart=" << weftd << " ...)\n";
  if (std::getenv("WEFT_PASSWORD") != nullptr) {
    err << "weft: note: WEFT_PASSWORD is not copied into the unit; put it in " << kEnvFile
        << " (mode 0600)\n";
  }
  if (o.no_start) {
    out << "start it with: systemctl daemon-reload && systemctl enable --now " << kUnitName << "\n";
    return kExitOk;
  }
  const std::string systemctl = find_program("systemctl", "", env.path);
  std::error_code ec;
  if (systemctl.empty() || !fs::is_directory(env.systemd_runtime_dir, ec)) {
    err << "weft: " << (systemctl.empty() ? "systemctl is not installed" : "systemd is not running")
        << " on this host ("
        << (systemctl.empty() ? "not on PATH" : "no " + env.systemd_runtime_dir)
        << "): " << unit.string()
        << " was written but not started; run `weft launch` without --systemd to start weftd "
           "in the foreground\n";
    return kExitFailure;
  }
  if (run_systemctl(env, systemctl, {"daemon-reload"}, err) != kExitOk ||
      run_systemctl(env, systemctl, {"enable", "--now", kUnitName}, err) != kExitOk) {
    return kExitFailure;
  }
  out << kUnitName << " enabled and started (see `systemctl status weftd`, `weft status`)\n";
  return kExitOk;
}

}  // namespace

Result<LaunchOptions> parse_launch_args(const std::vector<std::string>& words) {
  LaunchOptions o;
  bool unit_dir_given = false;
  for (std::size_t i = 1; i < words.size(); ++i) {
    const std::string& w = words[i];
    if (w == "--") {
      o.weftd_args.insert(o.weftd_args.end(), words.begin() + static_cast<long>(i) + 1,
                          words.end());
      break;
    }
    if (w == "--systemd") {
      o.systemd = true;
    } else if (w == "--no-start") {
      o.no_start = true;
    } else if (w == "--unit-dir" || w.starts_with("--unit-dir=")) {
      if (w == "--unit-dir" && i + 1 >= words.size()) {
        return make_error(Errc::kInvalidArgument, "--unit-dir needs a directory");
      }
      o.unit_dir = w == "--unit-dir" ? words[++i] : w.substr(w.find('=') + 1);
      unit_dir_given = true;
      if (o.unit_dir.empty()) {
        return make_error(Errc::kInvalidArgument, "--unit-dir needs a directory");
      }
    } else {
      o.weftd_args.push_back(w);
    }
  }
  if (!o.systemd && (o.no_start || unit_dir_given)) {
    return make_error(Errc::kInvalidArgument, "--unit-dir and --no-start go with --systemd");
  }
  return o;
}

std::string systemd_quote(std::string_view arg) {
  bool plain = !arg.empty();
  std::string escaped;
  for (const char c : arg) {
    const bool safe = std::isalnum(static_cast<unsigned char>(c)) != 0 ||
                      std::string_view("/._:=,@+-").find(c) != std::string_view::npos;
    plain = plain && (safe || c == '%' || c == '$');
    if (c == '%' || c == '$') {
      escaped += {c, c};
    } else if (c == '"' || c == '\\') {
      escaped += {'\\', c};
    } else if (c == '\n') {
      escaped += "\\n";
    } else {
      escaped += c;
    }
  }
  return plain ? escaped : "\"" + escaped + "\"";
}

std::string systemd_unit(const std::string& weftd, const std::vector<std::string>& args) {
  std::string exec = systemd_quote(weftd);
  for (const auto& a : args) {
    exec += " " + systemd_quote(a);
  }
  return fmt::format(R"(# Written by `weft launch --systemd` (weft {0}).
# Secrets do not belong here: put WEFT_PASSWORD=... in {1} (mode 0600).
[Unit]
Description=Weft container overlay network router (weftd)
Wants=network-online.target
After=network-online.target

[Service]
Type=exec
EnvironmentFile=-{1}
ExecStart={2}
Restart=on-failure
RestartSec=2s
TimeoutStopSec=30s
LimitNOFILE=65536

[Install]
WantedBy=multi-user.target
)",
                     kVersion, kEnvFile, exec);
}

std::string find_program(std::string_view name, const std::string& self_exe,
                         const std::string& path) {
  if (!self_exe.empty()) {
    const fs::path beside = fs::path(self_exe).parent_path() / name;
    if (is_executable(beside)) {
      return fs::absolute(beside).lexically_normal().string();
    }
  }
  std::string_view rest = path;
  while (!rest.empty()) {
    const auto colon = rest.find(':');
    std::string dir(rest.substr(0, colon));
    rest = colon == std::string_view::npos ? std::string_view() : rest.substr(colon + 1);
    const fs::path candidate = fs::path(dir.empty() ? "." : dir) / name;
    if (is_executable(candidate)) {
      return fs::absolute(candidate).lexically_normal().string();
    }
  }
  return {};
}

LaunchEnv real_launch_env() {
  LaunchEnv env;
  std::error_code ec;
  env.self_exe = fs::read_symlink("/proc/self/exe", ec).string();
  const char* path = std::getenv("PATH");
  env.path =
      path != nullptr ? path : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  env.exec = [](const std::string& program, const std::vector<std::string>& argv) {
    std::cout.flush();
    std::cerr.flush();
    auto args = c_argv(argv);
    ::execv(program.c_str(), args.data());
    return std::string(std::strerror(errno));
  };
  env.run = [](const std::vector<std::string>& argv) {
    auto args = c_argv(argv);
    pid_t pid = -1;
    if (::posix_spawn(&pid, argv[0].c_str(), nullptr, nullptr, args.data(), environ) != 0) {
      return -1;
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  };
  return env;
}

int run_launch(const std::vector<std::string>& words, const LaunchEnv& env, std::ostream& out,
               std::ostream& err) {
  auto options = parse_launch_args(words);
  if (!options) {
    err << "weft: " << options.error().message
        << "\nusage: weft launch [--systemd [--unit-dir DIR] [--no-start]] [--] "
           "[WEFTD-FLAGS...]\n";
    return kExitUsage;
  }
  const std::string weftd = find_program("weftd", env.self_exe, env.path);
  if (weftd.empty()) {
    err << "weft: cannot find weftd next to " << (env.self_exe.empty() ? "weft" : env.self_exe)
        << " or on PATH\n";
    return kExitFailure;
  }
  if (options->systemd) {
    return launch_systemd(*options, env, weftd, out, err);
  }
  std::vector<std::string> argv = {weftd};
  argv.insert(argv.end(), options->weftd_args.begin(), options->weftd_args.end());
  const std::string why = env.exec(weftd, argv);
  err << "weft: cannot run " << weftd << ": " << why << "\n";
  return kExitFailure;
}

}  // namespace weft::cli

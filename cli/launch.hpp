// `weft launch`: starts weftd on a bare host, in the foreground (weft execs weftd, so the
// PID, signals and exit code are weftd's) or as a systemd service (a unit file, then
// `systemctl daemon-reload` and `systemctl enable --now weftd.service`).
//
//   weft launch [--systemd [--unit-dir DIR] [--no-start]] [--] [WEFTD-FLAGS...]
//
// weftd is looked up next to the running weft binary first (an installed pair or a build
// tree), then on PATH. Flags that are not launch's own go to weftd unchanged; `--` passes
// everything after it.
//
// Design note: the process-facing parts (exec, running systemctl, the PATH, where systemd
// keeps its runtime directory) come in a LaunchEnv, so tests drive run_launch with a fake
// exec and a fake systemctl; the unit text is a pure function.
//
// Contract: blocking. Exit codes as cli/commands.hpp (2: usage; 1: weftd not found or
// could not be executed, or --systemd could not start the service — the unit is written
// before anything is started, and stays).
#pragma once

#include <functional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace weft::cli {

struct LaunchOptions {
  bool systemd = false;
  std::string unit_dir = "/etc/systemd/system";
  bool no_start = false;
  std::vector<std::string> weftd_args;
};

// `words` starts with "launch". kInvalidArgument (with the reason) on a usage error.
Result<LaunchOptions> parse_launch_args(const std::vector<std::string>& words);

// One ExecStart argument quoted for systemd: as is when plain, else in double quotes with
// '"', '\' and newlines escaped; '%' becomes "%%" and '$' "$$" either way (specifiers and
// variable expansion).
std::string systemd_quote(std::string_view arg);

// The text of weftd.service for an absolute `weftd` path and its flags.
std::string systemd_unit(const std::string& weftd, const std::vector<std::string>& args);

struct LaunchEnv {
  std::string self_exe;  // the running weft binary (from /proc/self/exe)
  std::string path;      // $PATH
  std::string systemd_runtime_dir = "/run/systemd/system";  // exists when systemd runs
  // Replaces the process with `program` (argv[0] included in `argv`); returns only on
  // failure, with the reason.
  std::function<std::string(const std::string& program, const std::vector<std::string>& argv)> exec;
  // Runs `argv` (argv[0] an absolute path), waits, returns its exit status (-1 when it could
  // not be started).
  std::function<int(const std::vector<std::string>& argv)> run;
};

// The real process: /proc/self/exe, getenv("PATH"), execv, posix_spawn + waitpid.
LaunchEnv real_launch_env();

// An absolute path to an executable `name`: next to `self_exe` first, then on `path`
// (colon-separated); empty when there is none.
std::string find_program(std::string_view name, const std::string& self_exe,
                         const std::string& path);

int run_launch(const std::vector<std::string>& words, const LaunchEnv& env, std::ostream& out,
               std::ostream& err);

}  // namespace weft::cli

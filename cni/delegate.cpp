#include "cni/delegate.hpp"

#include <cerrno>
#include <cstring>
#include <vector>

#include "common/http_parse.hpp"
#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace weft::cni {

namespace {

// Writes all of `data` to `fd` (the child's stdin) and closes it.
bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return false;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

std::string read_all(int fd) {
  std::string out;
  char buf[4096];
  while (true) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

// Our environment with CNI_COMMAND set to `command`.
std::vector<std::string> child_environment(const std::string& command) {
  std::vector<std::string> env;
  for (char** e = environ; e && *e; ++e) {
    if (std::strncmp(*e, "CNI_COMMAND=", 12) != 0)
      env.emplace_back(*e);
  }
  env.push_back("CNI_COMMAND=" + command);
  return env;
}

struct Exit {
  int status = 0;
  std::string out;
};

CniResult<Exit> spawn_and_wait(const std::string& exe, const std::string& config,
                               const std::string& command) {
  int in[2], out[2];
  if (::pipe2(in, O_CLOEXEC) != 0)
    return cni_error(kCodeIoFailure, "pipe failed");
  if (::pipe2(out, O_CLOEXEC) != 0) {
    ::close(in[0]);
    ::close(in[1]);
    return cni_error(kCodeIoFailure, "pipe failed");
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in[0], 0);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  std::vector<std::string> env = child_environment(command);
  std::vector<char*> envp;
  for (auto& e : env)
    envp.push_back(e.data());
  envp.push_back(nullptr);
  std::string arg0 = exe;
  char* argv[] = {arg0.data(), nullptr};
  pid_t pid = 0;
  const int rc = ::posix_spawn(&pid, exe.c_str(), &actions, nullptr, argv, envp.data());
  posix_spawn_file_actions_destroy(&actions);
  ::close(in[0]);
  ::close(out[1]);
  if (rc != 0) {
    ::close(in[1]);
    ::close(out[0]);
    return cni_error(kCodeDelegateFailed, "cannot run the delegated plugin",
                     fmt::format("{}: {}", exe, std::strerror(rc)));
  }
  // A plugin reads all of stdin before answering; configs are small (< pipe buffer) in
  // practice, but write fully anyway, then read to EOF.
  (void)write_all(in[1], config);
  ::close(in[1]);
  Exit exit;
  exit.out = read_all(out[0]);
  ::close(out[0]);
  int wstatus = 0;
  while (::waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
  }
  exit.status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
  return exit;
}

}  // namespace

CniResult<std::string> find_plugin(const std::string& type, const std::string& cni_path) {
  if (type.empty() || type.find('/') != std::string::npos || type == "." || type == "..") {
    return cni_error(kCodeInvalidConfig, "invalid plugin type",
                     fmt::format("\"{}\" is not a plugin name", type));
  }
  std::string_view rest = cni_path;
  while (!rest.empty()) {
    const auto colon = rest.find(':');
    const std::string dir(rest.substr(0, colon));
    rest = colon == std::string_view::npos ? std::string_view{} : rest.substr(colon + 1);
    if (dir.empty())
      continue;
    const std::string exe = dir + "/" + type;
    struct stat st {};
    if (::stat(exe.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(exe.c_str(), X_OK) == 0) {
      return exe;
    }
  }
  return cni_error(kCodeInvalidConfig, "delegated plugin not found",
                   fmt::format("no executable \"{}\" in CNI_PATH \"{}\"", type, cni_path));
}

CniResult<nlohmann::json> run_delegate(const std::string& type, const std::string& command,
                                       const std::string& config, const std::string& cni_path) {
  WEFT_TRY(auto exe, find_plugin(type, cni_path));
  WEFT_TRY(auto exit, spawn_and_wait(exe, config, command));
  auto doc = exit.out.find_first_not_of(" \t\r\n") == std::string::npos
                 ? Result<nlohmann::json>(nlohmann::json(nullptr))
                 : parse_json_body(exit.out);
  if (exit.status != 0) {
    if (doc && doc->is_object() && (*doc)["code"].is_number_integer()) {
      return cni_error((*doc)["code"].get<int>(),
                       fmt::format("{} {}: {}", type, command, doc->value("msg", "failed")),
                       doc->value("details", ""));
    }
    return cni_error(kCodeDelegateFailed, fmt::format("{} {} failed", type, command),
                     fmt::format("exit status {}: {}", exit.status, exit.out));
  }
  if (!doc) {
    return cni_error(kCodeDecodeFailure,
                     fmt::format("{} {}: the answer does not parse", type, command),
                     doc.error().message);
  }
  return CniResult<nlohmann::json>(boost::system::in_place_value, std::move(*doc));
}

}  // namespace weft::cni

#include "tests/support/weft_lab.hpp"

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "common/log.hpp"
#include <fmt/format.h>

#ifndef WEFT_BIN_DIR
#error "WEFT_BIN_DIR must name the build tree's bin directory"
#endif

namespace weft::test {

namespace fs = std::filesystem;

std::string weft_bin_dir() {
  if (const char* env = std::getenv("WEFT_BIN_DIR")) {
    return env;
  }
  return WEFT_BIN_DIR;
}

std::string weft_test_dir() {
  return WEFT_TEST_DIR;
}

WeftHost::WeftHost(std::string label, std::string dir)
    : label_(std::move(label)),
      data_dir_(dir + "/" + label_),
      api_socket_(dir + "/" + label_ + ".sock"),
      log_path_(dir + "/" + label_ + ".log") {}

WeftHost::~WeftHost() {
  weftd_.reset();  // SIGTERM, then SIGKILL after 5 s; always reaped
}

Result<void> WeftHost::start_weftd(const std::vector<std::string>& args,
                                   const std::vector<std::string>& env) {
  if (weftd_ && weftd_->running()) {
    return make_error(Errc::kInvalidArgument, "weftd already runs in {}", label_);
  }
  weftd_.reset();
  std::vector<std::string> argv = {weft_bin_dir() + "/weftd",
                                   "--nickname",
                                   label_,
                                   "--data-dir",
                                   data_dir_,
                                   "--api-socket",
                                   api_socket_};
  argv.insert(argv.end(), args.begin(), args.end());
  {
    std::ofstream log(log_path_, std::ios::app);
    log << "---- weftd";
    for (const auto& a : argv) {
      log << " " << a;
    }
    log << "\n";
  }
  WEFT_TRY(auto child, ChildProcess::spawn(argv, {ns_.name(), log_path_, env}));
  weftd_.emplace(std::move(child));
  return {};
}

bool WeftHost::weftd_running() {
  return weftd_ && weftd_->running();
}

int WeftHost::stop_weftd() {
  if (!weftd_) {
    return -1;
  }
  const int status = weftd_->stop(std::chrono::seconds(10));
  weftd_.reset();
  return status;
}

void WeftHost::kill_weftd() {
  if (weftd_) {
    weftd_->kill_now();
    weftd_.reset();
  }
}

CommandResult WeftHost::weft(const std::string& args) const {
  return ns_.run(fmt::format("{} --api-socket {} {} 2>&1", shell_quote(weft_bin_dir() + "/weft"),
                             shell_quote(api_socket_), args));
}

nlohmann::json WeftHost::report() const {
  const CommandResult r = weft("report");
  if (!r.ok()) {
    return nullptr;
  }
  auto parsed = nlohmann::json::parse(r.out, nullptr, /*allow_exceptions=*/false);
  return parsed.is_discarded() ? nlohmann::json(nullptr) : parsed;
}

std::string WeftHost::log_tail(std::size_t lines) const {
  std::ifstream in(log_path_);
  std::vector<std::string> all;
  for (std::string line; std::getline(in, line);) {
    all.push_back(std::move(line));
  }
  std::string out;
  for (std::size_t i = all.size() > lines ? all.size() - lines : 0; i < all.size(); ++i) {
    out += all[i] + "\n";
  }
  return out;
}

WeftLab::WeftLab() {
  std::string templ =
      (fs::temp_directory_path() / fmt::format("weft-lab-{}-XXXXXX", ::getpid())).string();
  if (::mkdtemp(templ.data()) == nullptr) {
    error_ = "mkdtemp failed";
    return;
  }
  dir_ = templ;
  underlay_ = std::make_unique<ScopedNetns>();
  if (!underlay_->ok()) {
    error_ = "cannot create the underlay netns: " + underlay_->error();
    return;
  }
  if (!underlay_->run("ip link add underlay type bridge && ip link set underlay up").ok()) {
    error_ = "cannot create the underlay bridge";
  }
}

WeftLab::~WeftLab() {
  hosts_.clear();  // stops weftd processes, then deletes host namespaces
  underlay_.reset();
  if (!dir_.empty() && std::getenv("WEFT_KEEP_LAB") == nullptr) {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
}

Result<WeftHost*> WeftLab::add_host(const std::string& label,
                                    const std::vector<std::string>& addresses, int mtu) {
  if (!error_.empty()) {
    return make_error(Errc::kInvalidArgument, "lab unusable: {}", error_);
  }
  auto host = std::make_unique<WeftHost>(label, dir_);
  if (!host->ns().ok()) {
    return make_error(Errc::kIo, "cannot create netns for {}: {}", label, host->ns().error());
  }
  const std::string peer = fmt::format("l{}", links_++);
  std::string cmd = fmt::format(
      "ip link add eth0 netns {0} mtu {3} type veth peer name {1} netns {2} mtu {3} && "
      "ip -n {2} link set {1} master underlay up && ip -n {0} link set lo up",
      host->netns(), peer, underlay_->name(), mtu);
  for (const auto& a : addresses) {
    const bool v6 = a.find(':') != std::string::npos;
    cmd += fmt::format(" && ip -n {} addr add {} dev eth0{}", host->netns(), a, v6 ? " nodad" : "");
  }
  cmd += fmt::format(" && ip -n {} link set eth0 up", host->netns());
  if (!run_command(cmd).ok()) {
    return make_error(Errc::kIo, "cannot plumb host {}: {}", label, cmd);
  }
  hosts_.push_back(std::move(host));
  return hosts_.back().get();
}

WeftHost& WeftLab::host(const std::string& label) {
  for (auto& h : hosts_) {
    if (h->label() == label) {
      return *h;
    }
  }
  throw std::out_of_range("no lab host " + label);
}

std::string WeftLab::logs() const {
  std::string out;
  for (const auto& h : hosts_) {
    out += fmt::format("==== {} ({})\n{}", h->label(), h->log_path(), h->log_tail());
  }
  return out;
}

std::string eventually(const std::function<std::string()>& condition,
                       std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string why;
  while (true) {
    why = condition();
    if (why.empty() || std::chrono::steady_clock::now() >= deadline) {
      return why;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

}  // namespace weft::test

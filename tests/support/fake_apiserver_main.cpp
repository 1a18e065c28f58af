// fake-apiserver: the fake Kubernetes API server of tests/support/fake_apiserver.hpp as a
// process, for tests that run controllers or kubectl as separate processes.
//
//   fake-apiserver [--address A] [--port N] [--token T] [--state FILE] [--kubeconfig FILE]
//                  [--port-file FILE] [--bookmark-interval-ms N] [--gone-as-http]
//                  [--plain-http] [--log-requests]
//
// It prints "fake-apiserver listening on https://127.0.0.1:PORT" on stdout once it accepts
// connections, after writing the kubeconfig (--kubeconfig, atomically: tests wait for the
// file) and the port (--port-file). SIGTERM/SIGINT stop it (state saved). With --state, a
// restarted process keeps its objects, resourceVersion, token, port and certificates.
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "common/log.hpp"
#include "tests/support/fake_apiserver.hpp"

namespace {

constexpr const char* kUsage =
    "usage: fake-apiserver [--address A] [--port N] [--token T] [--state FILE]\n"
    "                      [--kubeconfig FILE] [--port-file FILE] [--bookmark-interval-ms N]\n"
    "                      [--gone-as-http] [--plain-http] [--log-requests]\n";

bool parse_args(int argc, char** argv, weft::test::FakeApiServerOptions& options,
                std::string& kubeconfig, std::string& port_file) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        throw std::invalid_argument(arg + " needs a value");
      }
      return argv[++i];
    };
    if (arg == "--address") {
      options.address = value();
    } else if (arg == "--port") {
      options.port = static_cast<std::uint16_t>(std::stoul(value()));
    } else if (arg == "--token") {
      options.token = value();
    } else if (arg == "--state") {
      options.state_file = value();
    } else if (arg == "--kubeconfig") {
      kubeconfig = value();
    } else if (arg == "--port-file") {
      port_file = value();
    } else if (arg == "--bookmark-interval-ms") {
      options.bookmark_interval = std::chrono::milliseconds(std::stol(value()));
    } else if (arg == "--gone-as-http") {
      options.gone_as_http_status = true;
    } else if (arg == "--plain-http") {
      options.tls = false;
    } else if (arg == "--log-requests") {
      options.log_requests = true;
    } else if (arg == "--help" || arg == "-h") {
      std::cout << kUsage;
      return false;
    } else {
      throw std::invalid_argument("unknown argument " + arg);
    }
  }
  return true;
}

int run(int argc, char** argv) {
  weft::test::FakeApiServerOptions options;
  std::string kubeconfig;
  std::string port_file;
  try {
    if (!parse_args(argc, argv, options, kubeconfig, port_file)) {
      return 0;
    }
  } catch (const std::exception& e) {
    std::cerr << "fake-apiserver: " << e.what() << "\n" << kUsage;
    return 2;
  }
  boost::asio::io_context io;
  auto server = weft::test::FakeApiServer::create(io.get_executor(), options);
  if (!server) {
    std::cerr << "fake-apiserver: " << server.error().message << "\n";
    return 1;
  }
  auto started = (*server)->start();
  if (!started) {
    std::cerr << "fake-apiserver: " << started.error().message << "\n";
    return 1;
  }
  if (!kubeconfig.empty()) {
    auto written = (*server)->write_kubeconfig(kubeconfig);
    if (!written) {
      std::cerr << "fake-apiserver: " << written.error().message << "\n";
      return 1;
    }
  }
  if (!port_file.empty()) {
    const std::string tmp = port_file + ".tmp";
    std::ofstream(tmp) << (*server)->port() << "\n";
    std::rename(tmp.c_str(), port_file.c_str());
  }
  std::cout << "fake-apiserver listening on " << (*server)->url() << std::endl;

  boost::asio::signal_set signals(io, SIGTERM, SIGINT);
  weft::test::FakeApiServer* raw = server->get();
  signals.async_wait([&io, raw](const boost::system::error_code& ec, int /*signal*/) {
    if (ec) {
      return;
    }
    boost::asio::co_spawn(io, raw->stop(), [&io](const std::exception_ptr&) { io.stop(); });
  });
  io.run();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "fake-apiserver: " << e.what() << "\n";
    return 1;
  }
}

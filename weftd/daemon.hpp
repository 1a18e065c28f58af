// Daemon: weftd's wiring. Opens the state database, loads the identity, starts the mesh
// transport, the router, the read-only status server (TCP) and the control API (unix
// socket), and runs them on one control thread until SIGTERM or SIGINT.
//
// Design note: everything runs on one io_context (the control thread); the HTTP handlers
// read router state directly. Mutating routes exist only on the unix socket server, so
// nothing reachable over TCP changes state.
#pragma once

#include "common/result.hpp"
#include "weftd/daemon_config.hpp"

namespace weft::weftd {

// Runs weftd; returns the process exit code (0 after a clean SIGTERM shutdown).
int run_daemon(DaemonConfig config);

}  // namespace weft::weftd

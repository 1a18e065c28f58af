// Delegated plugins (CNI spec section 4): runs another plugin, e.g. an IPAM plugin such as
// host-local, found in CNI_PATH, with our environment (CNI_COMMAND replaced) and the whole
// network configuration on stdin. Its stderr goes to ours; its stdout is the answer.
//
// Contract: blocking; a non-zero exit gives the delegate's own error object (code, msg,
// details) when it printed one, else code 104. CNI_PATH is searched in order; the type
// must be a bare name (no '/'), or code 7.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "cni/spec.hpp"

namespace weft::cni {

// The executable for `type` in the ':'-separated `cni_path`; code 7 when none.
CniResult<std::string> find_plugin(const std::string& type, const std::string& cni_path);

// Runs `type` for `command` ("ADD", "DEL", ...) with `config` on stdin. Returns the parsed
// stdout (null when it printed nothing, as DEL does).
CniResult<nlohmann::json> run_delegate(const std::string& type, const std::string& command,
                                       const std::string& config, const std::string& cni_path);

}  // namespace weft::cni

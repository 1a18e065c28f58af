// weft-cni: one CNI invocation, from the parsed environment and the configuration text to
// the exit code and what goes to stdout (a result, an error object, or nothing).
//
// Design note (ADD):
//  1. The attachment is recorded in weftd's container registry first (source
//     "cni:<network>"), so that a plugin killed half-way leaves a record that GC and
//     `weft ps` see, never an address nobody knows about.
//  2. Addresses come from weftd's allocator over the unix socket (or a delegated IPAM
//     plugin such as host-local). The gateway of each family is the bridge's own address in
//     that subnet; when the bridge has none, weftd exposes it (as `weft expose` would).
//  3. common/attach makes the veth pair (host end a port of the bridge, "vethwc" + a hash of
//     the attachment so DEL and GC find it without state), sets MAC, addresses, default
//     routes, MTU (the bridge's: the overlay's) and hairpin, then the container announces
//     its addresses (gratuitous ARP, unsolicited NA).
//  4. Every step that fails undoes the ones before it: the container is never left half
//     configured and no address stays allocated.
// DEL undoes all of it and succeeds when parts are already gone; it fails (code 11) only
// when weftd cannot be told to release the addresses, so that the runtime retries.
#pragma once

#include <string>
#include <string_view>

#include "cni/config.hpp"

namespace weft::cni {

struct PluginOutput {
  int exit_code = 0;
  std::string stdout_text;  // a JSON document and a newline, or empty
};

// Runs the command of `env` with `config_text` (stdin). Never throws.
PluginOutput run_plugin(const CniEnv& env, std::string_view config_text);

// For tests: runs the plugin from the environment and stdin text exactly as main() does,
// including the error object when the environment itself is invalid.
template <class Get>
PluginOutput run_plugin_from(Get&& get_env, std::string_view config_text);

PluginOutput render_failure(std::string_view version, const CniError& error);

template <class Get>
PluginOutput run_plugin_from(Get&& get_env, std::string_view config_text) {
  auto env = parse_env(get_env);
  if (!env)
    return render_failure(peek_version(config_text), env.error());
  return run_plugin(*env, config_text);
}

}  // namespace weft::cni

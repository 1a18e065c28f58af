// WeftdClient: what the CNI plugin asks weftd, over its unix socket (blocking, one short
// exchange per call). Error codes follow what the runtime should do next: 11 (try again
// later) when weftd is not up or still asking peers for space, 101 when the ranges are
// full, 7 when weftd refuses the request as malformed, 100 otherwise.
//
// weftd API used (api/: every target is built, and every answer parsed, with its types, so
// that an id means the same container here as in the CLI):
//   POST /ip/{id}?ifname=&family=   DELETE /ip/{id}?ifname=   GET /ip/{id}
//   PUT /containers/{id}/{ifname}   DELETE /containers/{id}/{ifname}   GET /containers
//   POST /expose {}   GET /status
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/containers.hpp"
#include "cni/spec.hpp"
#include "common/address.hpp"
#include "common/http.hpp"

namespace weft::cni {

class WeftdClient {
 public:
  explicit WeftdClient(std::string socket_path,
                       std::chrono::milliseconds timeout = std::chrono::seconds(20));

  // POST /ip/{id}: one address per family (empty: every range weftd has).
  CniResult<std::vector<Cidr>> allocate(const std::string& id, const std::string& ifname,
                                        const std::vector<IpFamily>& families);
  // DELETE /ip/{id}?ifname=: idempotent.
  CniResult<void> release(const std::string& id, const std::string& ifname);
  // GET /ip/{id}: every address the container holds (empty when none).
  CniResult<std::vector<Cidr>> lookup(const std::string& id);
  // POST /expose {}: the bridge's own addresses (allocated once, then the same).
  CniResult<std::vector<Cidr>> expose();
  // POST /expose {"cidrs": [...]}: put given addresses (a delegate's gateways) on the bridge.
  CniResult<void> expose(const std::vector<Cidr>& cidrs);
  // The container registry (what `weft ps` lists and GC walks). Records are registered
  // with source "cni:<network>" (weft-cni) or "cni-ipam:<network>" (weft-ipam).
  CniResult<void> register_container(const api::ContainerRecord& record);
  CniResult<void> unregister_container(const std::string& id, const std::string& ifname);
  CniResult<std::vector<api::ContainerRecord>> containers();
  // GET /status: ready for ADD (code 50 when not).
  CniResult<void> ready();

  const std::string& socket_path() const { return socket_; }

 private:
  struct Reply {
    int status = 0;
    std::string body;
  };
  CniResult<Reply> call(Method method, const std::string& target, std::string body);
  CniError status_error(std::string_view what, const Reply& reply) const;

  std::string socket_;
  std::chrono::milliseconds timeout_;
};

// "vethwc" + 9 hex digits of a hash of (id, ifname): the host end's name, the same on every
// call so that DEL and GC find it without state.
std::string host_ifname_for(const std::string& id, const std::string& ifname);

}  // namespace weft::cni

#include "cni/weftd_client.hpp"

#include "api/control.hpp"
#include "api/ipam.hpp"
#include "api/paths.hpp"
#include "common/http_client.hpp"

namespace weft::cni {

namespace {

api::Family family_of(const std::vector<IpFamily>& families) {
  if (families.size() == 1) {
    return families[0] == IpFamily::kV4 ? api::Family::kV4 : api::Family::kV6;
  }
  return families.size() == 2 ? api::Family::kDual : api::Family::kDefault;
}

// An answer that does not parse as its api/ type.
template <class T>
CniResult<T> parsed(std::string_view what, Result<T> r) {
  if (!r) {
    return cni_error(kCodeInternal, fmt::format("weftd's answer to {} does not parse", what),
                     r.error());
  }
  return std::move(*r);
}

}  // namespace

WeftdClient::WeftdClient(std::string socket_path, std::chrono::milliseconds timeout)
    : socket_(std::move(socket_path)), timeout_(timeout) {}

CniResult<WeftdClient::Reply> WeftdClient::call(Method method, const std::string& target,
                                                std::string body) {
  auto r = http_call("unix:" + socket_, method, target, std::move(body), timeout_);
  if (!r) {
    return cni_error(
        kCodeTryAgainLater, "weftd is not reachable: is it running?",
        fmt::format("{} {} on {}: {}", to_string(method), target, socket_, r.error().message));
  }
  return Reply{r->status, r->body};
}

CniError WeftdClient::status_error(std::string_view what, const Reply& reply) const {
  const std::string details =
      fmt::format("{}: weftd answered {}: {}", what, reply.status, api::error_message(reply.body));
  switch (reply.status) {
    case 503:
      return cni_error(kCodeTryAgainLater, "weftd is not ready yet", details);
    case 507:
      return cni_error(kCodeOutOfAddresses, "no free addresses left", details);
    case 400:
      return cni_error(kCodeInvalidConfig, "weftd refused the request", details);
    default:
      return cni_error(kCodeInternal, "weftd failed the request", details);
  }
}

CniResult<std::vector<Cidr>> WeftdClient::allocate(const std::string& id, const std::string& ifname,
                                                   const std::vector<IpFamily>& families) {
  const api::IpAllocate request{id, ifname, family_of(families), std::nullopt};
  WEFT_TRY(auto reply, call(Method::kPost, api::target(request), {}));
  if (reply.status != 200)
    return status_error("allocate " + id, reply);
  return parsed("allocate", api::parse_address_lines(reply.body));
}

CniResult<void> WeftdClient::release(const std::string& id, const std::string& ifname) {
  const api::IpRelease request{id, std::nullopt, ifname};
  WEFT_TRY(auto reply, call(Method::kDelete, api::target(request), {}));
  if (reply.status != 200)
    return status_error("release " + id, reply);
  return {};
}

CniResult<std::vector<Cidr>> WeftdClient::lookup(const std::string& id) {
  WEFT_TRY(auto reply, call(Method::kGet, api::ip_lookup_target(id), {}));
  if (reply.status == 404)
    return std::vector<Cidr>{};
  if (reply.status != 200)
    return status_error("lookup " + id, reply);
  return parsed("lookup", api::parse_address_lines(reply.body));
}

CniResult<std::vector<Cidr>> WeftdClient::expose() {
  WEFT_TRY(auto reply, call(Method::kPost, api::target(api::RouteId::kExpose),
                            api::encode(api::ExposeRequest{})));
  if (reply.status != 200)
    return status_error("expose the bridge", reply);
  WEFT_TRY(auto answer, parsed("expose", api::parse_expose_answer(reply.body)));
  return answer.cidrs;
}

CniResult<void> WeftdClient::expose(const std::vector<Cidr>& cidrs) {
  WEFT_TRY(auto reply, call(Method::kPost, api::target(api::RouteId::kExpose),
                            api::encode(api::ExposeRequest{cidrs})));
  if (reply.status != 200)
    return status_error("expose the gateway", reply);
  return {};
}

CniResult<void> WeftdClient::register_container(const api::ContainerRecord& r) {
  WEFT_TRY(auto reply,
           call(Method::kPut, api::container_target(r.id, r.ifname), api::container_body(r)));
  if (reply.status != 200)
    return status_error("register " + r.id, reply);
  return {};
}

CniResult<void> WeftdClient::unregister_container(const std::string& id,
                                                  const std::string& ifname) {
  WEFT_TRY(auto reply, call(Method::kDelete, api::container_target(id, ifname), {}));
  if (reply.status != 200 && reply.status != 404)
    return status_error("unregister " + id, reply);
  return {};
}

CniResult<std::vector<api::ContainerRecord>> WeftdClient::containers() {
  WEFT_TRY(auto reply, call(Method::kGet, api::containers_target(), {}));
  if (reply.status != 200)
    return status_error("list containers", reply);
  WEFT_TRY(auto list, parsed("the container list", api::parse_container_list(reply.body)));
  std::vector<api::ContainerRecord> out;
  for (auto& e : list.containers)
    out.push_back(std::move(e.record));
  return out;
}

CniResult<void> WeftdClient::ready() {
  const std::string status = api::target(api::RouteId::kStatus);
  auto reply = call(Method::kGet, status, {});
  if (!reply) {
    return cni_error(kCodeNotAvailable, "weftd is not running", reply.error().details);
  }
  if (reply->status != 200) {
    return cni_error(kCodeNotAvailable, "weftd is not ready",
                     fmt::format("GET {} answered {}: {}", status, reply->status,
                                 api::error_message(reply->body)));
  }
  return {};
}

std::string host_ifname_for(const std::string& id, const std::string& ifname) {
  // FNV-1a, 64 bits: stable across builds and hosts (std::hash is not).
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (const std::string* s : {&id, &ifname}) {
    for (unsigned char c : *s) {
      h = (h ^ c) * 0x100000001b3ULL;
    }
    h = (h ^ 0xff) * 0x100000001b3ULL;
  }
  return fmt::format("vethwc{:09x}", h & 0xfffffffffULL);
}

}  // namespace weft::cni

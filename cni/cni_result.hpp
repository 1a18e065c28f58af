// The ADD success result (CNI spec section 5) as a value, rendered in the format of each
// spec version and parsed back from any of them (prevResult, a delegate's answer).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cni/spec.hpp"
#include "common/address.hpp"

namespace weft::cni {

struct CniInterface {
  std::string name;
  std::string mac;      // "" when not applicable
  std::string sandbox;  // the container's CNI_NETNS; "" on the host
  std::optional<std::uint32_t> mtu;
  friend bool operator==(const CniInterface&, const CniInterface&) = default;
};

struct CniIp {
  Cidr address;  // with host bits: 10.32.0.5/12
  std::optional<IpAddress> gateway;
  std::optional<int> interface;  // index into interfaces (absent in IPAM results)
  friend bool operator==(const CniIp&, const CniIp&) = default;
};

struct CniRoute {
  Cidr dst;
  std::optional<IpAddress> gw;
  friend bool operator==(const CniRoute&, const CniRoute&) = default;
};

struct CniSuccess {
  std::vector<CniInterface> interfaces;
  std::vector<CniIp> ips;
  std::vector<CniRoute> routes;
  nlohmann::json dns;  // passed through; null when empty
  friend bool operator==(const CniSuccess&, const CniSuccess&) = default;
};

// The result JSON for `version` ("version" on each IP before 1.0.0, interface "mtu" from
// 1.1.0). `cni_version` is echoed as the runtime gave it.
nlohmann::json render_success(const CniSuccess& result, SpecVersion version,
                              std::string_view cni_version);

// Reads a result in any supported format; code 6 when it does not decode.
CniResult<CniSuccess> parse_success(const nlohmann::json& doc);

}  // namespace weft::cni

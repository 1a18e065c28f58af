#include "cni/weftd_client.hpp"

#include "common/http.hpp"
#include "common/http_client.hpp"
#include "common/http_parse.hpp"

namespace weft::cni {

namespace {

using nlohmann::json;

std::string family_query(const std::vector<IpFamily>& families) {
  if (families.size() == 1) {
    return families[0] == IpFamily::kV4 ? "&family=ipv4" : "&family=ipv6";
  }
  return families.size() == 2 ? "&family=dual" : "";
}

CniResult<std::vector<Cidr>> parse_cidr_lines(std::string_view body) {
  std::vector<Cidr> out;
  while (!body.empty()) {
    const auto nl = body.find('\n');
    std::string_view line = body.substr(0, nl);
    body = nl == std::string_view::npos ? std::string_view{} : body.substr(nl + 1);
    if (line.empty())
      continue;
    auto c = parse_host_cidr(line);
    if (!c)
      return cni_error(kCodeInternal, "weftd answered an address that does not parse", c.error());
    out.push_back(*c);
  }
  return out;
}

CniResult<std::vector<Cidr>> cidr_list(const json& doc, const char* key) {
  std::vector<Cidr> out;
  if (!doc.is_object() || !doc.contains(key) || !doc[key].is_array())
    return out;
  for (const auto& item : doc[key]) {
    if (!item.is_string())
      continue;
    auto c = parse_host_cidr(item.get<std::string>());
    if (c)
      out.push_back(*c);
  }
  return out;
}

std::string server_message(const std::string& body) {
  auto doc = parse_json_body(body);
  if (doc && doc->is_object() && doc->contains("error") && (*doc)["error"].is_string()) {
    return (*doc)["error"].get<std::string>();
  }
  std::string text = body;
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r'))
    text.pop_back();
  return text;
}

}  // namespace

WeftdClient::WeftdClient(std::string socket_path, std::chrono::milliseconds timeout)
    : socket_(std::move(socket_path)), timeout_(timeout) {}

CniResult<WeftdClient::Reply> WeftdClient::call(std::string_view method, const std::string& path,
                                                std::string body) {
  Method m = Method::kGet;
  if (method == "POST")
    m = Method::kPost;
  if (method == "PUT")
    m = Method::kPut;
  if (method == "DELETE")
    m = Method::kDelete;
  auto r = http_call("unix:" + socket_, m, path, std::move(body), timeout_);
  if (!r) {
    return cni_error(kCodeTryAgainLater, "weftd is not reachable: is it running?",
                     fmt::format("{} {} on {}: {}", method, path, socket_, r.error().message));
  }
  return Reply{r->status, r->body};
}

CniError WeftdClient::status_error(std::string_view what, const Reply& reply) const {
  const std::string details =
      fmt::format("{}: weftd answered {}: {}", what, reply.status, server_message(reply.body));
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
  const std::string path =
      "/ip/" + percent_encode(id) + "?ifname=" + percent_encode(ifname) + family_query(families);
  WEFT_TRY(auto reply, call("POST", path, {}));
  if (reply.status != 200)
    return status_error("allocate " + id, reply);
  return parse_cidr_lines(reply.body);
}

CniResult<void> WeftdClient::release(const std::string& id, const std::string& ifname) {
  const std::string path = "/ip/" + percent_encode(id) + "?ifname=" + percent_encode(ifname);
  WEFT_TRY(auto reply, call("DELETE", path, {}));
  if (reply.status != 200)
    return status_error("release " + id, reply);
  return {};
}

CniResult<std::vector<Cidr>> WeftdClient::lookup(const std::string& id) {
  WEFT_TRY(auto reply, call("GET", "/ip/" + percent_encode(id), {}));
  if (reply.status == 404)
    return std::vector<Cidr>{};
  if (reply.status != 200)
    return status_error("lookup " + id, reply);
  return parse_cidr_lines(reply.body);
}

CniResult<std::vector<Cidr>> WeftdClient::expose() {
  WEFT_TRY(auto reply, call("POST", "/expose", "{}"));
  if (reply.status != 200)
    return status_error("expose the bridge", reply);
  auto doc = parse_json_body(reply.body);
  return cidr_list(doc ? *doc : json(), "cidrs");
}

CniResult<void> WeftdClient::expose(const std::vector<Cidr>& cidrs) {
  json body{{"cidrs", json::array()}};
  for (const auto& c : cidrs)
    body["cidrs"].push_back(c.to_string());
  WEFT_TRY(auto reply, call("POST", "/expose", body.dump()));
  if (reply.status != 200)
    return status_error("expose the gateway", reply);
  return {};
}

CniResult<void> WeftdClient::register_container(const ContainerRecord& r) {
  json body{{"netns", r.netns},
            {"host_ifname", r.host_ifname},
            {"mac", r.mac},
            {"addresses", json::array()},
            {"source", r.source}};
  for (const auto& a : r.addresses)
    body["addresses"].push_back(a.to_string());
  const std::string path = "/containers/" + percent_encode(r.id) + "/" + percent_encode(r.ifname);
  WEFT_TRY(auto reply, call("PUT", path, body.dump()));
  if (reply.status != 200)
    return status_error("register " + r.id, reply);
  return {};
}

CniResult<void> WeftdClient::unregister_container(const std::string& id,
                                                  const std::string& ifname) {
  const std::string path = "/containers/" + percent_encode(id) + "/" + percent_encode(ifname);
  WEFT_TRY(auto reply, call("DELETE", path, {}));
  if (reply.status != 200 && reply.status != 404)
    return status_error("unregister " + id, reply);
  return {};
}

CniResult<std::vector<ContainerRecord>> WeftdClient::containers() {
  WEFT_TRY(auto reply, call("GET", "/containers", {}));
  if (reply.status != 200)
    return status_error("list containers", reply);
  auto doc = parse_json_body(reply.body);
  if (!doc || !doc->is_object() || !(*doc)["containers"].is_array()) {
    return cni_error(kCodeInternal, "weftd's container list does not parse");
  }
  std::vector<ContainerRecord> out;
  for (const auto& c : (*doc)["containers"]) {
    if (!c.is_object())
      continue;
    ContainerRecord r;
    r.id = c.value("id", "");
    r.ifname = c.value("ifname", "");
    r.netns = c.value("netns", "");
    r.host_ifname = c.value("host_ifname", "");
    r.mac = c.value("mac", "");
    r.source = c.value("source", "");
    WEFT_TRY(r.addresses, cidr_list(c, "addresses"));
    out.push_back(std::move(r));
  }
  return out;
}

CniResult<void> WeftdClient::ready() {
  auto reply = call("GET", "/status", {});
  if (!reply) {
    return cni_error(kCodeNotAvailable, "weftd is not running", reply.error().details);
  }
  if (reply->status != 200) {
    return cni_error(
        kCodeNotAvailable, "weftd is not ready",
        fmt::format("GET /status answered {}: {}", reply->status, server_message(reply->body)));
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

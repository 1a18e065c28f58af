#include "weftd/ipam_http.hpp"

#include "api/ipam.hpp"
#include "ipam/api.hpp"

namespace weft::weftd {
namespace {

namespace asio = boost::asio;

// IPAM answers are text/plain (Weave's shape): addresses, counts, or an error message.
Response ipam_text(int status, std::string body) {
  Response r = Response::text(status, std::move(body));
  r.content_type = "text/plain";
  return r;
}

template <class T>
Response ipam_error(const ipam::Answer<T>& a) {
  return ipam_text(a.status, a.error + "\n");
}

Response ipam_bad_request(const Error& e) {
  return ipam_text(400, e.message + "\n");
}

// IPAM routes without IPAM: 404, as when the routes did not exist, saying why.
Response ipam_off() {
  return ipam_text(404, "IPAM is off (weftd runs with --no-ipam)\n");
}

Response ipam_addresses(const ipam::Answer<std::vector<Cidr>>& a) {
  return a.ok() ? ipam_text(200, api::format_address_lines(a.value)) : ipam_error(a);
}

ipam::FamilyChoice family_choice(api::Family f) {
  switch (f) {
    case api::Family::kV4:
      return ipam::FamilyChoice::kV4;
    case api::Family::kV6:
      return ipam::FamilyChoice::kV6;
    case api::Family::kDual:
      return ipam::FamilyChoice::kDual;
    case api::Family::kDefault:
      break;
  }
  return ipam::FamilyChoice::kDefault;
}

}  // namespace

Response serve_ip_list(IpamService* ipam) {
  if (ipam == nullptr) {
    return ipam_off();
  }
  const auto all = ipam::list(ipam->allocator());
  std::vector<api::IpAllocation> out;
  for (const auto& a : all.value) {
    out.push_back(api::IpAllocation{a.key.container, a.key.ifname, a.address});
  }
  Response r = ipam_text(200, api::format_ip_list(out));
  r.content_type = "application/json";
  return r;
}

asio::awaitable<Response> serve_ip_allocate(IpamService* ipam, Request req) {
  if (ipam == nullptr) {
    co_return ipam_off();
  }
  auto r = api::parse_ip_allocate(req.params, req.query);
  if (!r) {
    co_return ipam_bad_request(r.error());
  }
  const auto family = family_choice(r->family);
  if (r->subnet) {
    co_return ipam_addresses(
        ipam::allocate(ipam->allocator(), r->id, r->ifname, family, r->subnet));
  }
  // Only the plain allocation waits for a donation (as Weave's does).
  auto got = co_await ipam::allocate_wait(ipam->allocator(), std::move(r->id), std::move(r->ifname),
                                          family, IpamService::kAllocateWait);
  co_return ipam_addresses(got);
}

Response serve_ip_claim(IpamService* ipam, const Request& req) {
  if (ipam == nullptr) {
    return ipam_off();
  }
  auto r = api::parse_ip_claim(req.params, req.query);
  if (!r) {
    return ipam_bad_request(r.error());
  }
  return ipam_addresses(ipam::claim(ipam->allocator(), r->id, r->ifname, r->address));
}

Response serve_ip_lookup(IpamService* ipam, const Request& req) {
  if (ipam == nullptr) {
    return ipam_off();
  }
  auto id = api::parse_ip_lookup(req.params);
  if (!id) {
    return ipam_bad_request(id.error());
  }
  return ipam_addresses(ipam::lookup(ipam->allocator(), *id));
}

Response serve_ip_release(IpamService* ipam, const Request& req) {
  if (ipam == nullptr) {
    return ipam_off();
  }
  auto r = api::parse_ip_release(req.params, req.query);
  if (!r) {
    return ipam_bad_request(r.error());
  }
  const auto ifname =
      r->ifname ? std::optional<std::string_view>(*r->ifname) : std::optional<std::string_view>();
  const auto n = r->address ? ipam::release_one(ipam->allocator(), r->id, *r->address, ifname)
                            : ipam::release(ipam->allocator(), r->id, ifname);
  return n.ok() ? ipam_text(200, api::format_count(n.value)) : ipam_error(n);
}

Response serve_rmpeer(IpamService* ipam, const Request& req) {
  if (ipam == nullptr) {
    return ipam_off();
  }
  const auto n = ipam::rmpeer(ipam->allocator(), req.param("name"));
  return n.ok() ? ipam_text(200, api::format_count(n.value)) : ipam_error(n);
}

}  // namespace weft::weftd

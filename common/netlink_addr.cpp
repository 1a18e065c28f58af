// LibnlNetlink: interface addresses.
#include "common/netlink_libnl.hpp"
#include <linux/if_addr.h>

namespace weft::nl_detail {
namespace {

Result<RtAddrPtr> address_template(std::string_view what, int index, const Cidr& p) {
  RtAddrPtr a(rtnl_addr_alloc());
  AddrPtr local = to_nl_addr(p);
  if (!a || !local) {
    return make_error(Errc::kIo, "{}: out of memory", what);
  }
  rtnl_addr_set_ifindex(a.get(), index);
  rtnl_addr_set_family(a.get(), family_of(p.address()));
  if (rtnl_addr_set_local(a.get(), local.get()) < 0) {
    return make_error(Errc::kInvalidArgument, "{}: bad address", what);
  }
  rtnl_addr_set_prefixlen(a.get(), p.prefix_length());
  return a;
}

}  // namespace

Result<void> LibnlNetlink::add_address(std::string_view link, const Cidr& address) {
  const std::string what = fmt::format("add address {} to {}", address.to_string(), link);
  auto index = index_of(what, link);
  if (!index) {
    return index.error();
  }
  auto a = address_template(what, *index, address);
  if (!a) {
    return a.error();
  }
  if (address.address().is_v6()) {
    rtnl_addr_set_flags(a->get(), IFA_F_NODAD);
  }
  return call(what, [&] { return rtnl_addr_add(sock_.get(), a->get(), NLM_F_EXCL); });
}

Result<void> LibnlNetlink::del_address(std::string_view link, const Cidr& address) {
  const std::string what = fmt::format("delete address {} from {}", address.to_string(), link);
  auto index = index_of(what, link);
  if (!index) {
    return index.error();
  }
  auto a = address_template(what, *index, address);
  if (!a) {
    return a.error();
  }
  return call(what, [&] { return rtnl_addr_delete(sock_.get(), a->get(), 0); });
}

Result<std::vector<Cidr>> LibnlNetlink::list_addresses(std::string_view link) {
  const std::string what = fmt::format("list addresses of {}", link);
  auto index = index_of(what, link);
  if (!index) {
    return index.error();
  }
  nl_cache* raw = nullptr;
  if (auto ok = call(what, [&] { return rtnl_addr_alloc_cache(sock_.get(), &raw); }); !ok) {
    return ok.error();
  }
  CachePtr cache(raw);
  std::vector<Cidr> out;
  for (nl_object* o = nl_cache_get_first(raw); o != nullptr; o = nl_cache_get_next(o)) {
    auto* a = reinterpret_cast<rtnl_addr*>(o);
    if (rtnl_addr_get_ifindex(a) != *index) {
      continue;
    }
    if (auto ip = ip_from_nl_addr(rtnl_addr_get_local(a))) {
      if (auto cidr = Cidr::make_host(*ip, rtnl_addr_get_prefixlen(a))) {
        out.push_back(*cidr);
      }
    }
  }
  return out;
}

}  // namespace weft::nl_detail

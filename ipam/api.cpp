#include "ipam/api.hpp"

#include "common/errc.hpp"
#include "ipam/bootstrap.hpp"

namespace weft::ipam {

namespace {

template <class T>
Answer<T> failed(const Error& e) {
  return Answer<T>{status_for(e), T{}, e.message};
}

std::vector<Cidr> addresses(const std::vector<Allocation>& all) {
  std::vector<Cidr> out;
  out.reserve(all.size());
  for (const auto& a : all) {
    out.push_back(a.address);
  }
  return out;
}

Answer<std::vector<Cidr>> allocated(const Result<std::vector<Allocation>>& got) {
  if (!got) {
    return failed<std::vector<Cidr>>(got.error());
  }
  return {200, addresses(*got), {}};
}

}  // namespace

int status_for(const Error& e) {
  struct Mapping {
    Errc code;
    int status;
  };
  for (const Mapping& m : {Mapping{Errc::kInvalidArgument, 400}, Mapping{Errc::kNotFound, 404},
                           Mapping{Errc::kConflict, 409}, Mapping{Errc::kUnavailable, 503},
                           Mapping{Errc::kExhausted, 507}}) {
    if (e.code == make_error_code(m.code)) {
      return m.status;
    }
  }
  return 500;
}

Answer<std::vector<Cidr>> allocate(Allocator& a, std::string_view id, std::string_view ifname,
                                   FamilyChoice family, std::optional<Cidr> subnet) {
  return allocated(a.allocate(id, ifname, family, subnet));
}

boost::asio::awaitable<Answer<std::vector<Cidr>>> allocate_wait(Allocator& a, std::string id,
                                                                std::string ifname,
                                                                FamilyChoice family,
                                                                Clock::Duration timeout) {
  auto got =
      co_await a.allocate_wait(std::move(id), std::move(ifname), family, std::nullopt, timeout);
  co_return allocated(got);
}

Answer<std::vector<Cidr>> claim(Allocator& a, std::string_view id, std::string_view ifname,
                                Cidr address) {
  auto got = a.claim(id, ifname, address);
  if (!got) {
    return failed<std::vector<Cidr>>(got.error());
  }
  return {200, {got->address}, {}};
}

Answer<std::vector<Cidr>> lookup(const Allocator& a, std::string_view id) {
  auto all = a.lookup(id);
  if (all.empty()) {
    return {404, {}, "no address for " + std::string(id)};
  }
  return {200, addresses(all), {}};
}

Answer<std::size_t> release(Allocator& a, std::string_view id,
                            std::optional<std::string_view> ifname) {
  auto n = a.release(id, std::nullopt, ifname);
  return n ? Answer<std::size_t>{200, *n, {}} : failed<std::size_t>(n.error());
}

Answer<std::size_t> release_one(Allocator& a, std::string_view id, IpAddress address,
                                std::optional<std::string_view> ifname) {
  auto n = a.release(id, address, ifname);
  return n ? Answer<std::size_t>{200, *n, {}} : failed<std::size_t>(n.error());
}

Answer<std::vector<Allocation>> list(const Allocator& a) {
  return {200, a.list(), {}};
}

Answer<U128> rmpeer(Allocator& a, std::string_view peer) {
  auto id = parse_peer_id(peer);
  if (!id) {
    return failed<U128>(id.error());
  }
  auto n = a.rmpeer(*id);
  return n ? Answer<U128>{200, *n, {}} : failed<U128>(n.error());
}

std::string format_peer_id(PeerId id) {
  return fmt::format("{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", (id >> 40) & 0xff,
                     (id >> 32) & 0xff, (id >> 24) & 0xff, (id >> 16) & 0xff, (id >> 8) & 0xff,
                     id & 0xff);
}

nlohmann::json status_json(const AllocatorStatus& s) {
  nlohmann::json rings = nlohmann::json::array();
  for (const auto& r : s.rings) {
    nlohmann::json peers = nlohmann::json::array();
    for (const auto& p : r.peers) {
      peers.push_back({{"name", format_peer_id(p.peer)},
                       {"owned", u128_to_string(p.owned)},
                       {"share", p.share},
                       {"free", p.free},
                       {"reachable", p.reachable}});
    }
    rings.push_back({{"family", r.family == IpFamily::kV4 ? "ipv4" : "ipv6"},
                     {"range", r.range.to_string()},
                     {"id", fmt::format("{:016x}", r.id)},
                     {"entries", r.entries},
                     {"free_here", u128_to_string(r.free_here)},
                     {"allocated", r.allocated},
                     {"peers", std::move(peers)}});
  }
  nlohmann::json stats = nlohmann::json::object();
  for_each_stat(s.stats,
                [&](std::string_view name, std::uint64_t v) { stats[std::string(name)] = v; });
  return {{"peer", format_peer_id(s.self)}, {"ready", s.ready}, {"bootstrap", s.bootstrap},
          {"allocations", s.allocations},   {"stray", s.stray}, {"rings", std::move(rings)},
          {"stats", std::move(stats)}};
}

void for_each_stat(const AllocatorStats& st,
                   const std::function<void(std::string_view, std::uint64_t)>& fn) {
  fn("allocations", st.allocations);
  fn("releases", st.releases);
  fn("donations_given", st.donations_given);
  fn("donations_received", st.donations_received);
  fn("space_requests", st.space_requests);
  fn("conflicts", st.conflicts);
  fn("malformed", st.malformed);
  fn("store_errors", st.store_errors);
}

}  // namespace weft::ipam

// The IPAM requests: each target() parses back (through the server's decoding and the
// route it matches) to the same request; bad parameters and queries are 400s with a
// message; the text and JSON answers round-trip and refuse garbage.
#include "api/ipam.hpp"

#include <gtest/gtest.h>

#include "api/paths.hpp"
#include "common/http_parse.hpp"

namespace weft::api {
namespace {

struct Matched {
  RouteId id;
  RouteParams params;
  QueryParams query;
};

// What the server does with a target: decode it and find the route (method given).
std::optional<Matched> serve(Method method, const std::string& t) {
  auto parsed = parse_target(t);
  if (!parsed) {
    return std::nullopt;
  }
  for (const Route& r : routes()) {
    if (r.method != method) {
      continue;
    }
    auto params = match_route(*parse_route_pattern(r.pattern), parsed->segments);
    if (params) {
      return Matched{r.id, *params, parsed->query};
    }
  }
  return std::nullopt;
}

constexpr std::string_view kOdd = "a b%c?d#e&f=g+h";

TEST(IpRequests, AllocateRoundTrips) {
  for (const IpAllocate& want : {
           IpAllocate{"abc", "eth0", Family::kDefault, std::nullopt},
           IpAllocate{std::string(kOdd), "net-1", Family::kV4, std::nullopt},
           IpAllocate{"x", "eth1", Family::kDual, parse_cidr("10.32.8.0/24").value()},
           IpAllocate{std::string(kOdd), "eth0", Family::kV6, parse_cidr("fd00::/64").value()},
       }) {
    const std::string t = target(want);
    auto m = serve(Method::kPost, t);
    ASSERT_TRUE(m) << t;
    EXPECT_EQ(m->id, want.subnet ? RouteId::kIpAllocateIn : RouteId::kIpAllocate) << t;
    auto got = parse_ip_allocate(m->params, m->query);
    ASSERT_TRUE(got) << t << ": " << got.error().to_string();
    EXPECT_EQ(*got, want) << t;
  }
  EXPECT_EQ(target(IpAllocate{"c1", "eth0", Family::kV4, std::nullopt}),
            "/ip/c1?ifname=eth0&family=ipv4");
  EXPECT_EQ(target(IpAllocate{"c1", "eth0", Family::kDefault, parse_cidr("10.0.0.0/8").value()}),
            "/ip/c1/10.0.0.0/8?ifname=eth0");
}

TEST(IpRequests, ClaimReleaseLookupRoundTrip) {
  for (const IpClaim& want : {
           IpClaim{std::string(kOdd), "eth0", Cidr::single(parse_ip_address("10.32.0.9").value())},
           IpClaim{"c", "net1", parse_host_cidr("10.32.0.9/12").value()},
           IpClaim{"c", "eth0", parse_host_cidr("fd00::5/64").value()},
       }) {
    const std::string t = target(want);
    auto m = serve(Method::kPut, t);
    ASSERT_TRUE(m) << t;
    auto got = parse_ip_claim(m->params, m->query);
    ASSERT_TRUE(got) << t << ": " << got.error().to_string();
    EXPECT_EQ(*got, want) << t;
  }
  for (const IpRelease& want : {
           IpRelease{std::string(kOdd), std::nullopt, std::nullopt},
           IpRelease{"c", std::nullopt, std::string("eth1")},
           IpRelease{"c", parse_ip_address("10.32.0.9").value(), std::nullopt},
           IpRelease{"c", parse_ip_address("fd00::9").value(), std::string("eth0")},
       }) {
    const std::string t = target(want);
    auto m = serve(Method::kDelete, t);
    ASSERT_TRUE(m) << t;
    auto got = parse_ip_release(m->params, m->query);
    ASSERT_TRUE(got) << t << ": " << got.error().to_string();
    EXPECT_EQ(*got, want) << t;
  }
  auto m = serve(Method::kGet, ip_lookup_target(kOdd));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->id, RouteId::kIpLookup);
  EXPECT_EQ(parse_ip_lookup(m->params).value(), kOdd);
  EXPECT_EQ(serve(Method::kGet, ip_list_target())->id, RouteId::kIpList);
  EXPECT_EQ(serve(Method::kDelete, rmpeer_target("0a:00:00:00:00:01"))->params.at("name"),
            "0a:00:00:00:00:01");
}

TEST(IpRequests, PrefixOfAReleasedAddressIsIgnored) {
  auto m = serve(Method::kDelete, "/ip/c/10.32.0.9/12");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->id, RouteId::kIpReleaseOnePrefix);
  auto got = parse_ip_release(m->params, m->query);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->address, parse_ip_address("10.32.0.9").value());
}

TEST(IpRequests, BadPartsAreInvalidArgumentsNamingThem) {
  struct Case {
    Method method;
    std::string target;
    std::string message;
  };
  for (const Case& c : std::vector<Case>{
           {Method::kPost, "/ip/x?family=ipx", "family must be ipv4, ipv6 or dual"},
           {Method::kPost, "/ip/x?ifname=", "bad ifname"},
           {Method::kPost, "/ip/x?ifname=a-very-long-interface", "bad ifname"},
           {Method::kPost, "/ip/x/10.99.0.0/8", "host bits"},
           {Method::kPost, "/ip/x/10.0.0.0/33", ""},
           {Method::kPost, "/ip/" + std::string(257, 'a'), "longer than 256"},
           {Method::kPost, "/ip/a%01b", "control characters"},
           {Method::kPut, "/ip/x/10.0.0.300", "10.0.0.300"},
           {Method::kPut, "/ip/x/10.0.0.1/40", ""},
           {Method::kDelete, "/ip/x/nonsense", "nonsense"},
       }) {
    auto m = serve(c.method, c.target);
    ASSERT_TRUE(m) << c.target;
    Result<void> r;
    if (c.method == Method::kPost) {
      auto a = parse_ip_allocate(m->params, m->query);
      r = a ? Result<void>() : Result<void>(a.error());
    } else if (c.method == Method::kPut) {
      auto a = parse_ip_claim(m->params, m->query);
      r = a ? Result<void>() : Result<void>(a.error());
    } else {
      auto a = parse_ip_release(m->params, m->query);
      r = a ? Result<void>() : Result<void>(a.error());
    }
    ASSERT_FALSE(r) << c.target;
    EXPECT_EQ(r.error().code, make_error_code(Errc::kInvalidArgument)) << c.target;
    EXPECT_NE(r.error().message.find(c.message), std::string::npos)
        << c.target << " -> " << r.error().message;
  }
}

TEST(IpRequests, ContainerKeysAndIfnames) {
  EXPECT_TRUE(validate_container_key("container id", std::string(kOdd)));
  for (std::string_view bad : {"", "a/b", ".", "..", "a\nb", "a\x7f"}) {
    EXPECT_FALSE(validate_container_key("container id", bad)) << bad;
  }
  EXPECT_TRUE(validate_ifname("eth0"));
  for (std::string_view bad : {"", "eth 0", "e/0", "sixteen-chars-xx"}) {
    EXPECT_FALSE(validate_ifname(bad)) << bad;
  }
}

TEST(IpAnswers, AddressLinesCountsAndListRoundTrip) {
  const std::vector<Cidr> addrs = {parse_host_cidr("10.32.0.5/12").value(),
                                   parse_host_cidr("fd10:32::5/48").value()};
  EXPECT_EQ(format_address_lines(addrs), "10.32.0.5/12\nfd10:32::5/48\n");
  EXPECT_EQ(parse_address_lines(format_address_lines(addrs)).value(), addrs);
  EXPECT_EQ(parse_address_lines("10.32.0.5/12\r\n\n").value().size(), 1u);
  EXPECT_TRUE(parse_address_lines("").value().empty());
  auto bad = parse_address_lines("10.32.0.5/12\nno such thing\n");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, make_error_code(Errc::kMalformed));

  EXPECT_EQ(format_count(3), "3\n");
  EXPECT_EQ(parse_count("3\n").value(), 3u);
  EXPECT_EQ(parse_count(format_count(kU128Max)).value(), kU128Max);
  for (std::string_view garbage :
       {"", "\n", "-1", "1.5", "x", "340282366920938463463374607431768211456"}) {
    EXPECT_FALSE(parse_count(garbage)) << garbage;
  }

  const std::vector<IpAllocation> list = {{"c 1", "eth0", parse_host_cidr("10.32.0.5/12").value()},
                                          {"c2", "net1", parse_host_cidr("fd10:32::5/48").value()}};
  const std::string text = format_ip_list(list);
  EXPECT_NE(text.find(R"("family":"ipv6")"), std::string::npos) << text;
  EXPECT_EQ(parse_ip_list(text).value(), list);
  EXPECT_TRUE(parse_ip_list("[]").value().empty());
  for (std::string_view garbage : {"{}", "[1]", R"([{"container": "c"}])",
                                   R"([{"container": "c", "ifname": "e", "address": "x"}])"}) {
    EXPECT_FALSE(parse_ip_list(garbage)) << garbage;
  }
}

}  // namespace
}  // namespace weft::api

// The route table (sound, complete, read-only over TCP) and target(): every parameter and
// query value percent-encoded, and what the server decodes is what the client meant.
#include "api/paths.hpp"

#include <set>

#include <gtest/gtest.h>

#include "common/http_parse.hpp"

namespace weft::api {
namespace {

TEST(RouteTable, EveryPatternParsesAndStatusRoutesOnlyRead) {
  std::set<std::pair<Method, std::string_view>> seen;
  for (const Route& r : routes()) {
    EXPECT_TRUE(parse_route_pattern(r.pattern)) << r.pattern;
    EXPECT_TRUE(seen.emplace(r.method, r.pattern).second) << "twice: " << r.pattern;
    EXPECT_EQ(&route(r.id), &r);
    EXPECT_FALSE(r.summary.empty()) << r.pattern;
    if (serves(r.reach, Server::kStatus)) {
      EXPECT_EQ(r.method, Method::kGet) << r.pattern << " changes state over TCP";
    }
  }
  EXPECT_EQ(routes().size(), static_cast<std::size_t>(RouteId::kWebEvents) + 1);
}

TEST(RouteTable, ServesSaysWhichServer) {
  EXPECT_TRUE(serves(Reach::kBoth, Server::kControl));
  EXPECT_TRUE(serves(Reach::kBoth, Server::kStatus));
  EXPECT_TRUE(serves(Reach::kControl, Server::kControl));
  EXPECT_FALSE(serves(Reach::kControl, Server::kStatus));
  EXPECT_FALSE(serves(Reach::kStatus, Server::kControl));
  EXPECT_TRUE(serves(Reach::kStatus, Server::kStatus));
  EXPECT_EQ(route(RouteId::kConnect).reach, Reach::kControl);
  EXPECT_EQ(route(RouteId::kReport).reach, Reach::kBoth);
  EXPECT_EQ(route(RouteId::kWebEvents).reach, Reach::kStatus);
  EXPECT_TRUE(route(RouteId::kWebEvents).stream);
}

TEST(Target, EncodesEverySegmentAndQueryValue) {
  EXPECT_EQ(target(RouteId::kIpList), "/ip");
  EXPECT_EQ(target(RouteId::kIpAllocate, {"a b/c%d?x"}, {{"ifname", "eth0"}}),
            "/ip/a%20b%2Fc%25d%3Fx?ifname=eth0");
  EXPECT_EQ(target(RouteId::kContainerPut, {"id#1", "eth+0"}), "/containers/id%231/eth%2B0");
  EXPECT_EQ(target(RouteId::kIpAllocate, {"x"}, {{"ifname", std::nullopt}, {"family", "dual"}}),
            "/ip/x?family=dual");
  EXPECT_EQ(target(RouteId::kRmpeer, {"0a:00:00:00:00:01"}), "/peer/0a%3A00%3A00%3A00%3A00%3A01");
}

TEST(Target, TheServerDecodesWhatTheClientMeant) {
  for (std::string_view id :
       {"plain", "a b", "c%d", "q?x=1&y", "h#x", "p+s", "u\xc3\xa9", "~._-"}) {
    const std::string t = target(RouteId::kContainerPut, {id, "eth 1"}, {{"k", "v&w=x+y"}});
    auto parsed = parse_target(t);
    ASSERT_TRUE(parsed) << t << ": " << parsed.error().to_string();
    auto pattern = parse_route_pattern(route(RouteId::kContainerPut).pattern);
    ASSERT_TRUE(pattern);
    auto params = match_route(*pattern, parsed->segments);
    ASSERT_TRUE(params) << t;
    EXPECT_EQ(params->at("id"), id) << t;
    EXPECT_EQ(params->at("ifname"), "eth 1") << t;
    EXPECT_EQ(parsed->query.at("k"), "v&w=x+y") << t;
  }
}

TEST(Param, MissingIsAnErrorNamingIt) {
  EXPECT_EQ(param(RouteParams{{"id", "x"}}, "id").value(), "x");
  auto missing = param(RouteParams{}, "addr");
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("{addr}"), std::string::npos);
}

}  // namespace
}  // namespace weft::api

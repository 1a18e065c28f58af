// The connect/forget and expose/hide bodies and answers: round trips, defaults, and the
// messages weftd answers with for bad bodies.
#include "api/control.hpp"

#include <gtest/gtest.h>

namespace weft::api {
namespace {

TEST(PeersRequest, RoundTripsAndRefusesBadBodies) {
  for (const PeersRequest& r :
       {PeersRequest{{"10.0.0.1", "host:6783"}, true}, PeersRequest{{}, false}}) {
    EXPECT_EQ(parse_peers_request(encode(r)).value(), r);
  }
  EXPECT_FALSE(parse_peers_request(R"({"peers": ["a"]})").value().replace);
  EXPECT_FALSE(parse_peers_request(R"({"peers": ["a"], "replace": "yes"})").value().replace);
  for (const char* bad : {"", "[]", "{}", R"({"peers": "a"})", R"({"peers": [1]})"}) {
    auto r = parse_peers_request(bad);
    ASSERT_FALSE(r) << bad;
  }
  EXPECT_NE(parse_peers_request("{}").error().message.find("\"peers\""), std::string::npos);
  EXPECT_EQ(parse_peers_request(R"({"peers": [1]})").error().message, "peers must be strings");
}

TEST(ExposeRequest, EmptyMeansIpamAndCidrsRoundTrip) {
  EXPECT_TRUE(parse_expose_request("").value().cidrs.empty());
  EXPECT_TRUE(parse_expose_request("{}").value().cidrs.empty());
  EXPECT_EQ(encode(ExposeRequest{}), "{}");
  const ExposeRequest r{
      {parse_host_cidr("198.19.0.1/16").value(), parse_host_cidr("fd00::1/64").value()}};
  EXPECT_EQ(parse_expose_request(encode(r)).value(), r);
  for (const char* bad :
       {"[]", R"({"cidrs": "x"})", "{", R"({"cidrs": [5]})", R"({"cidrs": ["10.0.0.1"]})"}) {
    auto got = parse_expose_request(bad);
    ASSERT_FALSE(got) << bad;
    EXPECT_EQ(got.error().code, make_error_code(Errc::kInvalidArgument)) << bad;
  }
}

TEST(ExposeAnswer, RoundTrips) {
  const ExposeAnswer a{"exposed 10.32.0.1/12", {parse_host_cidr("10.32.0.1/12").value()}};
  EXPECT_EQ(parse_expose_answer(to_json(a).dump()).value(), a);
  EXPECT_FALSE(parse_expose_answer(R"({"message": "x"})"));
  EXPECT_FALSE(parse_expose_answer(R"({"cidrs": ["bad"]})"));
}

TEST(Messages, MessageAndErrorText) {
  EXPECT_EQ(parse_message(message_json("connecting to 1 peer(s)").dump()).value(),
            "connecting to 1 peer(s)");
  EXPECT_FALSE(parse_message("{}"));
  EXPECT_EQ(error_message(R"({"error": "no such path: /x"})"), "no such path: /x");
  EXPECT_EQ(error_message("owns no range\n"), "owns no range");
  EXPECT_EQ(error_message(""), "");
}

}  // namespace
}  // namespace weft::api

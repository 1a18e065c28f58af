// The upstream e2e NetworkPolicy suite, as data (tests/data/netpol), through the offline
// runner: every case, both families, every step; the policies as `weft-npc analyze` reads
// them, the verdicts from the compiled representation the nftables program is made of.
#include <gtest/gtest.h>

#include "policy/analyze.hpp"
#include "tests/support/policy/netpol_cases.hpp"

namespace weft::policy {
namespace {

using test::kNetpolPods;

std::map<std::string, IpAddress> addresses_for(IpFamily family) {
  std::map<std::string, IpAddress> out;
  for (std::size_t i = 0; i < kNetpolPods.size(); ++i) {
    out[kNetpolPods[i]] =
        family == IpFamily::kV4
            ? IpAddress::v4(0xc6130000U + static_cast<std::uint32_t>(i) + 1)
            : *IpAddress::from_value(IpFamily::kV6, parse_ip_address("fd00:19::")->value() + i + 1);
  }
  return out;
}

class NetpolE2e : public ::testing::TestWithParam<std::string> {};

TEST_P(NetpolE2e, AnalyzeMatchesTheExpectedReachability) {
  auto model = test::load_netpol_model();
  ASSERT_TRUE(model) << model.error().message;
  auto c = test::load_netpol_case(GetParam());
  ASSERT_TRUE(c) << c.error().message;
  for (IpFamily family : c->families) {
    SCOPED_TRACE(family_name(family));
    test::NetpolWorld world(*model, family, addresses_for(family));
    for (std::size_t s = 0; s < c->steps.size(); ++s) {
      const auto& step = c->steps[s];
      SCOPED_TRACE(fmt::format("step {}: {}", s + 1, step.description));
      auto ops = world.step(step);
      ASSERT_TRUE(ops) << ops.error().message;
      auto input = build_cluster(world.objects(), {});
      ASSERT_TRUE(input) << input.error().message;
      const auto rows = analyze(*input, {});
      for (const auto& probe : step.probes) {
        std::string got;
        for (std::size_t src = 0; src < 9; ++src) {
          for (std::size_t dst = 0; dst < 9; ++dst) {
            auto it = std::find_if(rows.begin(), rows.end(), [&](const Connection& r) {
              return r.src == kNetpolPods[src] && r.dst == kNetpolPods[dst] &&
                     r.protocol == probe.protocol && r.port == probe.port;
            });
            ASSERT_NE(it, rows.end())
                << "no row for " << kNetpolPods[src] << " -> " << kNetpolPods[dst];
            ASSERT_FALSE(it->family.has_value());
            got += it->allowed ? '.' : 'X';
          }
          got += '\n';
        }
        std::string want;
        for (const auto& row : probe.rows) {
          want += row + "\n";
        }
        EXPECT_EQ(got, want) << to_string(probe.protocol) << " " << probe.port
                             << " (rows: sources x/a..z/c, columns: destinations)";
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Cases, NetpolE2e, ::testing::ValuesIn(test::netpol_case_files()),
                         [](const ::testing::TestParamInfo<std::string>& param) {
                           return test::netpol_test_name(param.param);
                         });

}  // namespace
}  // namespace weft::policy

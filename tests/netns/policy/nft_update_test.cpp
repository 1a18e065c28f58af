// render_update against the kernel: for every step of every NetworkPolicy case (the upstream
// e2e data, both families), the delta from the previous program, applied in one namespace,
// leaves exactly the tables that the whole program leaves in another (sets, maps, chains and
// rules compared as the kernel lists them). And render_staged: a whole program written in
// small transactions beside the old one leaves the old one alone until the swap, and then
// what render_program leaves.
#include <gtest/gtest.h>

#include "common/nft.hpp"
#include "policy/analyze.hpp"
#include "policy/nft_program.hpp"
#include "tests/support/netns_fixture.hpp"
#include "tests/support/policy/netpol_cases.hpp"

namespace weft::policy {
namespace {

using nlohmann::json;

// Without handles and table names (the staged program is in the other table).
void strip_handles(json& j) {
  if (j.is_object()) {
    j.erase("handle");
    j.erase("table");
    for (auto& [key, value] : j.items()) {
      strip_handles(value);
    }
  } else if (j.is_array()) {
    for (auto& value : j) {
      strip_handles(value);
    }
  }
}

// The table as the kernel lists it, keyed so that creation order does not matter.
std::map<std::string, json> listing(const test::ScopedNetns& ns,
                                    const std::string& table = "weft_npc") {
  auto text = run_in_netns(ns.netns(), [&] { return nft_query("list table inet " + table, true); });
  EXPECT_TRUE(text) << text.error().message;
  std::map<std::string, json> out;
  if (!text) {
    return out;
  }
  json doc = json::parse(*text);
  strip_handles(doc);
  for (auto& item : doc["nftables"]) {
    for (auto& [kind, value] : item.items()) {
      if (kind == "rule") {
        out["rules of " + value.value("chain", "")].push_back(value["expr"]);
      } else if (kind != "metainfo") {
        out[kind + " " + value.value("name", "")] = value;
      }
    }
  }
  return out;
}

std::map<std::string, IpAddress> addresses(IpFamily family) {
  std::map<std::string, IpAddress> out;
  for (std::size_t i = 0; i < test::kNetpolPods.size(); ++i) {
    const U128 base = family == IpFamily::kV4 ? parse_ip_address("198.19.0.0")->value()
                                              : parse_ip_address("fd00:19::")->value();
    out[test::kNetpolPods[i]] = *IpAddress::from_value(family, base + i + 1);
  }
  return out;
}

TEST(NftUpdate, DeltasLeaveWhatWholeProgramsLeave) {
  WEFT_REQUIRE_ROOT();
  WEFT_SCOPED_NETNS(whole);
  WEFT_SCOPED_NETNS(delta);
  auto model = test::load_netpol_model();
  ASSERT_TRUE(model) << model.error().message;
  const NftOptions options;
  std::size_t steps = 0;
  std::size_t worlds = 0;
  for (const auto& file : test::netpol_case_files()) {
    auto c = test::load_netpol_case(file);
    ASSERT_TRUE(c) << c.error().message;
    for (IpFamily family : c->families) {
      SCOPED_TRACE(fmt::format("{} {}", file, family_name(family)));
      test::NetpolWorld world(*model, family, addresses(family));
      // As the controller does: each compile keeps the last one's identity numbers; every
      // other case with few numbers, so that pods also move between identity and address.
      IdentityTable numbers;
      const std::uint32_t max_identity = (worlds++ % 2 == 0) ? kMaxIdentity : 4;
      auto program = [&]() {
        auto input = build_cluster(world.objects(), {});
        EXPECT_TRUE(input) << input.error().message;
        auto node =
            compile(input->state, {.previous_identities = &numbers, .max_identity = max_identity});
        numbers = node.identities;
        return program_of(node);
      };
      ProgramState installed = program();
      auto reset =
          run_in_netns(delta.netns(), [&] { return nft_run(render_program(installed, options)); });
      ASSERT_TRUE(reset) << reset.error().message;
      for (const auto& step : c->steps) {
        ASSERT_TRUE(world.step(step));
        ProgramState next = program();
        const std::string update = render_update(installed, next, options);
        if (!update.empty()) {
          auto applied = run_in_netns(delta.netns(), [&] { return nft_run(update); });
          ASSERT_TRUE(applied) << applied.error().message << "\n" << update;
        }
        auto full =
            run_in_netns(whole.netns(), [&] { return nft_run(render_program(next, options)); });
        ASSERT_TRUE(full) << full.error().message;
        ASSERT_EQ(listing(delta), listing(whole)) << update;
        installed = std::move(next);
        ++steps;
      }
    }
  }
  EXPECT_GT(steps, 100U);
}

// The programs of a case before and after its steps: the staged write of the last one over
// the first, in transactions of 5 elements, against the whole write of the last one.
TEST(NftUpdate, StagedWholeWriteLeavesTheOldProgramUntilTheSwap) {
  WEFT_REQUIRE_ROOT();
  WEFT_SCOPED_NETNS(whole);
  WEFT_SCOPED_NETNS(staged);
  auto model = test::load_netpol_model();
  ASSERT_TRUE(model) << model.error().message;
  const auto files = test::netpol_case_files();
  ASSERT_FALSE(files.empty());
  auto c = test::load_netpol_case(files.back());
  ASSERT_TRUE(c) << c.error().message;
  test::NetpolWorld world(*model, IpFamily::kV4, addresses(IpFamily::kV4));
  auto program = [&]() {
    auto input = build_cluster(world.objects(), {});
    EXPECT_TRUE(input) << input.error().message;
    return program_of(compile(input->state));
  };
  const ProgramState old = program();
  for (const auto& step : c->steps) {
    ASSERT_TRUE(world.step(step));
  }
  const ProgramState next = program();
  const NftOptions options;
  ASSERT_TRUE(run_in_netns(staged.netns(), [&] { return nft_run(render_program(old, options)); }));
  ASSERT_TRUE(run_in_netns(whole.netns(), [&] { return nft_run(render_program(next, options)); }));
  const auto before = listing(staged);
  NftOptions spare = options;
  spare.inet_table = "weft_npc_b";
  const auto scripts = render_staged(next, spare, 5);
  ASSERT_GT(scripts.size(), 3U);
  for (std::size_t i = 0; i < scripts.size(); ++i) {
    auto applied = run_in_netns(staged.netns(), [&] { return nft_run(scripts[i]); });
    ASSERT_TRUE(applied) << applied.error().message << "\n" << scripts[i];
    if (i + 1 < scripts.size()) {
      ASSERT_EQ(listing(staged), before) << "the old program changed at step " << i;
    }
  }
  auto tables = run_in_netns(staged.netns(), [] { return nft_query("list tables", false); });
  ASSERT_TRUE(tables);
  EXPECT_EQ(tables->find("table inet weft_npc\n"), std::string::npos) << *tables;
  EXPECT_NE(tables->find("table bridge weft_npc"), std::string::npos) << *tables;
  EXPECT_EQ(listing(staged, "weft_npc_b"), listing(whole));
}

}  // namespace
}  // namespace weft::policy

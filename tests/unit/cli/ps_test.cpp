// `weft ps`: the table from GET /containers and /report (expose line, ifname suffix, prefix
// filters, untrusted JSON) and the --json filter.
#include "cli/ps.hpp"

#include <gtest/gtest.h>

namespace weft::cli {
namespace {

using nlohmann::json;

json answer() {
  return json::parse(R"({
    "bridge": {"name": "weft", "mac": "02:11:22:33:44:55"},
    "containers": [
      {"id": "8c1e5a3f", "ifname": "eth0", "mac": "2a:7e:11:22:33:44",
       "addresses": ["10.32.0.5/12", "fd10:32::5/48"], "attached": true},
      {"id": "8c1e5a3f", "ifname": "net1", "mac": "2a:7e:11:22:33:45",
       "addresses": ["10.40.0.5/16"], "attached": true},
      {"id": "b0b", "ifname": "eth0", "mac": "", "addresses": [], "attached": false}
    ]})");
}

json report(std::vector<std::string> exposed) {
  return {{"router", {{"dataplane", {{"bridge", "weft"}, {"exposed", exposed}}}}}};
}

TEST(PsFormat, WeaveStyleLines) {
  EXPECT_EQ(format_ps(answer(), report({"10.32.0.1/12", "fd10:32::1/48"}), {}),
            "weft:expose 02:11:22:33:44:55 10.32.0.1/12 fd10:32::1/48\n"
            "8c1e5a3f 2a:7e:11:22:33:44 10.32.0.5/12 fd10:32::5/48\n"
            "8c1e5a3f:net1 2a:7e:11:22:33:45 10.40.0.5/16\n"
            "b0b -\n");
}

TEST(PsFormat, NoExposeLineWhenNothingIsExposedOrNoDataplane) {
  const std::string text = format_ps(answer(), report({}), {});
  EXPECT_EQ(text.find("weft:expose"), std::string::npos) << text;
  EXPECT_EQ(format_ps(answer(), json(nullptr), {}), text);
  EXPECT_EQ(format_ps(json::parse(R"({"containers": []})"), report({}), {}), "");
}

TEST(PsFormat, FiltersByIdPrefix) {
  const json r = report({"10.32.0.1/12"});
  EXPECT_EQ(format_ps(answer(), r, {"b0"}), "b0b -\n");
  EXPECT_EQ(format_ps(answer(), r, {"8c1e", "zzz"}),
            "8c1e5a3f 2a:7e:11:22:33:44 10.32.0.5/12 fd10:32::5/48\n"
            "8c1e5a3f:net1 2a:7e:11:22:33:45 10.40.0.5/16\n");
  EXPECT_EQ(format_ps(answer(), r, {"weft:"}), "weft:expose 02:11:22:33:44:55 10.32.0.1/12\n");
  EXPECT_EQ(format_ps(answer(), r, {"nothing"}), "");
}

TEST(PsFormat, JsonFilterKeepsEveryField) {
  const json all = filter_containers(answer(), {});
  EXPECT_EQ(all["containers"], answer()["containers"]);
  const json some = filter_containers(answer(), {"b"});
  ASSERT_EQ(some["containers"].size(), 1u);
  EXPECT_EQ(some["containers"][0]["attached"], false);
}

TEST(PsFormat, MalformedAnswersRenderAsQuestionMarks) {
  for (const char* text :
       {"null", "[]", "{}", R"({"containers": 5})", R"({"containers": [1, "x", null]})",
        R"({"containers": [{"id": 5, "mac": [], "addresses": "x"}], "bridge": 3})"}) {
    const json j = json::parse(text);
    EXPECT_NO_THROW({
      (void)format_ps(j, report({"10.32.0.1/12"}), {});
      (void)format_ps(j, json::parse(R"({"router": {"dataplane": {"exposed": [1]}}})"), {"x"});
      (void)filter_containers(j, {"?"});
    }) << text;
  }
  EXPECT_EQ(
      format_ps(json::parse(R"({"containers": [{"id": 5, "addresses": [7]}]})"), json(nullptr), {}),
      "? - ?\n");
  EXPECT_EQ(format_ps(json::object(), report({"10.32.0.1/12"}), {}),
            "weft:expose ? 10.32.0.1/12\n");
}

}  // namespace
}  // namespace weft::cli

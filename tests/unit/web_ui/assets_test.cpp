// The embedded status page: every asset the page references is compiled in and served with
// its content type; unknown names are 404.
#include "web-ui/assets.hpp"

#include <regex>
#include <set>
#include <string>

#include <gtest/gtest.h>

#include "web-ui/embedded_files.hpp"

namespace weft::web_ui {
namespace {

TEST(WebUiAssetsTest, ThePageAndItsScriptsAreEmbedded) {
  std::set<std::string> names;
  for (const EmbeddedFile& f : embedded_files()) {
    EXPECT_FALSE(f.bytes.empty()) << f.name;
    names.insert(std::string(f.name));
  }
  for (const char* want :
       {"index.html", "app.js", "graph.js", "policy.js", "style.css", "favicon.svg"}) {
    EXPECT_TRUE(names.contains(want)) << want;
  }
  auto index = find_asset("index.html");
  ASSERT_TRUE(index);
  EXPECT_TRUE(index->starts_with("<!doctype html>"));
  EXPECT_FALSE(find_asset("../index.html"));
  EXPECT_FALSE(find_asset(""));
}

// Every /ui/... reference of index.html is an embedded file (a renamed asset breaks this).
TEST(WebUiAssetsTest, EveryReferenceOfTheIndexIsEmbedded) {
  const std::string index(*find_asset("index.html"));
  const std::regex ref(R"re((?:src|href)="/ui/([^"]+)")re");
  int refs = 0;
  for (auto it = std::sregex_iterator(index.begin(), index.end(), ref);
       it != std::sregex_iterator(); ++it) {
    ++refs;
    EXPECT_TRUE(find_asset((*it)[1].str())) << (*it)[1].str();
  }
  EXPECT_GE(refs, 4);
  // No CDN: nothing is loaded from another origin.
  EXPECT_EQ(index.find("src=\"http"), std::string::npos);
  EXPECT_EQ(index.find("href=\"http"), std::string::npos);
}

TEST(WebUiAssetsTest, ContentTypesFollowTheExtension) {
  EXPECT_EQ(content_type_for("index.html"), "text/html; charset=utf-8");
  EXPECT_EQ(content_type_for("app.js"), "text/javascript; charset=utf-8");
  EXPECT_EQ(content_type_for("style.css"), "text/css; charset=utf-8");
  EXPECT_EQ(content_type_for("favicon.svg"), "image/svg+xml");
  EXPECT_EQ(content_type_for("data.bin"), "application/octet-stream");
  EXPECT_EQ(content_type_for("js"), "application/octet-stream");
}

TEST(WebUiAssetsTest, ResponsesAreUncachedAndTheHtmlIsLockedToItsOrigin) {
  const Response page = asset_response("index.html");
  EXPECT_EQ(page.status, 200);
  EXPECT_EQ(page.content_type, "text/html; charset=utf-8");
  EXPECT_EQ(page.header("Cache-Control"), "no-cache");
  auto csp = page.header("Content-Security-Policy");
  ASSERT_TRUE(csp);
  EXPECT_NE(csp->find("default-src 'self'"), std::string_view::npos);
  const Response js = asset_response("app.js");
  EXPECT_EQ(js.status, 200);
  EXPECT_EQ(js.body, *find_asset("app.js"));
  EXPECT_EQ(js.header("Cache-Control"), "no-cache");
  EXPECT_FALSE(js.header("Content-Security-Policy"));
  const Response missing = asset_response("nope.js");
  EXPECT_EQ(missing.status, 404);
}

}  // namespace
}  // namespace weft::web_ui

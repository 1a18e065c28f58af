// The pure parsers of the client: watch event lines and their framing, list bodies, API
// Status errors, label and field selectors, resource paths and query strings.
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "kube/api_status.hpp"
#include "kube/base64.hpp"
#include "kube/client.hpp"
#include "kube/resource.hpp"
#include "kube/selector.hpp"
#include "kube/watch_event.hpp"

namespace weft::kube {
namespace {

using nlohmann::json;

TEST(WatchEvent, ParsesEveryType) {
  struct Case {
    const char* type;
    EventType want;
  };
  for (const auto& c : {Case{"ADDED", EventType::kAdded}, Case{"MODIFIED", EventType::kModified},
                        Case{"DELETED", EventType::kDeleted},
                        Case{"BOOKMARK", EventType::kBookmark}, Case{"ERROR", EventType::kError}}) {
    const std::string line = std::string(R"({"type":")") + c.type +
                             R"(","object":{"kind":"Pod","metadata":{"name":"a",)"
                             R"("namespace":"n","resourceVersion":"17"}}})" +
                             "\r\n";
    auto e = parse_watch_event(line);
    ASSERT_TRUE(e) << c.type << ": " << e.error().message;
    EXPECT_EQ(e->type, c.want);
    EXPECT_EQ(to_string(e->type), c.type);
    EXPECT_EQ(resource_version_of(e->object), "17");
    EXPECT_EQ(name_of(e->object), "a");
    EXPECT_EQ(namespace_of(e->object), "n");
  }
}

TEST(WatchEvent, RejectsBadLines) {
  for (const char* bad : {"", "null", "[]", "{}", R"({"type":"ADDED"})",
                          R"({"type":"ADDED","object":[]})", R"({"type":"UPSERTED","object":{}})",
                          R"({"type":1,"object":{}})", R"({"type":"ADDED","object":{}} trailing)",
                          "{\"type\":\"ADDED\",\"object\":{\"a\":\"\xff\"}}"}) {
    auto e = parse_watch_event(bad);
    ASSERT_FALSE(e) << bad;
    EXPECT_EQ(e.error().code, make_error_code(Errc::kMalformed)) << bad;
  }
  std::string deep = R"({"type":"ADDED","object":)";
  for (int i = 0; i < 100; ++i) {
    deep += R"({"a":)";
  }
  deep += "1" + std::string(101, '}');
  EXPECT_FALSE(parse_watch_event(deep));
}

TEST(ObjectList, ParsesItemsVersionAndContinue) {
  auto list = parse_object_list(
      R"({"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"42","continue":"abc",
          "remainingItemCount":3},"items":[{"metadata":{"name":"a"}},{"metadata":{"name":"b"}}]})");
  ASSERT_TRUE(list) << list.error().message;
  EXPECT_EQ(list->kind, "PodList");
  EXPECT_EQ(list->resource_version, "42");
  EXPECT_EQ(list->continue_token, "abc");
  ASSERT_EQ(list->items.size(), 2u);
  EXPECT_EQ(name_of(list->items[1]), "b");

  auto empty = parse_object_list(R"({"kind":"PodList","metadata":{},"items":null})");
  ASSERT_TRUE(empty) << empty.error().message;
  EXPECT_TRUE(empty->items.empty());

  for (const char* bad : {"", "[]", R"({"metadata":{}})", R"({"items":{}})", R"({"items":[1]})",
                          R"({"metadata":[],"items":[]})"}) {
    EXPECT_FALSE(parse_object_list(bad)) << bad;
  }
  EXPECT_EQ(parse_object_list(R"({"items":[]})", 5).error().code, make_error_code(Errc::kTooLarge));
}

TEST(LineSplitter, ReassemblesLinesAcrossChunks) {
  LineSplitter lines;
  ASSERT_TRUE(lines.feed("{\"a\":1}\n{\"b\""));
  EXPECT_EQ(lines.next(), "{\"a\":1}");
  EXPECT_EQ(lines.next(), std::nullopt);
  ASSERT_TRUE(lines.feed(":2}\r\n\n"));
  EXPECT_EQ(lines.next(), "{\"b\":2}");
  EXPECT_EQ(lines.next(), std::nullopt);
  EXPECT_EQ(lines.buffered(), 0u);
  for (int i = 0; i < 1000; ++i) {  // the buffer does not grow with the stream
    ASSERT_TRUE(lines.feed("x\n"));
    ASSERT_EQ(lines.next(), "x");
  }
  LineSplitter small(8);
  ASSERT_TRUE(small.feed("1234\n5678"));
  EXPECT_FALSE(small.feed("90123"));
}

TEST(ApiStatus, MapsStatusesToErrors) {
  auto status = [](int code, const char* reason) {
    return json{{"kind", "Status"}, {"apiVersion", "v1"}, {"status", "Failure"},
                {"message", "msg"}, {"reason", reason},   {"code", code}}
        .dump();
  };
  EXPECT_TRUE(is_not_found(status_error(404, status(404, "NotFound"), "GET /x")));
  EXPECT_TRUE(is_already_exists(status_error(409, status(409, "AlreadyExists"), "POST /x")));
  EXPECT_TRUE(is_conflict(status_error(409, status(409, "Conflict"), "PUT /x")));
  EXPECT_TRUE(is_gone(status_error(410, status(410, "Expired"), "GET /x")));
  EXPECT_TRUE(is_gone(status_error(ApiStatus{410, "Expired", "too old"}, "watch")));
  EXPECT_TRUE(is_temporary(status_error(503, status(503, "ServiceUnavailable"), "GET /x")));
  EXPECT_TRUE(is_temporary(status_error(500, "<html>oops</html>", "GET /x")));
  EXPECT_TRUE(is_temporary(status_error(429, "", "GET /x")));
  EXPECT_EQ(status_error(401, status(401, "Unauthorized"), "GET /x").code,
            make_error_code(Errc::kAuthFailed));
  EXPECT_EQ(status_error(422, status(422, "Invalid"), "POST /x").code,
            make_error_code(Errc::kInvalidArgument));
  EXPECT_EQ(status_error(415, "", "PATCH /x").code, make_error_code(Errc::kUnsupported));
  const Error e = status_error(404, status(404, "NotFound"), "GET /api/v1/pods/x");
  EXPECT_EQ(e.message, "GET /api/v1/pods/x: 404 NotFound: msg");
  EXPECT_FALSE(is_temporary(e));
  const Error plain = status_error(502, "bad gateway\n", "GET /x");
  EXPECT_EQ(plain.message, "GET /x: HTTP 502: bad gateway");
  EXPECT_FALSE(parse_status(json{{"kind", "Pod"}}));
  EXPECT_EQ(parse_status(json::parse(status(410, "Expired")))->code, 410);
}

TEST(LabelSelector, ParsesUpstreamSyntax) {
  struct Case {
    const char* text;
    const char* canonical;
  };
  for (const auto& c :
       {Case{"", ""}, Case{"app", "app"}, Case{"!app", "!app"}, Case{"app=web", "app=web"},
        Case{"app==web", "app=web"}, Case{"app!=web", "app!=web"}, Case{"app=", "app="},
        Case{" tier in ( b , a ) , x notin (c)", "tier in (a,b),x notin (c)"},
        Case{"example.com/role=db,gen>3,gen<10", "example.com/role=db,gen>3,gen<10"},
        Case{"a in (x,,y)", "a in (,x,y)"}}) {
    auto s = parse_label_selector(c.text);
    ASSERT_TRUE(s) << c.text << ": " << s.error().message;
    EXPECT_EQ(s->to_string(), c.canonical) << c.text;
    auto again = parse_label_selector(s->to_string());
    ASSERT_TRUE(again) << s->to_string();
    EXPECT_EQ(again->to_string(), s->to_string());
  }
  for (const char* bad :
       {"=", "app=web=x", "app in web", "app in (a", "a,", ",a", "!", "!a=b", "a b", "a>x", "-a=b",
        "a=-b", "Example.com/a=b", "a=b c",
        "averyveryveryveryveryveryveryveryveryveryveryveryveryveryverylongkey=1"}) {
    auto s = parse_label_selector(bad);
    ASSERT_FALSE(s) << bad;
    EXPECT_EQ(s.error().code, make_error_code(Errc::kInvalidArgument));
  }
}

TEST(LabelSelector, MatchesLikeKubernetes) {
  const json labels = {{"app", "web"}, {"tier", "front"}, {"gen", "5"}};
  struct Case {
    const char* selector;
    bool on_labels;
    bool on_none;
  };
  for (const auto& c : {Case{"", true, true}, Case{"app", true, false}, Case{"!app", false, true},
                        Case{"app=web", true, false}, Case{"app!=web", false, true},
                        Case{"app!=db", true, true}, Case{"app in (db,web)", true, false},
                        Case{"app notin (db,web)", false, true}, Case{"app notin (db)", true, true},
                        Case{"gen>4,gen<6", true, false}, Case{"gen>5", false, false},
                        Case{"app>1", false, false}, Case{"app=web,tier=back", false, false}}) {
    auto s = parse_label_selector(c.selector);
    ASSERT_TRUE(s) << c.selector;
    EXPECT_EQ(s->matches(labels), c.on_labels) << c.selector;
    EXPECT_EQ(s->matches(json()), c.on_none) << c.selector;
  }
}

TEST(LabelSelector, FromMatchLabelsAndMatchExpressions) {
  auto s = label_selector_from_json(json::parse(R"({"matchLabels":{"app":"web"},
      "matchExpressions":[{"key":"tier","operator":"In","values":["a","b"]},
                          {"key":"canary","operator":"DoesNotExist"}]})"));
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->to_string(), "app=web,tier in (a,b),!canary");
  EXPECT_TRUE(s->matches(json{{"app", "web"}, {"tier", "a"}}));
  EXPECT_FALSE(s->matches(json{{"app", "web"}, {"tier", "a"}, {"canary", "1"}}));
  EXPECT_TRUE(label_selector_from_json(json::object())->empty());
  EXPECT_TRUE(label_selector_from_json(json())->empty());
  for (const char* bad :
       {R"({"matchLabels":[]})", R"({"matchLabels":{"a":1}})",
        R"({"matchExpressions":[{"key":"a","operator":"In"}]})",
        R"({"matchExpressions":[{"key":"a","operator":"Exists","values":["x"]}]})",
        R"({"matchExpressions":[{"key":"a","operator":"Gt","values":["1"]}]})",
        R"({"matchExpressions":[{"operator":"Exists"}]})", "[]"}) {
    EXPECT_FALSE(label_selector_from_json(json::parse(bad))) << bad;
  }
}

TEST(FieldSelector, ParsesEscapesAndMatches) {
  auto s = parse_field_selector(R"(metadata.name=a\,b,spec.nodeName!=n1,status.phase==Running)");
  ASSERT_TRUE(s) << s.error().message;
  ASSERT_EQ(s->requirements.size(), 3u);
  EXPECT_EQ(s->requirements[0].value, "a,b");
  EXPECT_FALSE(s->requirements[1].equal);
  const json pod = {{"metadata", {{"name", "a,b"}}},
                    {"spec", {{"nodeName", "n2"}}},
                    {"status", {{"phase", "Running"}}}};
  EXPECT_TRUE(s->matches([&](std::string_view path) { return field_value(pod, path); }));
  auto unscheduled = parse_field_selector("spec.nodeName=");
  ASSERT_TRUE(unscheduled);
  EXPECT_TRUE(unscheduled->matches([](std::string_view) { return std::nullopt; }));
  EXPECT_TRUE(parse_field_selector("")->empty());
  for (const char* bad : {"a", "=b", "a=b,,c=d", R"(a=b\x)"}) {
    EXPECT_FALSE(parse_field_selector(bad)) << bad;
  }
  EXPECT_EQ(field_value(json{{"spec", {{"port", 80}}}}, "spec.port"), "80");
  EXPECT_EQ(field_value(json{{"spec", {{"x", json::object()}}}}, "spec.x"), std::nullopt);
}

TEST(ResourcePaths, BuildsCollectionAndObjectPaths) {
  EXPECT_EQ(collection_path(kPods), "/api/v1/pods");
  EXPECT_EQ(collection_path(kPods, "shop"), "/api/v1/namespaces/shop/pods");
  EXPECT_EQ(collection_path(kNamespaces, "ignored"), "/api/v1/namespaces");
  EXPECT_EQ(object_path(kNetworkPolicies, "shop", "deny"),
            "/apis/networking.k8s.io/v1/namespaces/shop/networkpolicies/deny");
  EXPECT_EQ(object_path(kNodes, "", "node-1"), "/api/v1/nodes/node-1");
  EXPECT_EQ(api_version(kNetworkPolicies), "networking.k8s.io/v1");
  EXPECT_EQ(with_query("/api/v1/pods", {{"labelSelector", "app in (a,b)"}, {"limit", ""}}),
            "/api/v1/pods?labelSelector=app%20in%20%28a%2Cb%29");
  EXPECT_EQ(with_query("/x?watch=1", {{"a", "b"}}), "/x?watch=1&a=b");
}

TEST(Base64, RoundTripsAndRejectsGarbage) {
  EXPECT_EQ(base64_encode("hello"), "aGVsbG8=");
  EXPECT_EQ(base64_decode("aGVs\nbG8=").value(), "hello");
  EXPECT_EQ(base64_decode("").value(), "");
  EXPECT_FALSE(base64_decode("aGVsbG8"));
  EXPECT_FALSE(base64_decode("a$=="));
}

}  // namespace
}  // namespace weft::kube

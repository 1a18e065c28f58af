#include "api/control.hpp"

#include "common/http_parse.hpp"

namespace weft::api {
namespace {

using nlohmann::json;

std::string dump(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

json cidr_texts(const std::vector<Cidr>& cidrs) {
  json out = json::array();
  for (const auto& c : cidrs) {
    out.push_back(c.to_string());
  }
  return out;
}

}  // namespace

Result<PeersRequest> parse_peers_request(std::string_view body) {
  WEFT_TRY(auto doc, parse_json_body(body));
  if (!doc.is_object() || !doc.contains("peers") || !doc["peers"].is_array()) {
    return make_error(Errc::kInvalidArgument, "body must be {{\"peers\": [\"host:port\", ...]}}");
  }
  PeersRequest r;
  for (const auto& p : doc["peers"]) {
    if (!p.is_string()) {
      return make_error(Errc::kInvalidArgument, "peers must be strings");
    }
    r.peers.push_back(p.get<std::string>());
  }
  r.replace = doc.contains("replace") && doc["replace"].is_boolean() && doc["replace"].get<bool>();
  return r;
}

std::string encode(const PeersRequest& r) {
  return dump({{"peers", r.peers}, {"replace", r.replace}});
}

Result<ExposeRequest> parse_expose_request(std::string_view body) {
  auto doc = body.empty() ? Result<json>(json::object()) : parse_json_body(body);
  if (!doc || !doc->is_object() || (doc->contains("cidrs") && !(*doc)["cidrs"].is_array())) {
    return make_error(Errc::kInvalidArgument,
                      "want {{\"cidrs\": [\"ADDRESS/PREFIX\", ...]}} or {{}}");
  }
  ExposeRequest r;
  for (const auto& item : doc->value("cidrs", json::array())) {
    if (!item.is_string()) {
      return make_error(Errc::kInvalidArgument, "cidrs must be strings");
    }
    WEFT_TRY(auto c, parse_host_cidr(item.get<std::string>()));
    r.cidrs.push_back(c);
  }
  return r;
}

std::string encode(const ExposeRequest& r) {
  if (r.cidrs.empty()) {
    return "{}";
  }
  return dump({{"cidrs", cidr_texts(r.cidrs)}});
}

json to_json(const ExposeAnswer& a) {
  return {{"message", a.message}, {"cidrs", cidr_texts(a.cidrs)}};
}

Result<ExposeAnswer> parse_expose_answer(std::string_view body) {
  WEFT_TRY(auto doc, parse_json_body(body));
  if (!doc.is_object() || !doc.contains("cidrs") || !doc["cidrs"].is_array()) {
    return make_error(Errc::kMalformed, "the answer has no \"cidrs\" list");
  }
  ExposeAnswer a;
  if (auto it = doc.find("message"); it != doc.end() && it->is_string()) {
    a.message = it->get<std::string>();
  }
  for (const auto& item : doc["cidrs"]) {
    auto c = item.is_string() ? parse_host_cidr(item.get<std::string>())
                              : Result<Cidr>(make_error(Errc::kInvalidArgument, "not a string"));
    if (!c) {
      return make_error(Errc::kMalformed, "bad address in \"cidrs\": {}", c.error().message);
    }
    a.cidrs.push_back(*c);
  }
  return a;
}

json message_json(std::string_view message) {
  return {{"message", message}};
}

Result<std::string> parse_message(std::string_view body) {
  WEFT_TRY(auto doc, parse_json_body(body));
  if (!doc.is_object() || !doc.contains("message") || !doc["message"].is_string()) {
    return make_error(Errc::kMalformed, "the answer has no \"message\"");
  }
  return doc["message"].get<std::string>();
}

std::string error_message(std::string_view body) {
  auto doc = parse_json_body(body);
  if (doc && doc->is_object() && doc->contains("error") && (*doc)["error"].is_string()) {
    return (*doc)["error"].get<std::string>();
  }
  while (!body.empty() && (body.back() == '\n' || body.back() == '\r')) {
    body.remove_suffix(1);
  }
  return std::string(body);
}

}  // namespace weft::api

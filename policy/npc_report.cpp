#include "policy/npc_report.hpp"

#include <algorithm>

#include "common/prometheus.hpp"

namespace weft::policy {
namespace {

constexpr const char* kProtocolLabels[] = {"tcp", "udp", "sctp", "other"};

std::uint64_t blocked(const BlockedCounters& counters, Direction d, const char* protocol) {
  auto it = counters.find(blocked_counter_name(d, protocol));
  return it == counters.end() ? 0 : it->second;
}

}  // namespace

std::string render_metrics(const Controller& controller, const BlockedCounters& counters) {
  PrometheusWriter w;
  const ControllerStatus& s = controller.status();
  for (Direction d : {Direction::kIngress, Direction::kEgress}) {
    for (const char* protocol : kProtocolLabels) {
      w.add("weft_npc_blocked_total", "counter",
            "New connections dropped by NetworkPolicy on this node (and packets of local pods "
            "not classified yet).",
            static_cast<double>(blocked(counters, d, protocol)),
            {{"direction", std::string(to_string(d))}, {"protocol", protocol}});
    }
  }
  w.add("weft_npc_synced", "gauge",
        "1 once every resource was listed and a program written from them.", s.synced ? 1 : 0);
  w.add("weft_npc_policies", "gauge", "NetworkPolicies known.", static_cast<double>(s.policies));
  w.add("weft_npc_local_pods", "gauge", "Pods of this node with rules.",
        static_cast<double>(s.local_pods));
  w.add("weft_npc_isolated_pods", "gauge", "Local pods selected by a policy, per direction.",
        static_cast<double>(s.isolated_ingress), {{"direction", "ingress"}});
  w.add("weft_npc_isolated_pods", "gauge", "", static_cast<double>(s.isolated_egress),
        {{"direction", "egress"}});
  w.add("weft_npc_rule_groups", "gauge", "Distinct rule sets (chains) in the program.",
        static_cast<double>(s.groups));
  w.add("weft_npc_rejected_objects", "gauge",
        "Objects weft-npc could not decode (policies among them fail closed).",
        static_cast<double>(s.rejected));
  w.add("weft_npc_syncs_total", "counter", "Programs compiled.", static_cast<double>(s.syncs));
  w.add("weft_npc_write_failures_total", "counter",
        "Programs the kernel refused (the previous one stayed).",
        static_cast<double>(s.write_failures));
  w.add("weft_npc_heals_total", "counter",
        "Times the program was found missing from the kernel and written again.",
        static_cast<double>(s.heals));
  w.add("weft_npc_last_sync_seconds", "gauge", "Compile + render + write time of the last sync.",
        s.last_sync_seconds);
  w.add_histogram("weft_npc_pod_rules_seconds",
                  "From a local pod's address arriving from the API server to its rules being "
                  "written.",
                  s.pod_rules_histogram, s.pod_rules_sum, s.pod_rules_count);
  for (const kube::Reflector* r : controller.reflectors()) {
    const auto& rs = r->status();
    const PrometheusWriter::Labels labels{{"resource", r->options().path}};
    w.add("weft_npc_watch_synced", "gauge", "1 when the resource has been listed.",
          rs.synced ? 1 : 0, labels);
    w.add("weft_npc_lists_total", "counter", "Complete lists of the resource.",
          static_cast<double>(rs.lists), labels);
    w.add("weft_npc_relists_gone_total", "counter", "Relists after 410 Gone.",
          static_cast<double>(rs.relists_gone), labels);
    w.add("weft_npc_watch_restarts_total", "counter", "Watches reopened without a relist.",
          static_cast<double>(rs.watch_restarts), labels);
    w.add("weft_npc_watch_errors_total", "counter", "Failed lists and watches.",
          static_cast<double>(rs.errors), labels);
  }
  return w.text();
}

nlohmann::json render_status(const Controller& controller, const BlockedCounters& counters,
                             Clock::TimePoint now) {
  const ControllerStatus& s = controller.status();
  nlohmann::json out = {
      {"node", controller.options().node_name},
      {"synced", s.synced},
      {"policies", s.policies},
      {"local_pods", s.local_pods},
      {"isolated_pods", {{"ingress", s.isolated_ingress}, {"egress", s.isolated_egress}}},
      {"rule_groups", s.groups},
      {"syncs", s.syncs},
      {"write_failures", s.write_failures},
      {"heals", s.heals},
      {"last_sync_seconds", s.last_sync_seconds},
      {"pod_rules_seconds",
       {{"last", s.last_pod_rules_seconds},
        {"count", s.pod_rules_count},
        {"mean",
         s.pod_rules_count ? s.pod_rules_sum / static_cast<double>(s.pod_rules_count) : 0.0}}}};
  if (!s.last_error.empty()) {
    out["last_error"] = s.last_error;
  }
  nlohmann::json blocked_json = nlohmann::json::object();
  for (Direction d : {Direction::kIngress, Direction::kEgress}) {
    for (const char* protocol : kProtocolLabels) {
      blocked_json[std::string(to_string(d))][protocol] = blocked(counters, d, protocol);
    }
  }
  out["blocked"] = blocked_json;
  nlohmann::json recent = nlohmann::json::array();
  // Newest first.
  std::for_each(
      controller.recent_blocks().rbegin(), controller.recent_blocks().rend(),
      [&](const BlockRecord& block) {
        recent.push_back({{"age_seconds", std::chrono::duration<double>(now - block.when).count()},
                          {"line", block.line}});
      });
  out["recent_blocks"] = recent;
  nlohmann::json rejected = nlohmann::json::object();
  for (const auto& [what, why] : controller.cache().rejected()) {
    rejected[what] = why;
  }
  out["rejected"] = rejected;
  nlohmann::json resources = nlohmann::json::array();
  for (const kube::Reflector* r : controller.reflectors()) {
    const auto& rs = r->status();
    resources.push_back({{"path", r->options().path},
                         {"synced", rs.synced},
                         {"resource_version", rs.resource_version},
                         {"lists", rs.lists},
                         {"relists_gone", rs.relists_gone},
                         {"watch_restarts", rs.watch_restarts},
                         {"errors", rs.errors},
                         {"last_error", rs.last_error}});
  }
  out["resources"] = resources;
  return out;
}

void register_npc_routes(HttpServer& server, Controller& controller, Clock& clock) {
  server.route(Method::kGet, "/metrics",
               [&controller](Request) -> boost::asio::awaitable<Response> {
                 auto counters = controller.counters();
                 Response r = Response::text(
                     200, render_metrics(controller, counters ? *counters : BlockedCounters{}));
                 r.content_type = "text/plain; version=0.0.4; charset=utf-8";
                 co_return r;
               });
  server.route(
      Method::kGet, "/status", [&controller, &clock](Request) -> boost::asio::awaitable<Response> {
        auto counters = controller.counters();
        co_return Response::json(
            200, render_status(controller, counters ? *counters : BlockedCounters{}, clock.now()));
      });
}

}  // namespace weft::policy

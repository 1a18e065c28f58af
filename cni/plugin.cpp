#include "cni/plugin.hpp"

#include <algorithm>

#include "cni/delegate.hpp"
#include "cni/plugin_context.hpp"
#include "common/netlink.hpp"
#include "common/netns.hpp"

namespace weft::cni {

namespace {

CniResult<void> cmd_status(Context& c) {
  WEFT_TRY_VOID(c.weftd.ready());
  if (!c.conf.ipam_only) {
    auto host = host_netlink();
    if (!host || !(*host)->link_by_name(c.conf.bridge)) {
      return cni_error(
          kCodeNotAvailable, "the weft bridge is missing",
          fmt::format("no interface \"{}\": weftd runs without its data plane?", c.conf.bridge));
    }
  }
  if (c.delegated()) {
    auto r = run_delegate(c.conf.ipam_type, "STATUS", std::string(c.config_text), c.env.path);
    if (!r)
      return r.error();
  }
  return {};
}

// Releases what this network's attachments hold unless the runtime still lists them.
CniResult<void> cmd_gc(Context& c) {
  WEFT_TRY(auto records, c.weftd.containers());
  const auto& valid = c.conf.valid_attachments;
  auto host = host_netlink();
  std::optional<CniError> first_error;
  for (const api::ContainerRecord& r : records) {
    if (r.source != c.source())
      continue;
    if (std::binary_search(valid.begin(), valid.end(), ValidAttachment{r.id, r.ifname}))
      continue;
    if (host && !r.host_ifname.empty())
      delete_link_if_present(**host, r.host_ifname);
    CniResult<void> done = c.delegated() ? CniResult<void>() : c.weftd.release(r.id, r.ifname);
    if (done)
      done = c.weftd.unregister_container(r.id, r.ifname);
    if (!done && !first_error)
      first_error = done.error();
  }
  if (c.delegated()) {
    auto r = run_delegate(c.conf.ipam_type, "GC", std::string(c.config_text), c.env.path);
    if (!r && !first_error)
      first_error = r.error();
  }
  if (first_error)
    return *first_error;
  return {};
}

PluginOutput print(const nlohmann::json& doc) {
  return PluginOutput{0, doc.dump() + "\n"};
}

CniResult<PluginOutput> dispatch(Context& c) {
  const NetConf& conf = c.conf;
  switch (c.env.command) {
    case Command::kAdd: {
      WEFT_TRY(auto result, conf.ipam_only ? ipam_add(c) : cmd_add(c));
      if (conf.prev_result && !conf.ipam_only) {
        // Chained after another interface plugin: keep what it reported.
        WEFT_TRY(auto prev, parse_success(*conf.prev_result));
        const int shift = static_cast<int>(prev.interfaces.size());
        for (auto& ip : result.ips) {
          if (ip.interface)
            *ip.interface += shift;
        }
        prev.interfaces.insert(prev.interfaces.end(), result.interfaces.begin(),
                               result.interfaces.end());
        prev.ips.insert(prev.ips.end(), result.ips.begin(), result.ips.end());
        prev.routes.insert(prev.routes.end(), result.routes.begin(), result.routes.end());
        result = std::move(prev);
      }
      return print(render_success(result, conf.version, conf.cni_version));
    }
    case Command::kDel:
      WEFT_TRY_VOID(conf.ipam_only ? ipam_del(c) : cmd_del(c));
      break;
    case Command::kCheck:
      WEFT_TRY_VOID(conf.ipam_only ? ipam_check(c) : cmd_check(c));
      break;
    case Command::kStatus:
      WEFT_TRY_VOID(cmd_status(c));
      break;
    case Command::kGc:
      WEFT_TRY_VOID(cmd_gc(c));
      break;
    case Command::kVersion:
      return print(render_version(conf.cni_version));
  }
  return PluginOutput{};
}

}  // namespace

PluginOutput render_failure(std::string_view version, const CniError& error) {
  return PluginOutput{1, render_error(version, error).dump() + "\n"};
}

PluginOutput run_plugin(const CniEnv& env, std::string_view config_text) {
  auto conf = parse_config(config_text, env.command);
  if (!conf)
    return render_failure(peek_version(config_text), conf.error());
  Context c{env, *conf, config_text, WeftdClient(conf->socket)};
  try {
    auto out = dispatch(c);
    if (!out)
      return render_failure(conf->cni_version, out.error());
    return *out;
  } catch (const std::exception& e) {
    return render_failure(conf->cni_version, cni_error(kCodeInternal, "internal error", e.what()));
  }
}

}  // namespace weft::cni

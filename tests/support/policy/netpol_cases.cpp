#include "tests/support/policy/netpol_cases.hpp"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "policy/decode.hpp"
#include "policy/manifest.hpp"

namespace weft::test {

using nlohmann::json;

const std::array<std::string, 9> kNetpolPods = {"x/a", "x/b", "x/c", "y/a", "y/b",
                                                "y/c", "z/a", "z/b", "z/c"};

namespace {

Result<std::string> read_text(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return make_error(Errc::kNotFound, "cannot read {}", path);
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

std::string identity(const json& object) {
  const json& meta = object.contains("metadata") ? object["metadata"] : object;
  return fmt::format("{} {}/{}", object.value("kind", ""), meta.value("namespace", ""),
                     meta.value("name", ""));
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) {
      out.push_back(line);
    }
  }
  return out;
}

}  // namespace

std::string netpol_data_dir() {
  return std::string(WEFT_SOURCE_DIR) + "/tests/data/netpol";
}

Result<std::vector<json>> load_netpol_model() {
  WEFT_TRY(auto text, read_text(netpol_data_dir() + "/model.yaml"));
  return policy::parse_manifests(text, "model.yaml");
}

Result<NetpolCase> load_netpol_case(const std::string& file) {
  WEFT_TRY(auto text, read_text(netpol_data_dir() + "/cases/" + file));
  WEFT_TRY(auto documents, policy::parse_yaml(text, file));
  if (documents.size() != 1 || !documents[0].is_object()) {
    return make_error(Errc::kInvalidArgument, "{}: one YAML document expected", file);
  }
  const json& doc = documents[0];
  NetpolCase out;
  out.file = file;
  out.name = doc.value("name", file);
  if (doc.contains("families")) {
    for (const auto& f : doc["families"]) {
      out.families.push_back(f == "IPv6" ? IpFamily::kV6 : IpFamily::kV4);
    }
  } else {
    out.families = {IpFamily::kV4, IpFamily::kV6};
  }
  for (const auto& s : doc.at("steps")) {
    NetpolStep step;
    step.description = s.value("description", "");
    for (const char* key : {"apply", "delete", "labels"}) {
      if (s.contains(key) && s[key].is_array()) {
        auto& list = std::string(key) == "apply"    ? step.apply
                     : std::string(key) == "delete" ? step.remove
                                                    : step.labels;
        list.assign(s[key].begin(), s[key].end());
      }
    }
    for (const auto& p : s.at("probes")) {
      NetpolProbe probe;
      auto protocol = policy::parse_protocol(p.at("protocol").get<std::string>());
      if (!protocol) {
        return make_error(Errc::kInvalidArgument, "{}: bad protocol", file);
      }
      probe.protocol = *protocol;
      probe.port = p.at("port").get<std::uint16_t>();
      const auto rows = lines_of(p.at("expect").get<std::string>());
      if (rows.size() != 9 || std::any_of(rows.begin(), rows.end(), [](const std::string& r) {
            return r.size() != 9 || r.find_first_not_of(".X") != std::string::npos;
          })) {
        return make_error(Errc::kInvalidArgument, "{}: a probe's expect is not 9x9 of . and X",
                          file);
      }
      std::copy(rows.begin(), rows.end(), probe.rows.begin());
      step.probes.push_back(probe);
    }
    out.steps.push_back(std::move(step));
  }
  return out;
}

std::vector<std::string> netpol_case_files() {
  std::vector<std::string> out;
  for (const auto& entry : std::filesystem::directory_iterator(netpol_data_dir() + "/cases")) {
    if (entry.path().extension() == ".yaml") {
      out.push_back(entry.path().filename().string());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> netpol_quick_files() {
  auto text = read_text(netpol_data_dir() + "/quick.txt");
  std::vector<std::string> out;
  if (!text) {
    return out;
  }
  for (auto& line : lines_of(*text)) {
    line.erase(0, line.find_first_not_of(" \t"));
    if (line.empty() || line[0] == '#') {
      continue;
    }
    line = line.substr(0, line.find_first_of(" \t#"));
    // Either a full file name or its number prefix.
    for (const auto& file : netpol_case_files()) {
      if (file == line || file.starts_with(line + "-") || file == line + ".yaml") {
        out.push_back(file);
        break;
      }
    }
  }
  return out;
}

std::string netpol_test_name(const std::string& file) {
  std::string name = file.substr(0, file.find('.'));
  for (char& ch : name) {
    if (std::isalnum(static_cast<unsigned char>(ch)) == 0) {
      ch = '_';
    }
  }
  return name;
}

NetpolWorld::NetpolWorld(std::vector<json> model, IpFamily family,
                         std::map<std::string, IpAddress> addresses)
    : family_(family), addresses_(std::move(addresses)) {
  for (auto& object : model) {
    if (object.value("kind", "") == "Pod") {
      const std::string ns = object["metadata"].value("namespace", "default");
      const std::string key = ns + "/" + object["metadata"].value("name", "");
      auto it = addresses_.find(key);
      if (it != addresses_.end()) {
        object["status"] = {{"phase", "Running"},
                            {"podIP", it->second.to_string()},
                            {"podIPs", {{{"ip", it->second.to_string()}}}}};
      }
    }
    const std::string id = identity(object);
    objects_[id] = std::move(object);
  }
}

Result<std::string> NetpolWorld::substitute(const std::string& text) const {
  std::string out;
  std::size_t pos = 0;
  while (true) {
    const auto start = text.find("${", pos);
    if (start == std::string::npos) {
      out += text.substr(pos);
      return out;
    }
    out += text.substr(pos, start - pos);
    const auto end = text.find('}', start);
    if (end == std::string::npos) {
      return make_error(Errc::kInvalidArgument, "unterminated placeholder in {}", text);
    }
    const std::string body = text.substr(start + 2, end - start - 2);
    const auto colon = body.find(':');
    const std::string what = body.substr(0, colon);
    std::string arg = colon == std::string::npos ? "" : body.substr(colon + 1);
    int prefix = -1;
    if (what == "cidr") {
      const auto slash = arg.rfind('/');
      prefix = std::stoi(arg.substr(slash + 1));
      arg = arg.substr(0, slash);
    }
    auto it = addresses_.find(arg);
    if (it == addresses_.end() || (what != "ip" && what != "cidr")) {
      return make_error(Errc::kInvalidArgument, "unknown placeholder ${{{}}}", body);
    }
    if (what == "ip") {
      out += it->second.to_string();
    } else {
      const int length = family_ == IpFamily::kV4 ? prefix : 128 - (32 - prefix);
      WEFT_TRY(auto block, Cidr::containing(it->second, length));
      out += block.to_string();
    }
    pos = end + 1;
  }
}

Result<json> NetpolWorld::substitute_all(const json& value) const {
  if (value.is_string()) {
    WEFT_TRY(auto text, substitute(value.get<std::string>()));
    return json(text);
  }
  if (value.is_array() || value.is_object()) {
    json out = value;
    for (auto& [key, item] : out.items()) {
      WEFT_TRY(auto replaced, substitute_all(item));
      item = std::move(replaced);
    }
    return out;
  }
  return value;
}

Result<std::vector<NetpolOperation>> NetpolWorld::step(const NetpolStep& step) {
  std::vector<NetpolOperation> ops;
  for (const auto& raw : step.apply) {
    WEFT_TRY(auto object, substitute_all(raw));
    const std::string id = identity(object);
    const bool exists = objects_.contains(id);
    objects_[id] = object;
    ops.push_back({exists ? NetpolOperation::Kind::kReplace : NetpolOperation::Kind::kCreate,
                   std::move(object), nullptr});
  }
  for (const auto& gone : step.remove) {
    const std::string id = fmt::format("{} {}/{}", gone.value("kind", ""),
                                       gone.value("namespace", ""), gone.value("name", ""));
    if (objects_.erase(id) == 0) {
      return make_error(Errc::kNotFound, "delete of unknown {}", id);
    }
    ops.push_back({NetpolOperation::Kind::kDelete, gone, nullptr});
  }
  for (const auto& change : step.labels) {
    const std::string id = fmt::format("{} {}/{}", change.value("kind", ""),
                                       change.value("namespace", ""), change.value("name", ""));
    auto it = objects_.find(id);
    if (it == objects_.end()) {
      return make_error(Errc::kNotFound, "label change of unknown {}", id);
    }
    json& labels = it->second["metadata"]["labels"];
    for (const auto& [key, value] : change.at("labels").items()) {
      if (value.is_null()) {
        labels.erase(key);
      } else {
        labels[key] = value;
      }
    }
    ops.push_back({NetpolOperation::Kind::kLabel, change, change.at("labels")});
  }
  return ops;
}

std::vector<json> NetpolWorld::objects() const {
  std::vector<json> out;
  for (const auto& [id, object] : objects_) {
    out.push_back(object);
  }
  return out;
}

}  // namespace weft::test

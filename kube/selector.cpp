#include "kube/selector.hpp"

#include <algorithm>
#include <charconv>

#include <nlohmann/json.hpp>

namespace weft::kube {
namespace {

using Op = LabelRequirement::Op;

bool is_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// [A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?, at most 63 characters.
bool valid_name(std::string_view s) {
  if (s.empty() || s.size() > 63 || !is_alnum(s.front()) || !is_alnum(s.back())) {
    return false;
  }
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return is_alnum(c) || c == '-' || c == '_' || c == '.'; });
}

// DNS-1123 subdomain: lower-case labels of [a-z0-9-] joined by '.', at most 253 characters.
bool valid_subdomain(std::string_view s) {
  if (s.empty() || s.size() > 253) {
    return false;
  }
  std::size_t start = 0;
  while (start <= s.size()) {
    auto dot = s.find('.', start);
    const auto label = s.substr(start, dot == std::string_view::npos ? s.npos : dot - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
      return false;
    }
    for (const char c : label) {
      if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) {
        return false;
      }
    }
    if (dot == std::string_view::npos) {
      break;
    }
    start = dot + 1;
  }
  return true;
}

bool parse_int(std::string_view s, std::int64_t& out) {
  const char* end = s.data() + s.size();
  auto [ptr, ec] = std::from_chars(s.data(), end, out);
  return !s.empty() && ec == std::errc() && ptr == end;
}

// ---- the label selector lexer and parser ----

enum class Tok { kEnd, kIdent, kNot, kEq, kDoubleEq, kNotEq, kOpen, kClose, kComma, kGt, kLt };

struct Token {
  Tok kind = Tok::kEnd;
  std::string text;
};

bool is_special(char c) {
  return c == '!' || c == '=' || c == '(' || c == ')' || c == ',' || c == '<' || c == '>';
}
bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

class Lexer {
 public:
  explicit Lexer(std::string_view s) : s_(s) {}

  Token next() {
    while (pos_ < s_.size() && is_space(s_[pos_])) {
      ++pos_;
    }
    if (pos_ >= s_.size()) {
      return {Tok::kEnd, ""};
    }
    const char c = s_[pos_];
    const char d = pos_ + 1 < s_.size() ? s_[pos_ + 1] : '\0';
    if (is_special(c)) {
      ++pos_;
      switch (c) {
        case '!':
          if (d == '=') {
            ++pos_;
            return {Tok::kNotEq, "!="};
          }
          return {Tok::kNot, "!"};
        case '=':
          if (d == '=') {
            ++pos_;
            return {Tok::kDoubleEq, "=="};
          }
          return {Tok::kEq, "="};
        case '(':
          return {Tok::kOpen, "("};
        case ')':
          return {Tok::kClose, ")"};
        case ',':
          return {Tok::kComma, ","};
        case '>':
          return {Tok::kGt, ">"};
        default:
          return {Tok::kLt, "<"};
      }
    }
    const auto start = pos_;
    while (pos_ < s_.size() && !is_space(s_[pos_]) && !is_special(s_[pos_])) {
      ++pos_;
    }
    return {Tok::kIdent, std::string(s_.substr(start, pos_ - start))};
  }

 private:
  std::string_view s_;
  std::size_t pos_ = 0;
};

class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text), lexer_(text) { advance(); }

  Result<LabelSelector> parse() {
    LabelSelector out;
    if (tok_.kind == Tok::kEnd) {
      return out;
    }
    while (true) {
      WEFT_TRY(auto req, requirement());
      out.requirements.push_back(std::move(req));
      if (tok_.kind == Tok::kEnd) {
        break;
      }
      if (tok_.kind != Tok::kComma) {
        return fail("expected ',' after a requirement");
      }
      advance();
    }
    return out;
  }

 private:
  void advance() { tok_ = lexer_.next(); }

  Error fail(std::string_view why) const {
    return make_error(Errc::kInvalidArgument, R"(label selector "{}": {} (at "{}"))", text_, why,
                      tok_.text);
  }

  Result<LabelRequirement> requirement() {
    LabelRequirement req;
    if (tok_.kind == Tok::kNot) {
      advance();
      if (tok_.kind != Tok::kIdent) {
        return fail("expected a key after '!'");
      }
      req.key = tok_.text;
      req.op = Op::kDoesNotExist;
      advance();
      return check_key(std::move(req));
    }
    if (tok_.kind != Tok::kIdent) {
      return fail("expected a key");
    }
    req.key = tok_.text;
    advance();
    switch (tok_.kind) {
      case Tok::kEnd:
      case Tok::kComma:
        req.op = Op::kExists;
        return check_key(std::move(req));
      case Tok::kEq:
      case Tok::kDoubleEq:
      case Tok::kNotEq:
        req.op = tok_.kind == Tok::kNotEq ? Op::kNotEquals : Op::kEquals;
        advance();
        if (tok_.kind == Tok::kIdent) {
          req.values.push_back(tok_.text);
          advance();
        } else if (tok_.kind != Tok::kEnd && tok_.kind != Tok::kComma) {
          return fail("expected a value");
        } else {
          req.values.emplace_back();
        }
        return check_key(std::move(req));
      case Tok::kGt:
      case Tok::kLt: {
        req.op = tok_.kind == Tok::kGt ? Op::kGreaterThan : Op::kLessThan;
        advance();
        std::int64_t n = 0;
        if (tok_.kind != Tok::kIdent || !parse_int(tok_.text, n)) {
          return fail("expected an integer");
        }
        req.values.push_back(tok_.text);
        advance();
        return check_key(std::move(req));
      }
      case Tok::kIdent:
        if (tok_.text == "in" || tok_.text == "notin") {
          req.op = tok_.text == "in" ? Op::kIn : Op::kNotIn;
          advance();
          WEFT_TRY(req.values, value_list());
          return check_key(std::move(req));
        }
        return fail("expected an operator");
      default:
        return fail("expected an operator");
    }
  }

  Result<std::vector<std::string>> value_list() {
    if (tok_.kind != Tok::kOpen) {
      return fail("expected '('");
    }
    advance();
    std::vector<std::string> values;
    bool want_value = true;
    while (tok_.kind != Tok::kClose) {
      if (tok_.kind == Tok::kIdent && want_value) {
        values.push_back(tok_.text);
        want_value = false;
      } else if (tok_.kind == Tok::kComma) {
        if (want_value) {
          values.emplace_back();
        }
        want_value = true;
      } else {
        return fail("expected a value, ',' or ')'");
      }
      advance();
    }
    if (want_value) {
      values.emplace_back();
    }
    advance();
    return values;
  }

  Result<LabelRequirement> check_key(LabelRequirement req) const {
    if (!valid_label_key(req.key)) {
      return make_error(Errc::kInvalidArgument, R"(label selector "{}": invalid key "{}")", text_,
                        req.key);
    }
    if (req.op != Op::kGreaterThan && req.op != Op::kLessThan) {
      for (const auto& v : req.values) {
        if (!valid_label_value(v)) {
          return make_error(Errc::kInvalidArgument, R"(label selector "{}": invalid value "{}")",
                            text_, v);
        }
      }
    }
    std::sort(req.values.begin(), req.values.end());
    req.values.erase(std::unique(req.values.begin(), req.values.end()), req.values.end());
    return req;
  }

  std::string_view text_;
  Lexer lexer_;
  Token tok_;
};

const std::string* label_of(const nlohmann::json& labels, const std::string& key) {
  if (!labels.is_object()) {
    return nullptr;
  }
  auto it = labels.find(key);
  if (it == labels.end() || !it->is_string()) {
    return nullptr;
  }
  return &it->get_ref<const std::string&>();
}

std::string_view op_text(Op op) {
  switch (op) {
    case Op::kEquals:
      return "=";
    case Op::kNotEquals:
      return "!=";
    case Op::kIn:
      return " in ";
    case Op::kNotIn:
      return " notin ";
    case Op::kGreaterThan:
      return ">";
    case Op::kLessThan:
      return "<";
    case Op::kExists:
    case Op::kDoesNotExist:
      break;
  }
  return "";
}

}  // namespace

bool valid_label_key(std::string_view key) {
  const auto slash = key.find('/');
  if (slash == std::string_view::npos) {
    return valid_name(key);
  }
  return valid_subdomain(key.substr(0, slash)) && valid_name(key.substr(slash + 1));
}

bool valid_label_value(std::string_view value) {
  return value.empty() || valid_name(value);
}

bool LabelRequirement::matches(const nlohmann::json& labels) const {
  const std::string* value = label_of(labels, key);
  switch (op) {
    case Op::kExists:
      return value != nullptr;
    case Op::kDoesNotExist:
      return value == nullptr;
    case Op::kEquals:
    case Op::kIn:
      return value != nullptr && std::binary_search(values.begin(), values.end(), *value);
    case Op::kNotEquals:
    case Op::kNotIn:
      return value == nullptr || !std::binary_search(values.begin(), values.end(), *value);
    case Op::kGreaterThan:
    case Op::kLessThan: {
      std::int64_t have = 0;
      std::int64_t want = 0;
      if (value == nullptr || values.size() != 1 || !parse_int(*value, have) ||
          !parse_int(values.front(), want)) {
        return false;
      }
      return op == Op::kGreaterThan ? have > want : have < want;
    }
  }
  return false;
}

bool LabelSelector::matches(const nlohmann::json& labels) const {
  return std::all_of(requirements.begin(), requirements.end(),
                     [&labels](const LabelRequirement& r) { return r.matches(labels); });
}

std::string LabelSelector::to_string() const {
  std::string out;
  for (const auto& r : requirements) {
    if (!out.empty()) {
      out += ',';
    }
    if (r.op == Op::kDoesNotExist) {
      out += '!';
    }
    out += r.key;
    out += op_text(r.op);
    if (r.op == Op::kIn || r.op == Op::kNotIn) {
      out += '(';
      for (std::size_t i = 0; i < r.values.size(); ++i) {
        out += (i > 0 ? "," : "") + r.values[i];
      }
      out += ')';
    } else if (r.op != Op::kExists && r.op != Op::kDoesNotExist && !r.values.empty()) {
      out += r.values.front();
    }
  }
  return out;
}

Result<LabelSelector> parse_label_selector(std::string_view text) {
  return Parser(text).parse();
}

namespace {

std::optional<Op> expression_op(std::string_view name) {
  if (name == "In") {
    return Op::kIn;
  }
  if (name == "NotIn") {
    return Op::kNotIn;
  }
  if (name == "Exists") {
    return Op::kExists;
  }
  if (name == "DoesNotExist") {
    return Op::kDoesNotExist;
  }
  return std::nullopt;
}

// One entry of matchExpressions: {"key":..,"operator":..,"values":[..]}.
Result<LabelRequirement> parse_expression(const nlohmann::json& e) {
  auto key = e.is_object() ? e.find("key") : e.end();
  auto op = e.is_object() ? e.find("operator") : e.end();
  if (!e.is_object() || key == e.end() || !key->is_string() || op == e.end() || !op->is_string() ||
      !valid_label_key(key->get_ref<const std::string&>())) {
    return make_error(Errc::kInvalidArgument, "matchExpressions: want key and operator");
  }
  const auto& op_name = op->get_ref<const std::string&>();
  const auto parsed_op = expression_op(op_name);
  if (!parsed_op) {
    return make_error(Errc::kInvalidArgument, R"(matchExpressions: unknown operator "{}")",
                      op_name);
  }
  LabelRequirement req;
  req.key = key->get<std::string>();
  req.op = *parsed_op;
  auto values = e.find("values");
  if (values != e.end() && !values->is_null()) {
    if (!values->is_array()) {
      return make_error(Errc::kInvalidArgument, "matchExpressions: values is not a list");
    }
    for (const auto& v : *values) {
      if (!v.is_string() || !valid_label_value(v.get_ref<const std::string&>())) {
        return make_error(Errc::kInvalidArgument, "matchExpressions: invalid value");
      }
      req.values.push_back(v.get<std::string>());
    }
  }
  const bool set_op = req.op == Op::kIn || req.op == Op::kNotIn;
  if (set_op == req.values.empty()) {
    return make_error(Errc::kInvalidArgument, R"(matchExpressions "{}": {} needs {} values)",
                      req.key, op_name, set_op ? "some" : "no");
  }
  std::sort(req.values.begin(), req.values.end());
  req.values.erase(std::unique(req.values.begin(), req.values.end()), req.values.end());
  return req;
}

}  // namespace

Result<LabelSelector> label_selector_from_json(const nlohmann::json& selector) {
  LabelSelector out;
  if (selector.is_null()) {
    return out;
  }
  if (!selector.is_object()) {
    return make_error(Errc::kInvalidArgument, "label selector is not an object");
  }
  auto labels = selector.find("matchLabels");
  if (labels != selector.end() && !labels->is_null()) {
    if (!labels->is_object()) {
      return make_error(Errc::kInvalidArgument, "matchLabels is not an object");
    }
    for (const auto& [key, value] : labels->items()) {
      if (!value.is_string() || !valid_label_key(key) ||
          !valid_label_value(value.get_ref<const std::string&>())) {
        return make_error(Errc::kInvalidArgument, R"(matchLabels: invalid label "{}")", key);
      }
      out.requirements.push_back({key, Op::kEquals, {value.get<std::string>()}});
    }
  }
  auto exprs = selector.find("matchExpressions");
  if (exprs == selector.end() || exprs->is_null()) {
    return out;
  }
  if (!exprs->is_array()) {
    return make_error(Errc::kInvalidArgument, "matchExpressions is not a list");
  }
  for (const auto& e : *exprs) {
    WEFT_TRY(auto req, parse_expression(e));
    out.requirements.push_back(std::move(req));
  }
  return out;
}

bool FieldSelector::matches(
    const std::function<std::optional<std::string>(std::string_view)>& field_value) const {
  return std::all_of(requirements.begin(), requirements.end(), [&](const FieldRequirement& r) {
    const auto have = field_value(r.field).value_or("");
    return (have == r.value) == r.equal;
  });
}

Result<FieldSelector> parse_field_selector(std::string_view text) {
  FieldSelector out;
  std::size_t i = 0;
  // Splits on unescaped ','; each part is path op value.
  while (i < text.size()) {
    std::string part;
    bool escaped = false;
    for (; i < text.size(); ++i) {
      const char c = text[i];
      if (!escaped && c == ',') {
        break;
      }
      escaped = !escaped && c == '\\';
      part += c;
    }
    ++i;  // past the ','
    std::size_t op = std::string::npos;
    std::size_t op_len = 0;
    for (std::size_t j = 0; j < part.size(); ++j) {
      if (part[j] == '\\') {
        ++j;
        continue;
      }
      if (part.compare(j, 2, "!=") == 0 || part.compare(j, 2, "==") == 0) {
        op = j;
        op_len = 2;
        break;
      }
      if (part[j] == '=') {
        op = j;
        op_len = 1;
        break;
      }
    }
    if (op == std::string::npos || op == 0) {
      return make_error(Errc::kInvalidArgument,
                        R"(field selector "{}": invalid requirement "{}" (want path=value))", text,
                        part);
    }
    FieldRequirement req;
    req.field = part.substr(0, op);
    req.equal = part[op] != '!';
    std::string value;
    for (std::size_t j = op + op_len; j < part.size(); ++j) {
      if (part[j] == '\\') {
        if (j + 1 >= part.size() ||
            std::string_view(",=!\\").find(part[j + 1]) == std::string_view::npos) {
          return make_error(Errc::kInvalidArgument, "field selector \"{}\": bad escape", text);
        }
        ++j;
      }
      value += part[j];
    }
    req.value = std::move(value);
    out.requirements.push_back(std::move(req));
  }
  return out;
}

std::optional<std::string> field_value(const nlohmann::json& object, std::string_view path) {
  const nlohmann::json* node = &object;
  std::size_t start = 0;
  while (true) {
    const auto dot = path.find('.', start);
    const auto name = path.substr(start, dot == std::string_view::npos ? path.npos : dot - start);
    if (!node->is_object()) {
      return std::nullopt;
    }
    auto it = node->find(std::string(name));
    if (it == node->end()) {
      return std::nullopt;
    }
    node = &*it;
    if (dot == std::string_view::npos) {
      break;
    }
    start = dot + 1;
  }
  if (node->is_string()) {
    return node->get<std::string>();
  }
  if (node->is_number() || node->is_boolean()) {
    return node->dump();
  }
  return std::nullopt;
}

}  // namespace weft::kube

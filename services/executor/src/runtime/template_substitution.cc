#include "runtime/template_substitution.h"

#include <cctype>

#include "absl/strings/ascii.h"

namespace flyte::executor {
namespace {

bool IsNameChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }
bool IsSpace(char c) { return c == ' ' || c == '\t'; }

}  // namespace

TemplateVars& TemplateVars::Set(std::string_view name, std::string value) {
  values_[absl::AsciiStrToLower(std::string(name))] = std::move(value);
  return *this;
}

const std::string* TemplateVars::Find(std::string_view name) const {
  auto it = values_.find(absl::AsciiStrToLower(std::string(name)));
  return it == values_.end() ? nullptr : &it->second;
}

std::string SubstituteTemplate(std::string_view text, const TemplateVars& vars, std::set<std::string>* unknown) {
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    size_t open = text.find("{{", i);
    if (open == std::string_view::npos) break;
    out.append(text.substr(i, open - i));
    // Parse "{{" ws* ("." | "$") name ws* "}}"; anything else is copied through untouched.
    size_t p = open + 2;
    while (p < text.size() && IsSpace(text[p])) ++p;
    bool ok = p < text.size() && (text[p] == '.' || text[p] == '$');
    size_t name_begin = ++p;
    while (ok && p < text.size() && IsNameChar(text[p])) ++p;
    size_t name_end = p;
    while (ok && p < text.size() && IsSpace(text[p])) ++p;
    ok = ok && name_end > name_begin && text.substr(p, 2) == "}}";
    if (!ok) {
      out.append("{{");
      i = open + 2;
      continue;
    }
    size_t close = p + 2;
    if (const std::string* value = vars.Find(text.substr(name_begin, name_end - name_begin))) {
      out.append(*value);
    } else {
      out.append(text.substr(open, close - open));
      if (unknown != nullptr) unknown->insert(std::string(text.substr(open, close - open)));
    }
    i = close;
  }
  if (i < text.size()) out.append(text.substr(i));
  return out;
}

Substituted SubstituteTemplates(const std::vector<std::string>& args, const TemplateVars& vars) {
  Substituted result;
  result.args.reserve(args.size());
  for (const std::string& a : args) result.args.push_back(SubstituteTemplate(a, vars, &result.unknown));
  return result;
}

}  // namespace flyte::executor

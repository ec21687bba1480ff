#pragma once
// Flyte's container template variables: "{{.name}}" (also "{{ .name }}" and "{{$name}}", name matched without
// regard to case) inside command and args. Unknown names are left exactly as written and reported so the
// caller can log them. The names the executor fills are listed in docs/executor.md.
// Pure functions; thread-safe.
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace flyte::executor {

class TemplateVars {
 public:
  TemplateVars& Set(std::string_view name, std::string value);  // name without braces or dot, e.g. "outputPrefix"
  const std::string* Find(std::string_view name) const;         // case-insensitive; nullptr when unknown

 private:
  std::map<std::string, std::string> values_;  // keyed by lower-case name
};

struct Substituted {
  std::vector<std::string> args;
  std::set<std::string> unknown;  // names as written, e.g. "{{.xyz}}"
};

std::string SubstituteTemplate(std::string_view text, const TemplateVars& vars, std::set<std::string>* unknown);
Substituted SubstituteTemplates(const std::vector<std::string>& args, const TemplateVars& vars);

}  // namespace flyte::executor

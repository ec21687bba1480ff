#include "runtime/template_substitution.h"

#include <catch2/catch.hpp>

namespace flyte::executor {
namespace {

TEST_CASE("template variables: spelling variants, unknown names, malformed braces", "[executor][unit]") {
  TemplateVars vars;
  vars.Set("outputPrefix", "file:///o").Set("runName", "r1");
  std::set<std::string> unknown;
  CHECK(SubstituteTemplate("{{.outputPrefix}}", vars, &unknown) == "file:///o");
  CHECK(SubstituteTemplate("x={{ .OutputPrefix }}/y", vars, &unknown) == "x=file:///o/y");
  CHECK(SubstituteTemplate("{{$runName}}{{.runName}}", vars, &unknown) == "r1r1");
  CHECK(unknown.empty());
  CHECK(SubstituteTemplate("{{.nope}} {{.runName}}", vars, &unknown) == "{{.nope}} r1");
  CHECK(unknown == std::set<std::string>{"{{.nope}}"});
  // Not variables at all: copied through untouched and not reported.
  unknown.clear();
  for (const char* s : {"{{", "{{}}", "{{.}}", "{{runName}}", "{{.run-name}}", "{x}", "a{{.runName", "}}"}) {
    CHECK(SubstituteTemplate(s, vars, &unknown) == s);
  }
  CHECK(unknown.empty());
  CHECK(SubstituteTemplate("{{{{.runName}}}}", vars, &unknown) == "{{r1}}");
}

TEST_CASE("substituting a whole argv keeps its shape", "[executor][unit]") {
  TemplateVars vars;
  vars.Set("input", "file:///in/inputs.pb");
  Substituted s = SubstituteTemplates({"a0", "--inputs", "{{.input}}", "--x", "{{.y}}"}, vars);
  CHECK(s.args == std::vector<std::string>{"a0", "--inputs", "file:///in/inputs.pb", "--x", "{{.y}}"});
  CHECK(s.unknown == std::set<std::string>{"{{.y}}"});
}

}  // namespace
}  // namespace flyte::executor

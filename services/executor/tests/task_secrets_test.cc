// The local runtime's handling of a task's declared secrets with real processes: env-var secrets in the process
// environment, file secrets as 0400 files in FLYTE_SECRETS_DEFAULT_DIR removed when the process ends, declarations
// it cannot honour refused naming the secret, and a resolution error failing the action without a process.
#include "runtime/task_secrets.h"

#include <catch2/catch.hpp>
#include <filesystem>

#include "flyteidl2/core/tasks.pb.h"
#include "runtime/local_runtime.h"
#include "support/runtime_testing.h"

namespace flyte::executor {
namespace {

using testing::MakeAction;
using testing::Recorder;
using testing::ShellTemplate;
using testing::TempDir;
using namespace std::chrono_literals;
using flyteidl2::core::Secret;

struct Harness {
  TempDir dir;
  Recorder recorder;
  LocalRuntime runtime{LocalRuntimeOptions{.data_root = dir / "data", .max_concurrent = 2},
                       [this](const ActionTransition& t) { recorder(t); }};
  std::vector<ActionTransition> Run(ActionToRun action) {
    REQUIRE(runtime.Submit(std::move(action)).ok());
    REQUIRE(recorder.WaitFinal());
    return recorder.all();
  }
  std::string AttemptDir() const { return dir / "data/testorg/proj/dev/rtest/a0/1"; }
};

flyteidl2::core::TaskTemplate WithSecrets(std::initializer_list<Secret> secrets) {
  flyteidl2::core::TaskTemplate t;
  for (const Secret& s : secrets) *t.mutable_security_context()->add_secrets() = s;
  return t;
}

Secret Declared(const std::string& key, Secret::MountType mount, const std::string& env_var = "") {
  Secret s;
  s.set_key(key);
  s.set_mount_requirement(mount);
  s.set_env_var(env_var);
  return s;
}

TEST_CASE("a task gets its env-var and file secrets; the files go when the process ends", "[executor][secrets]") {
  Harness h;
  // The script reports what it saw in its outputs file: the env var, the file's mode and content.
  ActionToRun a = MakeAction(
      "a0", ShellTemplate("f=\"$FLYTE_SECRETS_DEFAULT_DIR/db-pass\"; "
                          "printf '%s|%s|%s' \"$API_TOKEN\" \"$(stat -c %a \"$f\")\" \"$(cat \"$f\")\" "
                          "> \"${1#file://}/outputs.pb\"",
                          {"{{.outputPrefix}}"}, 0, 0, {{"API_TOKEN", "from-the-template"}}));
  a.secrets = {TaskSecret{"api-token", "API_TOKEN", "t0k3n"}, TaskSecret{"db-pass", "", "p4ss"}};
  auto ts = h.Run(a);
  CHECK(h.recorder.Trace() == "1:INITIALIZING 1:RUNNING 1:SUCCEEDED");
  CHECK(testing::ReadFile(h.AttemptDir() + "/outputs.pb") == "t0k3n|400|p4ss");  // the secret wins over the env
  CHECK_FALSE(std::filesystem::exists(h.AttemptDir() + "/secrets"));
}

TEST_CASE("a secret that could not be resolved fails the action without a process or retry", "[executor][secrets]") {
  Harness h;
  ActionToRun a = MakeAction("a0", ShellTemplate("echo ran > \"${1#file://}/outputs.pb\"", {"{{.outputPrefix}}"}, 3));
  a.secrets_error = {"SecretNotFound", "cannot resolve the task's secrets: secret nope not found in testorg/proj/dev"};
  auto ts = h.Run(a);
  CHECK(h.recorder.Trace() == "1:FAILED");
  REQUIRE(ts.back().error.has_value());
  CHECK(ts.back().error->code == "SecretNotFound");
  CHECK(ts.back().error->kind == ErrorKind::kUser);
  CHECK_THAT(ts.back().error->message, Catch::Contains("secret nope not found"));
  CHECK(ts.back().final);
}

TEST_CASE("declared secrets: env var, file, and what is refused naming the secret", "[executor][secrets]") {
  absl::StatusOr<std::vector<DeclaredSecret>> d = DeclaredSecrets(WithSecrets(
      {Declared("a", Secret::ENV_VAR, "A_VAR"), Declared("b", Secret::FILE), Declared("c", Secret::ANY, "C")}));
  REQUIRE(d.ok());
  CHECK(*d == std::vector<DeclaredSecret>{{"a", "A_VAR"}, {"b", ""}, {"c", "C"}});

  Secret grouped = Declared("k", Secret::ENV_VAR, "K");
  grouped.set_group("g");
  auto refused = [](const flyteidl2::core::TaskTemplate& t) { return std::string(DeclaredSecrets(t).status().message()); };
  CHECK_THAT(refused(WithSecrets({grouped})), Catch::Contains("secret k: group g is not supported"));
  Secret versioned = Declared("k", Secret::ENV_VAR, "K");
  versioned.set_group_version("v1");
  CHECK_THAT(refused(WithSecrets({versioned})), Catch::Contains("group_version"));
  CHECK_THAT(refused(WithSecrets({Declared("k", Secret::ENV_VAR)})), Catch::Contains("secret k: mount ENV_VAR needs env_var"));
  CHECK_THAT(refused(WithSecrets({Declared("k", Secret::ENV_VAR, "1BAD")})), Catch::Contains("env_var 1BAD"));
  CHECK_THAT(refused(WithSecrets({Declared("../x", Secret::FILE)})), Catch::Contains("must not contain '/'"));
  CHECK_THAT(refused(WithSecrets({Declared("", Secret::FILE)})), Catch::Contains("has no key"));
}

}  // namespace
}  // namespace flyte::executor

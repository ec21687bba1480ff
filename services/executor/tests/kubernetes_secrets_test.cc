// Secrets on the Kubernetes runtime: the Pod refers to the attempt's Secret (env secretKeyRef, a 0400 secret
// volume where the SDK looks), the Secret holds the values, and resolution errors name the secret. (Against a real
// API server and runs-service: tests/e2e/kubernetes_secrets.sh.)
#include <catch2/catch.hpp>

#include <map>

#include "absl/strings/escaping.h"
#include "clients/secret_client.h"
#include "kubernetes/pod_builder.h"
#include "kubernetes/pod_secrets.h"
#include "runtime/attempt_layout.h"

using namespace flyte::executor;
using namespace flyte::executor::k8s;
using Json = nlohmann::json;

namespace {

// The SecretClient port over a map of (project, name) -> value: what runs-service answers, NOT_FOUND included.
class MapSecretClient final : public SecretClient {
 public:
  std::map<std::string, std::string> values;
  std::vector<std::string> asked;
  absl::StatusOr<std::vector<std::string>> Resolve(const std::string&, const std::string&, const std::string&,
                                                   const std::vector<std::string>& names) override {
    std::vector<std::string> out;
    for (const std::string& n : names) {
      asked.push_back(n);
      auto it = values.find(n);
      if (it == values.end()) return absl::NotFoundError("secret " + n + " not found");
      out.push_back(it->second);
    }
    return out;
  }
};

void Declare(ActionToRun* action, flyteidl2::core::TaskTemplate* tmpl, const std::string& key,
             const std::string& env_var) {
  auto* s = tmpl->mutable_security_context()->add_secrets();
  s->set_key(key);
  if (!env_var.empty()) s->set_env_var(env_var);
  action->task_template = tmpl->SerializeAsString();
}

const Json* EnvEntry(const Json& container, const std::string& name) {
  for (const Json& e : container["env"]) {
    if (e["name"] == name) return &e;
  }
  return nullptr;
}

}  // namespace

TEST_CASE("the Pod refers to the attempt's Secret: env by secretKeyRef, files in a 0400 volume",
          "[executor][kubernetes_secrets]") {
  AttemptLayout layout("/var/lib/flyte/data");
  ActionToRun action;
  action.key = ActionKey{"local", "proj", "dev", "r1", "a0"};
  action.envs = {{"DB_PASS", "from-run-env"}};
  TaskToRun task;
  task.tmpl.mutable_container()->set_image("ghcr.io/me/task:1");
  task.args = {"run"};
  AttemptPaths paths = *layout.Plan(action.key, "file:///var/lib/flyte/data/proj/dev/r1", 1);
  PodSettings settings;
  settings.ns = "flyte";
  settings.data_root = "/var/lib/flyte/data";
  std::vector<TaskSecret> secrets = {{"db-pass", "DB_PASS", "s3cr3t"},
                                     {"tls.key", "", std::string("\0bin\xff", 5)},
                                     {"weird name", "", "w"},
                                     {"db-pass", "", "s3cr3t"}};
  task.tmpl.mutable_security_context()->add_secrets()->set_key("db-pass");

  auto built = BuildPod(settings, PodRequest{&action, &task, &paths, 1, "r1-a0", "uid-1", &secrets});
  REQUIRE(built.ok());
  const Json& spec = built->pod["spec"];
  const Json& c = spec["containers"][0];
  const std::string secret_name = AttemptSecretName(built->name);
  CHECK(secret_name == "r1-a0-1-secrets");
  // The secret's env var replaces the run's variable of that name, as in the local runtime.
  const Json* env = EnvEntry(c, "DB_PASS");
  REQUIRE(env != nullptr);
  CHECK_FALSE(env->contains("value"));
  CHECK((*env)["valueFrom"]["secretKeyRef"] == Json{{"name", secret_name}, {"key", "db-pass"}});
  const Json* dir = EnvEntry(c, "FLYTE_SECRETS_DEFAULT_DIR");
  REQUIRE(dir != nullptr);
  CHECK((*dir)["value"] == "/etc/flyte/secrets");
  const Json& volume = spec["volumes"].back();
  CHECK(volume["name"] == "flyte-secrets");
  CHECK(volume["secret"]["secretName"] == secret_name);
  CHECK(volume["secret"]["defaultMode"] == 0400);
  CHECK(volume["secret"]["items"] == Json::array({Json{{"key", "tls.key"}, {"path", "tls.key"}},
                                                  Json{{"key", "secret-2"}, {"path", "weird name"}},
                                                  Json{{"key", "db-pass"}, {"path", "db-pass"}}}));
  CHECK(c["volumeMounts"].back() ==
        Json{{"name", "flyte-secrets"}, {"mountPath", "/etc/flyte/secrets"}, {"readOnly", true}});
  // No value in the Pod.
  CHECK(built->pod.dump().find("s3cr3t") == std::string::npos);

  Json secret = BuildAttemptSecret(secrets, built->pod);
  CHECK(secret["kind"] == "Secret");
  CHECK(secret["immutable"] == true);
  CHECK(secret["metadata"]["name"] == secret_name);
  CHECK(secret["metadata"]["namespace"] == "flyte");
  CHECK(secret["metadata"]["ownerReferences"][0]["uid"] == "uid-1");
  CHECK(secret["metadata"]["labels"]["flyte.org/run"] == "r1");
  CHECK(secret["metadata"]["labels"]["flyte.org/attempt"] == "1");
  CHECK(secret["data"].size() == 3);
  std::string decoded;
  REQUIRE(absl::Base64Unescape(secret["data"]["db-pass"].get<std::string>(), &decoded));
  CHECK(decoded == "s3cr3t");
  REQUIRE(absl::Base64Unescape(secret["data"]["tls.key"].get<std::string>(), &decoded));
  CHECK(decoded == std::string("\0bin\xff", 5));
}

TEST_CASE("a task with only env secrets gets no volume and no secrets directory", "[executor][kubernetes_secrets]") {
  Json spec = {{"containers", Json::array({Json{{"name", "task"}}})}};
  std::vector<TaskSecret> secrets = {{"token", "API_TOKEN", "v"}};
  ReferAttemptSecret(secrets, "p-secrets", &spec, &spec["containers"][0]);
  CHECK_FALSE(spec.contains("volumes"));
  CHECK(spec["containers"][0]["env"].size() == 1);
  CHECK_FALSE(spec["containers"][0].contains("volumeMounts"));
}

TEST_CASE("resolving a task's secrets names what is missing or not supported", "[executor][kubernetes_secrets]") {
  ActionToRun action;
  action.key = ActionKey{"", "proj", "dev", "r1", "a0"};
  flyteidl2::core::TaskTemplate tmpl;
  tmpl.mutable_container()->set_image("x");
  tmpl.mutable_container()->add_args("run");
  MapSecretClient client;
  client.values = {{"present", "p"}};

  action.task_template = tmpl.SerializeAsString();
  auto none = ResolveTaskSecrets(nullptr, action, "local");
  REQUIRE(none.ok());
  CHECK(none->empty());

  Declare(&action, &tmpl, "present", "PRESENT");
  Declare(&action, &tmpl, "absent", "");
  auto missing = ResolveTaskSecrets(&client, action, "local");
  CHECK(missing.status().code() == absl::StatusCode::kNotFound);
  CHECK(std::string(missing.status().message()) == "cannot resolve the task's secrets: secret absent not found");
  CHECK(SecretsErrorCode(missing.status()) == "SecretNotFound");

  client.values["absent"] = "a";
  auto got = ResolveTaskSecrets(&client, action, "local");
  REQUIRE(got.ok());
  REQUIRE(got->size() == 2);
  CHECK((*got)[0].env_var == "PRESENT");
  CHECK((*got)[1].value == "a");

  auto no_store = ResolveTaskSecrets(nullptr, action, "local");
  CHECK(SecretsErrorCode(no_store.status()) == "SecretsUnavailable");

  tmpl.mutable_security_context()->mutable_secrets(0)->set_group("vault");
  action.task_template = tmpl.SerializeAsString();
  auto grouped = ResolveTaskSecrets(&client, action, "local");
  CHECK(SecretsErrorCode(grouped.status()) == "InvalidTask");
  CHECK(std::string(grouped.status().message()).find("secret present: group vault") != std::string::npos);
}

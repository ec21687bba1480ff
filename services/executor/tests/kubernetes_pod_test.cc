// The Kubernetes runtime's pure parts: the Pod an attempt runs in, what a Pod's status means, and the TaskAction
// status the executor writes. (The controller itself runs against a real API server in tests/e2e/kubernetes.sh.)
#include <catch2/catch.hpp>

#include <google/protobuf/util/json_util.h>

#include "kubernetes/pod_builder.h"
#include "kubernetes/pod_outcome.h"
#include "kubernetes/task_action_view.h"
#include "runtime/attempt_layout.h"

using namespace flyte::executor;
using namespace flyte::executor::k8s;
using Json = nlohmann::json;
using namespace std::chrono_literals;

namespace {

struct Fixture {
  Fixture() : layout("/var/lib/flyte/data") {
    action.key = ActionKey{"local", "proj", "dev", "r1", "a0"};
    action.input_uri = "file:///var/lib/flyte/data/proj/dev/r1/inputs";
    action.envs = {{"RUN_ENV", "from-run"}, {"SHARED", "run-wins"}};
    settings.ns = "flyte";
    settings.data_root = "/var/lib/flyte/data";
    settings.data_volume_claim = "flyte-data";
    settings.env.endpoint = "dns:///flyte-runs.flyte.svc:8090";
    settings.service_account = "flyte-task";
    settings.node_selector = Json{{"pool", "tasks"}};
    settings.tolerations = Json::array({Json{{"key", "dedicated"}, {"operator", "Exists"}}});
    settings.image_pull_secrets = {"regcred"};
    settings.default_resources = Json{{"requests", {{"cpu", "100m"}}}};
  }
  absl::StatusOr<BuiltPod> Build(int attempt = 2) {
    paths = *layout.Plan(action.key, "file:///var/lib/flyte/data/proj/dev/r1", attempt);
    return BuildPod(settings, PodRequest{&action, &task, &paths, attempt, "r1-a0", "uid-1"});
  }
  AttemptLayout layout;
  ActionToRun action;
  TaskToRun task;
  AttemptPaths paths;
  PodSettings settings;
};

std::string Env(const Json& container, const std::string& name) {
  for (const Json& e : container["env"]) {
    if (e["name"] == name) return e.value("value", "<valueFrom>");
  }
  return "<unset>";
}

}  // namespace

TEST_CASE("a container task's Pod: identity, command, env, resources, cluster settings", "[executor][kubernetes_pod]") {
  Fixture f;
  auto* c = f.task.tmpl.mutable_container();
  c->set_image("ghcr.io/me/task:1");
  f.task.command = {"pyflyte-execute"};
  f.task.args = {"--output-prefix", "{{.outputPrefix}}", "--run", "{{.runName}}", "{{.bogus}}"};
  f.task.container_env = {{"TASK_ENV", "t"}, {"SHARED", "task"}};
  auto* cpu = c->mutable_resources()->add_limits();
  cpu->set_name(flyteidl2::core::Resources::MEMORY);
  cpu->set_value("1Gi");
  f.task.timeout = 90s;
  setenv("EXECUTOR_ONLY_VAR", "leak", 1);

  auto built = f.Build();
  REQUIRE(built.ok());
  const Json& pod = built->pod;
  CHECK(built->name == "r1-a0-2");
  CHECK(pod["metadata"]["namespace"] == "flyte");
  CHECK(pod["metadata"]["labels"]["flyte.org/attempt"] == "2");
  CHECK(pod["metadata"]["labels"]["flyte.org/taskaction"] == "r1-a0");
  CHECK(pod["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "flyte-executor");
  CHECK(pod["metadata"]["ownerReferences"][0]["uid"] == "uid-1");
  CHECK(pod["metadata"]["ownerReferences"][0]["controller"] == true);
  const Json& spec = pod["spec"];
  CHECK(spec["restartPolicy"] == "Never");
  CHECK(spec["serviceAccountName"] == "flyte-task");
  CHECK(spec["nodeSelector"]["pool"] == "tasks");
  CHECK(spec["tolerations"][0]["key"] == "dedicated");
  CHECK(spec["imagePullSecrets"][0]["name"] == "regcred");
  CHECK(spec["activeDeadlineSeconds"] == 90);
  CHECK(spec["volumes"][0]["persistentVolumeClaim"]["claimName"] == "flyte-data");
  const Json& main = spec["containers"][0];
  CHECK(main["name"] == "task");
  CHECK(main["image"] == "ghcr.io/me/task:1");
  CHECK(main["command"] == Json::array({"pyflyte-execute"}));
  CHECK(main["args"][1] == "file:///var/lib/flyte/data/proj/dev/r1/a0/2");
  CHECK(main["args"][3] == "r1");
  CHECK(main["args"][4] == "{{.bogus}}");
  CHECK(built->unknown_vars.count("{{.bogus}}") == 1);
  CHECK(main["resources"]["limits"]["memory"] == "1Gi");  // the task's, not the default
  CHECK(main["volumeMounts"][0]["mountPath"] == "/var/lib/flyte/data");
  CHECK(main["terminationMessagePolicy"] == "FallbackToLogsOnError");
  CHECK(Env(main, "ACTION_NAME") == "a0");
  CHECK(Env(main, "FLYTE_ATTEMPT_NUMBER") == "1");
  CHECK(Env(main, "_U_EP_OVERRIDE") == "dns:///flyte-runs.flyte.svc:8090");
  CHECK(Env(main, "_U_RUN_BASE") == "file:///var/lib/flyte/data/proj/dev/r1");
  CHECK(Env(main, "TASK_ENV") == "t");
  CHECK(Env(main, "RUN_ENV") == "from-run");
  CHECK(Env(main, "SHARED") == "run-wins");
  CHECK(Env(main, "EXECUTOR_ONLY_VAR") == "<unset>");  // a Pod has its image's environment, not the executor's
  CHECK(Env(main, "PATH") == "<unset>");

  f.task.tmpl.mutable_container()->clear_resources();
  auto defaults = f.Build();
  REQUIRE(defaults.ok());
  CHECK(defaults->pod["spec"]["containers"][0]["resources"]["requests"]["cpu"] == "100m");
}

TEST_CASE("a Pod-template task keeps its template and gets the command and env in its primary container",
          "[executor][kubernetes_pod]") {
  Fixture f;
  Json spec = {{"serviceAccountName", "from-template"},
               {"containers", Json::array({Json{{"name", "sidecar"}, {"image", "envoy"}},
                                           Json{{"name", "main"},
                                                {"image", "me/task:2"},
                                                {"args", {"run", "--out", "{{.outputPrefix}}"}},
                                                {"env", Json::array({Json{{"name", "FROM_TEMPLATE"}, {"value", "1"}},
                                                                     Json{{"name", "TOKEN"},
                                                                          {"valueFrom", {{"secretKeyRef", {{"name", "s"}, {"key", "k"}}}}}}})}}})}};
  auto* pod = f.task.tmpl.mutable_k8s_pod();
  REQUIRE(google::protobuf::util::JsonStringToMessage(spec.dump(), pod->mutable_pod_spec()).ok());
  pod->set_primary_container_name("main");
  (*pod->mutable_metadata()->mutable_labels())["team"] = "ml";
  (*pod->mutable_metadata()->mutable_annotations())["kwok.flyte.test/outcome"] = "fail";

  auto built = f.Build(1);
  REQUIRE(built.ok());
  CHECK(built->primary_container == "main");
  const Json& p = built->pod;
  CHECK(p["metadata"]["labels"]["team"] == "ml");
  CHECK(p["metadata"]["annotations"]["kwok.flyte.test/outcome"] == "fail");
  CHECK(p["metadata"]["annotations"]["flyte.org/primary-container"] == "main");
  CHECK(p["spec"]["serviceAccountName"] == "from-template");  // the template wins over the executor's default
  const Json& sidecar = p["spec"]["containers"][0];
  const Json& main = p["spec"]["containers"][1];
  CHECK_FALSE(sidecar.contains("env"));
  CHECK(main["args"][2] == "file:///var/lib/flyte/data/proj/dev/r1/a0/1");
  CHECK(Env(main, "FROM_TEMPLATE") == "1");
  CHECK(Env(main, "TOKEN") == "<valueFrom>");
  CHECK(Env(main, "RUN_NAME") == "r1");

  // The task's own service account (SDK: service_account=) wins over everything.
  f.task.tmpl.mutable_security_context()->mutable_run_as()->set_k8s_service_account("task-sa");
  CHECK(f.Build(1)->pod["spec"]["serviceAccountName"] == "task-sa");

  pod->set_primary_container_name("nope");
  auto missing = f.Build(1);
  CHECK(missing.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(std::string(missing.status().message()).find("no container named 'nope'") != std::string::npos);
}

namespace {

// The primary container's volume mount at `path`, or null.
const Json* MountAt(const Json& pod, const std::string& path) {
  for (const Json& c : pod["spec"]["containers"]) {
    if (c["name"] != pod["metadata"]["annotations"]["flyte.org/primary-container"]) continue;
    if (!c.contains("volumeMounts")) continue;
    for (const Json& m : c["volumeMounts"]) {
      if (m["mountPath"] == path) return &m;
    }
  }
  return nullptr;
}

}  // namespace

TEST_CASE("the task's /tmp is its attempt's tmp directory on the data volume", "[executor][kubernetes_pod]") {
  Fixture f;
  f.task.tmpl.mutable_container()->set_image("ghcr.io/me/task:1");
  f.task.args = {"run"};

  auto built = f.Build(2);
  REQUIRE(built.ok());
  const Json* tmp = MountAt(built->pod, "/tmp");
  REQUIRE(tmp != nullptr);
  CHECK((*tmp)["name"] == "flyte-data");  // the same volume as the data root
  CHECK((*tmp)["subPath"] == "proj/dev/r1/a0/2/tmp");
  CHECK(built->pod["metadata"]["annotations"]["flyte.org/task-tmp-subpath"] == "proj/dev/r1/a0/2/tmp");
  CHECK(built->task_tmp_dir == "/var/lib/flyte/data/proj/dev/r1/a0/2/tmp");
  CHECK(f.paths.attempt_dir + "/tmp" == built->task_tmp_dir);
  REQUIRE(MountAt(built->pod, "/var/lib/flyte/data") != nullptr);

  SECTION("not when turned off") {
    f.settings.task_tmp_on_data_volume = false;
    auto off = f.Build(2);
    REQUIRE(off.ok());
    CHECK(MountAt(off->pod, "/tmp") == nullptr);
    CHECK(off->task_tmp_dir.empty());
    CHECK_FALSE(off->pod["metadata"]["annotations"].contains("flyte.org/task-tmp-subpath"));
    CHECK(MountAt(off->pod, "/var/lib/flyte/data") != nullptr);
  }
  SECTION("not without a data volume") {
    f.settings.data_volume_claim.clear();
    auto none = f.Build(2);
    REQUIRE(none.ok());
    CHECK(MountAt(none->pod, "/tmp") == nullptr);
    CHECK(none->task_tmp_dir.empty());
  }
  SECTION("not when the task's Pod template mounts its own /tmp (and its own annotation of ours is dropped)") {
    Json spec = {{"containers", Json::array({Json{{"name", "main"},
                                                  {"image", "me/task:2"},
                                                  {"args", {"run"}},
                                                  {"volumeMounts", Json::array({Json{{"name", "scratch"},
                                                                                     {"mountPath", "/tmp/"}}})}}})},
                 {"volumes", Json::array({Json{{"name", "scratch"}, {"emptyDir", Json::object()}}})}};
    auto* pod = f.task.tmpl.mutable_k8s_pod();
    f.task.tmpl.clear_container();
    REQUIRE(google::protobuf::util::JsonStringToMessage(spec.dump(), pod->mutable_pod_spec()).ok());
    pod->set_primary_container_name("main");
    (*pod->mutable_metadata()->mutable_annotations())["flyte.org/task-tmp-subpath"] = "../../elsewhere";
    auto own = f.Build(2);
    REQUIRE(own.ok());
    const Json* mount = MountAt(own->pod, "/tmp/");
    REQUIRE(mount != nullptr);
    CHECK((*mount)["name"] == "scratch");
    CHECK(MountAt(own->pod, "/tmp") == nullptr);
    CHECK(own->task_tmp_dir.empty());
    CHECK_FALSE(own->pod["metadata"]["annotations"].contains("flyte.org/task-tmp-subpath"));
    CHECK_FALSE(PodView::FromJson(own->pod).task_tmp_on_volume);
  }
  SECTION("not when the run's output base is off the volume") {
    f.paths = *f.layout.Plan(f.action.key, "file:///elsewhere/r1", 2);
    auto off_volume = BuildPod(f.settings, PodRequest{&f.action, &f.task, &f.paths, 2, "r1-a0", "uid-1"});
    REQUIRE(off_volume.ok());
    CHECK(MountAt(off_volume->pod, "/tmp") == nullptr);
  }
  CHECK(PodView::FromJson(built->pod).task_tmp_on_volume);
}

TEST_CASE("tasks the Pod builder refuses, naming why", "[executor][kubernetes_pod]") {
  Fixture f;
  f.task.tmpl.set_type("sql");
  auto nothing = f.Build();
  CHECK(std::string(nothing.status().message()).find("neither a container nor a Pod template") != std::string::npos);

  f.task.tmpl.mutable_container()->set_image("x");
  f.task.args = {"run"};
  f.task.tmpl.mutable_metadata()->set_pod_template_name("gpu-template");
  auto named = f.Build();
  CHECK(std::string(named.status().message()).find("metadata.pod_template_name 'gpu-template'") != std::string::npos);

  f.task.tmpl.mutable_metadata()->clear_pod_template_name();
  f.task.tmpl.mutable_extended_resources()->mutable_gpu_accelerator()->set_device("nvidia-a100");
  CHECK(std::string(f.Build().status().message()).find("extended_resources.gpu_accelerator") != std::string::npos);
  f.task.tmpl.mutable_extended_resources()->clear_gpu_accelerator();
  // Declared secrets whose values the caller did not resolve: refused rather than a task running without them.
  auto* secret = f.task.tmpl.mutable_security_context()->add_secrets();
  secret->set_key("db-pass");
  secret->set_env_var("DB_PASS");
  CHECK(std::string(f.Build().status().message()).find("the task's secrets were not resolved") !=
        std::string::npos);
  f.task.tmpl.mutable_security_context()->clear_secrets();
  f.task.tmpl.mutable_extended_resources()->mutable_shared_memory()->set_size_limit("1Gi");
  auto shm = f.Build();
  REQUIRE(shm.ok());
  CHECK(shm->pod["spec"]["volumes"][1]["emptyDir"]["sizeLimit"] == "1Gi");
  CHECK(shm->pod["spec"]["containers"][0]["volumeMounts"][1]["mountPath"] == "/dev/shm");

  f.task.tmpl.mutable_container()->set_image("");
  CHECK(std::string(f.Build().status().message()).find("has no image") != std::string::npos);
}

TEST_CASE("what a Pod's status means for its attempt", "[executor][kubernetes_pod]") {
  const TimePoint now = TimePoint(std::chrono::seconds(1'800'000'000));
  PodView p;
  p.name = "r1-a0-1";
  p.primary = "task";
  p.created = now - 10s;

  p.phase = "Pending";
  CHECK(ClassifyPod(p, now, 60s).kind == PodOutcome::Kind::kWaiting);
  p.waiting_reason = "ImagePullBackOff";
  PodOutcome pulling = ClassifyPod(p, now, 60s);
  CHECK(pulling.kind == PodOutcome::Kind::kWaiting);
  CHECK(pulling.recheck_in == std::chrono::milliseconds(50000));
  PodOutcome pull_failed = ClassifyPod(p, now, 5s);
  CHECK(pull_failed.kind == PodOutcome::Kind::kFailed);
  CHECK(pull_failed.error->kind == ErrorKind::kSystem);
  CHECK(pull_failed.error->retryable);
  p.waiting_reason = "InvalidImageName";
  CHECK_FALSE(ClassifyPod(p, now, 60s).error->retryable);
  p.waiting_reason.clear();

  p.phase = "Running";
  CHECK(ClassifyPod(p, now, 60s).kind == PodOutcome::Kind::kRunning);
  p.phase = "Succeeded";
  CHECK(ClassifyPod(p, now, 60s).kind == PodOutcome::Kind::kSucceeded);

  p.phase = "Failed";
  p.exit_code = 3;
  p.terminated_reason = "Error";
  p.terminated_message = "Traceback: boom";
  PodOutcome exit3 = ClassifyPod(p, now, 60s);
  CHECK(exit3.error->code == "NonZeroExit");
  CHECK(exit3.error->kind == ErrorKind::kUser);
  CHECK(exit3.error->retryable);
  CHECK(exit3.error->message.find("exited with code 3 (Error)") != std::string::npos);
  CHECK(exit3.error->message.find("Traceback: boom") != std::string::npos);

  p.terminated_reason = "OOMKilled";
  p.exit_code = 137;
  CHECK(ClassifyPod(p, now, 60s).error->code == "OOMKilled");
  CHECK(ClassifyPod(p, now, 60s).error->kind == ErrorKind::kSystem);

  p.reason = "Evicted";
  CHECK(ClassifyPod(p, now, 60s).error->code == "Evicted");
  p.reason = "DeadlineExceeded";
  CHECK(ClassifyPod(p, now, 60s).kind == PodOutcome::Kind::kTimedOut);
}

TEST_CASE("the TaskAction status round-trips and clears fields in a merge patch", "[executor][kubernetes_pod]") {
  TaskActionStatus s;
  s.phase = "Failed";
  s.attempt = 2;
  s.pod_name = "r1-a0-2";
  s.completed_at = TimePoint(std::chrono::seconds(1'800'000'000));
  ActionError err{"NonZeroExit", "exited with code 3", ErrorKind::kUser, true};
  s.error = err;
  s.system_failures = 1;
  s.cache_status = CacheStatus::kPutFailure;
  s.cache_reservation = "Held";
  for (int i = 0; i < 70; ++i) s.Append("Running", 1 + i / 35, TimePoint(std::chrono::seconds(1'800'000'000 + i)), "m");
  s.Append("Failed", 2, TimePoint(std::chrono::seconds(1'800'000'100)), "exited", &err);
  CHECK(s.history.size() == TaskActionStatus::kMaxHistory);

  TaskActionStatus back = TaskActionStatus::FromJson(s.ToJson());
  CHECK(back.phase == "Failed");
  CHECK(back.attempt == 2);
  CHECK(back.pod_name == "r1-a0-2");
  CHECK(back.completed_at == s.completed_at);
  CHECK(back.error->code == "NonZeroExit");
  CHECK(back.system_failures == 1);
  CHECK(back.cache_status == CacheStatus::kPutFailure);
  CHECK(back.cache_reservation == "Held");
  CHECK(s.ToJson()["cacheStatus"] == "PutFailure");
  CHECK(back.history.size() == s.history.size());
  CHECK(back.history.back().error_code == "NonZeroExit");
  CHECK(back.LastOf(2)->phase == "Failed");
  CHECK(back.LastOf(3) == nullptr);

  TaskActionStatus fresh;
  fresh.phase = "Initializing";
  fresh.attempt = 3;
  Json patch = fresh.ToJson(/*for_merge_patch=*/true);
  CHECK(patch["startedAt"].is_null());
  CHECK(patch["completedAt"].is_null());
  CHECK(patch["error"].is_null());
  CHECK(patch["cacheStatus"].is_null());       // uncached: never looked up
  CHECK(patch["cacheReservation"].is_null());  // a released reservation is cleared
  CHECK(patch["outputsUri"].is_null());
  CHECK_FALSE(fresh.ToJson().contains("error"));

  CHECK(TaskActionStatus::FromJson(Json("garbage")).phase.empty());
}

TEST_CASE("every cache status has one name in the TaskAction status, and back", "[executor][kubernetes_pod]") {
  for (CacheStatus c : {CacheStatus::kMiss, CacheStatus::kHit, CacheStatus::kPopulated, CacheStatus::kLookupFailure,
                        CacheStatus::kPutFailure, CacheStatus::kSkipped}) {
    CHECK(std::string(CacheStatusToName(c)) != "");
    CHECK(CacheStatusFromName(CacheStatusToName(c)) == c);
  }
  CHECK(std::string(CacheStatusToName(CacheStatus::kDisabled)).empty());
  CHECK(CacheStatusFromName("bogus") == CacheStatus::kDisabled);
}

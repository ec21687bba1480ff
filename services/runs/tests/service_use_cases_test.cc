// Use cases against a real temp SQLite store (RunUseCases, TaskUseCases, StateUseCases).
#include <filesystem>
#include <fstream>
#include <regex>

#include <catch2/catch.hpp>

#include "api/runs_api.h"
#include "flyte/testing/temp.h"
#include "flyteidl2/task/common.pb.h"
#include "repository/store_factory.h"

namespace flyte::runs {
namespace {

using absl::StatusCode;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

struct Env {
  testing::TempSqlite db;
  testing::TempDir data{"flyte-runs-data"};
  common::FakeClock clock;
  std::unique_ptr<Store> store;
  std::unique_ptr<RunsApi> api;

  Env() {
    auto s = OpenStore(db.database_config());
    REQUIRE(s.ok());
    store = std::move(*s);
    RunsApiOptions options;
    options.runs.storage_prefix = "file://" + data.path().string();
    api = BuildRunsApi(*store, clock, options);
  }
  ~Env() { api->Shutdown(); }

  RunUseCases& runs() { return api->runs(); }
  StateUseCases& state() { return api->state(); }
  TaskUseCases& tasks() { return api->tasks(); }
};

Task InlineTask(const std::string& name = "hello") {
  Task t;
  t.key = TaskKey{"org", "proj", "dev", name, "v1"};
  t.spec = "spec-bytes-" + name;
  t.short_name = name;
  t.environment = "env";
  t.task_type = "python";
  return t;
}

CreateRunParams NewRun(const std::string& name) {
  CreateRunParams p;
  p.run = RunKey{"org", "proj", "dev", name};
  p.inline_task = InlineTask();
  p.inputs = std::string("inputs-bytes");
  return p;
}

ActionEvent Event(Phase phase, uint32_t attempt = 1) {
  ActionEvent e;
  e.phase = phase;
  e.attempt = attempt;
  return e;
}

ActionKey Key(const std::string& run, const std::string& action) {
  return ActionKey{RunKey{"org", "proj", "dev", run}, action};
}

TEST_CASE("CreateRun stores a QUEUED root action with its spec and inputs", "[service][sqlite]") {
  Env env;
  absl::StatusOr<Action> root = env.runs().CreateRun(NewRun("my-run"));
  REQUIRE(root.ok());
  CHECK(root->key.name == "a0");
  CHECK(root->phase == Phase::kQueued);
  CHECK_FALSE(root->parent.has_value());
  CHECK(root->task_spec == "spec-bytes-hello");
  CHECK(root->task_name == "hello");
  CHECK(root->environment == "env");
  const std::string base = "file://" + env.data.path().string() + "/proj/dev/my-run";
  CHECK(root->run_output_base == base + "/");
  // A file of the request's own in the run's directory: inputs-<16 hex>.pb.
  REQUIRE(root->input_uri.rfind(base + "/inputs-", 0) == 0);
  CHECK(root->input_uri.size() == base.size() + std::string("/inputs-0123456789abcdef.pb").size());
  CHECK(root->input_uri.substr(root->input_uri.size() - 3) == ".pb");
  CHECK(ReadFile(root->input_uri.substr(7)) == "inputs-bytes");
  // The answer is the run exactly as a later read shows it.
  absl::StatusOr<Action> read = env.store->Actions().Get(root->key);
  REQUIRE(read.ok());
  CHECK(*root == *read);
}

TEST_CASE("CreateRun whose inputs cannot be written creates no run", "[service][sqlite]") {
  Env env;
  // A file where the run's directory should go: the inputs cannot be written.
  std::filesystem::create_directories(env.data.path() / "proj/dev");
  std::ofstream(env.data.path() / "proj/dev/no-inputs") << "in the way";
  absl::StatusOr<Action> root = env.runs().CreateRun(NewRun("no-inputs"));
  CHECK(root.status().code() == StatusCode::kInternal);
  CHECK(std::string(root.status().message()).find("cannot write inputs") != std::string::npos);
  CHECK(env.store->Actions().Get(Key("no-inputs", "a0")).status().code() == StatusCode::kNotFound);
  // The name is still free once the problem is gone.
  std::filesystem::remove_all(env.data.path() / "proj/dev/no-inputs");
  CHECK(env.runs().CreateRun(NewRun("no-inputs")).ok());
}

TEST_CASE("CreateRun with a taken name answers ALREADY_EXISTS naming the run", "[service][sqlite]") {
  Env env;
  REQUIRE(env.runs().CreateRun(NewRun("dup")).ok());
  CreateRunParams again = NewRun("dup");
  again.inputs = std::string("other");
  absl::StatusOr<Action> second = env.runs().CreateRun(again);
  CHECK(second.status().code() == StatusCode::kAlreadyExists);
  CHECK(std::string(second.status().message()).find("dup") != std::string::npos);
  // The first run's inputs were not overwritten, and the refused request's own file was removed.
  absl::StatusOr<Action> first = env.store->Actions().Get(Key("dup", "a0"));
  REQUIRE(first.ok());
  CHECK(ReadFile(first->input_uri.substr(7)) == "inputs-bytes");
  int files = 0;
  for ([[maybe_unused]] const auto& f : std::filesystem::directory_iterator(env.data.path() / "proj/dev/dup")) ++files;
  CHECK(files == 1);
}

TEST_CASE("CreateRun with a taken name returns the run to the request with the same digest only",
          "[service][sqlite]") {
  Env env;
  CreateRunParams first = NewRun("idem");
  first.request_digest = "d1";
  absl::StatusOr<Action> created = env.runs().CreateRun(first);
  REQUIRE(created.ok());
  CHECK(created->request_digest == "d1");
  absl::StatusOr<Action> again = env.runs().CreateRun(first);
  REQUIRE(again.ok());
  CHECK(again->key == created->key);
  CHECK(again->version == created->version);  // returned, not created or changed
  CreateRunParams other = first;
  other.request_digest = "d2";
  CHECK(env.runs().CreateRun(other).status().code() == StatusCode::kAlreadyExists);
  other.request_digest = "";  // a request that cannot be repeated (e.g. its name was generated)
  CHECK(env.runs().CreateRun(other).status().code() == StatusCode::kAlreadyExists);
  // A run created without a digest is never "the same request".
  REQUIRE(env.runs().CreateRun(NewRun("nodigest")).ok());
  CHECK(env.runs().CreateRun(NewRun("nodigest")).status().code() == StatusCode::kAlreadyExists);
}

TEST_CASE("CreateRun generates a DNS-1035 name and rejects bad ones", "[service][sqlite]") {
  Env env;
  absl::StatusOr<Action> root = env.runs().CreateRun(NewRun(""));
  REQUIRE(root.ok());
  CHECK(std::regex_match(root->key.run.name, std::regex("r[a-z0-9]{19}")));
  for (const char* bad : {"Upper", "1abc", "ends-", "has_underscore", "abcdefghijklmnopqrstuvwxyz012345"}) {
    CAPTURE(bad);
    CHECK(env.runs().CreateRun(NewRun(bad)).status().code() == StatusCode::kInvalidArgument);
  }
}

TEST_CASE("CreateRun by task id needs a deployed task", "[service][sqlite]") {
  Env env;
  CreateRunParams p = NewRun("by-id");
  p.inline_task.reset();
  p.task_id = TaskKey{"org", "proj", "dev", "deployed", "v7"};
  CHECK(env.runs().CreateRun(p).status().code() == StatusCode::kNotFound);
  Task t = InlineTask("deployed");
  t.key.version = "v7";
  REQUIRE(env.tasks().DeployTask(t).ok());
  absl::StatusOr<Action> root = env.runs().CreateRun(p);
  REQUIRE(root.ok());
  CHECK(root->task_name == "deployed");
  CHECK(root->task_version == "v7");
  CHECK(root->task_spec == "spec-bytes-deployed");
}

TEST_CASE("AbortRun cascades to descendants and records the reason; terminal actions stay", "[service][sqlite]") {
  Env env;
  REQUIRE(env.runs().CreateRun(NewRun("abort-me")).ok());
  REQUIRE(env.state().Put(Key("abort-me", "a0"), std::nullopt, Event(Phase::kRunning)).ok());
  REQUIRE(env.state().Put(Key("abort-me", "c1"), "a0", Event(Phase::kRunning)).ok());
  REQUIRE(env.state().Put(Key("abort-me", "c2"), "c1", Event(Phase::kQueued)).ok());
  REQUIRE(env.state().Put(Key("abort-me", "done"), "a0", Event(Phase::kSucceeded)).ok());

  REQUIRE(env.runs().AbortRun(RunKey{"org", "proj", "dev", "abort-me"}, "user said stop").ok());
  for (const char* name : {"a0", "c1", "c2"}) {
    CAPTURE(name);
    absl::StatusOr<ActionWithAttempts> a = env.runs().GetActionDetails(Key("abort-me", name));
    REQUIRE(a.ok());
    CHECK(a->action.phase == Phase::kAborted);
    CHECK(a->action.abort_reason.value_or("") == "user said stop");
  }
  CHECK(env.runs().GetActionDetails(Key("abort-me", "done"))->action.phase == Phase::kSucceeded);
  // Aborting a terminal action is fine and changes nothing.
  const int64_t version = env.runs().GetActionDetails(Key("abort-me", "done"))->action.version;
  CHECK(env.runs().AbortAction(Key("abort-me", "done"), "again").ok());
  CHECK(env.runs().GetActionDetails(Key("abort-me", "done"))->action.version == version);
  CHECK(env.runs().AbortAction(Key("abort-me", "nope"), "x").code() == StatusCode::kNotFound);
  CHECK(env.runs().AbortRun(RunKey{"org", "proj", "dev", "nope"}, "x").code() == StatusCode::kNotFound);
}

TEST_CASE("StateUseCases.Put creates children, applies events and refuses illegal transitions", "[service][sqlite]") {
  Env env;
  REQUIRE(env.runs().CreateRun(NewRun("state")).ok());
  // Unknown action without a parent: NOT_FOUND.
  CHECK(env.state().Put(Key("state", "x"), std::nullopt, Event(Phase::kRunning)).status().code() ==
        StatusCode::kNotFound);
  // Unknown run: NOT_FOUND even with a parent.
  CHECK(env.state().Put(Key("other", "x"), "a0", Event(Phase::kRunning)).status().code() == StatusCode::kNotFound);
  absl::StatusOr<Action> child = env.state().Put(Key("state", "c1"), "a0", Event(Phase::kRunning));
  REQUIRE(child.ok());
  CHECK(child->parent.value_or("") == "a0");
  CHECK(child->phase == Phase::kRunning);
  ActionEvent done = Event(Phase::kSucceeded);
  done.output_uri = "file:///tmp/out/c1";
  REQUIRE(env.state().Put(Key("state", "c1"), std::nullopt, done).ok());
  absl::StatusOr<Action> back = env.state().Put(Key("state", "c1"), std::nullopt, Event(Phase::kRunning));
  CHECK(back.status().code() == StatusCode::kFailedPrecondition);
  absl::StatusOr<ActionWithAttempts> got = env.state().Get(Key("state", "c1"));
  REQUIRE(got.ok());
  CHECK(got->action.phase == Phase::kSucceeded);
  CHECK(got->action.output_uri == "file:///tmp/out/c1");
  CHECK(env.state().Get(Key("state", "zz")).status().code() == StatusCode::kNotFound);
  CHECK(env.state().Put(Key("state", "c1"), std::nullopt, Event(Phase::kUnspecified)).status().code() ==
        StatusCode::kInvalidArgument);
}

TEST_CASE("GetActionData reads inputs.pb and outputs.pb from file uris", "[service][sqlite]") {
  Env env;
  flyteidl2::task::Inputs inputs;
  inputs.add_literals()->set_name("x");
  CreateRunParams p = NewRun("data");
  p.inputs = inputs.SerializeAsString();
  REQUIRE(env.runs().CreateRun(p).ok());

  const auto out_dir = env.data.path() / "outs" / "a0";
  std::filesystem::create_directories(out_dir);
  flyteidl2::task::Outputs outputs;
  outputs.add_literals()->set_name("o0");
  std::ofstream(out_dir / "outputs.pb", std::ios::binary) << outputs.SerializeAsString();

  absl::StatusOr<ActionData> before = env.runs().GetActionData(Key("data", "a0"));
  REQUIRE(before.ok());
  CHECK(before->inputs == inputs.SerializeAsString());
  CHECK(before->outputs.empty());

  ActionEvent e = Event(Phase::kSucceeded);
  e.output_uri = "file://" + out_dir.string();
  REQUIRE(env.state().Put(Key("data", "a0"), std::nullopt, e).ok());
  absl::StatusOr<ActionData> after = env.runs().GetActionData(Key("data", "a0"));
  REQUIRE(after.ok());
  CHECK(after->outputs == outputs.SerializeAsString());
  CHECK(env.runs().GetActionData(Key("data", "nope")).status().code() == StatusCode::kNotFound);
}

TEST_CASE("ListRuns and ListActions page through results", "[service][sqlite]") {
  Env env;
  for (const char* name : {"run-a", "run-b", "run-c"}) {
    REQUIRE(env.runs().CreateRun(NewRun(name)).ok());
    env.clock.Advance(std::chrono::seconds(1));
  }
  ListQuery q;
  q.org = "org";
  q.project = "proj";
  q.domain = "dev";
  q.limit = 2;
  absl::StatusOr<Page<Action>> first = env.runs().ListRuns(q);
  REQUIRE(first.ok());
  CHECK(first->items.size() == 2);
  REQUIRE(first->next_offset.has_value());
  q.offset = *first->next_offset;
  absl::StatusOr<Page<Action>> second = env.runs().ListRuns(q);
  REQUIRE(second.ok());
  CHECK(second->items.size() == 1);

  REQUIRE(env.state().Put(Key("run-a", "c1"), "a0", Event(Phase::kRunning)).ok());
  ListQuery aq;
  aq.org = "org";
  aq.project = "proj";
  aq.domain = "dev";
  aq.run_name = "run-a";
  absl::StatusOr<Page<Action>> actions = env.runs().ListActions(aq);
  REQUIRE(actions.ok());
  CHECK(actions->items.size() == 2);
  aq.run_name = "missing";
  CHECK(env.runs().ListActions(aq).status().code() == StatusCode::kNotFound);
}

TEST_CASE("DeployTask creates and redeploys; lists show the latest version per name", "[service][sqlite]") {
  Env env;
  Task t1 = InlineTask("t");
  REQUIRE(env.tasks().DeployTask(t1).ok());
  env.clock.Advance(std::chrono::seconds(1));
  Task t1b = t1;
  t1b.spec = "updated";
  REQUIRE(env.tasks().DeployTask(t1b).ok());
  CHECK(env.tasks().GetTaskDetails(t1.key)->spec == "updated");
  env.clock.Advance(std::chrono::seconds(1));
  Task t2 = InlineTask("t");
  t2.key.version = "v2";
  REQUIRE(env.tasks().DeployTask(t2).ok());
  REQUIRE(env.tasks().DeployTask(InlineTask("other")).ok());

  ListQuery q;
  q.org = "org";
  q.project = "proj";
  q.domain = "dev";
  absl::StatusOr<Page<Task>> latest = env.tasks().ListTasks(q);
  REQUIRE(latest.ok());
  REQUIRE(latest->items.size() == 2);
  for (const Task& t : latest->items) {
    if (t.key.name == "t") CHECK(t.key.version == "v2");
  }
  absl::StatusOr<Page<Task>> versions = env.tasks().ListVersions(TaskKey{"org", "proj", "dev", "t", ""}, q);
  REQUIRE(versions.ok());
  CHECK(versions->items.size() == 2);
  CHECK(env.tasks().GetTaskDetails(TaskKey{"org", "proj", "dev", "t", "v9"}).status().code() ==
        StatusCode::kNotFound);
}

}  // namespace
}  // namespace flyte::runs

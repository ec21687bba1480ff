#include "builders.h"

#include <thread>

namespace flyte::runs::test {

Action MakeRun(const std::string& run, int64_t created_s, const std::string& project) {
  Action a;
  a.key = KeyOf(run, kRootActionName, project);
  a.type = ActionType::kTask;
  a.phase = Phase::kQueued;
  a.group = "";
  a.task_org = "testorg";
  a.task_project = project;
  a.task_domain = "dev";
  a.task_name = "my_task";
  a.task_version = "v1";
  a.task_type = "python";
  a.short_name = "my_task";
  a.environment = "env";
  a.task_spec = std::string("\x0a\x03spec\x00\xff", 8);
  a.run_spec = std::string("\x12\x00run", 5);
  a.metadata = "meta";
  a.input_uri = "s3://bucket/" + run + "/inputs.pb";
  a.run_output_base = "s3://bucket/" + run + "/";
  a.created_at = At(created_s);
  a.updated_at = At(created_s);
  return a;
}

Action MakeChild(const std::string& run, const std::string& name, const std::string& parent, int64_t created_s) {
  Action a = MakeRun(run, created_s);
  a.key.name = name;
  a.parent = parent;
  a.run_spec.clear();
  a.group = "g1";
  a.task_name = "child_task";
  a.short_name = "child";
  return a;
}

ActionKey KeyOf(const std::string& run, const std::string& name, const std::string& project) {
  return ActionKey{RunKey{"testorg", project, "dev", run}, name};
}

ActionEvent MakeEvent(uint32_t attempt, Phase phase, int64_t at_s) {
  ActionEvent e;
  e.attempt = attempt;
  e.phase = phase;
  e.occurred_at = At(at_s);
  return e;
}

Task MakeTask(const std::string& name, const std::string& version, int64_t created_s, const std::string& project) {
  Task t;
  t.key = TaskKey{"testorg", project, "dev", name, version};
  t.spec = std::string("\x0a\x00task-", 7) + name + "-" + version;
  t.short_name = name;
  t.environment = "env-" + name;
  t.task_type = "python";
  t.deployed_by = "tester";
  t.created_at = At(created_s);
  t.updated_at = At(created_s);
  return t;
}

bool WaitFor(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return pred();
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

}  // namespace flyte::runs::test

#include <catch2/catch.hpp>

#include "flyte/kube/task_action.h"

using namespace flyte::kube;

TEST_CASE("TaskAction and Pod names are deterministic DNS labels", "[unit][kube]") {
  ActionRef ref{"local", "flytesnacks", "development", "r1abc", "a0"};
  CHECK(TaskActionName(ref) == "r1abc-a0");
  CHECK(PodName(ref, 2) == "r1abc-a0-2");
  CHECK(TaskActionFallbackName(ref) != TaskActionName(ref));
  CHECK(TaskActionFallbackName(ref).rfind("r1abc-a0-", 0) == 0);

  // Another project, same run and action names: same primary name, different fallback.
  ActionRef other = ref;
  other.project = "p2";
  CHECK(TaskActionName(other) == TaskActionName(ref));
  CHECK(TaskActionFallbackName(other) != TaskActionFallbackName(ref));

  // Too long or not a label: truncated + hash, stable, distinct.
  ActionRef longref = ref;
  longref.action = std::string(80, 'x');
  std::string n = TaskActionName(longref);
  CHECK(n.size() <= 63);
  CHECK(n == TaskActionName(longref));
  longref.action += "y";
  CHECK(TaskActionName(longref) != n);
  ActionRef upper = ref;
  upper.action = "My_Action";
  std::string u = PodName(upper, 1);
  CHECK(u.size() <= 63);
  CHECK(u.find('_') == std::string::npos);
  CHECK(u != PodName(ActionRef{"local", "flytesnacks", "development", "r1abc", "my-action"}, 1));
}

TEST_CASE("label values stay readable when valid and are hashed otherwise", "[unit][kube]") {
  CHECK(LabelValue("flytesnacks") == "flytesnacks");
  CHECK(LabelValue("My_Project.v1") == "My_Project.v1");
  CHECK(LabelValue("") == "");
  std::string bad = LabelValue("has space/slash");
  CHECK(bad.find(' ') == std::string::npos);
  CHECK(bad.find('/') == std::string::npos);
  CHECK(LabelValue(std::string(100, 'a')).size() <= 63);
}

TEST_CASE("a built TaskAction parses back to its spec", "[unit][kube]") {
  TaskActionSpec s;
  s.ref = ActionRef{"local", "p", "d", "r1", "child-1"};
  s.parent_action = "a0";
  s.action_type = "task";
  s.task_type = "python";
  s.short_name = "say_hello";
  s.input_uri = "file:///data/in";
  s.run_output_base = "file:///data/r1";
  s.group = "g";
  s.enqueue_request = std::string("\x00\x01\xff binary", 10);
  Json obj = BuildTaskAction(s, "flyte", TaskActionName(s.ref), OwnerRef{"r1-a0", "uid-1"});
  CHECK(obj["metadata"]["finalizers"][0] == kExecutorFinalizer);
  CHECK(obj["metadata"]["labels"][kLabelIsRoot] == "false");
  CHECK(obj["metadata"]["labels"][kLabelParent] == "a0");
  CHECK(obj["metadata"]["ownerReferences"][0]["uid"] == "uid-1");
  auto back = ParseTaskActionSpec(obj);
  REQUIRE(back.ok());
  CHECK(back->ref == s.ref);
  CHECK(back->parent_action == "a0");
  CHECK(back->enqueue_request == s.enqueue_request);
  CHECK(back->short_name == "say_hello");

  Json broken = obj;
  broken["spec"].erase("actionType");
  CHECK(ParseTaskActionSpec(broken).status().message().find("spec.actionType is required") != std::string::npos);
  broken = obj;
  broken["spec"]["enqueueRequest"] = "%%%";
  CHECK(ParseTaskActionSpec(broken).status().message().find("not base64") != std::string::npos);
}

TEST_CASE("terminal phases", "[unit][kube]") {
  for (const char* p : {kPhaseSucceeded, kPhaseFailed, kPhaseAborted, kPhaseTimedOut}) CHECK(IsTerminalPhase(p));
  for (const char* p : {kPhaseQueued, kPhaseInitializing, kPhaseRunning}) CHECK_FALSE(IsTerminalPhase(p));
}

#include "runtime/attempt_runner.h"

#include <time.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "flyteidl2/core/execution.pb.h"
#include "flyteidl2/core/tasks.pb.h"
#include "flyteidl2/task/task_definition.pb.h"
#include "runtime/template_substitution.h"

namespace flyte::executor {
namespace {

// RFC 3339 in UTC with exactly six fractional digits: what Python's datetime.fromisoformat reads on every version.
std::string Rfc3339(common::TimePoint t) {
  int64_t us = common::ToUnixMicros(t);
  time_t secs = static_cast<time_t>(us / 1'000'000);
  int64_t frac = us % 1'000'000;
  if (frac < 0) {
    frac += 1'000'000;
    --secs;
  }
  struct tm tm {};
  gmtime_r(&secs, &tm);
  char buf[64];
  snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%06lld+00:00", tm.tm_year + 1900, tm.tm_mon + 1,
           tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<long long>(frac));
  return buf;
}

std::string ReadTail(const std::string& path, size_t max_bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  in.seekg(0, std::ios::end);
  std::streamoff size = in.tellg();
  std::streamoff start = size > static_cast<std::streamoff>(max_bytes) ? size - max_bytes : 0;
  in.seekg(start);
  std::string tail(static_cast<size_t>(size - start), '\0');
  in.read(tail.data(), static_cast<std::streamsize>(tail.size()));
  return std::string(absl::StripTrailingAsciiWhitespace(tail));
}

std::string FormatDuration(std::chrono::milliseconds d) {
  if (d.count() % 1000 == 0) return absl::StrCat(d.count() / 1000, "s");
  return absl::StrCat(d.count(), "ms");
}

}  // namespace

std::shared_ptr<AttemptRunner> AttemptRunner::Create(ActionToRun action, RunnerContext context,
                                                     TransitionCallback on_transition) {
  return std::shared_ptr<AttemptRunner>(
      new AttemptRunner(std::move(action), std::move(context), std::move(on_transition)));
}

AttemptRunner::AttemptRunner(ActionToRun action, RunnerContext context, TransitionCallback on_transition)
    : action_(std::move(action)), context_(std::move(context)), on_transition_(std::move(on_transition)) {}

ActionTransition AttemptRunner::Make(int attempt, Phase phase) const {
  ActionTransition t;
  t.key = action_.key;
  t.attempt = attempt;
  t.phase = phase;
  t.time = context_.clock->Now();
  return t;
}

void AttemptRunner::Report(ActionTransition t) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (t.stdout_uri.empty() && !paths_.stdout_path.empty()) {
      t.stdout_uri = ToFileUri(paths_.stdout_path);
      t.stderr_uri = ToFileUri(paths_.stderr_path);
    }
    if (t.final) done_ = true;
  }
  if (on_transition_) on_transition_(t);
}

void AttemptRunner::Start() {
  flyteidl2::core::TaskTemplate tmpl;
  std::string problem;
  if (!action_.task_template.empty()) {
    if (!tmpl.ParseFromString(action_.task_template)) problem = "task template does not parse";
  } else if (!action_.task_spec.empty()) {
    flyteidl2::task::TaskSpec spec;
    if (!spec.ParseFromString(action_.task_spec)) {
      problem = "task spec does not parse";
    } else {
      tmpl = spec.task_template();
    }
  } else {
    problem = "the action carries no task";
  }
  if (problem.empty() && !tmpl.has_container()) {
    problem = absl::StrCat("task type '", tmpl.type(), "' has no container: the local process runtime runs "
                           "container tasks only");
  }
  if (problem.empty()) {
    for (const std::string& c : tmpl.container().command()) command_.push_back(c);
    for (const std::string& a : tmpl.container().args()) command_.push_back(a);
    if (command_.empty()) problem = "the task's container has neither command nor args";
  }
  if (!problem.empty()) {
    ActionTransition t = Make(action_.attempt, Phase::kFailed);
    t.error = ActionError{"InvalidTask", problem, ErrorKind::kUser, false};
    t.cluster_event = problem;
    t.final = true;
    Report(std::move(t));
    return;
  }
  for (const auto& kv : tmpl.container().env()) container_env_.emplace_back(kv.key(), kv.value());
  max_retries_ = action_.max_retries.value_or(static_cast<int>(tmpl.metadata().retries().retries()));
  if (action_.timeout.has_value()) {
    timeout_ = *action_.timeout;
  } else {
    const auto& d = tmpl.metadata().timeout();
    timeout_ = std::chrono::milliseconds(d.seconds() * 1000 + d.nanos() / 1'000'000);
  }
  RunAttempt(action_.attempt);
}

void AttemptRunner::RunAttempt(int attempt) {
  // Deployments without orgs send an empty one; the SDK and the data root both want a name.
  ActionKey path_key = action_.key;
  if (path_key.org.empty()) path_key.org = context_.env.default_org;
  absl::StatusOr<AttemptPaths> planned = context_.layout->Plan(path_key, action_.run_output_base, attempt);
  absl::Status created = planned.ok() ? context_.layout->Create(*planned) : planned.status();
  if (!created.ok()) {
    ActionTransition t = Make(attempt, Phase::kFailed);
    t.error = ActionError{"InitializationFailed", std::string(created.message()), ErrorKind::kSystem, false};
    t.cluster_event = absl::StrCat("cannot prepare attempt ", attempt, ": ", created.message());
    t.final = true;
    Report(std::move(t));
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    paths_ = *planned;
  }
  const AttemptPaths& p = *planned;

  std::string input_prefix = action_.input_uri;
  std::string input_file;
  if (absl::EndsWith(input_prefix, ".pb")) {
    input_file = input_prefix;
    input_prefix = input_prefix.substr(0, input_prefix.rfind('/'));
  } else if (!input_prefix.empty()) {
    while (absl::EndsWith(input_prefix, "/")) input_prefix.pop_back();
    input_file = input_prefix + "/inputs.pb";
  }
  std::string run_base = ToFileUri(p.run_dir);
  TemplateVars vars;
  vars.Set("input", input_file)
      .Set("inputPrefix", input_prefix)
      .Set("outputPrefix", ToFileUri(p.output_dir))
      .Set("rawOutputDataPrefix", ToFileUri(p.raw_output_dir))
      .Set("checkpointOutputPrefix", ToFileUri(p.checkpoint_dir))
      .Set("prevCheckpointPrefix", p.prev_checkpoint_dir.empty() ? "" : ToFileUri(p.prev_checkpoint_dir))
      .Set("runName", action_.key.run_name)
      .Set("actionName", action_.key.action_name)
      .Set("runStartTime", Rfc3339(action_.run_start_time))
      .Set("perRetryUniqueKey", absl::StrCat(action_.key.run_name, "-", action_.key.action_name, "-", attempt))
      .Set("taskRetryAttempt", absl::StrCat(attempt - 1))
      .Set("runBase", run_base)
      .Set("project", action_.key.project)
      .Set("domain", action_.key.domain)
      .Set("org", action_.key.org.empty() ? context_.env.default_org : action_.key.org);
  Substituted argv = SubstituteTemplates(command_, vars);

  LaunchSpec spec;
  spec.argv = std::move(argv.args);
  spec.env = BuildTaskEnvironment(context_.env, TaskIdentity{&action_.key, run_base, attempt}, container_env_,
                                  action_.envs);
  spec.cwd = p.work_dir;
  spec.stdout_path = p.stdout_path;
  spec.stderr_path = p.stderr_path;
  spec.timeout = timeout_;
  spec.timeout_grace = context_.timeout_grace;

  ActionTransition init = Make(attempt, Phase::kInitializing);
  init.cluster_event = absl::StrCat("attempt ", attempt, " prepared in ", p.attempt_dir);
  if (!argv.unknown.empty()) {
    std::string names = absl::StrJoin(argv.unknown, ", ");
    absl::StrAppend(&init.cluster_event, "; unknown template variables left as is: ", names);
    fprintf(stderr, "executor: %s attempt %d: unknown template variables left as is: %s\n",
            action_.key.ToString().c_str(), attempt, names.c_str());
  }
  Report(std::move(init));

  std::shared_ptr<AttemptRunner> self = shared_from_this();
  std::unique_lock<std::mutex> lock(mu_);
  if (aborted_) {
    std::string reason = abort_reason_;
    lock.unlock();
    ActionTransition t = Make(attempt, Phase::kAborted);
    t.error = ActionError{"Aborted", reason, ErrorKind::kUser, false};
    t.cluster_event = absl::StrCat("aborted before start: ", reason);
    t.final = true;
    Report(std::move(t));
    return;
  }
  // Launch never calls back synchronously, so holding mu_ here cannot deadlock; it keeps Abort from slipping
  // between the aborted_ check and launch_id_ being known.
  launch_id_ = context_.supervisor->Launch(
      std::move(spec), LaunchCallbacks{[self, attempt](pid_t pid) { self->OnStarted(attempt, pid); },
                                       [self, attempt](const ProcessExit& e) { self->OnExit(attempt, e); }});
}

void AttemptRunner::OnStarted(int attempt, pid_t pid) {
  ActionTransition t = Make(attempt, Phase::kRunning);
  t.cluster_event = absl::StrCat("process started pid ", pid);
  t.pid = static_cast<int>(pid);
  Report(std::move(t));
}

void AttemptRunner::OnExit(int attempt, const ProcessExit& exit) {
  bool aborted;
  std::string abort_reason;
  AttemptPaths p;
  {
    std::lock_guard<std::mutex> lock(mu_);
    launch_id_ = 0;
    aborted = aborted_;
    abort_reason = abort_reason_;
    p = paths_;
  }
  const std::string what = exit.Describe();
  ActionTransition t;

  if (aborted && exit.terminated) {
    t = Make(attempt, Phase::kAborted);
    t.error = ActionError{"Aborted", abort_reason, ErrorKind::kUser, false};
    t.cluster_event = exit.outcome == ProcessExit::Outcome::kNotStarted
                          ? absl::StrCat("aborted while waiting for a process slot: ", abort_reason)
                          : absl::StrCat("abort requested (", abort_reason, "): process group terminated, ", what);
  } else if (exit.timed_out) {
    t = Make(attempt, Phase::kTimedOut);
    std::string msg = absl::StrCat("task exceeded its timeout of ", FormatDuration(timeout_),
                                   "; process group killed (", what, ")");
    t.error = ActionError{"Timeout", msg, ErrorKind::kUser, true};
    t.cluster_event = msg;
  } else if (exit.outcome == ProcessExit::Outcome::kNotStarted) {
    t = Make(attempt, Phase::kFailed);
    t.error = ActionError{"SpawnFailed", std::string(exit.start_error.message()), ErrorKind::kSystem, false};
    t.cluster_event = what;
  } else if (std::ifstream err_in(p.error_path, std::ios::binary); err_in) {
    // The SDK reports task errors by writing error.pb and exiting 0: the exit code alone is not the verdict.
    flyteidl2::core::ErrorDocument doc;
    t = Make(attempt, Phase::kFailed);
    if (doc.ParseFromIstream(&err_in)) {
      const auto& ce = doc.error();
      ErrorKind kind = ce.origin() == flyteidl2::core::ExecutionError::SYSTEM ? ErrorKind::kSystem : ErrorKind::kUser;
      t.error = ActionError{ce.code().empty() ? "UserError" : ce.code(), ce.message(), kind,
                            ce.kind() == flyteidl2::core::ContainerError::RECOVERABLE};
    } else {
      t.error = ActionError{"BadErrorDocument", absl::StrCat(p.error_path, " is not a flyteidl2.core.ErrorDocument"),
                            ErrorKind::kSystem, false};
    }
    t.cluster_event = absl::StrCat("process ", what, "; error document found at ", ToFileUri(p.error_path));
  } else if (exit.outcome == ProcessExit::Outcome::kExited && exit.exit_code == 0) {
    t = Make(attempt, Phase::kSucceeded);
    t.output_uri = ToFileUri(p.output_dir);
    t.cluster_event = absl::StrCat("process ", what);
  } else {
    t = Make(attempt, Phase::kFailed);
    std::string msg = absl::StrCat("process ", what);
    std::string tail = ReadTail(p.stderr_path, context_.stderr_tail_bytes);
    if (!tail.empty()) absl::StrAppend(&msg, "; stderr tail:\n", tail);
    bool signaled = exit.outcome == ProcessExit::Outcome::kSignaled;
    t.error = ActionError{signaled ? "Signaled" : "NonZeroExit", msg, signaled ? ErrorKind::kSystem : ErrorKind::kUser,
                          true};
    t.cluster_event = absl::StrCat("process ", what);
  }

  bool retry = (t.phase == Phase::kFailed || t.phase == Phase::kTimedOut) && t.error && t.error->retryable &&
               !aborted && attempt <= max_retries_;
  if (retry) absl::StrAppend(&t.cluster_event, "; retrying as attempt ", attempt + 1);
  t.final = !retry;
  Report(std::move(t));
  if (retry) RunAttempt(attempt + 1);
}

void AttemptRunner::Abort(std::string reason, std::optional<std::chrono::milliseconds> grace) {
  std::lock_guard<std::mutex> lock(mu_);
  if (done_) return;
  if (aborted_) {
    // A second, harsher request (a lost lease after a polite abort) still escalates at once.
    if (grace && launch_id_ != 0) (void)context_.supervisor->Terminate(launch_id_, *grace);
    return;
  }
  aborted_ = true;
  abort_reason_ = reason.empty() ? "aborted" : std::move(reason);
  // kNotFound: the process is already exiting and OnExit will see aborted_. No launch yet: RunAttempt will.
  if (launch_id_ != 0) (void)context_.supervisor->Terminate(launch_id_, grace.value_or(context_.abort_grace));
}

}  // namespace flyte::executor

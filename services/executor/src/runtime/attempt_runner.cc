#include "runtime/attempt_runner.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "runtime/output_localizer.h"
#include "runtime/task_launch.h"
#include "runtime/task_secrets.h"
#include "runtime/template_substitution.h"

namespace flyte::executor {
namespace {

// Where the attempt's file-mounted secrets are while its process runs.
std::string SecretsDir(const AttemptPaths& p) { return p.attempt_dir + "/secrets"; }

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
  absl::StatusOr<TaskToRun> task = ParseTask(action_);
  std::string problem = task.ok() ? "" : std::string(task.status().message());
  if (problem.empty() && !task->tmpl.has_container()) {
    problem = absl::StrCat("task type '", task->tmpl.type(), "' has no container: the local process runtime runs "
                           "container tasks only");
  }
  if (problem.empty()) {
    command_ = task->command;
    command_.insert(command_.end(), task->args.begin(), task->args.end());
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
  if (action_.secrets_error) {
    // A declared secret that does not exist (or could not be fetched): the task must not run without it.
    problem = action_.secrets_error->second;
    ActionTransition t = Make(action_.attempt, Phase::kFailed);
    t.error = ActionError{action_.secrets_error->first, problem,
                          action_.secrets_error_is_user ? ErrorKind::kUser : ErrorKind::kSystem, false};
    t.cluster_event = problem;
    t.final = true;
    Report(std::move(t));
    return;
  }
  container_env_ = task->container_env;
  max_retries_ = task->max_retries;
  timeout_ = task->timeout;
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

  std::string run_base = ToFileUri(p.run_dir);
  TemplateVars vars = AttemptTemplateVars(action_, p, attempt, context_.env.default_org);
  Substituted argv = SubstituteTemplates(command_, vars);

  // Declared secrets last: they override any variable of the same name. Files live in the attempt's directory
  // until the process ends.
  EnvList run_env = action_.envs;
  if (!action_.secrets.empty()) {
    absl::StatusOr<EnvList> secret_env = MaterializeSecrets(action_.secrets, SecretsDir(p));
    if (!secret_env.ok()) {
      ActionTransition t = Make(attempt, Phase::kFailed);
      t.error = ActionError{"SecretMountFailed", std::string(secret_env.status().message()), ErrorKind::kSystem,
                            false};
      t.cluster_event = t.error->message;
      t.final = true;
      Report(std::move(t));
      return;
    }
    run_env.insert(run_env.end(), secret_env->begin(), secret_env->end());
  }
  LaunchSpec spec;
  spec.argv = std::move(argv.args);
  spec.env = BuildTaskEnvironment(context_.env, TaskIdentity{&action_.key, run_base, attempt}, container_env_,
                                  run_env);
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
  if (!action_.secrets.empty()) {
    std::error_code ignored;
    std::filesystem::remove_all(SecretsDir(p), ignored);  // the values do not outlive the process on disk
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
  } else if (std::optional<ActionError> doc_error = ReadErrorDocument(p.error_path)) {
    // The SDK reports task errors by writing error.pb and exiting 0: the exit code alone is not the verdict.
    t = Make(attempt, Phase::kFailed);
    t.error = std::move(doc_error);
    t.cluster_event = absl::StrCat("process ", what, "; error document found at ", ToFileUri(p.error_path));
  } else if (exit.outcome == ProcessExit::Outcome::kExited && exit.exit_code == 0) {
    // Files the task's outputs name by its own local paths (in-task File.from_local) move into the run's data
    // before anyone reads the outputs.
    absl::StatusOr<OutputBlobChanges> localized = LocalizeOutputBlobs(
        p.outputs_path, OutputBlobPolicy{{context_.layout->data_root(), p.run_dir}, p.raw_output_dir, std::nullopt});
    if (localized.ok()) {
      t = Make(attempt, Phase::kSucceeded);
      t.output_uri = ToFileUri(p.output_dir);
      t.cluster_event = absl::StrCat("process ", what);
      if (localized->copied > 0) {
        absl::StrAppend(&t.cluster_event, "; ", localized->copied, " output file(s) copied into raw/");
      }
    } else {
      t = Make(attempt, Phase::kFailed);
      t.error = ActionError{"OutputLocalizationFailed", std::string(localized.status().message()),
                            ErrorKind::kSystem, true};
      t.cluster_event = absl::StrCat("process ", what, "; ", localized.status().message());
    }
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
  t.retry_follows = retry;
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

#include "runtime/local_runtime.h"

#include "absl/strings/str_cat.h"
#include "runtime/python_zygote.h"

namespace flyte::executor {
namespace {

ProcessSupervisor::Options SupervisorOptions(const LocalRuntimeOptions& o) {
  ProcessSupervisor::Options s;
  s.max_concurrent = o.max_concurrent;
  if (o.warm_python) {
    auto pool = std::make_shared<PythonPoolOptions>();
    pool->state_dir = o.data_root + "/.executor/python-pool";
    s.python_pool = std::move(pool);
  }
  return s;
}

}  // namespace

LocalRuntime::LocalRuntime(LocalRuntimeOptions options, TransitionCallback on_transition)
    : options_(std::move(options)),
      on_transition_(std::move(on_transition)),
      layout_(options_.data_root),
      supervisor_(std::make_unique<ProcessSupervisor>(SupervisorOptions(options_))) {}

LocalRuntime::~LocalRuntime() {
  // Stop the supervisor first: after this no callback can reach Deliver.
  supervisor_.reset();
  std::lock_guard<std::mutex> lock(mu_);
  active_.clear();
}

absl::Status LocalRuntime::Submit(ActionToRun action) {
  RunnerContext context;
  context.supervisor = supervisor_.get();
  context.layout = &layout_;
  context.env = options_.env;
  context.clock = options_.clock;
  context.abort_grace = options_.abort_grace;
  context.timeout_grace = options_.timeout_grace;
  ActionKey key = action.key;
  std::shared_ptr<AttemptRunner> runner =
      AttemptRunner::Create(std::move(action), context, [this](const ActionTransition& t) { Deliver(t); });
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto [it, inserted] = active_.emplace(key, runner);
    if (!inserted) return absl::AlreadyExistsError(absl::StrCat("action ", key.ToString(), " is already running"));
  }
  runner->Start();
  return absl::OkStatus();
}

absl::Status LocalRuntime::Abort(const ActionKey& key, std::string reason) {
  std::shared_ptr<AttemptRunner> runner;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = active_.find(key);
    if (it == active_.end()) return absl::NotFoundError(absl::StrCat("action ", key.ToString(), " is not active"));
    runner = it->second;
  }
  runner->Abort(std::move(reason));
  return absl::OkStatus();
}

absl::Status LocalRuntime::Kill(const ActionKey& key, std::string reason) {
  std::shared_ptr<AttemptRunner> runner;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = active_.find(key);
    if (it == active_.end()) return absl::NotFoundError(absl::StrCat("action ", key.ToString(), " is not active"));
    runner = it->second;
  }
  runner->Abort(std::move(reason), std::chrono::milliseconds(0));
  return absl::OkStatus();
}

size_t LocalRuntime::active() const {
  std::lock_guard<std::mutex> lock(mu_);
  return active_.size();
}

void LocalRuntime::Deliver(const ActionTransition& t) {
  if (t.final) {
    // Erase before reporting so that a caller reacting to the final transition may resubmit the same action.
    std::shared_ptr<AttemptRunner> keep;  // the runner is mid-call: release it after the lock
    std::lock_guard<std::mutex> lock(mu_);
    auto it = active_.find(t.key);
    if (it != active_.end()) {
      keep = std::move(it->second);
      active_.erase(it);
    }
  }
  if (on_transition_) on_transition_(t);
}

}  // namespace flyte::executor

// The executor's seams with the task output cache (service/task_cache.h): what goes through it on the way to the
// runtime, and what comes back through it on the way to runs-service.
#include "absl/strings/str_cat.h"
#include "flyte/app/log.h"
#include "service/executor.h"

namespace flyte::executor {

void Executor::SubmitAction(ActionToRun action) {
  if (cache_) {
    std::optional<ActionToRun> uncached = cache_->Admit(std::move(action));
    if (!uncached) return;
    action = std::move(*uncached);
  }
  SubmitToRuntime(std::move(action));
}

void Executor::SubmitToRuntime(ActionToRun action) {
  ResolveSecrets(action);
  const ActionKey key = action.key;
  absl::Status submitted = runtime_->Submit(std::move(action));
  if (submitted.ok()) return;
  std::string lease_id;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = by_action_.find(key);
    if (it == by_action_.end()) return;
    lease_id = it->second;
  }
  FLYTE_LOG(kWarn, "lease {}: cannot submit {}: {}; giving the lease back", lease_id, key.ToString(),
            submitted.ToString());
  (void)leases_.Release(lease_id);
  Forget(lease_id);
}

void Executor::OnTransition(const ActionTransition& t) {
  if (!cache_) return Deliver(t);
  ActionTransition stamped = t;
  if (cache_->Intercept(stamped)) return;  // delivered once its outputs are recorded
  Deliver(stamped);
}

}  // namespace flyte::executor

#include "clients/action_decoding.h"

#include "absl/strings/str_cat.h"

namespace flyte::executor {

absl::StatusOr<ActionToRun> DecodeEnqueuedAction(const flyteidl2::workflow::EnqueueActionRequest& request) {
  const auto& id = request.action_id();
  if (id.run().project().empty() || id.run().domain().empty() || id.run().name().empty() || id.name().empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("enqueued action has an incomplete action_id: ", id.ShortDebugString()));
  }
  ActionToRun a;
  a.key = ActionKey{id.run().org(), id.run().project(), id.run().domain(), id.run().name(), id.name()};
  a.parent_action_name = request.parent_action_name();
  if (request.has_task() && request.task().has_spec()) a.task_spec = request.task().spec().SerializeAsString();
  a.input_uri = request.input_uri();
  a.run_output_base = request.run_output_base();
  for (const auto& kv : request.run_spec().envs().values()) a.envs.emplace_back(kv.key(), kv.value());
  if (request.run_spec().has_run_start_time()) {
    const auto& ts = request.run_spec().run_start_time();
    a.run_start_time = common::TimePoint(std::chrono::seconds(ts.seconds()) +
                                         std::chrono::duration_cast<std::chrono::system_clock::duration>(
                                             std::chrono::nanoseconds(ts.nanos())));
  }
  if (request.has_task() && request.task().has_cache_key()) a.cache_key = request.task().cache_key().value();
  const auto& run_spec = request.run_spec();
  // RunSpec.overwrite_cache is deprecated upstream in favour of cache_config.overwrite_cache; SDKs send both.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  a.overwrite_cache = run_spec.overwrite_cache() || run_spec.cache_config().overwrite_cache();
#pragma GCC diagnostic pop
  a.cache_per_project_domain =
      run_spec.cache_config().cache_lookup_scope() == flyteidl2::task::CACHE_LOOKUP_SCOPE_PROJECT_DOMAIN;
  return a;
}

}  // namespace flyte::executor

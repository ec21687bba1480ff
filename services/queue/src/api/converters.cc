#include "api/converters.h"

#include <chrono>

namespace flyte::queue::api {

namespace pb = flyte::internal::queue::v1;

RunKey ToRunKey(const flyteidl2::common::RunIdentifier& id) {
  return RunKey{id.org(), id.project(), id.domain(), id.name()};
}

ActionKey ToActionKey(const flyteidl2::common::ActionIdentifier& id) {
  return ActionKey{ToRunKey(id.run()), id.name()};
}

NewEntry ToNewEntry(const flyteidl2::workflow::EnqueueActionRequest& req) {
  NewEntry e;
  e.key = ToActionKey(req.action_id());
  if (req.has_parent_action_name()) e.parent = req.parent_action_name();
  switch (req.spec_case()) {
    case flyteidl2::workflow::EnqueueActionRequest::kTask:
      e.spec = SpecKind::kTask;
      break;
    case flyteidl2::workflow::EnqueueActionRequest::kTrace:
      e.spec = SpecKind::kTrace;
      break;
    case flyteidl2::workflow::EnqueueActionRequest::kCondition:
      e.spec = SpecKind::kCondition;
      break;
    default:
      e.spec = SpecKind::kNone;
  }
  e.payload = req.SerializeAsString();
  if (req.has_task() && req.task().has_spec()) {
    e.task_type = req.task().spec().task_template().type();
    e.short_name = req.task().spec().short_name();
  }
  e.input_uri = req.input_uri();
  e.run_output_base = req.run_output_base();
  e.group = req.group();
  return e;
}

absl::StatusOr<pb::Lease> ToLease(const QueueEntry& entry, bool with_action) {
  pb::Lease lease;
  if (with_action && !lease.mutable_action()->ParseFromString(entry.payload)) {
    return absl::InternalError("stored payload of " + entry.key.ToString() + " does not parse");
  }
  lease.set_lease_id(entry.lease_id);
  if (entry.lease_expires_at) {
    lease.set_expires_at_unix_ms(std::chrono::duration_cast<std::chrono::milliseconds>(
                                     entry.lease_expires_at->time_since_epoch())
                                     .count());
  }
  lease.set_enqueued_at_unix_ms(
      std::chrono::duration_cast<std::chrono::milliseconds>(entry.enqueued_at.time_since_epoch()).count());
  lease.set_delivery(entry.delivery_count);
  lease.set_abort_requested(entry.abort_requested);
  lease.set_abort_reason(entry.abort_reason);
  return lease;
}

pb::WatchAbortsResponse ToWatchAbortsResponse(const std::vector<QueueEntry>& aborted) {
  pb::WatchAbortsResponse resp;
  for (const QueueEntry& e : aborted) {
    pb::AbortNotice* n = resp.add_aborts();
    n->set_lease_id(e.lease_id);
    flyteidl2::common::ActionIdentifier* id = n->mutable_action_id();
    id->mutable_run()->set_org(e.key.run.org);
    id->mutable_run()->set_project(e.key.run.project);
    id->mutable_run()->set_domain(e.key.run.domain);
    id->mutable_run()->set_name(e.key.run.name);
    id->set_name(e.key.name);
    n->set_reason(e.abort_reason);
  }
  return resp;
}

}  // namespace flyte::queue::api

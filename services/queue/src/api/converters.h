#pragma once
// proto <-> domain for QueueService and LeaseService. Only api/ sees protobuf messages.
#include <vector>

#include "absl/status/statusor.h"
#include "domain/queue_entry.h"
#include "flyte/internal/queue/v1/lease_service.pb.h"
#include "flyteidl2/common/identifier.pb.h"
#include "flyteidl2/workflow/queue_service.pb.h"

namespace flyte::queue::api {

RunKey ToRunKey(const flyteidl2::common::RunIdentifier& id);
ActionKey ToActionKey(const flyteidl2::common::ActionIdentifier& id);
// The request becomes the entry's payload verbatim (re-serialized; unknown fields are kept). Validation is the
// use case's (ValidateNewEntry), so the entry may be incomplete.
NewEntry ToNewEntry(const flyteidl2::workflow::EnqueueActionRequest& req);
// `with_action`: include the enqueued request (Acquire); heartbeat renewals leave it out to stay small.
// kInternal if the stored payload does not parse (it was written by us, so that is corruption).
absl::StatusOr<flyte::internal::queue::v1::Lease> ToLease(const QueueEntry& entry, bool with_action = true);
// The aborted leases one WatchAborts message carries.
flyte::internal::queue::v1::WatchAbortsResponse ToWatchAbortsResponse(const std::vector<QueueEntry>& aborted);

}  // namespace flyte::queue::api

#pragma once
// Adapters: flyteidl2.workflow.QueueService (EnqueueAction, AbortQueuedRun, AbortQueuedAction),
// flyte.internal.queue.v1.EnqueueBatchService (EnqueueActions, runs-service's batched enqueue) and
// flyte.internal.queue.v1.LeaseService (Acquire, Heartbeat, Complete, CompleteBatch, Release) on an rpc::Router.
// Each handler decodes, calls one use case and returns its status (mapped once by libs/rpc).
#include "flyte/rpc/router.h"
#include "service/queue_use_cases.h"

namespace flyte::queue::api {

inline constexpr char kQueueService[] = "flyteidl2.workflow.QueueService";
inline constexpr char kLeaseService[] = "flyte.internal.queue.v1.LeaseService";
inline constexpr char kEnqueueBatchService[] = "flyte.internal.queue.v1.EnqueueBatchService";

// Registers the three services. `queue` must outlive the router's use.
void RegisterQueueApi(rpc::Router& router, QueueUseCases& queue);

}  // namespace flyte::queue::api

#pragma once
// flyteidl2.dataproxy.DataProxyService.TailLogs (server streaming): the log of one attempt of an action, as
// LogTailUseCases reads it from the configured LogSource, streamed by LogStreams until the attempt is over.
//
// Request: action_id (required), attempt (0 = the latest). primary_pod and all_pods are accepted (an attempt has
// one Pod, whose primary container is read); pod_name and connector_endpoint are refused with INVALID_ARGUMENT /
// UNIMPLEMENTED naming the field. Errors before the first message: NOT_FOUND naming the action or the attempt,
// FAILED_PRECONDITION when the source cannot reach the log, RESOURCE_EXHAUSTED when runs.logs.maxStreams are open.
// Thread-safe.
#include "api/log_streams.h"
#include "flyte/rpc/router.h"
#include "service/log_tail_use_cases.h"

namespace flyte::runs::api {

class TailLogsApi {
 public:
  TailLogsApi(LogTailUseCases& logs, LogStreams& streams) : logs_(logs), streams_(streams) {}
  void Register(rpc::Router& router);

 private:
  LogTailUseCases& logs_;
  LogStreams& streams_;
};

}  // namespace flyte::runs::api

#pragma once
// Ties a use-case watch to a stream's lifetime: the handle is kept until the stream ends (any reason), then
// dropped, which unsubscribes. A failed watch finishes the stream with its status.
#include <memory>

#include "absl/status/statusor.h"
#include "flyte/rpc/router.h"
#include "service/change_dispatcher.h"

namespace flyte::runs::api {

template <class Resp>
void KeepWatchUntilDone(const rpc::ServerStream<Resp>& stream, absl::StatusOr<WatchHandle> handle) {
  if (!handle.ok()) {
    stream.Finish(handle.status());
    return;
  }
  if (*handle == nullptr) return;  // the watch ended (and finished the stream) during its snapshot
  auto holder = std::make_shared<WatchHandle>(std::move(*handle));
  stream.OnDone([holder] { holder->reset(); });
}

}  // namespace flyte::runs::api

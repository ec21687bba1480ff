#pragma once
// What a task Pod's status means for its attempt, told apart as the local runtime tells a process's end apart:
//   Succeeded                               -> SUCCEEDED (the reconciler still checks error.pb)
//   Failed, container exit code N != 0      -> FAILED NonZeroExit, user error, retryable (message: code, reason,
//                                              the log tail the kubelet kept with FallbackToLogsOnError)
//   Failed, OOMKilled / Evicted / other     -> FAILED, system error, retryable
//   Failed, DeadlineExceeded                -> TIMED_OUT (activeDeadlineSeconds), retryable
//   Pending on InvalidImageName/ErrImageNeverPull -> FAILED at once, system error, not retryable
//   Pending on ErrImagePull/ImagePullBackOff/CreateContainer*Error longer than the grace period
//                                           -> FAILED, system error, retryable
//   Running                                 -> RUNNING;  anything else: wait
// Pure function; thread-safe.
#include <chrono>
#include <optional>
#include <string>

#include "kubernetes/task_action_view.h"

namespace flyte::executor::k8s {

struct PodOutcome {
  enum class Kind { kWaiting, kRunning, kSucceeded, kFailed, kTimedOut };
  Kind kind = Kind::kWaiting;
  std::optional<ActionError> error;                     // kFailed, kTimedOut
  std::string event;                                    // what happened, for the cluster event / history
  std::optional<std::chrono::milliseconds> recheck_in;  // look again then (a grace period running out)
};

PodOutcome ClassifyPod(const PodView& pod, TimePoint now, std::chrono::milliseconds image_pull_grace);

}  // namespace flyte::executor::k8s

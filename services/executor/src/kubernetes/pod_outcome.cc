#include "kubernetes/pod_outcome.h"

#include "absl/strings/str_cat.h"

namespace flyte::executor::k8s {
namespace {

PodOutcome Failed(std::string code, std::string message, ErrorKind kind, bool retryable) {
  PodOutcome o;
  o.kind = PodOutcome::Kind::kFailed;
  o.event = message;
  o.error = ActionError{std::move(code), std::move(message), kind, retryable};
  return o;
}

bool IsImageOrCreateProblem(const std::string& reason) {
  return reason == "ErrImagePull" || reason == "ImagePullBackOff" || reason == "CreateContainerConfigError" ||
         reason == "CreateContainerError" || reason == "RunContainerError";
}

}  // namespace

PodOutcome ClassifyPod(const PodView& pod, TimePoint now, std::chrono::milliseconds image_pull_grace) {
  const std::string container = pod.primary.empty() ? "task" : pod.primary;
  if (pod.phase == "Succeeded") {
    PodOutcome o;
    o.kind = PodOutcome::Kind::kSucceeded;
    o.event = absl::StrCat("pod ", pod.name, " succeeded (container ", container, " exited with code 0)");
    return o;
  }
  if (pod.phase == "Failed") {
    if (pod.reason == "DeadlineExceeded") {
      PodOutcome o;
      o.kind = PodOutcome::Kind::kTimedOut;
      o.event = absl::StrCat("pod ", pod.name, " exceeded its active deadline: ", pod.message);
      o.error = ActionError{"Timeout", o.event, ErrorKind::kUser, true};
      return o;
    }
    if (pod.reason == "Evicted") {
      return Failed("Evicted", absl::StrCat("pod ", pod.name, " was evicted: ", pod.message), ErrorKind::kSystem, true);
    }
    if (pod.terminated_reason == "OOMKilled") {
      return Failed("OOMKilled",
                    absl::StrCat("container ", container, " of pod ", pod.name, " was killed: out of memory (exit code ",
                                 pod.exit_code.value_or(137), ")"),
                    ErrorKind::kSystem, true);
    }
    if (pod.exit_code && *pod.exit_code != 0) {
      std::string msg = absl::StrCat("container ", container, " of pod ", pod.name, " exited with code ",
                                     *pod.exit_code, pod.terminated_reason.empty() ? "" : " (", pod.terminated_reason,
                                     pod.terminated_reason.empty() ? "" : ")");
      if (!pod.terminated_message.empty()) absl::StrAppend(&msg, "; log tail:\n", pod.terminated_message);
      return Failed("NonZeroExit", msg, ErrorKind::kUser, true);
    }
    return Failed("PodFailed",
                  absl::StrCat("pod ", pod.name, " failed", pod.reason.empty() ? "" : " (", pod.reason,
                               pod.reason.empty() ? "" : ")", pod.message.empty() ? "" : ": ", pod.message),
                  ErrorKind::kSystem, true);
  }
  if (pod.phase == "Running") {
    PodOutcome o;
    o.kind = PodOutcome::Kind::kRunning;
    o.event = absl::StrCat("pod ", pod.name, " running");
    return o;
  }
  // Pending (or not yet written): the only trouble worth acting on is an image or container that will not start.
  const std::string& why = pod.waiting_reason;
  if (why == "InvalidImageName" || why == "ErrImageNeverPull") {
    return Failed(why, absl::StrCat("pod ", pod.name, ": ", why, ": ", pod.waiting_message), ErrorKind::kSystem,
                  false);
  }
  if (IsImageOrCreateProblem(why)) {
    auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(now - pod.created);
    if (waited >= image_pull_grace) {
      return Failed(why,
                    absl::StrCat("pod ", pod.name, " could not start its container for ", waited.count() / 1000, "s: ",
                                 why, ": ", pod.waiting_message),
                    ErrorKind::kSystem, true);
    }
    PodOutcome o;
    o.recheck_in = image_pull_grace - waited;
    o.event = absl::StrCat("pod ", pod.name, " waiting: ", why);
    return o;
  }
  return PodOutcome{};
}

}  // namespace flyte::executor::k8s

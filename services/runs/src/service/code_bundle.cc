#include "service/code_bundle.h"

namespace flyte::runs {

absl::Status CheckCodeBundle(const LocalBlobStore& blobs, const std::string& uri) {
  if (uri.empty() || !blobs.is_local() || !blobs.Contains(uri)) return absl::OkStatus();
  absl::StatusOr<bool> exists = blobs.Exists(uri);
  if (!exists.ok()) return absl::InternalError("cannot check the code bundle " + uri);
  if (*exists) return absl::OkStatus();
  return absl::FailedPreconditionError(
      "the task's code bundle " + uri +
      " does not exist on the server. The flyte SDK remembers the code bundles it uploaded for 24 h (per "
      "endpoint, project and domain) and skipped the upload, but this server's data no longer holds that bundle "
      "(was its data directory reset?). Run again with flyte.with_runcontext(disable_run_cache=True) to upload "
      "it anew, or delete the SDK's cache local-cache/cache.db (in ~/.flyte, or next to the flyte config file "
      "in use)");
}

}  // namespace flyte::runs

#pragma once
// The code bundle a task runs from is named in its spec (the SDK puts `--tgz <uri>` or `--pkl <uri>` into the
// container args). The SDK remembers bundles it uploaded (24 h per endpoint/project/domain) and skips the upload on
// a hit, so after the server's data tree is wiped it keeps naming a bundle that is gone and every run would fail
// deep inside the task. CreateRun and DeployTask check the bundle first.
#include <string>

#include "absl/status/status.h"
#include "service/storage_local.h"

namespace flyte::runs {

// OK when `uri` is empty, not a file:// uri (or bare path) inside `blobs`' local root (others cannot be checked
// here), or names a file that is there. kFailedPrecondition when a bundle inside the root is missing, saying why
// and how to fix it on the client; kInternal if the file system cannot be asked. Thread-safe.
absl::Status CheckCodeBundle(const LocalBlobStore& blobs, const std::string& uri);

}  // namespace flyte::runs

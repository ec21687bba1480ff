#pragma once
// The run-data tree under runs.storagePrefix as runs-service itself reads and writes it (offloaded inputs, code
// bundles uploaded through signed URLs, action outputs it hands back). Only file:// prefixes are local; for any
// other scheme every method answers kUnimplemented, so the service still starts (e.g. when an executor elsewhere
// owns an object store) but cannot proxy data.
//
// Paths are confined to the root: a uri or relative path that would leave it (`..`, another absolute path) is
// kInvalidArgument. Writes are atomic (temp file + rename in the same directory), so a reader never sees half a
// blob. Thread-safe (no mutable state).
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace flyte::runs {

class LocalBlobStore {
 public:
  // `prefix` e.g. "file:///var/lib/flyte/data" (a trailing slash is ignored).
  explicit LocalBlobStore(std::string prefix);

  bool is_local() const { return local_; }
  const std::string& prefix() const { return prefix_; }  // without trailing slash

  // prefix + "/" + `relative`; kInvalidArgument if `relative` is empty, absolute or has "." / ".." / empty
  // segments.
  absl::StatusOr<std::string> UriFor(std::string_view relative) const;
  // Whether `uri` (file:// or a bare absolute path) lies inside the root.
  bool Contains(std::string_view uri) const;

  // kNotFound if absent.
  absl::StatusOr<std::string> Read(std::string_view uri) const;
  // Creates parent directories. kInternal on I/O errors.
  absl::Status Write(std::string_view uri, std::string_view bytes) const;
  absl::StatusOr<bool> Exists(std::string_view uri) const;

 private:
  absl::StatusOr<std::string> LocalPath(std::string_view uri) const;

  std::string prefix_;
  std::string root_path_;  // local directory of the root, no trailing slash
  bool local_ = false;
};

// Digests and encodings the data proxy needs (no crypto library is linked; these are the plain algorithms).
std::string Md5(std::string_view data);                  // 16 raw bytes (RFC 1321)
uint64_t Fnv1a64(std::string_view data);
std::string Base64Encode(std::string_view bytes, bool url_safe = false, bool pad = true);
absl::StatusOr<std::string> Base64Decode(std::string_view text);  // standard or url-safe, padding optional
std::string Base32Encode(std::string_view bytes);        // RFC 4648 alphabet, no padding

}  // namespace flyte::runs

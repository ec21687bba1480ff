#pragma once
// Use cases of flyteidl2.dataproxy.DataProxyService for a local (file://) run-data tree, on plain types (no gRPC):
// offloaded run inputs, signed upload/download URLs served by runs-service itself, and an action's data.
//
// Signed URLs point at this service: <public base>/dataproxy/upload/<token> (HTTP PUT) and
// <public base>/dataproxy/download/<token>/<file name> (HTTP GET). A token carries its claims (one uri, an expiry
// and, for uploads, the expected MD5) and an HMAC over them under options.signing_key (signed_url.h): any replica
// with the same key accepts it, also after a restart, and nothing is kept per URL.
//
// Thread-safe. Errors: kInvalidArgument (bad input, names the field), kNotFound (unknown action / token / blob,
// or, with options.projects, an unknown project or domain on UploadInputs),
// kPermissionDenied (expired URL), kAlreadyExists (an upload location already holds different content),
// kFailedPrecondition (body does not match the announced MD5), kUnimplemented (non-local storage prefix),
// kUnavailable/kInternal (database, disk).
#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "domain/action.h"
#include "flyte/common/clock.h"
#include "repository/action_repository.h"
#include "service/project_use_cases.h"
#include "service/signed_url.h"
#include "service/storage_local.h"

namespace flyte::runs {

struct DataProxyOptions {
  // "http://localhost:8090": where clients reach this service's HTTP routes (no trailing slash). Called per URL,
  // so it may depend on the port bound at start.
  std::function<std::string()> public_base_url = [] { return std::string("http://localhost:8090"); };
  std::chrono::seconds default_expiry{3600};
  std::chrono::seconds max_expiry{7 * 24 * 3600};
  // HMAC key of signed URLs (raw bytes), the same on every replica; required (setup takes runs.signingKey or the
  // one kept in the database).
  std::string signing_key;
  // When set, UploadInputs in an unknown project or domain is kNotFound naming it. Borrowed.
  ProjectUseCases* projects = nullptr;
};

struct OffloadedInputs {
  std::string uri;          // file:// uri of the inputs.pb written
  std::string inputs_hash;  // base64url (no padding) of the big-endian FNV-1a 64 of the serialized inputs
};

struct UploadLocationParams {
  std::string org, project, domain;
  std::string filename;       // required, one path segment or a relative path
  std::string filename_root;  // "" = derived from content_md5 (base32), so equal content lands at one place
  std::string content_md5;    // 16 raw bytes; required when filename_root is empty
  std::optional<std::chrono::seconds> expires_in;
};

struct UploadLocation {
  std::string signed_url;
  std::string native_url;
  TimePoint expires_at{};
  std::map<std::string, std::string> headers;  // to send with the PUT
};

struct SignedLink {
  std::string url;
  TimePoint expires_at{};
};

struct ActionDataView {
  std::string inputs_uri, outputs_uri;  // "" when unknown
  std::string inputs, outputs;          // serialized flyteidl2.task.Inputs / Outputs; "" when not (yet) readable
};

// What a finished download request gets.
struct DownloadedBlob {
  std::string name;   // file name (last path segment)
  std::string bytes;
};

class DataProxyUseCases {
 public:
  // options.signing_key must not be empty: that is a wiring error and aborts here.
  DataProxyUseCases(Store& store, const LocalBlobStore& blobs, common::Clock& clock, DataProxyOptions options);

  // Writes serialized `inputs` to <base>/<project>/<domain>/.inputs/<hash>/inputs.pb (content-addressed, so a
  // retried upload or a second run with equal inputs reuses the file). `base_dir` "" = the storage prefix, else a
  // file:// uri inside it.
  absl::StatusOr<OffloadedInputs> UploadInputs(const std::string& org, const std::string& project,
                                               const std::string& domain, const std::string& serialized_inputs,
                                               const std::string& base_dir);

  // Location <prefix>/<project>/<domain>/<root>/<filename>. If a blob with the same MD5 is already there the
  // location is returned again (the PUT just rewrites the same bytes); different content is kAlreadyExists.
  absl::StatusOr<UploadLocation> CreateUploadLocation(const UploadLocationParams& params);
  // The PUT behind a signed upload URL. `content_md5_b64` is the Content-MD5 header ("" = not sent).
  absl::Status AcceptUpload(const std::string& token, const std::string& content_md5_b64, const std::string& body);

  // A GET URL for a blob inside the data root (kNotFound if it does not exist).
  absl::StatusOr<SignedLink> CreateDownloadLink(const std::string& uri, std::optional<std::chrono::seconds> expires_in);
  absl::StatusOr<DownloadedBlob> Download(const std::string& token);

  // Inputs and outputs of an action as stored (outputs only once an attempt reported its output uri).
  absl::StatusOr<ActionDataView> GetActionData(const ActionKey& key);
  // The action with its attempts (to resolve what a download link points at). kNotFound if absent.
  absl::StatusOr<ActionWithAttempts> GetAction(const ActionKey& key);

 private:
  absl::StatusOr<std::chrono::seconds> Expiry(std::optional<std::chrono::seconds> requested) const;
  // The token of a URL granting `claims` until now + ttl (sets claims.expires_unix).
  std::string Issue(UrlClaims claims, std::chrono::seconds ttl, TimePoint* expires_at) const;
  // kNotFound (not ours, or for the other verb), kPermissionDenied "Request has expired".
  absl::StatusOr<UrlClaims> Redeem(const std::string& token, bool upload) const;

  Store& store_;
  const LocalBlobStore& blobs_;
  common::Clock& clock_;
  DataProxyOptions options_;
};

}  // namespace flyte::runs

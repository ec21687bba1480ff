#pragma once
// A small Kubernetes API client: create / get / list / update / patch / delete on any resource, status updates
// through the /status subresource, and watches read as a long-lived chunked response, one JSON event per line.
// HTTPS with the cluster's CA, client-certificate or bearer-token authentication (a token file is re-read when it
// changes, so rotated service-account tokens keep working). Built on cpprestsdk's http_client (asio + OpenSSL);
// JSON is nlohmann::json.
//
// Errors map the API server's answer onto absl codes, the message carrying the verb, the path and the server's
// own message (which names the bad field on a validation error):
//   404 -> kNotFound             409 AlreadyExists -> kAlreadyExists     409 Conflict -> kAborted (stale
//   resourceVersion: re-read and retry)    410 Gone -> kOutOfRange (watch/list resourceVersion too old: re-list)
//   400/422 -> kInvalidArgument  401 -> kUnauthenticated  403 -> kPermissionDenied  429 -> kResourceExhausted
//   5xx, connection and TLS failures -> kUnavailable   a request that took too long -> kDeadlineExceeded
//
// Thread-safe: one Client serves any number of threads; a Watch blocks its calling thread.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "flyte/kube/cluster_config.h"

namespace flyte::metrics {
class Registry;
}

namespace flyte::kube {

using Json = nlohmann::json;

// A resource type: {"", "v1", "pods"} or {"flyte.org", "v1", "taskactions"}. Calls take a namespace; "" addresses
// a cluster-scoped type (CustomResourceDefinitions, Nodes) or all namespaces.
struct Resource {
  std::string group;    // "" for the core API
  std::string version;
  std::string plural;
  // "/api/v1/namespaces/<ns>/pods[/<name>[/<sub>]]" or "/apis/<group>/<version>/namespaces/<ns>/<plural>[...]".
  std::string Path(const std::string& ns, const std::string& name = "", const std::string& subresource = "") const;
};

inline const Resource kPods{"", "v1", "pods"};
inline const Resource kLeases{"coordination.k8s.io", "v1", "leases"};
inline const Resource kEvents{"", "v1", "events"};
inline const Resource kConfigMaps{"", "v1", "configmaps"};
inline const Resource kSecrets{"", "v1", "secrets"};
inline const Resource kCustomResourceDefinitions{"apiextensions.k8s.io", "v1", "customresourcedefinitions"};

struct ListOptions {
  std::string label_selector;
  std::string field_selector;
  int64_t limit = 0;             // 0: no paging
  std::string continue_token;
  std::string resource_version;  // "" = most recent (quorum read); "0" = any (from the watch cache)
};

struct ListResult {
  std::vector<Json> items;
  std::string resource_version;  // of the list: watch from here
  std::string continue_token;    // "" on the last page
};

struct WatchOptions {
  std::string resource_version;  // events after this version
  std::string label_selector;
  std::string field_selector;
  bool allow_bookmarks = true;
  int timeout_seconds = 300;     // the server ends the watch after this (with jitter); the caller re-watches
};

enum class WatchEventType { kAdded, kModified, kDeleted, kBookmark };

struct WatchEvent {
  WatchEventType type;
  Json object;  // the object (for a bookmark, only metadata.resourceVersion matters)
};

enum class PatchType {
  kMerge,           // application/merge-patch+json
  kJson,            // application/json-patch+json
  kStrategicMerge,  // application/strategic-merge-patch+json (built-in types only)
};

struct DeleteOptions {
  std::string propagation_policy;  // "", "Background", "Foreground", "Orphan"
  std::string precondition_uid;    // delete only this incarnation
  std::optional<int64_t> grace_period_seconds;
};

// Cancels a Watch (or Stream) running on another thread. Thread-safe; cancelling is final.
class StopToken {
 public:
  StopToken();
  ~StopToken();
  void Stop();
  bool stopped() const;
  struct Impl;
  Impl& impl() { return *impl_; }

 private:
  std::unique_ptr<Impl> impl_;
};

struct ClientOptions {
  std::chrono::seconds request_timeout{30};  // inactivity limit of one request (watches add their timeout)
  std::string user_agent = "flyte-cpp";
  metrics::Registry* metrics = nullptr;      // flyte_kube_requests_total{verb,resource,code} when set
};

// Requests sent, by verb, for benchmarks ("API writes per action"): create, update, patch, delete are writes.
struct RequestCounts {
  int64_t get = 0, list = 0, watch = 0, create = 0, update = 0, patch = 0, del = 0;
  int64_t writes() const { return create + update + patch + del; }
};

class Client {
 public:
  // kInvalidArgument for an unusable config (bad PEM, bad URL).
  static absl::StatusOr<std::unique_ptr<Client>> Create(ClusterConfig config, ClientOptions options = {});
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // POST. `dry_run` asks the server to validate and admit without storing (dryRun=All).
  absl::StatusOr<Json> Create(const Resource& r, const std::string& ns, const Json& object, bool dry_run = false);
  absl::StatusOr<Json> Get(const Resource& r, const std::string& ns, const std::string& name);
  absl::StatusOr<ListResult> List(const Resource& r, const std::string& ns, const ListOptions& options = {});
  // PUT of the whole object; metadata.resourceVersion must be the one read (kAborted on a stale one).
  absl::StatusOr<Json> Update(const Resource& r, const std::string& ns, const Json& object);
  // PUT to /status: only status changes (plus the resourceVersion check).
  absl::StatusOr<Json> UpdateStatus(const Resource& r, const std::string& ns, const Json& object);
  // PATCH `name` (or its `subresource`, e.g. "status"). A merge patch carrying metadata.resourceVersion is
  // checked against it like an update.
  absl::StatusOr<Json> Patch(const Resource& r, const std::string& ns, const std::string& name, const Json& patch,
                             PatchType type, const std::string& subresource = "");
  // kNotFound if it is already gone.
  absl::Status Delete(const Resource& r, const std::string& ns, const std::string& name,
                      const DeleteOptions& options = {});
  // DELETE of every object matching `label_selector` (deletecollection).
  absl::Status DeleteCollection(const Resource& r, const std::string& ns, const std::string& label_selector,
                                const DeleteOptions& options = {});

  // Streams events to `on_event` (on this thread, in order) until the server ends the watch (OK: watch again from
  // the last resourceVersion seen), `stop` is stopped (kCancelled), or an error: kOutOfRange when the
  // resourceVersion is too old (410, also when it arrives as an ERROR event): list again.
  absl::Status Watch(const Resource& r, const std::string& ns, const WatchOptions& options,
                     const std::function<void(WatchEvent)>& on_event, StopToken* stop = nullptr);

  // GET of `path_and_query` streamed as it arrives, `on_data` once per line as soon as it is complete (with its
  // '\n'; a last line the server leaves unterminated comes without one); ends when the server ends the response
  // (OK), `on_data` returns false (OK), or `stop` is stopped (kCancelled). For pods/log?follow=true.
  absl::Status Stream(const std::string& path_and_query, const std::function<bool(const std::string&)>& on_data,
                      StopToken* stop = nullptr);

  // GET of a non-resource path ("/version", "/readyz"); the body as text.
  absl::StatusOr<std::string> GetRaw(const std::string& path);

  RequestCounts counts() const;
  const ClusterConfig& config() const;

  struct Impl;

 private:
  explicit Client(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// RFC 3339 with microseconds in UTC ("2026-12-06T05:28:07.123456Z"): the API's MicroTime; also accepted where a
// Time is expected. ParseTime reads both forms (fractions optional); kInvalidArgument otherwise.
std::string FormatMicroTime(std::chrono::system_clock::time_point t);
std::string FormatTime(std::chrono::system_clock::time_point t);  // whole seconds: "2026-12-06T05:28:07Z"
absl::StatusOr<std::chrono::system_clock::time_point> ParseTime(const std::string& text);

}  // namespace flyte::kube

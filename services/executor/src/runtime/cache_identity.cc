#include "runtime/cache_identity.h"

#include <fstream>
#include <sstream>

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "flyte/common/digest.h"
#include "flyteidl2/task/common.pb.h"
#include "runtime/attempt_layout.h"

namespace flyte::executor {
namespace {

std::string Deterministic(const google::protobuf::MessageLite& m) {
  std::string out;
  google::protobuf::io::StringOutputStream stream(&out);
  google::protobuf::io::CodedOutputStream coded(&stream);
  coded.SetSerializationDeterministic(true);
  m.SerializeToCodedStream(&coded);
  coded.Trim();
  return out;
}

// The inputs without the ignored ones, serialized deterministically; "" for an action without inputs.
absl::StatusOr<std::string> InputsDigestSource(const ActionToRun& action, const flyteidl2::core::TaskMetadata& md) {
  const std::string path = InputsPath(action);
  if (path.empty()) return std::string();
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::InvalidArgumentError(absl::StrCat("cache key: cannot read the inputs at ", path));
  std::ostringstream buf;
  buf << in.rdbuf();
  flyteidl2::task::Inputs inputs;
  if (!inputs.ParseFromString(buf.str())) {
    return absl::InvalidArgumentError(absl::StrCat("cache key: ", path, " is not a flyteidl2.task.Inputs"));
  }
  flyteidl2::task::Inputs kept;
  for (const auto& named : inputs.literals()) {
    bool ignored = false;
    for (const std::string& name : md.cache_ignore_input_vars()) ignored = ignored || name == named.name();
    if (!ignored) *kept.add_literals() = named;
  }
  return Deterministic(kept);
}

}  // namespace

std::string InputsPath(const ActionToRun& action) {
  if (action.input_uri.empty()) return "";
  std::string uri = action.input_uri;
  if (!absl::EndsWith(uri, ".pb")) {
    while (absl::EndsWith(uri, "/")) uri.pop_back();
    uri += "/inputs.pb";
  }
  absl::StatusOr<std::string> local = LocalPathFromUri(uri);
  return local.ok() ? *local : "";
}

absl::StatusOr<std::optional<CacheIdentity>> ResolveCacheIdentity(const ActionToRun& action,
                                                                  const flyteidl2::core::TaskTemplate& tmpl,
                                                                  const std::string& default_org) {
  const flyteidl2::core::TaskMetadata& md = tmpl.metadata();
  if (!md.discoverable()) return std::optional<CacheIdentity>();
  CacheIdentity id;
  id.scope_org = action.key.org.empty() ? default_org : action.key.org;
  if (action.cache_per_project_domain) {
    id.scope_project = action.key.project;
    id.scope_domain = action.key.domain;
  }
  id.version = md.discovery_version();
  id.serialize = md.cache_serializable();
  id.overwrite = action.overwrite_cache;
  if (!action.cache_key.empty()) {
    id.key = action.cache_key;
    return std::optional<CacheIdentity>(std::move(id));
  }
  absl::StatusOr<std::string> inputs = InputsDigestSource(action, md);
  if (!inputs.ok()) return inputs.status();
  // Length-prefixed parts: no two different tuples hash the same text.
  std::string text = "flyte-cpp task cache v1";
  for (const std::string& part : {tmpl.id().name(), md.discovery_version(), Deterministic(tmpl.interface()), *inputs}) {
    absl::StrAppend(&text, "\n", part.size(), ":", part);
  }
  id.key = common::HexEncode(common::Sha256(text));
  return std::optional<CacheIdentity>(std::move(id));
}

}  // namespace flyte::executor

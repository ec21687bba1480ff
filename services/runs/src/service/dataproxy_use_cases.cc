#include "service/dataproxy_use_cases.h"

#include <cstdio>
#include <cstdlib>

#include "absl/strings/match.h"
#include "service/run_use_cases.h"

namespace flyte::runs {
namespace {

bool ValidSegment(const std::string& s) {
  return !s.empty() && s != "." && s != ".." && s.find('/') == std::string::npos;
}

std::string LastSegment(const std::string& uri) {
  size_t slash = uri.rfind('/');
  return slash == std::string::npos ? uri : uri.substr(slash + 1);
}

// A directory uri (the executor reports attempt output prefixes) or a file uri ending in .pb.
std::string BlobUri(std::string uri, const char* file) {
  if (uri.empty()) return uri;
  if (uri.size() >= 3 && uri.compare(uri.size() - 3, 3, ".pb") == 0) return uri;
  if (uri.back() != '/') uri.push_back('/');
  return uri + file;
}

}  // namespace

DataProxyUseCases::DataProxyUseCases(Store& store, const LocalBlobStore& blobs, common::Clock& clock,
                                     DataProxyOptions options)
    : store_(store), blobs_(blobs), clock_(clock), options_(std::move(options)) {
  if (options_.signing_key.empty()) {
    std::fprintf(stderr, "DataProxyUseCases: empty signing key (a wiring error)\n");
    std::abort();
  }
}

absl::StatusOr<OffloadedInputs> DataProxyUseCases::UploadInputs(const std::string& org, const std::string& project,
                                                                const std::string& domain,
                                                                const std::string& serialized_inputs,
                                                                const std::string& base_dir) {
  (void)org;  // the tree is <project>/<domain>, as for runs
  if (!ValidSegment(project)) return absl::InvalidArgumentError("project is required (one path segment)");
  if (!ValidSegment(domain)) return absl::InvalidArgumentError("domain is required (one path segment)");
  if (options_.projects != nullptr) {
    if (absl::Status s = options_.projects->CheckScope(project, domain); !s.ok()) return s;
  }
  if (!blobs_.is_local()) return absl::UnimplementedError("inputs can only be offloaded to a file:// storage prefix");

  uint64_t h = Fnv1a64(serialized_inputs);
  std::string be(8, '\0');
  for (int i = 0; i < 8; ++i) be[i] = static_cast<char>((h >> (8 * (7 - i))) & 0xff);
  OffloadedInputs out;
  out.inputs_hash = Base64Encode(be, /*url_safe=*/true, /*pad=*/false);

  const std::string relative = project + "/" + domain + "/.inputs/" + out.inputs_hash + "/inputs.pb";
  if (base_dir.empty()) {
    absl::StatusOr<std::string> uri = blobs_.UriFor(relative);
    if (!uri.ok()) return uri.status();
    out.uri = *uri;
  } else {
    std::string base = base_dir;
    while (!base.empty() && base.back() == '/') base.pop_back();
    if (!blobs_.Contains(base)) {
      return absl::InvalidArgumentError("base_dir " + base_dir + " is not inside the storage prefix " + blobs_.prefix());
    }
    out.uri = base + "/" + relative;
  }
  absl::StatusOr<std::string> existing = blobs_.Read(out.uri);
  if (existing.ok() && *existing == serialized_inputs) return out;
  if (absl::Status s = blobs_.Write(out.uri, serialized_inputs); !s.ok()) return s;
  return out;
}

absl::StatusOr<std::chrono::seconds> DataProxyUseCases::Expiry(std::optional<std::chrono::seconds> requested) const {
  if (!requested || requested->count() == 0) return options_.default_expiry;
  if (requested->count() < 0) return absl::InvalidArgumentError("expires_in must not be negative");
  if (*requested > options_.max_expiry) {
    return absl::InvalidArgumentError("expires_in must be at most " + std::to_string(options_.max_expiry.count()) + "s");
  }
  return *requested;
}

std::string DataProxyUseCases::Issue(UrlClaims claims, std::chrono::seconds ttl, TimePoint* expires_at) const {
  // Whole seconds (what the token carries), so the expiry reported equals the one enforced.
  const int64_t expires = common::ToUnixMicros(clock_.Now() + ttl) / 1'000'000;
  claims.expires_unix = expires;
  *expires_at = common::FromUnixMicros(expires * 1'000'000);
  return SignUrlClaims(claims, options_.signing_key);
}

absl::StatusOr<UrlClaims> DataProxyUseCases::Redeem(const std::string& token, bool upload) const {
  absl::StatusOr<UrlClaims> claims = VerifyUrlToken(token, options_.signing_key);
  if (!claims.ok()) return claims.status();
  if (claims->upload != upload) return absl::NotFoundError("unknown or expired URL");
  if (common::ToUnixMicros(clock_.Now()) / 1'000'000 >= claims->expires_unix) {
    return absl::PermissionDeniedError("Request has expired");
  }
  return claims;
}

absl::StatusOr<UploadLocation> DataProxyUseCases::CreateUploadLocation(const UploadLocationParams& p) {
  if (!ValidSegment(p.project)) return absl::InvalidArgumentError("project is required");
  if (!ValidSegment(p.domain)) return absl::InvalidArgumentError("domain is required");
  if (p.filename.empty()) return absl::InvalidArgumentError("filename is required");
  if (!p.content_md5.empty() && p.content_md5.size() != 16) {
    return absl::InvalidArgumentError("content_md5 must be the 16 bytes of an MD5 digest");
  }
  std::string root = p.filename_root;
  if (root.empty()) {
    if (p.content_md5.empty()) return absl::InvalidArgumentError("content_md5 is required when filename_root is empty");
    root = Base32Encode(p.content_md5);
  }
  if (!blobs_.is_local()) return absl::UnimplementedError("uploads need a file:// storage prefix");
  absl::StatusOr<std::chrono::seconds> ttl = Expiry(p.expires_in);
  if (!ttl.ok()) return ttl.status();
  absl::StatusOr<std::string> native = blobs_.UriFor(p.project + "/" + p.domain + "/" + root + "/" + p.filename);
  if (!native.ok()) return absl::InvalidArgumentError("filename_root/filename: " + std::string(native.status().message()));

  absl::StatusOr<std::string> existing = blobs_.Read(*native);
  if (existing.ok() && (p.content_md5.empty() || Md5(*existing) != p.content_md5)) {
    return absl::AlreadyExistsError("a different file already exists at " + *native);
  }
  if (!existing.ok() && existing.status().code() != absl::StatusCode::kNotFound) return existing.status();

  UrlClaims claims;
  claims.upload = true;
  claims.uri = *native;
  claims.md5 = p.content_md5;
  UploadLocation loc;
  // The SDK puts native_url into File/Dir literals as is, and in a task File.open and File.download only read a
  // local file named by a bare path (a file:// uri reaches open() unchanged and fails with FileNotFoundError), so
  // a local store answers with the absolute path on the shared data volume. The blob store and the code-bundle
  // check take either form.
  loc.native_url = absl::StartsWith(*native, "file://") ? native->substr(7) : *native;
  if (!p.content_md5.empty()) loc.headers["Content-MD5"] = Base64Encode(p.content_md5);
  loc.signed_url = options_.public_base_url() + "/dataproxy/upload/" + Issue(std::move(claims), *ttl, &loc.expires_at);
  return loc;
}

absl::Status DataProxyUseCases::AcceptUpload(const std::string& token, const std::string& content_md5_b64,
                                             const std::string& body) {
  absl::StatusOr<UrlClaims> grant = Redeem(token, /*upload=*/true);
  if (!grant.ok()) return grant.status();
  const std::string digest = Md5(body);
  if (!content_md5_b64.empty()) {
    absl::StatusOr<std::string> announced = Base64Decode(content_md5_b64);
    if (!announced.ok() || *announced != digest) {
      return absl::FailedPreconditionError("BadDigest: the Content-MD5 you specified did not match what was received");
    }
  }
  if (!grant->md5.empty() && grant->md5 != digest) {
    return absl::FailedPreconditionError("BadDigest: the content does not match the MD5 the URL was issued for");
  }
  return blobs_.Write(grant->uri, body);
}

absl::StatusOr<SignedLink> DataProxyUseCases::CreateDownloadLink(const std::string& uri,
                                                                 std::optional<std::chrono::seconds> expires_in) {
  absl::StatusOr<std::chrono::seconds> ttl = Expiry(expires_in);
  if (!ttl.ok()) return ttl.status();
  absl::StatusOr<bool> exists = blobs_.Exists(uri);
  if (!exists.ok()) return exists.status();
  if (!*exists) return absl::NotFoundError(uri + " does not exist");
  UrlClaims claims;
  claims.uri = uri;
  SignedLink link;
  link.url = options_.public_base_url() + "/dataproxy/download/" + Issue(std::move(claims), *ttl, &link.expires_at) +
             "/" + LastSegment(uri);
  return link;
}

absl::StatusOr<DownloadedBlob> DataProxyUseCases::Download(const std::string& token) {
  absl::StatusOr<UrlClaims> grant = Redeem(token, /*upload=*/false);
  if (!grant.ok()) return grant.status();
  absl::StatusOr<std::string> bytes = blobs_.Read(grant->uri);
  if (!bytes.ok()) return bytes.status();
  return DownloadedBlob{LastSegment(grant->uri), std::move(*bytes)};
}

absl::StatusOr<ActionWithAttempts> DataProxyUseCases::GetAction(const ActionKey& key) {
  absl::StatusOr<ActionWithAttempts> a = store_.Actions().GetWithAttempts(key);
  if (a.status().code() == absl::StatusCode::kNotFound) {
    return absl::NotFoundError("action " + key.run.name + "/" + key.name + " not found");
  }
  return a;
}

absl::StatusOr<ActionDataView> DataProxyUseCases::GetActionData(const ActionKey& key) {
  absl::StatusOr<Action> a = store_.Actions().Get(key);
  if (a.status().code() == absl::StatusCode::kNotFound) {
    return absl::NotFoundError("action " + key.run.name + "/" + key.name + " not found");
  }
  if (!a.ok()) return a.status();
  ActionDataView view;
  view.inputs_uri = BlobUri(a->input_uri, "inputs.pb");
  view.outputs_uri = BlobUri(a->output_uri, "outputs.pb");
  // Not stored here (another scheme) or not written yet: empty, the way the SDK treats "no data".
  if (!view.inputs_uri.empty()) {
    absl::StatusOr<std::string> in = ReadLocalBlob(view.inputs_uri);
    if (in.ok()) view.inputs = std::move(*in);
  }
  if (!view.outputs_uri.empty()) {
    absl::StatusOr<std::string> out = ReadLocalBlob(view.outputs_uri);
    if (out.ok()) view.outputs = std::move(*out);
  }
  return view;
}

}  // namespace flyte::runs

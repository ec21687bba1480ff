#include "runtime/output_localizer.h"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "flyteidl2/task/common.pb.h"

namespace flyte::executor {
namespace {

namespace fs = std::filesystem;

struct Localizer {
  std::vector<fs::path> shared_roots;  // canonical
  fs::path target_root;  // <raw_output_dir>/localized
  int copied = 0;
  absl::Status error;

  // The local path a blob uri names when it should be copied, else empty.
  std::string Source(const std::string& uri) const {
    std::string path = uri;
    if (absl::StartsWith(path, "file://")) path = path.substr(7);
    if (path.empty() || path.front() != '/') return "";  // another scheme: an object store, not ours to move
    std::error_code ec;
    fs::path canonical = fs::weakly_canonical(path, ec);
    if (ec) return "";
    for (const fs::path& root : shared_roots) {
      auto [root_end, _] = std::mismatch(root.begin(), root.end(), canonical.begin(), canonical.end());
      if (root_end == root.end()) return "";  // already where every task reads
    }
    if (!fs::exists(canonical, ec)) return "";
    return canonical.string();
  }

  void Blob(std::string* uri) {
    if (!error.ok()) return;
    const std::string source = Source(*uri);
    if (source.empty()) return;
    const fs::path from(source);
    std::string name = from.filename().string();
    if (name.empty()) name = "data";
    const fs::path to = target_root / std::to_string(copied) / name;
    std::error_code ec;
    fs::create_directories(to.parent_path(), ec);
    if (!ec) fs::copy(from, to, fs::copy_options::recursive | fs::copy_options::overwrite_existing, ec);
    if (ec) {
      error = absl::InternalError(absl::StrCat("cannot copy output ", source, " to ", to.string(), ": ", ec.message()));
      return;
    }
    *uri = to.string();
    ++copied;
  }

  void Walk(flyteidl2::core::Literal* lit) {
    switch (lit->value_case()) {
      case flyteidl2::core::Literal::kScalar: {
        flyteidl2::core::Scalar* s = lit->mutable_scalar();
        if (s->has_blob()) Blob(s->mutable_blob()->mutable_uri());
        if (s->has_union_() && s->union_().has_value()) Walk(s->mutable_union_()->mutable_value());
        break;
      }
      case flyteidl2::core::Literal::kCollection:
        for (flyteidl2::core::Literal& item : *lit->mutable_collection()->mutable_literals()) Walk(&item);
        break;
      case flyteidl2::core::Literal::kMap:
        for (auto& [key, item] : *lit->mutable_map()->mutable_literals()) Walk(&item);
        break;
      default:
        break;
    }
  }
};

}  // namespace

absl::StatusOr<int> LocalizeOutputBlobs(const std::string& outputs_path, const std::vector<std::string>& shared_roots,
                                        const std::string& raw_output_dir) {
  std::ifstream in(outputs_path, std::ios::binary);
  if (!in) return 0;
  std::ostringstream buf;
  buf << in.rdbuf();
  flyteidl2::task::Outputs outputs;
  // Not an Outputs message: nothing this can rewrite; whoever reads the outputs reports it.
  if (!outputs.ParseFromString(buf.str())) return 0;

  Localizer l;
  std::error_code ec;
  for (const std::string& root : shared_roots) {
    l.shared_roots.push_back(fs::weakly_canonical(root, ec));
    if (ec) return absl::InternalError(absl::StrCat("cannot resolve ", root, ": ", ec.message()));
  }
  l.target_root = fs::path(raw_output_dir) / "localized";
  for (flyteidl2::task::NamedLiteral& named : *outputs.mutable_literals()) {
    if (named.has_value()) l.Walk(named.mutable_value());
  }
  if (!l.error.ok()) return l.error;
  if (l.copied == 0) return 0;

  // Atomic replace: a reader sees the old or the new outputs, never half of one.
  const std::string tmp = absl::StrCat(outputs_path, ".localized.", ::getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out || !outputs.SerializeToOstream(&out)) return absl::InternalError("cannot write " + tmp);
  }
  fs::rename(tmp, outputs_path, ec);
  if (ec) return absl::InternalError(absl::StrCat("cannot replace ", outputs_path, ": ", ec.message()));
  return l.copied;
}

}  // namespace flyte::executor

#include "runtime/output_localizer.h"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <system_error>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "flyteidl2/task/common.pb.h"

namespace flyte::executor {
namespace {

namespace fs = std::filesystem;

// Lexically normal, without a trailing separator ("/tmp/" -> "/tmp"), so that it compares element by element.
fs::path Normal(const std::string& path) {
  fs::path p = fs::path(path).lexically_normal();
  if (!p.has_filename() && p.has_relative_path()) p = p.parent_path();
  return p;
}

bool Under(const fs::path& root, const fs::path& path) {
  auto [root_end, _] = std::mismatch(root.begin(), root.end(), path.begin(), path.end());
  return root_end == root.end();
}

struct Localizer {
  std::vector<fs::path> shared_roots;  // canonical (local runtime: copying) or lexically normal (Kubernetes)
  fs::path copy_root;                  // <copy_into>/localized; empty = copy nothing
  std::optional<TaskDirOnVolume> task_dir;
  OutputBlobChanges changes;
  absl::Status error;

  // The local runtime: the task's paths are the executor's, so a path is what it resolves to here.
  void Copy(std::string* uri, const std::string& path) {
    std::error_code ec;
    fs::path from = fs::weakly_canonical(path, ec);
    if (ec) return;
    for (const fs::path& root : shared_roots) {
      if (Under(root, from)) return;  // already where every task reads
    }
    if (!fs::exists(from, ec)) {
      ++changes.left;  // missing: left for the reader to report
      return;
    }
    std::string name = from.filename().string();
    if (name.empty()) name = "data";
    const fs::path to = copy_root / std::to_string(changes.copied) / name;
    fs::create_directories(to.parent_path(), ec);
    if (!ec) fs::copy(from, to, fs::copy_options::recursive | fs::copy_options::overwrite_existing, ec);
    if (ec) {
      error = absl::InternalError(absl::StrCat("cannot copy output ", from.string(), " to ", to.string(), ": ",
                                               ec.message()));
      return;
    }
    *uri = to.string();
    ++changes.copied;
  }

  // Kubernetes: the path is the Pod's. Only its text is used; what it names here is looked up on the volume.
  void Rename(std::string* uri, const std::string& path) {
    const fs::path in_task = Normal(path);
    if (task_dir && Under(Normal(task_dir->volume_path), in_task)) {
      ++changes.renamed_before;  // a reconcile repeated after this rewrite was done
      return;
    }
    for (const fs::path& root : shared_roots) {
      if (Under(root, in_task)) return;
    }
    const fs::path task_root = task_dir ? Normal(task_dir->task_path) : fs::path();
    if (!task_dir || !Under(task_root, in_task)) {
      ++changes.left;  // elsewhere in the Pod: gone with it
      return;
    }
    fs::path on_volume = fs::path(task_dir->volume_path);
    const fs::path rest = in_task.lexically_relative(task_root);
    if (!rest.empty() && rest != ".") on_volume /= rest;
    std::error_code ec;
    // symlink_status: a link the task made is renamed as it is (it resolves in the reader's filesystem).
    if (!fs::exists(fs::symlink_status(on_volume, ec))) {
      ++changes.left;  // the task named a file it did not leave there
      return;
    }
    *uri = on_volume.lexically_normal().string();
    ++changes.renamed;
  }

  void Blob(std::string* uri) {
    if (!error.ok()) return;
    std::string path = *uri;
    if (absl::StartsWith(path, "file://")) path = path.substr(7);
    if (path.empty() || path.front() != '/') return;  // another scheme: an object store, not ours to move
    if (copy_root.empty()) {
      Rename(uri, path);
    } else {
      Copy(uri, path);
    }
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

absl::StatusOr<OutputBlobChanges> LocalizeOutputBlobs(const std::string& outputs_path,
                                                      const OutputBlobPolicy& policy) {
  std::ifstream in(outputs_path, std::ios::binary);
  if (!in) return OutputBlobChanges{};
  std::ostringstream buf;
  buf << in.rdbuf();
  flyteidl2::task::Outputs outputs;
  // Not an Outputs message: nothing this can rewrite; whoever reads the outputs reports it.
  if (!outputs.ParseFromString(buf.str())) return OutputBlobChanges{};

  Localizer l;
  l.task_dir = policy.task_dir;
  std::error_code ec;
  for (const std::string& root : policy.shared_roots) {
    if (policy.copy_into.empty()) {
      l.shared_roots.push_back(Normal(root));
      continue;
    }
    l.shared_roots.push_back(fs::weakly_canonical(root, ec));
    if (ec) return absl::InternalError(absl::StrCat("cannot resolve ", root, ": ", ec.message()));
  }
  if (!policy.copy_into.empty()) l.copy_root = fs::path(policy.copy_into) / "localized";
  for (flyteidl2::task::NamedLiteral& named : *outputs.mutable_literals()) {
    if (named.has_value()) l.Walk(named.mutable_value());
  }
  if (!l.error.ok()) return l.error;
  if (l.changes.copied == 0 && l.changes.renamed == 0) return l.changes;

  // Atomic replace: a reader sees the old or the new outputs, never half of one.
  const std::string tmp = absl::StrCat(outputs_path, ".localized.", ::getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out || !outputs.SerializeToOstream(&out)) return absl::InternalError("cannot write " + tmp);
  }
  fs::rename(tmp, outputs_path, ec);
  if (ec) return absl::InternalError(absl::StrCat("cannot replace ", outputs_path, ": ", ec.message()));
  return l.changes;
}

}  // namespace flyte::executor

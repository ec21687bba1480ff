#pragma once
// Strict YAML -> typed structs. A config is read by walking its sections: every key a section knows is declared
// by reading it into a field (whose current value is the default); what is left over is reported as unknown.
// Problems are collected, never thrown, so one run over a file reports all of them at once, each with its full
// path ("runs.server.port: expected an integer 1..65535, got 'abc'", "database.sqlte: unknown key").
//
// Usage:
//   absl::StatusOr<config::Document> doc = config::Document::LoadFile(path);   // kInvalidArgument on bad YAML
//   config::Problems problems;
//   config::Section root = doc->Root(&problems);
//   if (auto runs = root.Child("runs")) { runs->Int("watchBufferSize", &cfg.watch_buffer_size, 1, 100000); ... }
//   root.Finish();   // unknown keys of this section
//   if (!problems.ok()) -> problems.ToStatus() / problems.list()
//
// Not thread-safe; a Document and its Sections are used by one thread while a config is loaded.
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace flyte::config {

// Every problem found in a config, in the order found. Each entry is "path: message".
class Problems {
 public:
  void Add(std::string_view path, std::string_view message);
  bool ok() const { return list_.empty(); }
  const std::vector<std::string>& list() const { return list_; }
  // One line per problem.
  std::string ToString() const;
  // OK, or kInvalidArgument whose message lists every problem (one per line).
  absl::Status ToStatus() const;

 private:
  std::vector<std::string> list_;
};

// "1h", "30s", "500ms", "2m", "1h30m", "100us"; a bare integer means seconds. Rejects negatives and junk.
absl::StatusOr<std::chrono::milliseconds> ParseDuration(std::string_view text);
// Inverse for messages and docs: 3600000ms -> "1h", 1500ms -> "1s500ms".
std::string FormatDuration(std::chrono::milliseconds d);

class Section;

// A parsed YAML document. Cheap to copy (shared).
class Document {
 public:
  static absl::StatusOr<Document> Parse(std::string_view yaml);  // kInvalidArgument with line/column
  static absl::StatusOr<Document> LoadFile(const std::string& path);  // kNotFound / kInvalidArgument
  // The text of file `path`, with LoadFile's errors when it cannot be read or is not YAML: for a caller that
  // works on the text itself (flyte-manager splits it into each service's document).
  static absl::StatusOr<std::string> LoadFileText(const std::string& path);
  // The top-level mapping. An empty document is an empty section; a non-mapping top level is a problem.
  Section Root(Problems* problems) const;

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

// One YAML mapping at a known path. Reading a key declares it known. Values of the wrong kind leave the target
// untouched and add a problem. A key given as `null` (e.g. "port:") counts as absent.
class Section {
 public:
  const std::string& path() const { return path_; }
  // Where this section's problems go; for cross-field checks.
  Problems* problems() const { return problems_; }
  bool Has(std::string_view key) const;

  void String(std::string_view key, std::string* out);
  // Must be one of `allowed`.
  void Enum(std::string_view key, std::string* out, const std::vector<std::string>& allowed);
  void Int(std::string_view key, int* out, int64_t min, int64_t max);
  void Size(std::string_view key, size_t* out, uint64_t min, uint64_t max);
  void Bool(std::string_view key, bool* out);
  void Duration(std::string_view key, std::chrono::milliseconds* out);
  void Duration(std::string_view key, std::chrono::seconds* out);  // rounds down; sub-second values are problems
  // A secret given as exactly one of `<key>` (inline), `<key>Env` (name of an environment variable that must be
  // set) or `<key>Path` (file whose contents, minus a trailing newline, are the secret).
  void Secret(std::string_view key, std::string* out);

  // The value of `key` as YAML text (any kind: mapping, list, scalar), for a caller that hands it to another
  // schema (e.g. Kubernetes fields passed through to a Pod). False if absent; marks the key known.
  bool RawYaml(std::string_view key, std::string* out);

  // A nested mapping, or nullopt if absent (or not a mapping, which is a problem). Marks the key known.
  std::optional<Section> Child(std::string_view key);
  // Marks a key known without reading it (e.g. a key a caller interprets itself, or a deprecated one).
  void Ignore(std::string_view key);

  // Reports every key of this mapping that no call above declared. Call once, after reading all keys.
  void Finish();

 private:
  friend class Document;
  struct Node;
  Section(std::shared_ptr<Node> node, std::string path, Problems* problems);
  std::string KeyPath(std::string_view key) const;

  std::shared_ptr<Node> node_;
  std::string path_;
  Problems* problems_;
  std::vector<std::string> known_;
};

}  // namespace flyte::config

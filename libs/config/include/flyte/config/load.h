#pragma once
// One service's whole config file, read through the schema the service states. The service writes only
//   void ReadSchema(config::Section& root, Config* cfg);   // its top-level sections into `cfg`
// and gets its ParseConfig/LoadConfig from ParseConfigText/LoadConfigFile below: the reading of the file, the
// YAML errors, the top level's unknown keys and the collecting of problems are the same for every service.
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/statusor.h"
#include "flyte/config/yaml.h"

namespace flyte::config {

template <class Config>
using Schema = void (*)(Section& root, Config* cfg);

// `cfg` after `schema` read `doc` into it, then the root's unknown keys reported; kInvalidArgument listing every
// problem (one per line) if any.
template <class Config>
absl::StatusOr<Config> ReadConfig(const Document& doc, Config cfg, Schema<Config> schema) {
  Problems problems;
  Section root = doc.Root(&problems);
  schema(root, &cfg);
  root.Finish();
  if (!problems.ok()) return problems.ToStatus();
  return cfg;
}

// `yaml` read over `defaults`. kInvalidArgument for bad YAML or any problem.
template <class Config>
absl::StatusOr<Config> ParseConfigText(std::string_view yaml, Config defaults, Schema<Config> schema) {
  absl::StatusOr<Document> doc = Document::Parse(yaml);
  if (!doc.ok()) return doc.status();
  return ReadConfig(*doc, std::move(defaults), schema);
}

// File `path` read over `defaults`. An empty path (no config given) reads as an empty document, so a service's
// defaults come out exactly as for an empty file. kNotFound if the file cannot be read; kInvalidArgument for bad
// YAML (prefixed with the path) or any problem.
template <class Config>
absl::StatusOr<Config> LoadConfigFile(const std::string& path, Config defaults, Schema<Config> schema) {
  if (path.empty()) return ParseConfigText(std::string_view(), std::move(defaults), schema);
  absl::StatusOr<Document> doc = Document::LoadFile(path);
  if (!doc.ok()) return doc.status();
  return ReadConfig(*doc, std::move(defaults), schema);
}

}  // namespace flyte::config

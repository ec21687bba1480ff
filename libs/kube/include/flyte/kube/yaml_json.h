#pragma once
// YAML (yaml-cpp) to JSON (nlohmann): manifests kept as YAML files (the CRD) and Kubernetes fields written in a
// service's YAML config (nodeSelector, tolerations, resources) become the JSON the API server takes. Plain scalars
// become numbers, booleans or null where YAML 1.2's core schema says so; quoted scalars stay strings.
// Pure functions; thread-safe.
#include <string>

#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include "absl/status/statusor.h"

namespace flyte::kube {

nlohmann::json YamlToJson(const YAML::Node& node);
// kInvalidArgument when `text` is not YAML.
absl::StatusOr<nlohmann::json> YamlTextToJson(const std::string& text);

}  // namespace flyte::kube

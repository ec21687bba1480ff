#pragma once
// How to reach a Kubernetes API server: from a kubeconfig file (server, CA, client certificate/key, bearer token or
// token file, the context's namespace) or from inside a Pod (KUBERNETES_SERVICE_HOST/PORT and the service-account
// token, CA and namespace files). Parsed with yaml-cpp; anything a kubeconfig asks for that this client cannot do
// (exec plugins, auth providers, basic auth, proxies) is an error naming the field, never silently skipped.
// Pure functions over files and the environment; thread-safe.
#include <string>

#include "absl/status/statusor.h"

namespace flyte::kube {

struct ClusterConfig {
  std::string server;                   // "https://host:port", no trailing slash
  std::string ca_pem;                   // trusted CA bundle (PEM); empty: the system's roots
  bool insecure_skip_tls_verify = false;
  std::string client_cert_pem;          // client certificate authentication (both or neither)
  std::string client_key_pem;
  std::string token;                    // static bearer token
  std::string token_file;               // bearer token read from this file, re-read when it changes (rotation)
  std::string default_namespace;        // the context's namespace, or the service account's; may be empty
  std::string source;                   // where this came from, for messages: "kubeconfig /x (context y)"
};

inline constexpr char kServiceAccountDir[] = "/var/run/secrets/kubernetes.io/serviceaccount";

// Reads a kubeconfig. `context` "" = its current-context. Relative file paths are relative to the file's directory.
// kNotFound if the file is missing; kInvalidArgument naming the field for anything malformed or unsupported.
absl::StatusOr<ClusterConfig> LoadKubeconfig(const std::string& path, const std::string& context = "");

// In-cluster configuration: https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT, `sa_dir`/token (as a token
// file, so rotation is followed), `sa_dir`/ca.crt, `sa_dir`/namespace. kFailedPrecondition when not in a Pod.
absl::StatusOr<ClusterConfig> LoadInClusterConfig(const std::string& sa_dir = kServiceAccountDir);

// The configuration a service uses: `kubeconfig` when given; else the first file of $KUBECONFIG; else in-cluster
// when KUBERNETES_SERVICE_HOST is set; else ~/.kube/config. Errors say which source was tried.
absl::StatusOr<ClusterConfig> ResolveClusterConfig(const std::string& kubeconfig);

}  // namespace flyte::kube

#include "flyte/kube/cluster_config.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include <yaml-cpp/yaml.h>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace flyte::kube {
namespace {

absl::StatusOr<std::string> ReadFile(const std::string& path, const std::string& what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(what, ": cannot read ", path));
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string Dir(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

std::string Resolve(const std::string& base_dir, const std::string& file) {
  if (file.empty() || file[0] == '/') return file;
  return base_dir + "/" + file;
}

// Finds the entry named `name` in a kubeconfig list (clusters, users, contexts) and returns its inner mapping.
absl::StatusOr<YAML::Node> Named(const YAML::Node& root, const std::string& list, const std::string& inner,
                                 const std::string& name) {
  const YAML::Node items = root[list];
  if (items && !items.IsSequence()) return absl::InvalidArgumentError(absl::StrCat(list, ": expected a list"));
  if (items) {
    for (const YAML::Node& item : items) {
      if (item.IsMap() && item["name"] && item["name"].IsScalar() && item["name"].Scalar() == name) {
        YAML::Node body = item[inner];
        if (!body || body.IsNull()) return YAML::Node(YAML::NodeType::Map);
        if (!body.IsMap()) return absl::InvalidArgumentError(absl::StrCat(list, "[", name, "].", inner, ": expected a mapping"));
        return body;
      }
    }
  }
  return absl::InvalidArgumentError(absl::StrCat(list, ": no entry named '", name, "'"));
}

std::string Scalar(const YAML::Node& map, const char* key) {
  const YAML::Node n = map[key];
  return n && n.IsScalar() ? n.Scalar() : "";
}

// Either `<key>-data` (base64) or `<key>` (a file): the PEM text, or "" when neither is given.
absl::StatusOr<std::string> PemFromDataOrFile(const YAML::Node& map, const std::string& key, const std::string& path,
                                              const std::string& base_dir) {
  std::string data = Scalar(map, (key + "-data").c_str());
  if (!data.empty()) {
    std::string pem;
    if (!absl::Base64Unescape(data, &pem)) {
      return absl::InvalidArgumentError(absl::StrCat(path, ".", key, "-data: not valid base64"));
    }
    return pem;
  }
  std::string file = Scalar(map, key.c_str());
  if (file.empty()) return std::string();
  return ReadFile(Resolve(base_dir, file), absl::StrCat(path, ".", key));
}

}  // namespace

absl::StatusOr<ClusterConfig> LoadKubeconfig(const std::string& path, const std::string& context) {
  absl::StatusOr<std::string> text = ReadFile(path, "kubeconfig");
  if (!text.ok()) return text.status();
  YAML::Node root;
  try {
    root = YAML::Load(*text);
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("kubeconfig ", path, ": not YAML: ", e.what()));
  }
  if (!root.IsMap()) return absl::InvalidArgumentError(absl::StrCat("kubeconfig ", path, ": expected a mapping"));
  auto bad = [&](const absl::Status& s) {
    return absl::Status(s.code(), absl::StrCat("kubeconfig ", path, ": ", s.message()));
  };
  std::string ctx_name = context.empty() ? Scalar(root, "current-context") : context;
  if (ctx_name.empty()) return bad(absl::InvalidArgumentError("current-context: not set and no context given"));
  absl::StatusOr<YAML::Node> ctx = Named(root, "contexts", "context", ctx_name);
  if (!ctx.ok()) return bad(ctx.status());
  const std::string cluster_name = Scalar(*ctx, "cluster");
  const std::string user_name = Scalar(*ctx, "user");
  if (cluster_name.empty()) return bad(absl::InvalidArgumentError(absl::StrCat("contexts[", ctx_name, "].cluster: not set")));
  absl::StatusOr<YAML::Node> cluster = Named(root, "clusters", "cluster", cluster_name);
  if (!cluster.ok()) return bad(cluster.status());

  ClusterConfig cfg;
  cfg.source = absl::StrCat("kubeconfig ", path, " (context ", ctx_name, ")");
  cfg.default_namespace = Scalar(*ctx, "namespace");
  const std::string base_dir = Dir(path);
  const std::string cpath = absl::StrCat("clusters[", cluster_name, "].cluster");
  cfg.server = Scalar(*cluster, "server");
  while (absl::EndsWith(cfg.server, "/")) cfg.server.pop_back();
  if (cfg.server.empty()) return bad(absl::InvalidArgumentError(cpath + ".server: not set"));
  if (!absl::StartsWith(cfg.server, "https://") && !absl::StartsWith(cfg.server, "http://")) {
    return bad(absl::InvalidArgumentError(absl::StrCat(cpath, ".server: expected an http(s) URL, got '", cfg.server, "'")));
  }
  for (const char* unsupported : {"proxy-url", "tls-server-name"}) {
    if ((*cluster)[unsupported]) {
      return bad(absl::InvalidArgumentError(absl::StrCat(cpath, ".", unsupported, ": not supported by this client")));
    }
  }
  std::string insecure = absl::AsciiStrToLower(Scalar(*cluster, "insecure-skip-tls-verify"));
  cfg.insecure_skip_tls_verify = insecure == "true";
  absl::StatusOr<std::string> ca = PemFromDataOrFile(*cluster, "certificate-authority", cpath, base_dir);
  if (!ca.ok()) return bad(ca.status());
  cfg.ca_pem = *ca;

  if (!user_name.empty()) {
    absl::StatusOr<YAML::Node> user = Named(root, "users", "user", user_name);
    if (!user.ok()) return bad(user.status());
    const std::string upath = absl::StrCat("users[", user_name, "].user");
    for (const char* unsupported : {"exec", "auth-provider", "username", "password", "as", "as-groups"}) {
      if ((*user)[unsupported]) {
        return bad(absl::InvalidArgumentError(absl::StrCat(
            upath, ".", unsupported, ": not supported by this client (use a client certificate or a token)")));
      }
    }
    absl::StatusOr<std::string> cert = PemFromDataOrFile(*user, "client-certificate", upath, base_dir);
    if (!cert.ok()) return bad(cert.status());
    absl::StatusOr<std::string> key = PemFromDataOrFile(*user, "client-key", upath, base_dir);
    if (!key.ok()) return bad(key.status());
    if (cert->empty() != key->empty()) {
      return bad(absl::InvalidArgumentError(upath + ": client-certificate and client-key go together"));
    }
    cfg.client_cert_pem = *cert;
    cfg.client_key_pem = *key;
    cfg.token = Scalar(*user, "token");
    std::string token_file = Scalar(*user, "tokenFile");
    if (!token_file.empty()) cfg.token_file = Resolve(base_dir, token_file);
  }
  return cfg;
}

absl::StatusOr<ClusterConfig> LoadInClusterConfig(const std::string& sa_dir) {
  const char* host = std::getenv("KUBERNETES_SERVICE_HOST");
  const char* port = std::getenv("KUBERNETES_SERVICE_PORT");
  if (host == nullptr || *host == '\0' || port == nullptr || *port == '\0') {
    return absl::FailedPreconditionError(
        "not running in a Pod: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set");
  }
  ClusterConfig cfg;
  std::string h = host;
  if (h.find(':') != std::string::npos) h = absl::StrCat("[", h, "]");  // IPv6 literal
  cfg.server = absl::StrCat("https://", h, ":", port);
  cfg.token_file = sa_dir + "/token";
  absl::StatusOr<std::string> token = ReadFile(cfg.token_file, "service-account token");
  if (!token.ok()) return token.status();
  absl::StatusOr<std::string> ca = ReadFile(sa_dir + "/ca.crt", "service-account CA");
  if (!ca.ok()) return ca.status();
  cfg.ca_pem = *ca;
  absl::StatusOr<std::string> ns = ReadFile(sa_dir + "/namespace", "service-account namespace");
  if (ns.ok()) cfg.default_namespace = std::string(absl::StripAsciiWhitespace(*ns));
  cfg.source = absl::StrCat("in-cluster service account (", sa_dir, ")");
  return cfg;
}

absl::StatusOr<ClusterConfig> ResolveClusterConfig(const std::string& kubeconfig) {
  if (!kubeconfig.empty()) return LoadKubeconfig(kubeconfig);
  if (const char* env = std::getenv("KUBECONFIG"); env != nullptr && *env != '\0') {
    std::string first = env;
    first = first.substr(0, first.find(':'));
    return LoadKubeconfig(first);
  }
  if (const char* host = std::getenv("KUBERNETES_SERVICE_HOST"); host != nullptr && *host != '\0') {
    return LoadInClusterConfig();
  }
  const char* home = std::getenv("HOME");
  std::string path = absl::StrCat(home ? home : "", "/.kube/config");
  absl::StatusOr<ClusterConfig> cfg = LoadKubeconfig(path);
  if (absl::IsNotFound(cfg.status())) {
    return absl::NotFoundError(absl::StrCat(
        "no Kubernetes configuration: no kubeconfig given, $KUBECONFIG unset, not in a Pod, and ", path,
        " does not exist"));
  }
  return cfg;
}

}  // namespace flyte::kube

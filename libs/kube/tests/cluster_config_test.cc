#include <cstdlib>
#include <fstream>

#include <catch2/catch.hpp>

#include "absl/strings/escaping.h"
#include "flyte/kube/cluster_config.h"
#include "flyte/kube/yaml_json.h"
#include "flyte/testing/temp.h"

namespace {

using flyte::kube::LoadInClusterConfig;
using flyte::kube::LoadKubeconfig;

void Write(const std::filesystem::path& p, const std::string& text) {
  std::ofstream out(p);
  out << text;
}

std::string Kubeconfig(const std::string& user_body, const std::string& cluster_extra = "") {
  return "apiVersion: v1\nkind: Config\ncurrent-context: main\n"
         "clusters:\n- name: c1\n  cluster:\n    server: https://127.0.0.1:6443/\n" + cluster_extra +
         "contexts:\n- name: main\n  context: {cluster: c1, user: u1, namespace: flyte}\n"
         "- name: other\n  context: {cluster: c1, user: u1}\n"
         "users:\n- name: u1\n  user:\n" + user_body;
}

}  // namespace

TEST_CASE("kubeconfig with embedded certificate data and a token", "[unit][kube]") {
  flyte::testing::TempDir dir;
  std::string ca = "-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n";
  std::string body = "    client-certificate-data: " + absl::Base64Escape("CERT") + "\n" +
                     "    client-key-data: " + absl::Base64Escape("KEY") + "\n    token: abc\n";
  Write(dir.path() / "kc", Kubeconfig(body, "    certificate-authority-data: " + absl::Base64Escape(ca) + "\n"));
  auto cfg = LoadKubeconfig((dir.path() / "kc").string());
  REQUIRE(cfg.ok());
  CHECK(cfg->server == "https://127.0.0.1:6443");  // trailing slash dropped
  CHECK(cfg->ca_pem == ca);
  CHECK(cfg->client_cert_pem == "CERT");
  CHECK(cfg->client_key_pem == "KEY");
  CHECK(cfg->token == "abc");
  CHECK(cfg->default_namespace == "flyte");
  CHECK(cfg->source.find("context main") != std::string::npos);

  auto other = LoadKubeconfig((dir.path() / "kc").string(), "other");
  REQUIRE(other.ok());
  CHECK(other->default_namespace.empty());
}

TEST_CASE("kubeconfig file references are relative to the kubeconfig", "[unit][kube]") {
  flyte::testing::TempDir dir;
  std::filesystem::create_directories(dir.path() / "certs");
  Write(dir.path() / "certs/ca.crt", "CAFILE");
  Write(dir.path() / "certs/c.crt", "CERTFILE");
  Write(dir.path() / "certs/c.key", "KEYFILE");
  Write(dir.path() / "tok", "t0\n");
  Write(dir.path() / "kc", Kubeconfig("    client-certificate: certs/c.crt\n    client-key: certs/c.key\n"
                                      "    tokenFile: tok\n",
                                      "    certificate-authority: certs/ca.crt\n"));
  auto cfg = LoadKubeconfig((dir.path() / "kc").string());
  REQUIRE(cfg.ok());
  CHECK(cfg->ca_pem == "CAFILE");
  CHECK(cfg->client_cert_pem == "CERTFILE");
  CHECK(cfg->client_key_pem == "KEYFILE");
  CHECK(cfg->token_file == (dir.path() / "tok").string());
}

TEST_CASE("kubeconfig problems are errors naming the field", "[unit][kube]") {
  flyte::testing::TempDir dir;
  auto load = [&](const std::string& text, const std::string& context = "") {
    Write(dir.path() / "kc", text);
    return LoadKubeconfig((dir.path() / "kc").string(), context);
  };
  auto exec = load(Kubeconfig("    exec: {command: aws}\n"));
  CHECK(exec.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(exec.status().message().find("users[u1].user.exec: not supported") != std::string::npos);

  auto missing_ctx = load(Kubeconfig("    token: x\n"), "nope");
  CHECK(missing_ctx.status().message().find("contexts: no entry named 'nope'") != std::string::npos);

  auto half_cert = load(Kubeconfig("    client-certificate-data: " + absl::Base64Escape("C") + "\n"));
  CHECK(half_cert.status().message().find("client-certificate and client-key go together") != std::string::npos);

  auto bad_b64 = load(Kubeconfig("    token: x\n", "    certificate-authority-data: '!!!'\n"));
  CHECK(bad_b64.status().message().find("certificate-authority-data: not valid base64") != std::string::npos);

  auto proxy = load(Kubeconfig("    token: x\n", "    proxy-url: http://proxy\n"));
  CHECK(proxy.status().message().find("proxy-url: not supported") != std::string::npos);

  auto missing_file = load(Kubeconfig("    token: x\n", "    certificate-authority: nowhere.crt\n"));
  CHECK(missing_file.status().code() == absl::StatusCode::kNotFound);

  auto not_yaml = load("{{{");
  CHECK(not_yaml.status().code() == absl::StatusCode::kInvalidArgument);

  CHECK(LoadKubeconfig((dir.path() / "absent").string()).status().code() == absl::StatusCode::kNotFound);
}

TEST_CASE("in-cluster config reads the service account files", "[unit][kube]") {
  flyte::testing::TempDir dir;
  Write(dir.path() / "token", "sa-token\n");
  Write(dir.path() / "ca.crt", "CA");
  Write(dir.path() / "namespace", "flyte\n");
  unsetenv("KUBERNETES_SERVICE_HOST");
  CHECK(LoadInClusterConfig(dir.path().string()).status().code() == absl::StatusCode::kFailedPrecondition);
  setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1", 1);
  setenv("KUBERNETES_SERVICE_PORT", "443", 1);
  auto cfg = LoadInClusterConfig(dir.path().string());
  unsetenv("KUBERNETES_SERVICE_HOST");
  unsetenv("KUBERNETES_SERVICE_PORT");
  REQUIRE(cfg.ok());
  CHECK(cfg->server == "https://10.96.0.1:443");
  CHECK(cfg->token_file == (dir.path() / "token").string());
  CHECK(cfg->ca_pem == "CA");
  CHECK(cfg->default_namespace == "flyte");
}

TEST_CASE("YAML to JSON keeps quoted scalars as strings", "[unit][kube]") {
  auto j = flyte::kube::YamlTextToJson("a: 1\nb: '1'\nc: true\nd: 'true'\ne: [x, 2.5]\nf: ~\ng: {h: 0Gi}\n");
  REQUIRE(j.ok());
  CHECK((*j)["a"] == 1);
  CHECK((*j)["b"] == "1");
  CHECK((*j)["c"] == true);
  CHECK((*j)["d"] == "true");
  CHECK((*j)["e"][0] == "x");
  CHECK((*j)["e"][1] == 2.5);
  CHECK((*j)["f"].is_null());
  CHECK((*j)["g"]["h"] == "0Gi");
  CHECK(!flyte::kube::YamlTextToJson("a: [").ok());
}

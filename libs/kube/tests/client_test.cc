// Against a real kube-apiserver ($FLYTE_TEST_KUBECONFIG; scripts/k8s-testenv.sh up).
#include <atomic>
#include <cstdlib>
#include <fstream>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "flyte/kube/client.h"
#include "flyte/kube/list_watcher.h"
#include "flyte/kube/task_action.h"
#include "flyte/kube/testing/test_cluster.h"
#include "flyte/testing/temp.h"

using namespace flyte::kube;
using flyte::kube::testing::AdminClient;
using flyte::kube::testing::AdminConfig;
using flyte::kube::testing::Eventually;
using flyte::kube::testing::TestNamespace;

namespace {

Json ConfigMap(const std::string& name, const std::string& value) {
  return Json{{"apiVersion", "v1"},
              {"kind", "ConfigMap"},
              {"metadata", {{"name", name}, {"labels", {{"app", "kube-test"}}}}},
              {"data", {{"k", value}}}};
}

std::string AdminToken() {
  // scripts/k8s-testenv.sh writes the admin bearer token next to the kubeconfig.
  std::string dir = flyte::kube::testing::AdminKubeconfigPath();
  dir = dir.substr(0, dir.rfind('/'));
  std::ifstream in(dir + "/pki/admin.token");
  std::string token;
  std::getline(in, token);
  return token;
}

}  // namespace

TEST_CASE("create, get, update with optimistic concurrency, patch, delete", "[kubernetes][kube]") {
  auto client = AdminClient();
  TestNamespace ns(*client, "crud");
  auto created = client->Create(kConfigMaps, ns.name(), ConfigMap("cm1", "v1"));
  REQUIRE(created.ok());
  CHECK((*created)["metadata"]["uid"].is_string());

  auto dup = client->Create(kConfigMaps, ns.name(), ConfigMap("cm1", "v1"));
  CHECK(dup.status().code() == absl::StatusCode::kAlreadyExists);

  auto got = client->Get(kConfigMaps, ns.name(), "cm1");
  REQUIRE(got.ok());
  Json stale = *got;
  (*got)["data"]["k"] = "v2";
  auto updated = client->Update(kConfigMaps, ns.name(), *got);
  REQUIRE(updated.ok());
  CHECK((*updated)["data"]["k"] == "v2");
  // The version read before the update is stale now: 409 Conflict -> kAborted.
  stale["data"]["k"] = "v3";
  auto conflict = client->Update(kConfigMaps, ns.name(), stale);
  CHECK(conflict.status().code() == absl::StatusCode::kAborted);

  auto patched = client->Patch(kConfigMaps, ns.name(), "cm1", Json{{"data", {{"k2", "x"}}}}, PatchType::kMerge);
  REQUIRE(patched.ok());
  CHECK((*patched)["data"]["k"] == "v2");
  CHECK((*patched)["data"]["k2"] == "x");
  auto json_patch = client->Patch(kConfigMaps, ns.name(), "cm1",
                                  Json::array({{{"op", "test"}, {"path", "/data/k"}, {"value", "nope"}}}),
                                  PatchType::kJson);
  CHECK_FALSE(json_patch.ok());

  auto list = client->List(kConfigMaps, ns.name(), ListOptions{.label_selector = "app=kube-test"});
  REQUIRE(list.ok());
  CHECK(list->items.size() == 1);
  CHECK_FALSE(list->resource_version.empty());

  REQUIRE(client->Delete(kConfigMaps, ns.name(), "cm1").ok());
  CHECK(client->Get(kConfigMaps, ns.name(), "cm1").status().code() == absl::StatusCode::kNotFound);
  CHECK(client->Delete(kConfigMaps, ns.name(), "cm1").code() == absl::StatusCode::kNotFound);
  CHECK(client->counts().writes() >= 5);
}

TEST_CASE("paged lists return every object", "[kubernetes][kube]") {
  auto client = AdminClient();
  TestNamespace ns(*client, "page");
  for (int i = 0; i < 7; ++i) REQUIRE(client->Create(kConfigMaps, ns.name(), ConfigMap("cm" + std::to_string(i), "v")).ok());
  ListOptions o{.label_selector = "app=kube-test", .limit = 3};
  size_t total = 0;
  int pages = 0;
  while (true) {
    auto page = client->List(kConfigMaps, ns.name(), o);
    REQUIRE(page.ok());
    total += page->items.size();
    ++pages;
    if (page->continue_token.empty()) break;
    o.continue_token = page->continue_token;
  }
  CHECK(total == 7);
  CHECK(pages == 3);
}

TEST_CASE("the TaskAction CRD's schema rejects bad objects naming the field", "[kubernetes][kube]") {
  auto client = AdminClient();
  flyte::kube::testing::EnsureTaskActionCrd(*client);
  TestNamespace ns(*client, "crd");
  TaskActionSpec s;
  s.ref = ActionRef{"local", "p", "d", "r1", "a0"};
  s.action_type = "task";
  s.enqueue_request = "payload";
  Json ta = BuildTaskAction(s, ns.name(), "r1-a0", std::nullopt);
  ta["metadata"].erase("finalizers");

  Json missing = ta;
  missing["spec"].erase("runName");
  auto r1 = client->Create(kTaskActions, ns.name(), missing);
  CHECK(r1.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(r1.status().message().find("spec.runName") != std::string::npos);

  Json bad_type = ta;
  bad_type["spec"]["actionType"] = "workflow";
  auto r2 = client->Create(kTaskActions, ns.name(), bad_type);
  CHECK(r2.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(r2.status().message().find("spec.actionType") != std::string::npos);

  auto created = client->Create(kTaskActions, ns.name(), ta);
  REQUIRE(created.ok());
  // Status only through the subresource; a bad phase is refused.
  Json status_patch = {{"status", {{"phase", "Sleeping"}}}};
  auto r3 = client->Patch(kTaskActions, ns.name(), "r1-a0", status_patch, PatchType::kMerge, "status");
  CHECK(r3.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(r3.status().message().find("status.phase") != std::string::npos);
  auto r4 = client->Patch(kTaskActions, ns.name(), "r1-a0", Json{{"status", {{"phase", "Running"}, {"attempt", 1}}}},
                          PatchType::kMerge, "status");
  REQUIRE(r4.ok());
  CHECK((*r4)["status"]["phase"] == "Running");
  // The spec keeps its schema on update too (immutability is not a schema rule: a CEL transition rule would be
  // evaluated on every status write; only queue-service writes specs, see docs/kubernetes.md).
  auto r5 = client->Patch(kTaskActions, ns.name(), "r1-a0", Json{{"spec", {{"actionType", "workflow"}}}},
                          PatchType::kMerge);
  CHECK(r5.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(r5.status().message().find("spec.actionType") != std::string::npos);
  // A status sent to the main resource is ignored.
  auto r6 = client->Patch(kTaskActions, ns.name(), "r1-a0", Json{{"status", {{"phase", "Failed"}}}}, PatchType::kMerge);
  REQUIRE(r6.ok());
  CHECK((*r6)["status"]["phase"] == "Running");
}

TEST_CASE("watch streams changes in order and ends with kOutOfRange on an expired version", "[kubernetes][kube]") {
  auto client = AdminClient();
  TestNamespace ns(*client, "watch");
  auto list = client->List(kConfigMaps, ns.name());
  REQUIRE(list.ok());

  std::vector<std::string> seen;
  std::mutex mu;
  StopToken stop;
  absl::Status watch_status;
  std::thread watcher([&] {
    WatchOptions o;
    o.resource_version = list->resource_version;
    watch_status = client->Watch(kConfigMaps, ns.name(), o, [&](WatchEvent ev) {
      if (ev.type == WatchEventType::kBookmark) return;
      std::lock_guard<std::mutex> lock(mu);
      const char* t = ev.type == WatchEventType::kAdded ? "ADDED" : ev.type == WatchEventType::kModified ? "MODIFIED" : "DELETED";
      seen.push_back(std::string(t) + " " + ev.object["metadata"].value("name", ""));
    }, &stop);
  });
  REQUIRE(client->Create(kConfigMaps, ns.name(), ConfigMap("w1", "a")).ok());
  REQUIRE(client->Patch(kConfigMaps, ns.name(), "w1", Json{{"data", {{"k", "b"}}}}, PatchType::kMerge).ok());
  REQUIRE(client->Delete(kConfigMaps, ns.name(), "w1").ok());
  CHECK(Eventually([&] { std::lock_guard<std::mutex> lock(mu); return seen.size() >= 3; }));
  auto t0 = std::chrono::steady_clock::now();
  stop.Stop();
  watcher.join();
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(2));  // cancel ends the stream at once
  CHECK(watch_status.code() == absl::StatusCode::kCancelled);
  CHECK(seen == std::vector<std::string>{"ADDED w1", "MODIFIED w1", "DELETED w1"});

  // Compact etcd up to now (as the API server does every few minutes): a watch from an older resourceVersion is
  // answered 410 Gone. The test environment records etcd's port next to the kubeconfig.
  std::string dir = flyte::kube::testing::AdminKubeconfigPath();
  dir = dir.substr(0, dir.rfind('/'));
  std::ifstream port_file(dir + "/etcd-port");
  std::string etcd_port;
  std::getline(port_file, etcd_port);
  REQUIRE_FALSE(etcd_port.empty());
  auto now = client->List(kConfigMaps, ns.name());
  REQUIRE(now.ok());
  std::string compact = "curl -sf -X POST http://127.0.0.1:" + etcd_port + "/v3/kv/compaction -d '{\"revision\": \"" +
                        now->resource_version + "\", \"physical\": true}' >/dev/null";
  REQUIRE(std::system(compact.c_str()) == 0);
  WatchOptions old;
  old.resource_version = list->resource_version;
  old.timeout_seconds = 5;  // bounded: a watch that is not refused ends after 5 s and fails the check below
  absl::Status gone = client->Watch(kConfigMaps, ns.name(), old, [](WatchEvent) {});
  CHECK(gone.code() == absl::StatusCode::kOutOfRange);
}

TEST_CASE("a list-watcher hands over the set, then changes", "[kubernetes][kube]") {
  auto client = AdminClient();
  TestNamespace ns(*client, "lw");
  REQUIRE(client->Create(kConfigMaps, ns.name(), ConfigMap("before", "a")).ok());
  std::mutex mu;
  std::map<std::string, std::string> cache;
  ListWatchHandlers h;
  h.on_list = [&](std::vector<Json> items) {
    std::lock_guard<std::mutex> lock(mu);
    cache.clear();
    for (const Json& i : items) cache[i["metadata"]["name"]] = i["data"].value("k", "");
  };
  h.on_event = [&](WatchEventType type, Json obj) {
    std::lock_guard<std::mutex> lock(mu);
    if (type == WatchEventType::kDeleted) cache.erase(obj["metadata"]["name"].get<std::string>());
    else cache[obj["metadata"]["name"]] = obj["data"].value("k", "");
  };
  ListWatcher lw(*client, kConfigMaps, ns.name(), h, ListWatchOptions{.label_selector = "app=kube-test", .page_size = 2});
  lw.Start();
  REQUIRE(lw.WaitForSync(std::chrono::seconds(10)));
  {
    std::lock_guard<std::mutex> lock(mu);
    CHECK(cache.count("before") == 1);
  }
  REQUIRE(client->Create(kConfigMaps, ns.name(), ConfigMap("after", "x")).ok());
  REQUIRE(client->Patch(kConfigMaps, ns.name(), "after", Json{{"data", {{"k", "y"}}}}, PatchType::kMerge).ok());
  REQUIRE(client->Delete(kConfigMaps, ns.name(), "before").ok());
  CHECK(Eventually([&] {
    std::lock_guard<std::mutex> lock(mu);
    return cache.size() == 1 && cache.count("after") == 1 && cache["after"] == "y";
  }));
  lw.Stop();
}

TEST_CASE("bearer tokens, token files that rotate, and a CA that is not the cluster's", "[kubernetes][kube]") {
  ClusterConfig base = AdminConfig();
  const std::string token = AdminToken();
  REQUIRE_FALSE(token.empty());

  ClusterConfig with_token = base;
  with_token.client_cert_pem.clear();
  with_token.client_key_pem.clear();
  with_token.token = token;
  auto c1 = Client::Create(with_token);
  REQUIRE(c1.ok());
  CHECK((*c1)->GetRaw("/version").ok());

  flyte::testing::TempDir dir;
  std::string file = (dir.path() / "token").string();
  auto write = [&](const std::string& t) {
    std::ofstream out(file, std::ios::trunc);
    out << t << "\n";
  };
  write("not-a-valid-token");
  ClusterConfig with_file = with_token;
  with_file.token.clear();
  with_file.token_file = file;
  auto c2 = Client::Create(with_file);
  REQUIRE(c2.ok());
  CHECK((*c2)->List(kConfigMaps, "default").status().code() == absl::StatusCode::kUnauthenticated);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));  // a new mtime
  write(token);
  CHECK((*c2)->List(kConfigMaps, "default").ok());

  ClusterConfig wrong_ca = base;
  wrong_ca.ca_pem = flyte::kube::testing::UnrelatedCaPem();
  auto c3 = Client::Create(wrong_ca);
  REQUIRE(c3.ok());
  absl::Status refused = (*c3)->GetRaw("/version").status();
  CHECK(refused.code() == absl::StatusCode::kUnavailable);

  ClusterConfig no_credentials = base;
  no_credentials.client_cert_pem.clear();
  no_credentials.client_key_pem.clear();
  auto c4 = Client::Create(no_credentials);
  REQUIRE(c4.ok());
  CHECK((*c4)->List(kConfigMaps, "default").status().code() == absl::StatusCode::kPermissionDenied);
}

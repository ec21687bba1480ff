// The executor's task output cache (service/task_cache.h) against the REAL runs-service binary (its CacheService
// on a temp SQLite file) through the real gRPC client: a hit is delivered without running, a miss runs and is
// recorded with a copy of its outputs, overwrite runs again and replaces, serialize runs one of two identical
// actions while the other waits, a holder that vanishes blocks the others only until its reservation expires, and
// an action waiting for the cache can be aborted. Also the keys derived for root actions (ignored inputs).
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include "clients/grpc_cache_client.h"
#include "flyte/testing/temp.h"
#include "flyteidl2/task/common.pb.h"
#include "runtime/attempt_layout.h"
#include "service/task_cache.h"
#include "support/runs_cache_service.h"
#include "support/runtime_testing.h"

namespace flyte::executor {
namespace {
using namespace std::chrono_literals;
namespace fs = std::filesystem;
using testing::FreePort;
using testing::WaitUntil;

using RunsService = testing::RunsCacheService;

std::string Template(bool serialize) {
  flyteidl2::core::TaskTemplate t;
  t.mutable_id()->set_name("tasks.square");
  t.mutable_metadata()->set_discoverable(true);
  t.mutable_metadata()->set_discovery_version("v1");
  t.mutable_metadata()->set_cache_serializable(serialize);
  t.mutable_metadata()->add_cache_ignore_input_vars("marker");
  t.mutable_container()->add_command("true");
  return t.SerializeAsString();
}

ActionToRun Cached(const std::string& run, const std::string& key, bool serialize = false) {
  ActionToRun a;
  a.key = ActionKey{"org", "proj", "dev", run, "a1"};
  a.task_template = Template(serialize);
  a.cache_key = key;
  return a;
}

// What the cache hands on: actions to run and transitions to report.
struct Sink {
  std::mutex mu;
  std::vector<ActionToRun> ran;
  std::vector<ActionTransition> delivered;
  size_t Ran() {
    std::lock_guard<std::mutex> lock(mu);
    return ran.size();
  }
  std::optional<ActionTransition> Final(const std::string& run) {
    std::lock_guard<std::mutex> lock(mu);
    for (const ActionTransition& t : delivered) {
      if (t.key.run_name == run && t.final) return t;
    }
    return std::nullopt;
  }
};

struct Fixture {
  RunsService runs;
  flyte::testing::TempDir data{"flyte-task-cache-data"};
  Sink sink;
  std::unique_ptr<TaskCache> cache;

  explicit Fixture(std::chrono::milliseconds heartbeat = 5000ms) {
    TaskCacheOptions o;
    o.data_root = data.path().string();
    o.reservation_heartbeat = heartbeat;
    o.wait_poll = 100ms;
    cache = std::make_unique<TaskCache>(
        *runs.client, o,
        [this](ActionToRun a) {
          std::lock_guard<std::mutex> lock(sink.mu);
          sink.ran.push_back(std::move(a));
        },
        [this](const ActionTransition& t) {
          std::lock_guard<std::mutex> lock(sink.mu);
          sink.delivered.push_back(t);
        });
  }

  // The runtime's final SUCCEEDED for `a`, with outputs.pb and a raw file it names, through Intercept.
  ActionTransition Succeed(const ActionToRun& a, const std::string& content) {
    const fs::path out = data.path() / a.key.run_name / "out";
    fs::create_directories(out);
    std::ofstream(out / "blob.txt") << content;
    flyteidl2::task::Outputs outputs;
    auto* lit = outputs.add_literals();
    lit->set_name("o0");
    lit->mutable_value()->mutable_scalar()->mutable_blob()->set_uri((out / "blob.txt").string());
    std::ofstream(out / "outputs.pb", std::ios::binary) << outputs.SerializeAsString();
    ActionTransition t;
    t.key = a.key;
    t.attempt = a.attempt;
    t.phase = Phase::kSucceeded;
    t.output_uri = ToFileUri(out.string());
    t.final = true;
    REQUIRE(cache->Intercept(t));  // kept until recorded
    return t;
  }
};

std::string BlobOf(const std::string& output_uri) {
  flyteidl2::task::Outputs outputs;
  std::ifstream in(*LocalPathFromUri(output_uri + "/outputs.pb"), std::ios::binary);
  REQUIRE(outputs.ParseFromIstream(&in));
  std::ifstream blob(outputs.literals(0).value().scalar().blob().uri());
  return std::string(std::istreambuf_iterator<char>(blob), {});
}

}  // namespace

TEST_CASE("task cache: miss runs and records a copy, hit runs nothing, overwrite replaces", "[executor][cache]") {
  Fixture f;
  ActionToRun first = Cached("r1", "k1");
  REQUIRE_FALSE(f.cache->Admit(first).has_value());  // taken
  REQUIRE(WaitUntil([&] { return f.sink.Ran() == 1; }, 5s));
  ActionTransition running;
  running.key = first.key;
  running.phase = Phase::kRunning;
  CHECK_FALSE(f.cache->Intercept(running));
  CHECK(running.cache_status == CacheStatus::kMiss);
  f.Succeed(first, "forty-nine");
  REQUIRE(WaitUntil([&] { return f.sink.Final("r1").has_value(); }, 5s));
  ActionTransition populated = *f.sink.Final("r1");
  CHECK(populated.cache_status == CacheStatus::kPopulated);
  CHECK(populated.output_uri == ToFileUri((f.data.path() / "r1" / "out").string()));  // the run's own outputs

  // The entry is a copy: the run's files may go.
  fs::remove_all(f.data.path() / "r1");
  REQUIRE_FALSE(f.cache->Admit(Cached("r2", "k1")).has_value());
  REQUIRE(WaitUntil([&] { return f.sink.Final("r2").has_value(); }, 5s));
  ActionTransition hit = *f.sink.Final("r2");
  CHECK(hit.cache_status == CacheStatus::kHit);
  CHECK(hit.phase == Phase::kSucceeded);
  CHECK(hit.output_uri.find("/.cache/") != std::string::npos);
  CHECK(BlobOf(hit.output_uri) == "forty-nine");
  CHECK(f.sink.Ran() == 1);  // nothing ran for the hit

  // Another key misses; overwrite runs even though the key is there, and replaces the entry.
  ActionToRun over = Cached("r3", "k1");
  over.overwrite_cache = true;
  REQUIRE_FALSE(f.cache->Admit(over).has_value());
  REQUIRE(WaitUntil([&] { return f.sink.Ran() == 2; }, 5s));
  f.Succeed(over, "replaced");
  REQUIRE(WaitUntil([&] { return f.sink.Final("r3").has_value(); }, 5s));
  CHECK(f.sink.Final("r3")->cache_status == CacheStatus::kPopulated);
  REQUIRE_FALSE(f.cache->Admit(Cached("r4", "k1")).has_value());
  REQUIRE(WaitUntil([&] { return f.sink.Final("r4").has_value(); }, 5s));
  CHECK(BlobOf(f.sink.Final("r4")->output_uri) == "replaced");

  // An uncached task is handed back untouched.
  ActionToRun plain = Cached("r5", "k1");
  flyteidl2::core::TaskTemplate t;
  t.ParseFromString(plain.task_template);
  t.mutable_metadata()->set_discoverable(false);
  plain.task_template = t.SerializeAsString();
  CHECK(f.cache->Admit(plain).has_value());
}

TEST_CASE("task cache: serialize runs one of two identical actions, the other takes its outputs",
          "[executor][cache]") {
  Fixture f;
  ActionToRun a = Cached("s1", "ks", true), b = Cached("s2", "ks", true);
  REQUIRE_FALSE(f.cache->Admit(a).has_value());
  REQUIRE(WaitUntil([&] { return f.sink.Ran() == 1; }, 5s));
  REQUIRE_FALSE(f.cache->Admit(b).has_value());
  // b waits: INITIALIZING naming the holder, nothing runs.
  REQUIRE(WaitUntil([&] {
    std::lock_guard<std::mutex> lock(f.sink.mu);
    return !f.sink.delivered.empty() && f.sink.delivered.back().key.run_name == "s2";
  }, 5s));
  {
    std::lock_guard<std::mutex> lock(f.sink.mu);
    CHECK(f.sink.delivered.back().phase == Phase::kInitializing);
    CHECK(f.sink.delivered.back().cluster_event.find("waiting for org/proj/dev/s1/a1") != std::string::npos);
  }
  std::this_thread::sleep_for(300ms);
  CHECK(f.sink.Ran() == 1);
  f.Succeed(f.sink.ran[0], "once");
  REQUIRE(WaitUntil([&] { return f.sink.Final("s2").has_value(); }, 5s));
  CHECK(f.sink.Final("s2")->cache_status == CacheStatus::kHit);
  CHECK(BlobOf(f.sink.Final("s2")->output_uri) == "once");
  CHECK(f.sink.Ran() == 1);
}

TEST_CASE("task cache: a vanished holder blocks only until its reservation expires, a waiter can be aborted",
          "[executor][cache]") {
  Fixture f(200ms);  // reservations expire 600 ms after the last heartbeat
  // Another executor took the reservation and died: nobody extends it.
  CacheIdentity id{"org", "", "", "kv"};
  REQUIRE(f.runs.client->Reserve(id, "org/proj/dev/dead/a1", 200ms)->owner_id == "org/proj/dev/dead/a1");
  const auto start = std::chrono::steady_clock::now();
  REQUIRE_FALSE(f.cache->Admit(Cached("v1", "kv", true)).has_value());
  REQUIRE(WaitUntil([&] { return f.sink.Ran() == 1; }, 10s));
  CHECK(std::chrono::steady_clock::now() - start >= 400ms);

  // A second identical action waits for v1 (alive, heartbeating); its abort is reported from the cache.
  REQUIRE_FALSE(f.cache->Admit(Cached("v2", "kv", true)).has_value());
  REQUIRE(WaitUntil([&] {
    std::lock_guard<std::mutex> lock(f.sink.mu);
    return !f.sink.delivered.empty() && f.sink.delivered.back().key.run_name == "v2";
  }, 5s));
  std::this_thread::sleep_for(1s);  // beyond the expiry: v1's heartbeats keep it
  CHECK(f.sink.Ran() == 1);
  CHECK(f.cache->Abort(ActionKey{"org", "proj", "dev", "v2", "a1"}, "user asked"));
  REQUIRE(f.sink.Final("v2").has_value());
  CHECK(f.sink.Final("v2")->phase == Phase::kAborted);
  CHECK_FALSE(f.cache->Abort(ActionKey{"org", "proj", "dev", "v1", "a1"}, "running: the runtime's"));
}

TEST_CASE("task cache: a root action's key covers name, version and inputs but not ignored inputs", "[unit]") {
  flyte::testing::TempDir dir{"flyte-cache-key"};
  auto with_inputs = [&](const std::string& name, int64_t x, const std::string& marker) {
    flyteidl2::task::Inputs in;
    auto* a = in.add_literals();
    a->set_name("x");
    a->mutable_value()->mutable_scalar()->mutable_primitive()->set_integer(x);
    auto* m = in.add_literals();
    m->set_name("marker");
    m->mutable_value()->mutable_scalar()->mutable_primitive()->set_string_value(marker);
    const fs::path p = dir.path() / (name + ".pb");
    std::ofstream(p, std::ios::binary) << in.SerializeAsString();
    ActionToRun act = Cached("r", "");
    act.input_uri = ToFileUri(p.string());
    return act;
  };
  flyteidl2::core::TaskTemplate tmpl;
  tmpl.ParseFromString(Template(false));
  auto key = [&](const ActionToRun& a, const flyteidl2::core::TaskTemplate& t) {
    absl::StatusOr<std::optional<CacheIdentity>> id = ResolveCacheIdentity(a, t, "local");
    REQUIRE(id.ok());
    REQUIRE(id->has_value());
    return (*id)->key;
  };
  const std::string k1 = key(with_inputs("a", 7, "/tmp/one"), tmpl);
  CHECK(k1.size() == 64);
  CHECK(key(with_inputs("b", 7, "/tmp/two"), tmpl) == k1);  // only the ignored input differs
  CHECK(key(with_inputs("c", 8, "/tmp/one"), tmpl) != k1);
  flyteidl2::core::TaskTemplate v2 = tmpl;
  v2.mutable_metadata()->set_discovery_version("v2");
  CHECK(key(with_inputs("d", 7, "/tmp/one"), v2) != k1);
  // The SDK's key wins when it sent one; the scope follows the lookup scope.
  ActionToRun keyed = Cached("r", "sdk-key");
  keyed.cache_per_project_domain = true;
  absl::StatusOr<std::optional<CacheIdentity>> id = ResolveCacheIdentity(keyed, tmpl, "local");
  CHECK((*id)->key == "sdk-key");
  CHECK((*id)->scope_project == "proj");
  // Unreadable inputs: an error naming them.
  ActionToRun broken = Cached("r", "");
  broken.input_uri = "file:///nonexistent/inputs.pb";
  CHECK(ResolveCacheIdentity(broken, tmpl, "local").status().message().find("/nonexistent/inputs.pb") !=
        std::string::npos);
}

}  // namespace flyte::executor

// Write throughput of the runs repository on a real PostgreSQL, many clients at once: CreateRun, EnqueueAction
// (a child with its queue command: CreateActionAndRecord) and state reports (ApplyEvent one per transaction, and
// ApplyEvents 16 per transaction as the executor batches them). Not a test: hidden
// ([.benchmark]), run by scripts/bench.sh against the PostgreSQL it starts (fsync on, unlike the test server):
//
//   FLYTE_BENCH_PG=127.0.0.1:5432/flyte_runs FLYTE_BENCH_CLIENTS=16 FLYTE_BENCH_SECONDS=5
//     build/tests/runs_postgres_write_throughput_test '[.benchmark]'     (one command line)
//
// Prints one JSON object per scenario on stdout ({"scenario", "clients", "ops", "items_per_op", "seconds",
// "per_second" (items), "p50_ms" and "p99_ms" (per op), "errors"}). The store listens for changes as runs-service
// does.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "repository/store_factory.h"
#include "support/builders.h"

using namespace flyte::runs;
using flyte::runs::test::KeyOf;
using flyte::runs::test::MakeChild;
using flyte::runs::test::MakeEvent;
using flyte::runs::test::MakeRun;

namespace {

int EnvInt(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::atoi(v) : fallback;
}

// Runs op(client, i) for i = 0, 1, ... on `clients` threads for `seconds` (or until op returns false: out of work)
// and prints the scenario's JSON line; per_second counts `items_per_op` items (e.g. state reports) per op.
void Measure(const std::string& scenario, int clients, int seconds,
             const std::function<absl::Status(int client, int i, bool* more)>& op, int items_per_op = 1) {
  std::vector<std::vector<double>> latencies(clients);
  std::atomic<int64_t> errors{0};
  std::mutex error_mu;
  std::string first_error;
  const auto start = std::chrono::steady_clock::now();
  const auto until = start + std::chrono::seconds(seconds);
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      bool more = true;
      for (int i = 0; more && std::chrono::steady_clock::now() < until; ++i) {
        const auto t0 = std::chrono::steady_clock::now();
        absl::Status s = op(c, i, &more);
        if (!more) break;  // out of work: nothing was done
        latencies[c].push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
        if (!s.ok()) {
          ++errors;
          std::lock_guard<std::mutex> l(error_mu);
          if (first_error.empty()) first_error = s.ToString();
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::vector<double> all;
  for (const auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  std::sort(all.begin(), all.end());
  auto pct = [&](double p) { return all.empty() ? 0.0 : all[std::min(all.size() - 1, size_t(p / 100 * all.size()))]; };
  std::cout << "{\"scenario\": \"" << scenario << "\", \"clients\": " << clients << ", \"ops\": " << all.size()
            << ", \"items_per_op\": " << items_per_op << ", \"seconds\": " << secs
            << ", \"per_second\": " << all.size() * items_per_op / secs << ", \"p50_ms\": " << pct(50)
            << ", \"p99_ms\": " << pct(99) << ", \"errors\": " << errors.load() << "}" << std::endl;
  if (!first_error.empty()) std::cerr << scenario << ": first error: " << first_error << "\n";
}

}  // namespace

TEST_CASE("postgres: write throughput with many clients", "[.benchmark][postgres]") {
  const char* target = std::getenv("FLYTE_BENCH_PG");  // host:port/dbname, user postgres
  if (!target || !*target) {
    WARN("FLYTE_BENCH_PG not set; nothing measured");
    return;
  }
  const std::string t = target;
  flyte::db::PostgresConfig pg;
  pg.host = t.substr(0, t.find(':'));
  pg.port = std::atoi(t.substr(t.find(':') + 1).c_str());
  pg.dbname = t.substr(t.find('/') + 1);
  pg.username = "postgres";
  pg.password = "postgres";
  const int clients = EnvInt("FLYTE_BENCH_CLIENTS", 16);
  const int seconds = EnvInt("FLYTE_BENCH_SECONDS", 5);
  flyte::db::DatabaseConfig config;
  config.postgres = pg;
  config.max_open_connections = clients + 4;  // as runs-service: a pool connection per worker
  config.max_idle_connections = clients + 4;
  absl::StatusOr<std::unique_ptr<Store>> store = OpenStore(config);
  REQUIRE(store.ok());
  ActionRepository& actions = (*store)->Actions();
  const std::string tag = std::to_string(std::chrono::system_clock::now().time_since_epoch().count());

  Measure("CreateRun", clients, seconds, [&](int c, int i, bool*) {
    return actions.CreateRun(MakeRun("r" + tag + "-" + std::to_string(c) + "-" + std::to_string(i)));
  });

  // One parent run per client; EnqueueAction adds children to it.
  for (int c = 0; c < clients; ++c) REQUIRE(actions.CreateRun(MakeRun("p" + tag + "-" + std::to_string(c))).ok());
  std::vector<int> children(clients, 0);
  Measure("EnqueueAction", clients, seconds, [&](int c, int i, bool*) {
    const std::string run = "p" + tag + "-" + std::to_string(c);
    Action child = MakeChild(run, "c" + std::to_string(i), kRootActionName);
    children[c] = i + 1;
    return actions.CreateActionAndRecord(child, QueueCommand{0, QueueCommandKind::kEnqueue, child.key, "", "req", 0});
  });

  // State reports on those children: INITIALIZING, RUNNING, SUCCEEDED each, one report per transaction.
  constexpr Phase kPhases[] = {Phase::kInitializing, Phase::kRunning, Phase::kSucceeded};
  std::vector<int> reported(clients, 0);  // children the one-per-transaction reports reached, per client
  Measure("StateReport", clients, seconds, [&](int c, int i, bool* more) {
    const int child = i / 3;
    if (child >= children[c]) {
      *more = false;
      return absl::OkStatus();
    }
    reported[c] = child + 1;
    const ActionKey key = KeyOf("p" + tag + "-" + std::to_string(c), "c" + std::to_string(child));
    return actions.ApplyEvent(key, MakeEvent(1, kPhases[i % 3], 10 + i % 3)).status();
  });

  // The same reports as the executor sends them under load: many per call (StateReporter batches up to 256), here
  // 16, one transaction per call, on the children the scenario above did not reach: INITIALIZING for 16 children,
  // then RUNNING for them, then SUCCEEDED, then the next 16.
  constexpr int kBatch = 16;
  Measure(
      "StateReportBatch16", clients, seconds,
      [&](int c, int i, bool* more) {
        const int first = reported[c] + (i / 3) * kBatch;
        if (first + kBatch > children[c]) {
          *more = false;
          return absl::OkStatus();
        }
        std::vector<KeyedEvent> batch;
        for (int k = 0; k < kBatch; ++k) {
          batch.push_back(KeyedEvent{KeyOf("p" + tag + "-" + std::to_string(c), "c" + std::to_string(first + k)),
                                     MakeEvent(1, kPhases[i % 3], 10 + i % 3)});
        }
        for (const absl::StatusOr<Action>& r : actions.ApplyEvents(batch)) {
          if (!r.ok()) return r.status();
        }
        return absl::OkStatus();
      },
      kBatch);
}

#pragma once
// Sends StateReports through a StateClient in the background: in order (so one action's reports keep their
// order), retrying transport failures (runs-service down or overloaded) with exponential backoff for as long as
// it takes, so no report is dropped because runs-service was unavailable -- a terminal one least of all (the
// executor Completes a lease only after its terminal report went through). An in-band refusal
// (kFailedPrecondition: illegal phase change, kNotFound, kInvalidArgument, ...) cannot succeed by retrying: it is
// logged and skipped, and the next report follows.
//
// One sender thread sends whatever has queued up while the previous call was out as one batch
// (StateClient::PutBatch, one database transaction in runs-service): under load, many actions' transitions share
// a call and a commit; when idle, a report goes out alone at once.
//
// Thread-safe. Report never blocks. `done` callbacks run on the sender thread and must not block (hand slow work,
// such as Completing a lease, to another thread). Destruction = Shutdown().
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "clients/state_client.h"

namespace flyte::executor {

struct StateReporterOptions {
  size_t max_batch = 256;  // most reports per call
  std::chrono::milliseconds initial_backoff{100};
  std::chrono::milliseconds max_backoff{5000};
};

class StateReporter {
 public:
  // OK: recorded. An in-band error: skipped. kCancelled: the reporter shut down before it went through.
  using Done = std::function<void(const absl::Status&)>;

  StateReporter(StateClient& client, StateReporterOptions options = {});  // client must outlive this
  ~StateReporter();
  StateReporter(const StateReporter&) = delete;
  StateReporter& operator=(const StateReporter&) = delete;

  void Report(StateReport report, Done done = nullptr);
  // Blocks until every report given so far is done, or `timeout` passes; true when everything is done.
  bool Flush(std::chrono::milliseconds timeout);
  // Stops the threads; reports not yet through get done(kCancelled). Idempotent.
  void Shutdown();

  size_t pending() const;
  uint64_t retries() const;  // transport failures retried so far

  // Whether a Put outcome is worth retrying (transport trouble) rather than skipping (an answer).
  static bool IsRetryable(const absl::Status& s);

 private:
  struct Item {
    StateReport report;
    Done done;
  };
  void Run();
  // Sends `batch` until every report in it is answered (or the reporter stops: false, batch left as it is).
  bool SendUntilAnswered(std::vector<Item>& batch);

  StateClient& client_;
  const StateReporterOptions options_;
  mutable std::mutex mu_;
  std::condition_variable cv_;       // work arrived, or stopping
  std::condition_variable idle_cv_;  // a batch finished
  bool stopping_ = false;
  uint64_t retries_ = 0;
  std::deque<Item> items_;
  size_t in_flight_ = 0;  // reports taken by the sender and not yet answered
  bool sender_idle_ = false;  // the sender waits for work: only then does Report wake it
  std::thread thread_;
};

}  // namespace flyte::executor

#pragma once
// What the whole-stack modes measure with: the executor's VmRSS sampled every N completed actions, a Tracker of
// named actions from enqueued to done, and the two watch streams that feed it (WatchRuns by run, StateService.Watch
// by child).
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <grpcpp/grpcpp.h>

#include "nlohmann/json.hpp"
#include "scenarios.h"
#include "stack_common.h"

namespace flyte::loadgen {

// Samples the executor's VmRSS (KiB) each time `done` crosses a multiple of rss_every.
class RssSampler {
 public:
  RssSampler(int pid, int every) : pid_(pid), every_(every) { Sample(0); }
  void OnCompleted(long done) {
    if (pid_ > 0 && done % every_ == 0) Sample(done);
  }
  void Final(long done) {
    std::lock_guard<std::mutex> lock(mu_);
    if (pid_ > 0 && (samples_.empty() || samples_.back().first != done)) {
      samples_.emplace_back(done, ReadProcStatusKb(pid_));
    }
  }
  nlohmann::json ToJson() const {
    nlohmann::json j = nlohmann::json::array();
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [n, kb] : samples_) j.push_back({{"completed", n}, {"rss_kib", kb}});
    return j;
  }
  std::string ToText() const {
    std::lock_guard<std::mutex> lock(mu_);
    if (pid_ <= 0) return "";
    std::string out = "executor VmRSS (MiB) at completed actions:";
    for (const auto& [n, kb] : samples_) out += fmt::format(" {}:{:.1f}", n, kb / 1024.0);
    return out + "\n";
  }

 private:
  void Sample(long done) {
    if (pid_ <= 0) return;
    const long kb = ReadProcStatusKb(pid_);
    std::lock_guard<std::mutex> lock(mu_);
    samples_.emplace_back(done, kb);
  }
  int pid_;
  int every_;
  mutable std::mutex mu_;
  std::vector<std::pair<long, long>> samples_;
};

// Tracks named actions from "enqueued" to SUCCEEDED (or a failure phase), fed by a watch stream.
class Tracker {
 public:
  explicit Tracker(RssSampler* rss) : rss_(rss) {}
  void Start(const std::string& name) {
    std::lock_guard<std::mutex> lock(mu_);
    pending_[name] = Clock::now();
  }
  void Forget(const std::string& name) {
    std::lock_guard<std::mutex> lock(mu_);
    pending_.erase(name);
  }
  void Observe(const std::string& name, flyteidl2::common::ActionPhase phase) {
    if (phase != ACTION_PHASE_SUCCEEDED && !IsFailure(phase)) return;
    long done;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = pending_.find(name);
      if (it == pending_.end()) return;
      const auto now = Clock::now();
      if (phase == ACTION_PHASE_SUCCEEDED) {
        latencies_ms_.push_back(Seconds(now - it->second) * 1000.0);
      } else {
        ++failed_;
      }
      last_done_ = now;
      pending_.erase(it);
      done = ++completed_;
    }
    cv_.notify_all();
    if (rss_ != nullptr) rss_->OnCompleted(done);
  }
  // Waits until `name` is no longer pending (true) or the deadline passes.
  bool WaitFor(const std::string& name, Clock::time_point deadline) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_until(lock, deadline, [&] { return pending_.count(name) == 0 || ended_; }) &&
           pending_.count(name) == 0;
  }
  bool WaitAll(Clock::time_point deadline) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_until(lock, deadline, [&] { return pending_.empty() || ended_; }) && pending_.empty();
  }
  void SetSentinel() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      sentinel_ = true;
    }
    cv_.notify_all();
  }
  // The watch stream is gone (e.g. the services were stopped): waiters give up at once.
  void SetEnded() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      ended_ = true;
    }
    cv_.notify_all();
  }
  bool WaitSentinel(Clock::time_point deadline) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_until(lock, deadline, [&] { return sentinel_; });
  }
  std::vector<double> TakeLatencies() {
    std::lock_guard<std::mutex> lock(mu_);
    return std::exchange(latencies_ms_, {});
  }
  long completed() const {
    std::lock_guard<std::mutex> lock(mu_);
    return completed_;
  }
  long failed() const {
    std::lock_guard<std::mutex> lock(mu_);
    return failed_;
  }
  size_t pending() const {
    std::lock_guard<std::mutex> lock(mu_);
    return pending_.size();
  }
  Clock::time_point last_done() const {
    std::lock_guard<std::mutex> lock(mu_);
    return last_done_;
  }

 private:
  RssSampler* rss_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::unordered_map<std::string, Clock::time_point> pending_;
  std::vector<double> latencies_ms_;
  long completed_ = 0;
  long failed_ = 0;
  bool sentinel_ = false;
  bool ended_ = false;
  Clock::time_point last_done_{};
};

// One WatchRuns (project scope) stream on its own thread, feeding a Tracker by run name.
class RunsWatch {
 public:
  RunsWatch(const Common& c, Tracker* tracker) {
    wf::WatchRunsRequest req;
    auto* p = req.mutable_project_id();
    p->set_organization(c.scope.org);
    p->set_name(c.scope.project);
    p->set_domain(c.scope.domain);
    reader_ = c.runs->WatchRuns(&ctx_, req);
    thread_ = std::thread([this, tracker] {
      wf::WatchRunsResponse resp;
      while (reader_->Read(&resp)) {
        for (const auto& run : resp.runs()) {
          tracker->Observe(run.action().id().run().name(), run.action().status().phase());
        }
      }
      status_ = reader_->Finish();
      tracker->SetEnded();
    });
  }
  ~RunsWatch() {
    ctx_.TryCancel();
    thread_.join();
  }

 private:
  grpc::ClientContext ctx_;
  std::unique_ptr<grpc::ClientReader<wf::WatchRunsResponse>> reader_;
  grpc::Status status_;
  std::thread thread_;
};

// One StateService.Watch(parent) stream on its own thread, feeding a Tracker by child action name.
class StateWatch {
 public:
  StateWatch(const Common& c, const flyteidl2::common::ActionIdentifier& parent, Tracker* tracker) {
    wf::WatchRequest req;
    *req.mutable_parent_action_id() = parent;
    reader_ = c.state->Watch(&ctx_, req);
    thread_ = std::thread([this, tracker] {
      wf::WatchResponse resp;
      while (reader_->Read(&resp)) {
        if (resp.has_control_message()) {
          if (resp.control_message().sentinel()) tracker->SetSentinel();
          continue;
        }
        tracker->Observe(resp.action_update().action_id().name(), resp.action_update().phase());
      }
      status_ = reader_->Finish();
      tracker->SetSentinel();  // unblock a waiter if the stream failed before its sentinel
      tracker->SetEnded();
    });
  }
  ~StateWatch() {
    ctx_.TryCancel();
    thread_.join();
  }
  std::string error() const { return status_.ok() ? "" : status_.error_message(); }

 private:
  grpc::ClientContext ctx_;
  std::unique_ptr<grpc::ClientReader<wf::WatchResponse>> reader_;
  grpc::Status status_;
  std::thread thread_;
};

}  // namespace flyte::loadgen

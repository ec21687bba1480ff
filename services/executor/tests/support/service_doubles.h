#pragma once
// Test doubles of the two services the executor talks to, served by a real rpc::Server on 127.0.0.1 port 0 so
// the executor's real gRPC clients are exercised. They follow the real protocols:
//   TestLeaseService  -- flyte.internal.queue.v1.LeaseService: leases with expiry, delivery counts, long-poll,
//                        lost leases on Heartbeat, FAILED_PRECONDITION for a Complete/Release not held.
//   TestStateService  -- flyteidl2.workflow.StateService Put/Get: ActionEvent JSON, runs-service's phase rule
//                        (answered in-band as FAILED_PRECONDITION), optional injected UNAVAILABLE outages; and
//                        runs-service's batch API flyte.internal.state.v1.StateReportService (can be refused).
// Not a substitute for the real queue-service (queue_integration_test and crash_test use it).
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <google/protobuf/util/json_util.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include "flyte/common/work_pool.h"
#include "flyte/internal/queue/v1/lease_service.pb.h"
#include "flyte/internal/state/v1/state_report_service.pb.h"
#include "flyte/rpc/router.h"
#include "flyte/rpc/server.h"
#include "flyteidl2/task/task_definition.pb.h"
#include "flyteidl2/workflow/run_definition.pb.h"
#include "flyteidl2/workflow/state_service.pb.h"
#include "runtime/action.h"
#include "runtime_testing.h"

namespace flyte::executor::testing {

namespace qv1 = flyte::internal::queue::v1;
namespace sv1 = flyte::internal::state::v1;
namespace wf = flyteidl2::workflow;

inline int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// An EnqueueActionRequest for a /bin/sh task (see ShellTemplate).
inline wf::EnqueueActionRequest ShellAction(const std::string& action, const std::string& script, int retries = 0,
                                            const std::vector<std::string>& args = {}) {
  wf::EnqueueActionRequest r;
  auto* id = r.mutable_action_id();
  id->mutable_run()->set_org("testorg");
  id->mutable_run()->set_project("proj");
  id->mutable_run()->set_domain("dev");
  id->mutable_run()->set_name("rtest");
  id->set_name(action);
  if (action != "a0") r.set_parent_action_name("a0");
  r.mutable_task()->mutable_spec()->mutable_task_template()->ParseFromString(ShellTemplate(script, args, retries));
  return r;
}

class TestLeaseService {
 public:
  explicit TestLeaseService(std::chrono::milliseconds lease_duration = std::chrono::milliseconds(3000))
      : duration_ms_(lease_duration.count()) {}

  void Register(rpc::Router& router) {
    const std::string svc = "flyte.internal.queue.v1.LeaseService";
    router.Unary<qv1::AcquireRequest, qv1::AcquireResponse>(
        svc, "Acquire", [this](const rpc::CallContext&, const qv1::AcquireRequest& req, qv1::AcquireResponse* resp) {
          const int64_t until = NowMs() + std::min<int64_t>(req.wait_ms(), 30000);
          std::unique_lock<std::mutex> lock(mu_);
          while (true) {
            ExpireLocked();
            for (Entry& e : entries_) {
              if (resp->leases_size() >= static_cast<int>(std::max<uint32_t>(1, req.max_leases()))) break;
              if (e.state != State::kQueued) continue;
              e.state = State::kLeased;
              e.executor = req.executor_id();
              e.lease_id = "lease-" + std::to_string(++next_lease_);
              e.expires_ms = NowMs() + duration_ms_;
              ++e.delivery;
              *resp->add_leases() = ToLease(e);
            }
            if (resp->leases_size() > 0 || NowMs() >= until) return absl::OkStatus();
            cv_.wait_for(lock, std::chrono::milliseconds(20));
          }
        });
    router.Unary<qv1::HeartbeatRequest, qv1::HeartbeatResponse>(
        svc, "Heartbeat",
        [this](const rpc::CallContext&, const qv1::HeartbeatRequest& req, qv1::HeartbeatResponse* resp) {
          std::lock_guard<std::mutex> lock(mu_);
          ++heartbeats_;
          ExpireLocked();
          for (const std::string& id : req.lease_ids()) {
            Entry* e = FindLeaseLocked(id, req.executor_id());
            if (e == nullptr) {
              resp->add_lost_lease_ids(id);
              continue;
            }
            e->expires_ms = NowMs() + duration_ms_;
            *resp->add_renewed() = ToLease(*e);
          }
          return absl::OkStatus();
        });
    router.Unary<qv1::CompleteRequest, qv1::CompleteResponse>(
        svc, "Complete", [this](const rpc::CallContext&, const qv1::CompleteRequest& req, qv1::CompleteResponse*) {
          std::lock_guard<std::mutex> lock(mu_);
          Entry* e = FindLeaseLocked(req.lease_id(), req.executor_id());
          if (e == nullptr) return absl::FailedPreconditionError("lease not held by this executor");
          e->state = State::kDone;
          e->final_phase = req.final_phase();
          ++e->completes;
          cv_.notify_all();
          return absl::OkStatus();
        });
    router.Unary<qv1::ReleaseRequest, qv1::ReleaseResponse>(
        svc, "Release", [this](const rpc::CallContext&, const qv1::ReleaseRequest& req, qv1::ReleaseResponse*) {
          std::lock_guard<std::mutex> lock(mu_);
          Entry* e = FindLeaseLocked(req.lease_id(), req.executor_id());
          if (e == nullptr) return absl::FailedPreconditionError("lease not held by this executor");
          e->state = State::kQueued;
          e->lease_id.clear();
          ++releases_;
          cv_.notify_all();
          return absl::OkStatus();
        });
  }

  // `handed_out_before`: deliveries already made (to executors that lost them), as queue-service counts them.
  void Enqueue(const wf::EnqueueActionRequest& action, uint32_t handed_out_before = 0) {
    std::lock_guard<std::mutex> lock(mu_);
    Entry e;
    e.action = action;
    e.delivery = handed_out_before;
    entries_.push_back(std::move(e));
    cv_.notify_all();
  }
  void RequestAbort(const std::string& action, const std::string& reason) {
    std::lock_guard<std::mutex> lock(mu_);
    Entry& e = Get(action);
    e.abort = true;
    e.reason = reason;
  }
  // Takes the lease away as if it had expired and gone to another executor (which never runs it).
  void Steal(const std::string& action) {
    std::lock_guard<std::mutex> lock(mu_);
    Entry& e = Get(action);
    e.executor = "someone-else";
  }
  // Forgets every lease's owner: they come back to the queue (as after an executor's death and expiry).
  void ExpireAll() {
    std::lock_guard<std::mutex> lock(mu_);
    for (Entry& e : entries_) {
      if (e.state == State::kLeased) e.expires_ms = 0;
    }
  }
  // The final phase once Completed, else 0.
  int FinalPhase(const std::string& action) {
    std::lock_guard<std::mutex> lock(mu_);
    Entry& e = Get(action);
    return e.state == State::kDone ? e.final_phase : 0;
  }
  bool WaitDone(const std::string& action, std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return Get(action).state == State::kDone; });
  }
  int Completes(const std::string& action) {
    std::lock_guard<std::mutex> lock(mu_);
    return Get(action).completes;
  }
  uint32_t Delivery(const std::string& action) {
    std::lock_guard<std::mutex> lock(mu_);
    return Get(action).delivery;
  }
  int releases() {
    std::lock_guard<std::mutex> lock(mu_);
    return releases_;
  }
  int heartbeats() {
    std::lock_guard<std::mutex> lock(mu_);
    return heartbeats_;
  }

 private:
  enum class State { kQueued, kLeased, kDone };
  struct Entry {
    wf::EnqueueActionRequest action;
    State state = State::kQueued;
    std::string lease_id;
    std::string executor;
    int64_t expires_ms = 0;
    uint32_t delivery = 0;
    bool abort = false;
    std::string reason;
    int final_phase = 0;
    int completes = 0;
  };

  qv1::Lease ToLease(const Entry& e) const {
    qv1::Lease l;
    l.set_lease_id(e.lease_id);
    *l.mutable_action() = e.action;
    l.set_expires_at_unix_ms(e.expires_ms);
    l.set_delivery(e.delivery);
    l.set_abort_requested(e.abort);
    l.set_abort_reason(e.reason);
    return l;
  }
  void ExpireLocked() {
    for (Entry& e : entries_) {
      if (e.state == State::kLeased && e.expires_ms < NowMs()) {
        e.state = State::kQueued;
        e.lease_id.clear();
      }
    }
  }
  Entry* FindLeaseLocked(const std::string& lease_id, const std::string& executor) {
    for (Entry& e : entries_) {
      if (e.state == State::kLeased && e.lease_id == lease_id && e.executor == executor) return &e;
    }
    return nullptr;
  }
  Entry& Get(const std::string& action) {
    for (Entry& e : entries_) {
      if (e.action.action_id().name() == action) return e;
    }
    throw std::runtime_error("no such action " + action);
  }

  const int64_t duration_ms_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Entry> entries_;
  int next_lease_ = 0;
  int releases_ = 0;
  int heartbeats_ = 0;
};

class TestStateService {
 public:
  struct Put {
    int attempt;
    Phase phase;
    std::string error_code;
    bool accepted;
  };

  void Register(rpc::Router& router) {
    const std::string svc = "flyteidl2.workflow.StateService";
    router.Unary<wf::PutRequest, wf::PutResponse>(
        svc, "Put", [this](const rpc::CallContext&, const wf::PutRequest& req, wf::PutResponse* resp) {
          std::lock_guard<std::mutex> lock(mu_);
          if (unavailable_puts_ > 0) {
            --unavailable_puts_;
            return absl::UnavailableError("runs-service is down (injected)");
          }
          wf::ActionEvent e;
          if (!google::protobuf::util::JsonStringToMessage(req.state(), &e).ok()) {
            resp->mutable_status()->set_code(static_cast<int>(absl::StatusCode::kInvalidArgument));
            return absl::OkStatus();
          }
          *resp->mutable_status() = ApplyLocked(req.action_id().name(), e);
          return absl::OkStatus();
        });
    // runs-service's batch API (the executor falls back to Put when RefuseBatches(true)).
    router.Unary<sv1::ReportRequest, sv1::ReportResponse>(
        "flyte.internal.state.v1.StateReportService", "Report",
        [this](const rpc::CallContext&, const sv1::ReportRequest& req, sv1::ReportResponse* resp) {
          std::lock_guard<std::mutex> lock(mu_);
          if (refuse_batches_) return absl::UnimplementedError("no StateReportService here (injected)");
          ++batches_;
          if (unavailable_puts_ > 0) {
            --unavailable_puts_;
            return absl::UnavailableError("runs-service is down (injected)");
          }
          for (const sv1::StateReport& r : req.reports()) {
            *resp->add_statuses() = ApplyLocked(r.action_id().name(), r.event());
          }
          return absl::OkStatus();
        });
    router.Unary<wf::GetRequest, wf::GetResponse>(
        svc, "Get", [this](const rpc::CallContext&, const wf::GetRequest& req, wf::GetResponse* resp) {
          std::lock_guard<std::mutex> lock(mu_);
          auto it = actions_.find(req.action_id().name());
          if (it == actions_.end()) {
            resp->mutable_status()->set_code(static_cast<int>(absl::StatusCode::kNotFound));
            return absl::OkStatus();
          }
          wf::ActionEvent e;
          e.set_phase(static_cast<flyteidl2::common::ActionPhase>(it->second.phase));
          e.set_attempt(static_cast<uint32_t>(it->second.attempt));
          if (!it->second.error_code.empty()) e.mutable_error_info()->set_code(it->second.error_code);
          (void)google::protobuf::util::MessageToJsonString(e, resp->mutable_state());
          return absl::OkStatus();
        });
  }

  // As if an earlier executor had reported this before dying.
  void Seed(const std::string& action, Phase phase, int attempt) {
    std::lock_guard<std::mutex> lock(mu_);
    actions_[action].phase = phase;
    actions_[action].attempt = attempt;
  }
  void RefuseBatches(bool refuse) {
    std::lock_guard<std::mutex> lock(mu_);
    refuse_batches_ = refuse;
  }
  int batches() {  // Report calls served
    std::lock_guard<std::mutex> lock(mu_);
    return batches_;
  }
  // Fails the next n Put or Report calls with UNAVAILABLE.
  void FailNextPuts(int n) {
    std::lock_guard<std::mutex> lock(mu_);
    unavailable_puts_ = n;
  }
  std::vector<Put> Puts(const std::string& action) {
    std::lock_guard<std::mutex> lock(mu_);
    return actions_[action].puts;
  }
  // "1:INITIALIZING 1:RUNNING 1:SUCCEEDED" of the accepted puts.
  std::string Trace(const std::string& action) {
    std::lock_guard<std::mutex> lock(mu_);
    std::string s;
    for (const Put& p : actions_[action].puts) {
      if (!p.accepted) continue;
      if (!s.empty()) s += " ";
      s += std::to_string(p.attempt) + ":" + PhaseName(p.phase);
    }
    return s;
  }
  bool WaitPhase(const std::string& action, Phase phase,
                 std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, timeout, [&] {
      for (const Put& p : actions_[action].puts) {
        if (p.phase == phase && p.accepted) return true;
      }
      return false;
    });
  }
  int rejected() {
    std::lock_guard<std::mutex> lock(mu_);
    int n = 0;
    for (auto& [name, a] : actions_) {
      for (const Put& p : a.puts) n += p.accepted ? 0 : 1;
    }
    return n;
  }

  // runs-service's rule (services/runs/src/domain/phase.cc).
  static bool Legal(Phase from, Phase to) {
    if (from == to) return true;
    auto retry_target = [](Phase p) {
      return p == Phase::kQueued || p == Phase::kWaitingForResources || p == Phase::kInitializing ||
             p == Phase::kRunning;
    };
    if (IsTerminal(from)) return (from == Phase::kFailed || from == Phase::kTimedOut) && retry_target(to);
    if (to == Phase::kAborted) return true;
    return static_cast<int>(to) > static_cast<int>(from);
  }

 private:
  google::rpc::Status ApplyLocked(const std::string& name, const wf::ActionEvent& e) {
    google::rpc::Status status;
    Action& a = actions_[name];
    const Phase to = static_cast<Phase>(e.phase());
    const bool legal = Legal(a.phase, to);
    a.puts.push_back(Put{static_cast<int>(e.attempt()), to, e.error_info().code(), legal});
    if (!legal) {
      status.set_code(static_cast<int>(absl::StatusCode::kFailedPrecondition));
      status.set_message("illegal phase transition");
    } else {
      a.phase = to;
      a.attempt = std::max<int>(a.attempt, static_cast<int>(e.attempt()));
      a.error_code = e.has_error_info() ? e.error_info().code() : (IsTerminal(to) ? a.error_code : "");
    }
    cv_.notify_all();
    return status;
  }

  struct Action {
    Phase phase = Phase::kQueued;
    int attempt = 0;
    std::string error_code;
    std::vector<Put> puts;
  };
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, Action> actions_;
  int unavailable_puts_ = 0;
  bool refuse_batches_ = false;
  int batches_ = 0;
};

// Both doubles on one real server at 127.0.0.1:<free port>.
class ServiceDoubles {
 public:
  explicit ServiceDoubles(std::chrono::milliseconds lease_duration = std::chrono::milliseconds(3000))
      : leases(lease_duration), pool_("doubles", 16, 1000), router_(&pool_) {
    leases.Register(router_);
    state.Register(router_);
    rpc::ServerOptions options;
    options.host = "127.0.0.1";
    options.port = 0;
    options.shutdown_grace = std::chrono::milliseconds(500);
    server_ = std::make_unique<rpc::Server>(&router_, options);
    absl::Status s = server_->Start();
    if (!s.ok()) throw std::runtime_error(s.ToString());
  }
  ~ServiceDoubles() {
    server_->Shutdown();
    pool_.Shutdown();
  }
  std::string endpoint() const { return "127.0.0.1:" + std::to_string(server_->port()); }
  std::shared_ptr<grpc::Channel> Channel() const {
    return grpc::CreateChannel(endpoint(), grpc::InsecureChannelCredentials());
  }

  TestLeaseService leases;
  TestStateService state;

 private:
  common::WorkPool pool_;
  rpc::Router router_;
  std::unique_ptr<rpc::Server> server_;
};

}  // namespace flyte::executor::testing

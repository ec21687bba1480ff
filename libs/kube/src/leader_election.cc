#include "flyte/kube/leader_election.h"

#include "absl/strings/str_cat.h"
#include "flyte/app/log.h"

namespace flyte::kube {

LeaderElector::LeaderElector(Client& client, LeaderElectionConfig config, LeaderCallbacks callbacks)
    : client_(client), config_(std::move(config)), callbacks_(std::move(callbacks)) {}

LeaderElector::~LeaderElector() { Stop(); }

void LeaderElector::Start() { thread_ = std::thread([this] { Run(); }); }

void LeaderElector::Stop(bool release) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
    release_on_stop_ = release;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::string LeaderElector::observed_holder() const {
  std::lock_guard<std::mutex> lock(mu_);
  return observed_holder_;
}

bool LeaderElector::TryAcquireOrRenew() {
  const auto now_wall = std::chrono::system_clock::now();
  const int duration_s = static_cast<int>(
      std::max<int64_t>(1, std::chrono::duration_cast<std::chrono::seconds>(config_.lease_duration).count()));
  absl::StatusOr<Json> got = client_.Get(kLeases, config_.ns, config_.name);
  if (absl::IsNotFound(got.status())) {
    Json lease = {{"apiVersion", "coordination.k8s.io/v1"},
                  {"kind", "Lease"},
                  {"metadata", {{"name", config_.name}, {"namespace", config_.ns}}},
                  {"spec",
                   {{"holderIdentity", config_.identity},
                    {"leaseDurationSeconds", duration_s},
                    {"acquireTime", FormatMicroTime(now_wall)},
                    {"renewTime", FormatMicroTime(now_wall)},
                    {"leaseTransitions", 0}}}};
    absl::StatusOr<Json> created = client_.Create(kLeases, config_.ns, lease);
    if (!created.ok()) return false;
    std::lock_guard<std::mutex> lock(mu_);
    observed_holder_ = config_.identity;
    observed_at_ = std::chrono::steady_clock::now();
    return true;
  }
  if (!got.ok()) return false;
  Json& lease = *got;
  Json& spec = lease["spec"];
  if (!spec.is_object()) spec = Json::object();
  const std::string holder = spec.value("holderIdentity", "");
  const std::string record = absl::StrCat(holder, "|", spec.value("renewTime", ""), "|",
                                          lease["metadata"].value("resourceVersion", ""));
  const auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (record != observed_record_) {
      observed_record_ = record;
      observed_at_ = now;
    }
    observed_holder_ = holder;
    // Someone else holds a lease that has changed within its duration: not ours to take.
    if (!holder.empty() && holder != config_.identity && now < observed_at_ + config_.lease_duration) return false;
  }
  if (holder != config_.identity) {
    spec["acquireTime"] = FormatMicroTime(now_wall);
    spec["leaseTransitions"] = spec.value("leaseTransitions", 0) + 1;
  }
  spec["holderIdentity"] = config_.identity;
  spec["leaseDurationSeconds"] = duration_s;
  spec["renewTime"] = FormatMicroTime(now_wall);
  absl::StatusOr<Json> updated = client_.Update(kLeases, config_.ns, lease);
  if (!updated.ok()) return false;
  std::lock_guard<std::mutex> lock(mu_);
  observed_holder_ = config_.identity;
  observed_record_ = absl::StrCat(config_.identity, "|", (*updated)["spec"].value("renewTime", ""), "|",
                                  (*updated)["metadata"].value("resourceVersion", ""));
  observed_at_ = now;
  return true;
}

void LeaderElector::Release() {
  absl::StatusOr<Json> got = client_.Get(kLeases, config_.ns, config_.name);
  if (!got.ok() || (*got)["spec"].value("holderIdentity", "") != config_.identity) return;
  (*got)["spec"]["holderIdentity"] = "";
  (*got)["spec"]["leaseDurationSeconds"] = 1;
  (*got)["spec"]["renewTime"] = FormatMicroTime(std::chrono::system_clock::now());
  (void)client_.Update(kLeases, config_.ns, *got);
}

void LeaderElector::Run() {
  auto last_renewed = std::chrono::steady_clock::now();
  while (true) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) break;
    }
    bool held = TryAcquireOrRenew();
    auto now = std::chrono::steady_clock::now();
    if (held) {
      last_renewed = now;
      if (!leader_.exchange(true)) {
        FLYTE_LOG(kInfo, "leader election: {} now leads (lease {}/{})", config_.identity, config_.ns, config_.name);
        if (callbacks_.on_started_leading) callbacks_.on_started_leading();
      }
    } else if (leader_.load() && now - last_renewed >= config_.renew_deadline) {
      leader_.store(false);
      FLYTE_LOG(kWarn, "leader election: {} could not renew lease {}/{} for {} ms; stepping down", config_.identity,
                config_.ns, config_.name, config_.renew_deadline.count());
      if (callbacks_.on_stopped_leading) callbacks_.on_stopped_leading();
    }
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, config_.retry_period, [this] { return stopping_; });
  }
  if (leader_.exchange(false)) {
    if (callbacks_.on_stopped_leading) callbacks_.on_stopped_leading();
    if (release_on_stop_) Release();
  }
}

}  // namespace flyte::kube

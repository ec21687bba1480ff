#pragma once
// Leader election over a coordination.k8s.io/v1 Lease, as client-go does it: the holder renews the Lease every
// `retry_period`; a candidate takes it over only when the record has not changed for `lease_duration` as measured
// by the candidate's own clock (no trust in other machines' clocks). A leader that cannot renew for
// `renew_deadline` steps down. Every write carries the resourceVersion read, so two candidates never both win.
//
// Callbacks run on the elector's thread: on_started_leading when this process becomes the leader,
// on_stopped_leading when it stops being it (renewal failed, or Stop). Stop releases a held lease (holder cleared)
// so a successor does not wait out the lease.
// Thread-safe; Start once.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "flyte/kube/client.h"

namespace flyte::kube {

struct LeaderElectionConfig {
  std::string ns;
  std::string name;      // the Lease's name
  std::string identity;  // this process (unique: hostname + pid + start time)
  std::chrono::milliseconds lease_duration{15000};
  std::chrono::milliseconds renew_deadline{10000};
  std::chrono::milliseconds retry_period{2000};
};

struct LeaderCallbacks {
  std::function<void()> on_started_leading;
  std::function<void()> on_stopped_leading;
};

class LeaderElector {
 public:
  LeaderElector(Client& client, LeaderElectionConfig config, LeaderCallbacks callbacks);
  ~LeaderElector();  // Stop()
  LeaderElector(const LeaderElector&) = delete;
  LeaderElector& operator=(const LeaderElector&) = delete;

  void Start();
  // `release`: clear the holder so a successor takes over at once (false: leave it to expire, as a crash would).
  void Stop(bool release = true);
  bool is_leader() const { return leader_.load(); }
  // The holder last seen in the Lease ("" if none).
  std::string observed_holder() const;

 private:
  void Run();
  // One attempt: true when this process holds the lease afterwards.
  bool TryAcquireOrRenew();
  void Release();

  Client& client_;
  const LeaderElectionConfig config_;
  const LeaderCallbacks callbacks_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  bool release_on_stop_ = true;
  std::atomic<bool> leader_{false};
  std::string observed_record_;  // holder + renewTime + version of the last record seen
  std::string observed_holder_;
  std::chrono::steady_clock::time_point observed_at_{};
  std::thread thread_;
};

}  // namespace flyte::kube

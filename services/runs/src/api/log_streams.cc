#include "api/log_streams.h"

#include <google/protobuf/util/time_util.h>

#include "absl/strings/str_cat.h"
#include "flyte/app/log.h"

namespace flyte::runs::api {

namespace dp = flyteidl2::dataproxy;

struct LogStreams::Follower {
  uint64_t id = 0;
  std::unique_ptr<LogTail> tail;
  rpc::ServerStream<dp::TailLogsResponse> stream;
  std::mutex mu;
  std::condition_variable cv;
  bool stop = false;  // the stream ended on the transport side, or Shutdown

  Follower(uint64_t i, std::unique_ptr<LogTail> t, rpc::ServerStream<dp::TailLogsResponse> s)
      : id(i), tail(std::move(t)), stream(std::move(s)) {}
  void Stop() {
    std::lock_guard<std::mutex> l(mu);
    stop = true;
    cv.notify_all();
  }
  // Sleeps up to `d`; false when stopped.
  bool Wait(std::chrono::milliseconds d) {
    std::unique_lock<std::mutex> l(mu);
    cv.wait_for(l, d, [this] { return stop; });
    return !stop;
  }
};

LogStreams::LogStreams(LogStreamsOptions options) : options_(options) {
  if (options_.metrics != nullptr) {
    gauge_ = &prometheus::BuildGauge()
                  .Name("flyte_runs_log_streams")
                  .Help("TailLogs streams being followed, one thread each (at most runs.logs.maxStreams)")
                  .Register(options_.metrics->prometheus())
                  .Add({});
  }
}

absl::Status LogStreams::Follow(std::unique_ptr<LogTail> tail, rpc::ServerStream<dp::TailLogsResponse> stream) {
  std::vector<std::thread> to_join;
  absl::Status status = absl::OkStatus();
  {
    std::lock_guard<std::mutex> l(mu_);
    JoinEndedLocked(&to_join);
    if (shut_down_) {
      status = absl::UnavailableError("runs-service is shutting down");
    } else if (running_.size() >= options_.max_streams) {
      status = absl::ResourceExhaustedError(absl::StrCat(
          running_.size(), " log streams are open already, the most runs.logs.maxStreams allows; try again later"));
    } else {
      auto f = std::make_shared<Follower>(next_id_++, std::move(tail), stream);
      running_[f->id] = f;
      if (gauge_ != nullptr) gauge_->Set(static_cast<double>(running_.size()));
      threads_[f->id] = std::thread([this, f] { Run(f); });
      // Registered after the thread exists: OnDone may run at once when the client is gone already.
      std::weak_ptr<Follower> weak = f;
      stream.OnDone([weak] {
        if (auto alive = weak.lock()) alive->Stop();
      });
    }
  }
  for (std::thread& t : to_join) t.join();
  return status;
}

void LogStreams::Run(const std::shared_ptr<Follower>& f) {
  const auto backlog_wait = std::min(options_.poll_interval, std::chrono::milliseconds(20));
  while (!f->stream.done()) {
    if (f->stream.queued() >= options_.max_queued_messages) {
      if (!f->Wait(backlog_wait)) break;
      continue;
    }
    absl::StatusOr<LogTail::Batch> batch = f->tail->Next();
    if (!batch.ok()) {
      FLYTE_LOG(kWarn, "TailLogs {}/{} attempt {}: {}", f->tail->key().run.name, f->tail->key().name,
                f->tail->attempt(), batch.status().ToString());
      f->stream.Finish(batch.status());
      break;
    }
    if (!batch->lines.empty() && !f->stream.Send(ToTailLogsResponse(batch->lines))) break;
    if (batch->finished) {
      f->stream.Finish(absl::OkStatus());
      break;
    }
    if (batch->lines.empty() && !f->Wait(options_.poll_interval)) break;
  }
  // Releases the reader (files, connections) now, not when the thread is joined.
  f->tail.reset();
  std::lock_guard<std::mutex> l(mu_);
  running_.erase(f->id);
  ended_.push_back(f->id);
  if (gauge_ != nullptr) gauge_->Set(static_cast<double>(running_.size()));
}

void LogStreams::JoinEndedLocked(std::vector<std::thread>* to_join) {
  for (uint64_t id : ended_) {
    auto it = threads_.find(id);
    if (it == threads_.end()) continue;
    to_join->push_back(std::move(it->second));
    threads_.erase(it);
  }
  ended_.clear();
}

size_t LogStreams::active() const {
  std::lock_guard<std::mutex> l(mu_);
  return running_.size();
}

void LogStreams::Shutdown() {
  std::vector<std::shared_ptr<Follower>> running;
  std::vector<std::thread> to_join;
  {
    std::lock_guard<std::mutex> l(mu_);
    shut_down_ = true;
    for (auto& [id, f] : running_) running.push_back(f);
    for (auto& [id, t] : threads_) to_join.push_back(std::move(t));
    threads_.clear();
    ended_.clear();
  }
  for (auto& f : running) {
    f->stream.Finish(absl::UnavailableError("runs-service is shutting down"));
    f->Stop();
  }
  for (std::thread& t : to_join) t.join();
}

dp::TailLogsResponse ToTailLogsResponse(const std::vector<LogLine>& lines) {
  dp::TailLogsResponse resp;
  dp::TailLogsResponse::Logs* logs = nullptr;
  for (const LogLine& line : lines) {
    if (logs == nullptr || logs->container().kubernetes_container_name() != line.container ||
        logs->container().kubernetes_pod_name() != line.pod_name) {
      logs = resp.add_logs();
      auto* c = logs->mutable_container();
      c->set_kubernetes_namespace(line.pod_namespace);
      c->set_kubernetes_pod_name(line.pod_name);
      c->set_kubernetes_container_name(line.container);
    }
    auto* out = logs->add_lines();
    *out->mutable_timestamp() =
        google::protobuf::util::TimeUtil::MicrosecondsToTimestamp(common::ToUnixMicros(line.time));
    out->set_message(line.text);
    out->set_originator(flyteidl2::logs::dataplane::USER);
  }
  return resp;
}

}  // namespace flyte::runs::api

#include "logs/pod_log_source.h"

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "absl/strings/str_cat.h"
#include "flyte/kube/task_action.h"
#include "logs/line_assembler.h"

namespace flyte::runs {
namespace {

constexpr char kPrimaryContainerAnnotation[] = "flyte.org/primary-container";

std::string PrimaryContainer(const kube::Json& pod) {
  const kube::Json& meta = pod.value("metadata", kube::Json::object());
  if (meta.contains("annotations") && meta["annotations"].is_object()) {
    auto it = meta["annotations"].find(kPrimaryContainerAnnotation);
    if (it != meta["annotations"].end() && it->is_string()) return it->get<std::string>();
  }
  const kube::Json& spec = pod.value("spec", kube::Json::object());
  if (spec.contains("containers") && spec["containers"].is_array() && !spec["containers"].empty()) {
    return spec["containers"][0].value("name", "");
  }
  return "";
}

class PodLogReader final : public LogReader {
 public:
  PodLogReader(kube::Client& client, const PodLogSourceOptions& options, std::string pod)
      : client_(client), options_(options), pod_(std::move(pod)), lines_(options.max_line_bytes) {
    thread_ = std::thread([this] { Follow(); });
  }

  ~PodLogReader() override {
    {
      std::lock_guard<std::mutex> l(mu_);
      stopping_ = true;
      cv_.notify_all();
    }
    stop_.Stop();
    thread_.join();
  }

  absl::StatusOr<bool> Read(bool writer_done, size_t max_bytes, std::vector<LogLine>* out) override {
    std::string bytes, container;
    bool ended, quiet;
    {
      std::lock_guard<std::mutex> l(mu_);
      const auto now = std::chrono::steady_clock::now();
      if (writer_done && !writer_done_seen_) {
        writer_done_seen_ = true;
        last_data_ = std::max(last_data_, now);
      }
      size_t n = std::min(max_bytes, buffer_.size());
      bytes.assign(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(n));
      buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(n));
      cv_.notify_all();
      ended = ended_ && buffer_.empty();
      container = container_;
      // The attempt is over and nothing came for a while: no Pod log to read (the Pod is gone or never ran), or a
      // follow the server keeps open after the container ended.
      quiet = writer_done_seen_ && buffer_.empty() && now - last_data_ >= options_.end_grace;
      if (ended && !error_.ok() && bytes.empty()) return error_;  // after every line read before it
    }
    std::vector<std::string> texts;
    lines_.Add(bytes, &texts);
    if (ended || quiet) lines_.Flush(&texts);
    TimePoint now = std::chrono::system_clock::now();
    for (const std::string& t : texts) {
      LogLine line;
      SplitTimestamp(t, now, &line);
      line.container = container;
      line.pod_namespace = options_.ns;
      line.pod_name = pod_;
      out->push_back(std::move(line));
    }
    return ended || quiet;
  }

  // The reader's thread: find the Pod, follow its primary container's log, retry while there is none yet.
  void Follow() {
    const std::string base = kube::kPods.Path(options_.ns, pod_, "log");
    while (!Stopping()) {
      absl::StatusOr<kube::Json> pod = client_.Get(kube::kPods, options_.ns, pod_);
      absl::Status status;
      if (pod.ok()) {
        std::string container = PrimaryContainer(*pod);
        {
          std::lock_guard<std::mutex> l(mu_);
          container_ = container;
        }
        std::string query = absl::StrCat(base, "?follow=true&timestamps=true");
        if (!container.empty()) absl::StrAppend(&query, "&container=", container);
        status = client_.Stream(query, [this](const std::string& chunk) { return Append(chunk); }, &stop_);
      } else {
        status = pod.status();
      }
      std::unique_lock<std::mutex> l(mu_);
      if (status.ok() || stopping_) {
        ended_ = true;
        return;
      }
      // Data already read cannot be asked for again without repeating it: a broken follow ends the log.
      if (received_any_ || (status.code() != absl::StatusCode::kNotFound &&
                            status.code() != absl::StatusCode::kInvalidArgument &&
                            status.code() != absl::StatusCode::kUnavailable)) {
        error_ = status;
        ended_ = true;
        return;
      }
      cv_.wait_for(l, options_.retry_interval, [this] { return stopping_; });
    }
  }

  // Stream callback: waits while the buffer is full; false stops the follow.
  bool Append(const std::string& chunk) {
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait(l, [&] { return stopping_ || buffer_.size() < options_.buffer_bytes; });
    if (stopping_) return false;
    buffer_.insert(buffer_.end(), chunk.begin(), chunk.end());
    received_any_ = received_any_ || !chunk.empty();
    last_data_ = std::chrono::steady_clock::now();
    return true;
  }

  bool Stopping() {
    std::lock_guard<std::mutex> l(mu_);
    return stopping_;
  }

  kube::Client& client_;
  const PodLogSourceOptions options_;
  const std::string pod_;
  LineAssembler lines_;  // Read's side only
  kube::StopToken stop_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<char> buffer_;
  std::string container_;
  bool stopping_ = false;
  bool ended_ = false;
  bool received_any_ = false;
  absl::Status error_;
  bool writer_done_seen_ = false;
  std::chrono::steady_clock::time_point last_data_{};  // last bytes received, or when the attempt was seen over
  std::thread thread_;  // last: started once everything above exists
};

}  // namespace

void SplitTimestamp(const std::string& line, TimePoint fallback, LogLine* out) {
  size_t sp = line.find(' ');
  if (sp != std::string::npos && sp >= 20 && sp <= 40) {
    absl::StatusOr<std::chrono::system_clock::time_point> t = kube::ParseTime(line.substr(0, sp));
    if (t.ok()) {
      out->time = *t;
      out->text = line.substr(sp + 1);
      return;
    }
  }
  out->time = fallback;
  out->text = line;
}

absl::StatusOr<std::unique_ptr<LogReader>> PodLogSource::Open(const AttemptLogRef& a) {
  kube::ActionRef ref{a.key.run.org, a.key.run.project, a.key.run.domain, a.key.run.name, a.key.name};
  return std::unique_ptr<LogReader>(new PodLogReader(client_, options_, kube::PodName(ref, static_cast<int>(a.attempt))));
}

}  // namespace flyte::runs

#include "clients/state_reporter.h"

#include <algorithm>
#include <functional>

#include "flyte/app/log.h"

namespace flyte::executor {

bool StateReporter::IsRetryable(const absl::Status& s) { return StateClient::IsTransportTrouble(s); }

StateReporter::StateReporter(StateClient& client, StateReporterOptions options)
    : client_(client), options_(options) {
  thread_ = std::thread([this] { Run(); });
}

StateReporter::~StateReporter() { Shutdown(); }

void StateReporter::Report(StateReport report, Done done) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!stopping_) {
      items_.push_back(Item{std::move(report), std::move(done)});
      // A sender busy with a call takes what queued up when it comes back; waking it (or its retry backoff) per
      // report would only cost a context switch each.
      if (sender_idle_) {
        sender_idle_ = false;
        cv_.notify_all();
      }
      return;
    }
  }
  if (done) done(absl::CancelledError("state reporter stopped"));
}

bool StateReporter::Flush(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  return idle_cv_.wait_for(lock, timeout, [this] { return items_.empty() && in_flight_ == 0; });
}

size_t StateReporter::pending() const {
  std::lock_guard<std::mutex> lock(mu_);
  return items_.size() + in_flight_;
}

uint64_t StateReporter::retries() const {
  std::lock_guard<std::mutex> lock(mu_);
  return retries_;
}

void StateReporter::Shutdown() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    cv_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
  std::vector<Item> left;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (Item& i : items_) left.push_back(std::move(i));
    items_.clear();
    idle_cv_.notify_all();
  }
  for (Item& i : left) {
    if (i.done) i.done(absl::CancelledError("state reporter stopped"));
  }
}

void StateReporter::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    sender_idle_ = true;
    cv_.wait(lock, [&] { return stopping_ || !items_.empty(); });
    sender_idle_ = false;
    if (stopping_) return;
    std::vector<Item> batch;
    const size_t n = std::min(items_.size(), std::max<size_t>(1, options_.max_batch));
    for (size_t i = 0; i < n; ++i) {
      batch.push_back(std::move(items_.front()));
      items_.pop_front();
    }
    in_flight_ = batch.size();
    lock.unlock();
    const bool answered = SendUntilAnswered(batch);
    lock.lock();
    if (!answered) {
      // Back at the front, in order, so Shutdown hands them to done(kCancelled) with the rest.
      for (auto it = batch.rbegin(); it != batch.rend(); ++it) items_.push_front(std::move(*it));
      in_flight_ = 0;
      idle_cv_.notify_all();
      return;
    }
    in_flight_ = 0;
    idle_cv_.notify_all();
  }
}

bool StateReporter::SendUntilAnswered(std::vector<Item>& batch) {
  std::chrono::milliseconds backoff = options_.initial_backoff;
  while (!batch.empty()) {
    std::vector<StateReport> reports;
    reports.reserve(batch.size());
    for (const Item& i : batch) reports.push_back(i.report);
    absl::StatusOr<std::vector<absl::Status>> got = client_.PutBatch(reports);
    // Answered reports are done; from the first one that met transport trouble on, the rest go again (later
    // reports of the same action must not overtake it).
    size_t answered = 0;
    absl::Status trouble = got.status();
    if (got.ok()) {
      while (answered < got->size() && !IsRetryable((*got)[answered])) ++answered;
      trouble = answered < got->size() ? (*got)[answered] : absl::OkStatus();
    }
    for (size_t i = 0; i < answered; ++i) {
      const absl::Status& s = (*got)[i];
      if (!s.ok()) {
        const ActionTransition& t = batch[i].report.transition;
        FLYTE_LOG(kWarn, "state report {} attempt {} {} refused by runs-service, skipped: {}", t.key.ToString(),
                  t.attempt, PhaseName(t.phase), s.ToString());
      }
      if (batch[i].done) batch[i].done(s);
    }
    batch.erase(batch.begin(), batch.begin() + static_cast<std::ptrdiff_t>(answered));
    if (batch.empty()) return true;

    const ActionTransition& t = batch.front().report.transition;
    FLYTE_LOG(kWarn, "{} state report(s) from {} attempt {} {} on not delivered, retrying in {}ms: {}", batch.size(),
              t.key.ToString(), t.attempt, PhaseName(t.phase), backoff.count(), trouble.ToString());
    std::unique_lock<std::mutex> lock(mu_);
    ++retries_;
    if (cv_.wait_for(lock, backoff, [this] { return stopping_; })) return false;
    backoff = std::min(backoff * 2, options_.max_backoff);
  }
  return true;
}

}  // namespace flyte::executor

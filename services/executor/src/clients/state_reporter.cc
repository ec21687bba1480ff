#include "clients/state_reporter.h"

#include <algorithm>
#include <functional>

#include "flyte/app/log.h"

namespace flyte::executor {

bool StateReporter::IsRetryable(const absl::Status& s) {
  switch (s.code()) {
    case absl::StatusCode::kOk:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kOutOfRange:
    case absl::StatusCode::kPermissionDenied:
    case absl::StatusCode::kUnauthenticated:
    case absl::StatusCode::kUnimplemented:
      return false;
    default:
      // kUnavailable, kDeadlineExceeded, kResourceExhausted, kInternal, kUnknown, kAborted, kCancelled...
      return true;
  }
}

StateReporter::StateReporter(StateClient& client, StateReporterOptions options)
    : client_(client), options_(options) {
  const size_t n = std::max<size_t>(1, options_.shards);
  for (size_t i = 0; i < n; ++i) shards_.push_back(std::make_unique<Shard>());
  for (auto& s : shards_) {
    Shard* shard = s.get();
    shard->thread = std::thread([this, shard] { Run(*shard); });
  }
}

StateReporter::~StateReporter() { Shutdown(); }

void StateReporter::Report(StateReport report, Done done) {
  const size_t index = std::hash<std::string>{}(report.transition.key.ToString()) % shards_.size();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!stopping_) {
      shards_[index]->items.push_back(Item{std::move(report), std::move(done)});
      cv_.notify_all();
      return;
    }
  }
  if (done) done(absl::CancelledError("state reporter stopped"));
}

bool StateReporter::Flush(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  return idle_cv_.wait_for(lock, timeout, [this] {
    for (const auto& s : shards_) {
      if (!s->items.empty() || s->busy) return false;
    }
    return true;
  });
}

size_t StateReporter::pending() const {
  std::lock_guard<std::mutex> lock(mu_);
  size_t n = 0;
  for (const auto& s : shards_) n += s->items.size() + (s->busy ? 1 : 0);
  return n;
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
  for (auto& s : shards_) {
    if (s->thread.joinable()) s->thread.join();
  }
  std::vector<Item> left;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& s : shards_) {
      for (Item& i : s->items) left.push_back(std::move(i));
      s->items.clear();
    }
    idle_cv_.notify_all();
  }
  for (Item& i : left) {
    if (i.done) i.done(absl::CancelledError("state reporter stopped"));
  }
}

void StateReporter::Run(Shard& shard) {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    cv_.wait(lock, [&] { return stopping_ || !shard.items.empty(); });
    if (stopping_) return;
    Item item = std::move(shard.items.front());
    shard.items.pop_front();
    shard.busy = true;
    lock.unlock();

    const ActionTransition& t = item.report.transition;
    std::chrono::milliseconds backoff = options_.initial_backoff;
    absl::Status s;
    while (true) {
      s = client_.Put(item.report);
      if (!IsRetryable(s)) break;
      FLYTE_LOG(kWarn, "state report {} attempt {} {} not delivered, retrying in {}ms: {}", t.key.ToString(),
                t.attempt, PhaseName(t.phase), backoff.count(), s.ToString());
      lock.lock();
      ++retries_;
      if (cv_.wait_for(lock, backoff, [this] { return stopping_; })) {
        // Back in the queue, so Shutdown hands it to done(kCancelled) with the rest.
        shard.items.push_front(std::move(item));
        shard.busy = false;
        idle_cv_.notify_all();
        return;
      }
      lock.unlock();
      backoff = std::min(backoff * 2, options_.max_backoff);
    }
    if (!s.ok()) {
      FLYTE_LOG(kWarn, "state report {} attempt {} {} refused by runs-service, skipped: {}", t.key.ToString(),
                t.attempt, PhaseName(t.phase), s.ToString());
    }
    if (item.done) item.done(s);
    lock.lock();
    shard.busy = false;
    idle_cv_.notify_all();
  }
}

}  // namespace flyte::executor

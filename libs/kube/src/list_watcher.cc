#include "flyte/kube/list_watcher.h"

#include <algorithm>

#include "flyte/app/log.h"

namespace flyte::kube {

ListWatcher::ListWatcher(Client& client, Resource resource, std::string ns, ListWatchHandlers handlers,
                         ListWatchOptions options)
    : client_(client),
      resource_(std::move(resource)),
      ns_(std::move(ns)),
      handlers_(std::move(handlers)),
      options_(std::move(options)) {}

ListWatcher::~ListWatcher() { Stop(); }

void ListWatcher::Start() { thread_ = std::thread([this] { Run(); }); }

void ListWatcher::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    if (active_ != nullptr) active_->Stop();
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool ListWatcher::WaitForSync(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!synced_.load()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

void ListWatcher::Backoff(int failures) {
  auto delay = options_.min_backoff * (1LL << std::min(failures, 10));
  delay = std::min<std::chrono::milliseconds>(delay, options_.max_backoff);
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, delay, [this] { return stopping_; });
}

bool ListWatcher::ListAll() {
  for (int failures = 0;; ++failures) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) return false;
    }
    std::vector<Json> items;
    ListOptions lo;
    lo.label_selector = options_.label_selector;
    lo.limit = options_.page_size;
    absl::Status status;
    std::string version;
    while (true) {
      absl::StatusOr<ListResult> page = client_.List(resource_, ns_, lo);
      if (!page.ok()) {
        status = page.status();
        break;
      }
      if (version.empty()) version = page->resource_version;
      for (Json& item : page->items) items.push_back(std::move(item));
      if (page->continue_token.empty()) break;
      lo.continue_token = page->continue_token;
    }
    if (status.ok()) {
      resource_version_ = version;
      handlers_.on_list(std::move(items));
      if (synced_.exchange(true)) ++relists_;
      return true;
    }
    if (failures % 10 == 0) {
      FLYTE_LOG(kWarn, "kubernetes: listing {} in {} failed ({}); retrying", resource_.plural, ns_, status.ToString());
    }
    Backoff(failures);
  }
}

void ListWatcher::Run() {
  while (ListAll()) {
    int failures = 0;
    while (true) {
      StopToken token;
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (stopping_) return;
        active_ = &token;
      }
      WatchOptions wo;
      wo.resource_version = resource_version_;
      wo.label_selector = options_.label_selector;
      wo.timeout_seconds = options_.watch_timeout_seconds;
      bool got_event = false;
      absl::Status s = client_.Watch(
          resource_, ns_, wo,
          [&](WatchEvent ev) {
            got_event = true;
            const Json& meta = ev.object["metadata"];
            if (meta.is_object() && meta.contains("resourceVersion") && meta["resourceVersion"].is_string()) {
              resource_version_ = meta["resourceVersion"];
            }
            if (ev.type != WatchEventType::kBookmark) handlers_.on_event(ev.type, std::move(ev.object));
          },
          &token);
      {
        std::lock_guard<std::mutex> lock(mu_);
        active_ = nullptr;
        if (stopping_) return;
      }
      if (s.ok()) {  // the server ended the watch (its timeout): resume where we were
        failures = 0;
        continue;
      }
      if (s.code() == absl::StatusCode::kOutOfRange) {
        FLYTE_LOG(kInfo, "kubernetes: watch of {} expired ({}); listing again", resource_.plural, std::string(s.message()));
        break;
      }
      if (got_event) failures = 0;
      if (failures % 10 == 0) {
        FLYTE_LOG(kWarn, "kubernetes: watch of {} in {} failed ({}); retrying", resource_.plural, ns_, s.ToString());
      }
      Backoff(failures++);
    }
  }
}

}  // namespace flyte::kube

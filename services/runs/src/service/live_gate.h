#pragma once
// Orders one watch: subscribe first, send the snapshot, then go live. Events that arrive from the hub while the
// snapshot is being sent are held and replayed (in arrival order) once Open() is called, so a watcher never sees
// a live event before the snapshot and never misses one that happened during it.
//
// Thread-safe: OnEvent may run on the dispatcher thread while Open runs on a pool thread. `handler` runs under
// the gate's lock, one call at a time; it returns false to end the watch (stream finished or refused a message),
// after which every later event is ignored.
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

namespace flyte::runs {

template <class Event>
class LiveGate {
 public:
  using Handler = std::function<bool(const Event&)>;
  explicit LiveGate(Handler handler) : handler_(std::move(handler)) {}

  void OnEvent(const Event& e) {
    std::lock_guard<std::mutex> lock(mu_);
    if (ended_) return;
    if (!open_) {
      held_.push_back(e);
      return;
    }
    if (!handler_(e)) End();
  }

  // Replays held events, then delivers live ones directly.
  void Open() {
    std::lock_guard<std::mutex> lock(mu_);
    if (ended_) return;
    for (const Event& e : held_) {
      if (!handler_(e)) {
        End();
        return;
      }
    }
    held_.clear();
    open_ = true;
  }

  // Stops delivery (e.g. the snapshot already ended the watch).
  void Close() {
    std::lock_guard<std::mutex> lock(mu_);
    End();
  }

 private:
  void End() {
    ended_ = true;
    held_.clear();
    handler_ = nullptr;  // drops whatever the handler captured (the stream)
  }

  std::mutex mu_;
  Handler handler_;
  std::vector<Event> held_;
  bool open_ = false;
  bool ended_ = false;
};

}  // namespace flyte::runs

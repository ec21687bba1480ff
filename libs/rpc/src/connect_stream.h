#pragma once
// The Connect side of one server stream (internal to the HTTP/1.1 transport). Frames are encoded on the caller's
// thread and queued here; the session's strand takes them and writes them, one write in flight. Thread-safe.
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "connect_codec.h"
#include "http_session.h"

namespace flyte::rpc::internal {

// Messages (unary answers and stream frames) of at least this many bytes are gzipped for clients that accept it.
inline constexpr size_t kGzipMinBytes = 1024;
// Frames queued when a write starts go out together, up to this many bytes.
inline constexpr size_t kMaxBatchBytes = 256 * 1024;

class ConnectStream final : public RawServerStream {
 public:
  enum class Next { kNone, kFrame, kEnd };

  ConnectStream(std::weak_ptr<HttpSession> session, std::shared_ptr<IoGate> gate, connect::Codec codec, bool gzip,
                size_t backlog)
      : session_(std::move(session)), gate_(std::move(gate)), codec_(codec), gzip_(gzip), backlog_(backlog) {}

  bool Send(const google::protobuf::Message& msg) override {
    absl::StatusOr<std::string> frame = connect::EncodeEnvelopedMessage(msg, codec_, gzip_ ? kGzipMinBytes : 0);
    if (!frame.ok()) {
      Finish(frame.status());
      return false;
    }
    std::unique_lock<std::mutex> l(mu_);
    if (over_) return false;
    // Frames handed to the socket but not yet written count as pending too.
    if (queue_.size() + in_flight_ >= backlog_) {
      queue_.clear();
      auto cbs = EndLocked(absl::ResourceExhaustedError("stream backlog exceeded: client too slow, re-watch"));
      bool kick = KickLocked();
      l.unlock();
      if (kick) Kick();
      for (auto& cb : cbs) cb();
      return false;
    }
    queue_.push_back(std::move(*frame));
    bool kick = KickLocked();
    l.unlock();
    if (kick) Kick();
    return true;
  }

  void Finish(const absl::Status& status) override {
    std::unique_lock<std::mutex> l(mu_);
    if (over_) return;
    auto cbs = EndLocked(status);
    bool kick = KickLocked();
    l.unlock();
    if (kick) Kick();
    for (auto& cb : cbs) cb();
  }

  void OnDone(std::function<void()> fn) override {
    std::unique_lock<std::mutex> l(mu_);
    if (!over_) {
      callbacks_.push_back(std::move(fn));
      return;
    }
    l.unlock();
    fn();
  }

  bool done() const override {
    std::lock_guard<std::mutex> l(mu_);
    return over_;
  }

  size_t queued() const override {
    std::lock_guard<std::mutex> l(mu_);
    return queue_.size() + in_flight_;
  }

  // Strand side: the next bytes to write. Every queued frame (up to kMaxBatchBytes) goes in one chunk and one
  // write; they stay counted against the backlog until WriteDone.
  Next Take(std::vector<std::string>* frames) {
    std::lock_guard<std::mutex> l(mu_);
    kick_pending_ = false;
    frames->clear();
    if (!queue_.empty()) {
      size_t bytes = 0;
      while (!queue_.empty() && (frames->empty() || bytes + queue_.front().size() <= kMaxBatchBytes)) {
        bytes += queue_.front().size();
        frames->push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      in_flight_ = frames->size();
      return Next::kFrame;
    }
    frames->resize(1);
    std::string* frame = &frames->front();
    if (end_frame_) {
      *frame = std::move(*end_frame_);
      end_frame_.reset();
      return Next::kEnd;
    }
    frames->clear();
    return Next::kNone;
  }

  void WriteDone() {
    std::lock_guard<std::mutex> l(mu_);
    in_flight_ = 0;
  }

  void ClientGone() {
    std::unique_lock<std::mutex> l(mu_);
    queue_.clear();
    in_flight_ = 0;
    end_frame_.reset();
    if (over_) return;
    auto cbs = EndLocked(absl::CancelledError("client went away"));
    l.unlock();
    for (auto& cb : cbs) cb();
  }

  absl::StatusCode final_code() const {
    std::lock_guard<std::mutex> l(mu_);
    return final_code_;
  }

 private:
  std::vector<std::function<void()>> EndLocked(const absl::Status& st) {
    over_ = true;
    final_code_ = st.code();
    end_frame_ = connect::MakeEnvelope(connect::kFlagEndStream, connect::EndStreamJson(st));
    return std::move(callbacks_);
  }
  bool KickLocked() {
    if (kick_pending_) return false;
    kick_pending_ = true;
    return true;
  }
  void Kick();  // posts a Pump to the session (http_session.cc)

  mutable std::mutex mu_;
  std::weak_ptr<HttpSession> session_;
  std::shared_ptr<IoGate> gate_;
  const connect::Codec codec_;
  const bool gzip_;
  const size_t backlog_;
  std::deque<std::string> queue_;
  size_t in_flight_ = 0;  // frames of the write in progress
  std::optional<std::string> end_frame_;
  bool over_ = false;
  bool kick_pending_ = false;
  absl::StatusCode final_code_ = absl::StatusCode::kOk;
  std::vector<std::function<void()>> callbacks_;
};

}  // namespace flyte::rpc::internal

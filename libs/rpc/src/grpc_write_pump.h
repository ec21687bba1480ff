#pragma once
// Starts gRPC stream writes on a few threads of its own instead of the thread that calls Send (internal).
//
// Why: a watch event is published on one thread to thousands of streams. With the callback API, StartWrite from
// a thread outside gRPC runs the transport's write work (framing, combiner, the socket write) inline, so one
// publisher thread did all of it, stream after stream; that serial work was most of the gRPC delivery latency.
// Send now only queues and schedules the stream here; these threads start the writes in parallel with the
// publisher. Later writes of a stream are started from OnWriteDone on gRPC's own threads, as before.
//
// Thread-safe. Schedule never blocks on gRPC. The destructor stops the threads; streams still scheduled are
// dropped (only after the gRPC server has shut down, when there is nothing left to write).
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace flyte::rpc::internal {

class GrpcWritePump {
 public:
  // Something with a write to start; Pump must be cheap to call when there is nothing to do.
  class Pumpable {
   public:
    virtual ~Pumpable() = default;
    virtual void Pump() = 0;
  };

  explicit GrpcWritePump(int threads);
  ~GrpcWritePump();
  GrpcWritePump(const GrpcWritePump&) = delete;
  GrpcWritePump& operator=(const GrpcWritePump&) = delete;

  // Pump() will run once on a pump thread; the pointer keeps the stream alive until then.
  void Schedule(std::shared_ptr<Pumpable> p);

 private:
  void Loop();

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::shared_ptr<Pumpable>> queue_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace flyte::rpc::internal

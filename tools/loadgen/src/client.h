#pragma once
// The load generator's view of RunService, one implementation per transport (gRPC, Connect over HTTP/1.1).
// Calls are asynchronous and never block the caller; completions run on the client's own threads.
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <google/protobuf/message.h>

#include "connect_wire.h"
#include "flyteidl2/workflow/run_service.pb.h"

namespace flyte::loadgen {

enum class Rpc { kCreateRun, kGetRunDetails, kListRuns };
// "/flyteidl2.workflow.RunService/CreateRun" etc.
std::string_view RpcPath(Rpc rpc);

using UnaryDone = std::function<void(const CallResult&)>;

// Receives one WatchRuns stream's events. Calls for one stream are serialized (never concurrent), but different
// streams call from different threads. OnDone is the last call; the observer must outlive it.
class WatchObserver {
 public:
  virtual ~WatchObserver() = default;
  virtual void OnOpen() {}  // response headers arrived (HTTP 200 / gRPC initial metadata)
  virtual void OnMessage(const flyteidl2::workflow::WatchRunsResponse& msg) = 0;
  virtual void OnDone(const CallResult& result) = 0;
};

class RunsClient {
 public:
  virtual ~RunsClient() = default;
  // `req` and `resp` must be the RPC's request/response types; both stay alive until `done` has run.
  virtual void Unary(Rpc rpc, std::shared_ptr<const google::protobuf::Message> req,
                     std::shared_ptr<google::protobuf::Message> resp, UnaryDone done) = 0;
  virtual void Watch(const flyteidl2::workflow::WatchRunsRequest& req, WatchObserver* observer) = 0;
  // Cancels every open watch stream and waits (up to `wait`) until all have called OnDone.
  virtual void CancelWatches(std::chrono::milliseconds wait) = 0;
  virtual std::string name() const = 0;
};

struct ClientOptions {
  std::string host = "127.0.0.1";
  int port = 8090;
  int connections = 32;   // Connect: keep-alive HTTP/1.1 connections for unary calls
  int channels = 4;       // gRPC: independent channels (each its own HTTP/2 connection)
  int io_threads = 2;     // Connect: asio threads
  std::chrono::milliseconds timeout{10000};  // per unary call
};

std::unique_ptr<RunsClient> MakeGrpcClient(const ClientOptions& options);
std::unique_ptr<RunsClient> MakeConnectClient(const ClientOptions& options);

}  // namespace flyte::loadgen

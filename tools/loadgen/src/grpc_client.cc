// RunsClient over gRPC with the generated stubs and the callback API. Several channels, each forced onto its
// own HTTP/2 connection (a local subchannel pool and a distinct channel argument), picked round-robin.
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <unordered_set>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "client.h"
#include "flyteidl2/workflow/run_service.grpc.pb.h"

namespace flyte::loadgen {
namespace {

namespace wf = flyteidl2::workflow;

class GrpcRunsClient;

class WatchReactor : public grpc::ClientReadReactor<wf::WatchRunsResponse> {
 public:
  WatchReactor(GrpcRunsClient* owner, WatchObserver* observer) : owner_(owner), observer_(observer) {}
  void Start(wf::RunService::Stub* stub, const wf::WatchRunsRequest& req) {
    req_ = req;
    stub->async()->WatchRuns(&ctx_, &req_, this);
    StartRead(&resp_);
    StartCall();
  }
  void OnReadInitialMetadataDone(bool ok) override {
    if (ok) observer_->OnOpen();
  }
  void OnReadDone(bool ok) override {
    if (!ok) return;  // OnDone follows with the status
    observer_->OnMessage(resp_);
    resp_.Clear();
    StartRead(&resp_);
  }
  void OnDone(const grpc::Status& s) override;
  grpc::ClientContext* context() { return &ctx_; }

 private:
  GrpcRunsClient* owner_;
  WatchObserver* observer_;
  grpc::ClientContext ctx_;
  wf::WatchRunsRequest req_;
  wf::WatchRunsResponse resp_;
};

class GrpcRunsClient : public RunsClient {
 public:
  explicit GrpcRunsClient(const ClientOptions& o) : options_(o) {
    const std::string target = o.host + ":" + std::to_string(o.port);
    for (int i = 0; i < std::max(1, o.channels); ++i) {
      grpc::ChannelArguments args;
      args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
      args.SetInt("flyte.loadgen.channel", i);  // distinct args keep channels from sharing a connection
      args.SetMaxReceiveMessageSize(64 * 1024 * 1024);
      auto ch = grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args);
      stubs_.push_back(wf::RunService::NewStub(ch));
    }
  }

  ~GrpcRunsClient() override { CancelWatches(std::chrono::milliseconds(5000)); }

  std::string name() const override { return "grpc"; }

  void Unary(Rpc rpc, std::shared_ptr<const google::protobuf::Message> req,
             std::shared_ptr<google::protobuf::Message> resp, UnaryDone done) override {
    struct Call {
      grpc::ClientContext ctx;
      std::shared_ptr<const google::protobuf::Message> req;
      std::shared_ptr<google::protobuf::Message> resp;
      UnaryDone done;
    };
    auto* call = new Call{{}, std::move(req), std::move(resp), std::move(done)};
    call->ctx.set_deadline(std::chrono::system_clock::now() + options_.timeout);
    auto finish = [call](grpc::Status s) {
      call->done(CallResult{static_cast<int>(s.error_code()), s.error_message()});
      delete call;
    };
    wf::RunService::Stub* stub = NextStub();
    switch (rpc) {
      case Rpc::kCreateRun:
        stub->async()->CreateRun(&call->ctx, static_cast<const wf::CreateRunRequest*>(call->req.get()),
                                 static_cast<wf::CreateRunResponse*>(call->resp.get()), finish);
        break;
      case Rpc::kGetRunDetails:
        stub->async()->GetRunDetails(&call->ctx, static_cast<const wf::GetRunDetailsRequest*>(call->req.get()),
                                     static_cast<wf::GetRunDetailsResponse*>(call->resp.get()), finish);
        break;
      case Rpc::kListRuns:
        stub->async()->ListRuns(&call->ctx, static_cast<const wf::ListRunsRequest*>(call->req.get()),
                                static_cast<wf::ListRunsResponse*>(call->resp.get()), finish);
        break;
    }
  }

  void Watch(const wf::WatchRunsRequest& req, WatchObserver* observer) override {
    auto* r = new WatchReactor(this, observer);
    {
      std::lock_guard<std::mutex> lock(mu_);
      live_.insert(r);
    }
    r->Start(NextStub(), req);
  }

  void CancelWatches(std::chrono::milliseconds wait) override {
    std::unique_lock<std::mutex> lock(mu_);
    for (WatchReactor* r : live_) r->context()->TryCancel();
    cv_.wait_for(lock, wait, [this] { return live_.empty(); });
  }

  void Finished(WatchReactor* r) {
    std::lock_guard<std::mutex> lock(mu_);
    live_.erase(r);
    if (live_.empty()) cv_.notify_all();
  }

 private:
  wf::RunService::Stub* NextStub() { return stubs_[rr_.fetch_add(1) % stubs_.size()].get(); }

  ClientOptions options_;
  std::vector<std::unique_ptr<wf::RunService::Stub>> stubs_;
  std::atomic<size_t> rr_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  std::unordered_set<WatchReactor*> live_;
};

void WatchReactor::OnDone(const grpc::Status& s) {
  observer_->OnDone(CallResult{static_cast<int>(s.error_code()), s.error_message()});
  GrpcRunsClient* owner = owner_;
  // Unregister after the observer call so CancelWatches' wait covers it; then the reactor is ours to delete.
  owner->Finished(this);
  delete this;
}

}  // namespace

std::unique_ptr<RunsClient> MakeGrpcClient(const ClientOptions& options) {
  return std::make_unique<GrpcRunsClient>(options);
}

}  // namespace flyte::loadgen

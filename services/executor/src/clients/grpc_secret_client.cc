#include "clients/grpc_secret_client.h"

#include <grpcpp/client_context.h>

#include "flyte/rpc/status.h"

namespace flyte::executor {
namespace sec = flyte::internal::secret::v1;

GrpcSecretClient::GrpcSecretClient(std::shared_ptr<grpc::Channel> channel, std::string internal_token,
                                   std::chrono::milliseconds rpc_timeout)
    : stub_(sec::SecretResolveService::NewStub(std::move(channel))),
      internal_token_(std::move(internal_token)),
      rpc_timeout_(rpc_timeout) {}

absl::StatusOr<std::vector<std::string>> GrpcSecretClient::Resolve(const std::string& org, const std::string& project,
                                                                   const std::string& domain,
                                                                   const std::vector<std::string>& names) {
  sec::ResolveSecretsRequest req;
  req.set_org(org);
  req.set_project(project);
  req.set_domain(domain);
  for (const std::string& n : names) req.add_names(n);
  sec::ResolveSecretsResponse resp;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + rpc_timeout_);
  if (!internal_token_.empty()) ctx.AddMetadata("flyte-internal-token", internal_token_);
  grpc::Status s = stub_->ResolveSecrets(&ctx, req, &resp);
  if (!s.ok()) return rpc::FromGrpcStatus(s);
  if (resp.secrets_size() != static_cast<int>(names.size())) {
    return absl::InternalError("SecretResolveService answered " + std::to_string(resp.secrets_size()) +
                               " values for " + std::to_string(names.size()) + " secrets");
  }
  std::vector<std::string> values;
  for (sec::ResolvedSecret& r : *resp.mutable_secrets()) values.push_back(std::move(*r.mutable_value()));
  return values;
}

}  // namespace flyte::executor

#pragma once
// flyteidl2.secret.SecretService (CreateSecret, UpdateSecret, GetSecret, ListSecrets, DeleteSecret) and the internal
// flyte.internal.secret.v1.SecretResolveService (the executor's ResolveSecrets) adapters over SecretUseCases.
// SecretService never returns a value. What is not supported is refused with INVALID_ARGUMENT naming the field
// (include_system_secrets, per_cluster_tokens). ResolveSecrets is for the executor alone: its caller is checked
// (api/internal_caller.h). Thread-safe.
#include <utility>

#include "api/internal_caller.h"
#include "flyte/rpc/router.h"
#include "service/secret_use_cases.h"

namespace flyte::runs::api {

class SecretServiceApi {
 public:
  // ResolveSecrets answers only the callers `caller` lets through (api/internal_caller.h).
  SecretServiceApi(SecretUseCases& secrets, InternalCallerCheck caller)
      : secrets_(secrets), caller_(std::move(caller)) {}
  void Register(rpc::Router& router);

 private:
  SecretUseCases& secrets_;
  const InternalCallerCheck caller_;
};

}  // namespace flyte::runs::api

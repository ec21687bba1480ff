#pragma once
// flyteidl2.secret.SecretService (CreateSecret, UpdateSecret, GetSecret, ListSecrets, DeleteSecret) and the internal
// flyte.internal.secret.v1.SecretResolveService (the executor's ResolveSecrets) adapters over SecretUseCases.
// SecretService never returns a value. What is not supported is refused with INVALID_ARGUMENT naming the field
// (include_system_secrets, per_cluster_tokens). Thread-safe.
#include "flyte/rpc/router.h"
#include "service/secret_use_cases.h"

namespace flyte::runs::api {

class SecretServiceApi {
 public:
  explicit SecretServiceApi(SecretUseCases& secrets) : secrets_(secrets) {}
  void Register(rpc::Router& router);

 private:
  SecretUseCases& secrets_;
};

}  // namespace flyte::runs::api

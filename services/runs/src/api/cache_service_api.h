#pragma once
// flyteidl2.cacheservice.CacheService (v1: keys as given) and flyteidl2.cacheservice.v2.CacheService (keys scoped
// by the request's org/project/domain identifier) adapters over CacheUseCases: Get, Put, Delete,
// GetOrExtendReservation, ReleaseReservation. What the use cases do not support is refused with
// INVALID_ARGUMENT naming the field (PutCacheRequest.overwrite.delete_blob, overwrite.max_age). Thread-safe.
#include "flyte/rpc/router.h"
#include "service/cache_use_cases.h"

namespace flyte::runs::api {

class CacheServiceApi {
 public:
  explicit CacheServiceApi(CacheUseCases& cache) : cache_(cache) {}
  void Register(rpc::Router& router);

 private:
  CacheUseCases& cache_;
};

}  // namespace flyte::runs::api

#pragma once
// flyteidl2.cluster.ClusterService adapter. runs-service is the only cluster: SelectCluster answers with
// `endpoint` ("" by default), which tells the SDK to send data-proxy calls to the endpoint it already uses.
// Thread-safe.
#include <string>

#include "flyte/rpc/router.h"

namespace flyte::runs::api {

class ClusterServiceApi {
 public:
  explicit ClusterServiceApi(std::string endpoint = "") : endpoint_(std::move(endpoint)) {}
  void Register(rpc::Router& router);

 private:
  const std::string endpoint_;
};

}  // namespace flyte::runs::api

#include "api/cluster_service_api.h"

#include <google/protobuf/generated_message_reflection.h>

#include "flyteidl2/cluster/service.pb.h"

namespace flyte::runs::api {
namespace {
namespace cl = flyteidl2::cluster;
constexpr char kService[] = "flyteidl2.cluster.ClusterService";
}  // namespace

void ClusterServiceApi::Register(rpc::Router& router) {
  // service.proto declares only the service (its messages live in payload.proto), so nothing else pulls its
  // object file out of the static proto library; without it the descriptor pool does not know the service.
  google::protobuf::internal::AssignDescriptors(&descriptor_table_flyteidl2_2fcluster_2fservice_2eproto);
  router.Unary<cl::SelectClusterRequest, cl::SelectClusterResponse>(
      kService, "SelectCluster",
      [this](const rpc::CallContext&, const cl::SelectClusterRequest&, cl::SelectClusterResponse* resp) {
        // Every resource and operation is served here; an empty endpoint means "the one you called".
        resp->set_cluster_endpoint(endpoint_);
        return absl::OkStatus();
      });
}

}  // namespace flyte::runs::api

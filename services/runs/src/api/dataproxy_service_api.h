#pragma once
// flyteidl2.dataproxy.DataProxyService adapter (UploadInputs, CreateUploadLocation, CreateDownloadLink,
// GetActionData; TailLogs is tail_logs_api.h's) plus the two plain HTTP routes its signed URLs point at:
//   PUT /dataproxy/upload/<token>               body = the file; 200 on success, 400 BadDigest, 403 expired,
//                                                404 unknown token
//   GET /dataproxy/download/<token>/<file name> 200 with the bytes, 403 expired, 404 unknown token or blob
// Thread-safe. RegisterHttp must be called before the server starts.
#include "flyte/rpc/router.h"
#include "flyte/rpc/server.h"
#include "service/dataproxy_use_cases.h"

namespace flyte::runs::api {

class DataProxyServiceApi {
 public:
  explicit DataProxyServiceApi(DataProxyUseCases& data) : data_(data) {}
  void Register(rpc::Router& router);
  void RegisterHttp(rpc::Server& server);

  // The HTTP routes' logic, exposed for tests without a socket.
  rpc::HttpResponse HandleUpload(const rpc::HttpRequest& req);
  rpc::HttpResponse HandleDownload(const rpc::HttpRequest& req);

 private:
  DataProxyUseCases& data_;
};

}  // namespace flyte::runs::api

#include "flyte/rpc/router.h"

#include <cstdio>
#include <cstdlib>

#include <google/protobuf/descriptor.h>

namespace flyte::rpc {
namespace {

[[noreturn]] void WiringError(const std::string& what) {
  std::fprintf(stderr, "flyte::rpc::Router: %s\n", what.c_str());
  std::fflush(stderr);
  std::abort();
}

}  // namespace

std::string CallContext::Header(std::string_view name) const {
  auto it = headers.find(std::string(name));
  return it == headers.end() ? std::string() : it->second;
}

Method Router::Describe(const std::string& service, const std::string& method, bool streaming,
                        const google::protobuf::Message& req, const google::protobuf::Message& resp) {
  const auto* pool = google::protobuf::DescriptorPool::generated_pool();
  const auto* svc = pool->FindServiceByName(service);
  if (svc == nullptr) WiringError("unknown service " + service + " (not in the generated descriptor pool)");
  const auto* m = svc->FindMethodByName(method);
  if (m == nullptr) WiringError("service " + service + " has no method " + method);
  if (m->client_streaming()) WiringError(service + "/" + method + " is client streaming, which is not supported");
  if (m->server_streaming() != streaming) {
    WiringError(service + "/" + method + (streaming ? " is unary but was registered as server streaming"
                                                    : " is server streaming but was registered as unary"));
  }
  if (m->input_type() != req.GetDescriptor()) {
    WiringError(service + "/" + method + " takes " + m->input_type()->full_name() + ", handler takes " +
                req.GetDescriptor()->full_name());
  }
  if (m->output_type() != resp.GetDescriptor()) {
    WiringError(service + "/" + method + " returns " + m->output_type()->full_name() + ", handler returns " +
                resp.GetDescriptor()->full_name());
  }
  Method out;
  out.path = "/" + service + "/" + method;
  out.server_streaming = streaming;
  out.request_prototype = &req;
  out.response_prototype = &resp;
  return out;
}

void Router::Add(Method m) {
  std::string path = m.path;
  if (!methods_.emplace(path, std::move(m)).second) WiringError("method registered twice: " + path);
}

const Method* Router::Find(std::string_view path) const {
  auto it = methods_.find(std::string(path));
  return it == methods_.end() ? nullptr : &it->second;
}

}  // namespace flyte::rpc

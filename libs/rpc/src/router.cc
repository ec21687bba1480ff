#include "flyte/rpc/router.h"

#include <cstdio>
#include <cstdlib>

#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor.pb.h>

namespace flyte::rpc {
namespace {

[[noreturn]] void WiringError(const std::string& what) {
  std::fprintf(stderr, "flyte::rpc::Router: %s\n", what.c_str());
  std::fflush(stderr);
  std::abort();
}

}  // namespace

CallCancellation::Registration& CallCancellation::Registration::operator=(Registration&& o) noexcept {
  if (this != &o) {
    Reset();
    owner_ = o.owner_;
    id_ = o.id_;
    o.owner_ = nullptr;
  }
  return *this;
}

void CallCancellation::Registration::Reset() {
  if (owner_ != nullptr) owner_->Remove(id_);
  owner_ = nullptr;
}

void CallCancellation::Cancel() {
  std::unique_lock<std::mutex> l(mu_);
  if (cancelled_.exchange(true, std::memory_order_acq_rel)) return;
  running_thread_ = std::this_thread::get_id();
  // One at a time, outside the lock, so a callback may itself touch this object; Remove() of the callback being
  // run waits for it.
  while (!callbacks_.empty()) {
    auto it = callbacks_.begin();
    running_id_ = it->first;
    std::function<void()> fn = std::move(it->second);
    callbacks_.erase(it);
    l.unlock();
    fn();
    l.lock();
    running_id_ = 0;
    idle_cv_.notify_all();
  }
}

CallCancellation::Registration CallCancellation::OnCancel(std::function<void()> fn) {
  std::unique_lock<std::mutex> l(mu_);
  if (cancelled_.load(std::memory_order_acquire)) {
    l.unlock();
    fn();
    return Registration();
  }
  uint64_t id = next_id_++;
  callbacks_.emplace(id, std::move(fn));
  return Registration(this, id);
}

void CallCancellation::Remove(uint64_t id) {
  std::unique_lock<std::mutex> l(mu_);
  callbacks_.erase(id);
  if (running_thread_ == std::this_thread::get_id()) return;  // removed from inside a callback
  idle_cv_.wait(l, [&] { return running_id_ != id; });
}

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
  out.no_side_effects = m->options().idempotency_level() == google::protobuf::MethodOptions::NO_SIDE_EFFECTS;
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

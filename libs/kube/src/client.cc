#include "flyte/kube/client.h"

#include <sys/stat.h>
#include <time.h>

#include <cstdio>
#include <fstream>
#include <mutex>
#include <sstream>

#include <boost/asio/ssl.hpp>
#include <cpprest/http_client.h>
#include <openssl/ssl.h>
#include <pplx/threadpool.h>
#include <cpprest/rawptrstream.h>
#include <cpprest/containerstream.h>
#include <prometheus/counter.h>
#include <prometheus/family.h>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "flyte/common/clock.h"
#include "flyte/metrics/registry.h"

namespace flyte::kube {

namespace http = web::http;
namespace client = web::http::client;

std::string Resource::Path(const std::string& ns, const std::string& name, const std::string& subresource) const {
  std::string p = group.empty() ? absl::StrCat("/api/", version) : absl::StrCat("/apis/", group, "/", version);
  if (!ns.empty()) absl::StrAppend(&p, "/namespaces/", ns);
  absl::StrAppend(&p, "/", plural);
  if (!name.empty()) absl::StrAppend(&p, "/", name);
  if (!subresource.empty()) absl::StrAppend(&p, "/", subresource);
  return p;
}

struct StopToken::Impl {
  pplx::cancellation_token_source source;
  std::atomic<bool> stopped{false};
};

StopToken::StopToken() : impl_(std::make_unique<Impl>()) {}
StopToken::~StopToken() = default;
void StopToken::Stop() {
  if (!impl_->stopped.exchange(true)) impl_->source.cancel();
}
bool StopToken::stopped() const { return impl_->stopped.load(); }

namespace {

std::string Encode(const std::string& s) { return web::uri::encode_data_string(s); }

void AddParam(std::string* query, const char* key, const std::string& value) {
  if (value.empty()) return;
  absl::StrAppend(query, query->empty() ? "?" : "&", key, "=", Encode(value));
}

absl::StatusCode CodeForHttp(int status, const std::string& reason) {
  switch (status) {
    case 400: case 422: return absl::StatusCode::kInvalidArgument;
    case 401: return absl::StatusCode::kUnauthenticated;
    case 403: return absl::StatusCode::kPermissionDenied;
    case 404: return absl::StatusCode::kNotFound;
    case 409: return reason == "AlreadyExists" ? absl::StatusCode::kAlreadyExists : absl::StatusCode::kAborted;
    case 410: return absl::StatusCode::kOutOfRange;
    case 429: return absl::StatusCode::kResourceExhausted;
    case 504: return absl::StatusCode::kDeadlineExceeded;
    default: return status >= 500 ? absl::StatusCode::kUnavailable : absl::StatusCode::kUnknown;
  }
}

// The API server answers errors with a Status object; its message names what was wrong.
absl::Status ErrorFromBody(const std::string& what, int status, const std::string& body) {
  std::string reason, message;
  Json j = Json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_object()) {
    if (j.contains("reason") && j["reason"].is_string()) reason = j["reason"];
    if (j.contains("message") && j["message"].is_string()) message = j["message"];
  }
  if (message.empty()) message = body.substr(0, 512);
  return absl::Status(CodeForHttp(status, reason),
                      absl::StrCat(what, ": HTTP ", status, reason.empty() ? "" : " ", reason, ": ", message));
}

absl::Status FromException(const std::string& what, const std::exception& e) {
  if (const auto* he = dynamic_cast<const http::http_exception*>(&e)) {
    if (he->error_code() == std::errc::timed_out) {
      return absl::DeadlineExceededError(absl::StrCat(what, ": timed out: ", e.what()));
    }
    if (he->error_code() == std::errc::operation_canceled) {
      return absl::CancelledError(absl::StrCat(what, ": cancelled"));
    }
  }
  if (dynamic_cast<const pplx::task_canceled*>(&e) != nullptr) {
    return absl::CancelledError(absl::StrCat(what, ": cancelled"));
  }
  return absl::UnavailableError(absl::StrCat(what, ": ", e.what()));
}

}  // namespace

struct Client::Impl {
  ClusterConfig config;
  ClientOptions options;
  std::unique_ptr<client::http_client> http;   // ordinary requests
  std::unique_ptr<client::http_client> watch;  // long-lived responses (watches, log streams)

  std::mutex token_mu;
  std::string token;
  struct timespec token_mtime {};

  std::atomic<int64_t> n_get{0}, n_list{0}, n_watch{0}, n_create{0}, n_update{0}, n_patch{0}, n_delete{0};
  prometheus::Family<prometheus::Counter>* requests = nullptr;

  static client::http_client_config HttpConfig(const ClusterConfig& c, std::chrono::seconds timeout) {
    client::http_client_config hc;
    hc.set_timeout(timeout);
    hc.set_validate_certificates(!c.insecure_skip_tls_verify);
    std::string ca = c.ca_pem, cert = c.client_cert_pem, key = c.client_key_pem;
    hc.set_ssl_context_callback([ca, cert, key](boost::asio::ssl::context& ctx) {
      if (!ca.empty()) ctx.add_certificate_authority(boost::asio::buffer(ca));
      if (!cert.empty()) {
        ctx.use_certificate_chain(boost::asio::buffer(cert));
        ctx.use_private_key(boost::asio::buffer(key), boost::asio::ssl::context::pem);
      }
    });
    return hc;
  }

  // The bearer token to send: the static one, or the token file's contents, re-read when the file changed.
  std::string Token() {
    std::lock_guard<std::mutex> lock(token_mu);
    if (!config.token_file.empty()) {
      struct stat st {};
      if (stat(config.token_file.c_str(), &st) == 0 &&
          (st.st_mtim.tv_sec != token_mtime.tv_sec || st.st_mtim.tv_nsec != token_mtime.tv_nsec || token.empty())) {
        std::ifstream in(config.token_file);
        std::stringstream ss;
        ss << in.rdbuf();
        std::string t(absl::StripAsciiWhitespace(ss.str()));
        if (!t.empty()) {
          token = t;
          token_mtime = st.st_mtim;
        }
      }
      return token;
    }
    return config.token;
  }

  http::http_request Request(const http::method& method, const std::string& path_and_query) {
    http::http_request req(method);
    req.set_request_uri(path_and_query);
    req.headers().add("Accept", "application/json");
    req.headers().add("User-Agent", options.user_agent);
    std::string t = Token();
    if (!t.empty()) req.headers().add("Authorization", "Bearer " + t);
    return req;
  }

  void Count(const std::string& verb, const std::string& plural, int status) {
    if (verb == "get") ++n_get;
    else if (verb == "list") ++n_list;
    else if (verb == "watch") ++n_watch;
    else if (verb == "create") ++n_create;
    else if (verb == "update") ++n_update;
    else if (verb == "patch") ++n_patch;
    else if (verb == "delete") ++n_delete;
    if (requests != nullptr) {
      requests->Add({{"verb", verb}, {"resource", plural}, {"code", std::to_string(status)}}).Increment();
    }
  }

  // One request with a JSON answer. `ok_statuses` other than 2xx are errors mapped by ErrorFromBody.
  absl::StatusOr<Json> Call(const std::string& verb, const std::string& plural, const http::method& method,
                            const std::string& path, const Json* body, const std::string& content_type) {
    const std::string what = absl::StrCat(verb, " ", path);
    http::http_request req = Request(method, path);
    if (body != nullptr) req.set_body(body->dump(), content_type);
    try {
      http::http_response resp = http->request(req).get();
      std::string text = resp.extract_utf8string(true).get();
      int status = resp.status_code();
      Count(verb, plural, status);
      if (status < 200 || status >= 300) return ErrorFromBody(what, status, text);
      if (text.empty()) return Json::object();
      Json j = Json::parse(text, nullptr, false);
      if (j.is_discarded()) return absl::InternalError(absl::StrCat(what, ": the answer is not JSON"));
      return j;
    } catch (const std::exception& e) {
      Count(verb, plural, 0);
      return FromException(what, e);
    }
  }
};

absl::StatusOr<std::unique_ptr<Client>> Client::Create(ClusterConfig config, ClientOptions options) {
  if (config.server.empty()) return absl::InvalidArgumentError("kubernetes client: no server");
  // cpprestsdk's I/O runs on one process-wide asio pool, 40 threads unless told otherwise before first use; a few
  // are plenty for this client (callers block on their own threads), and each idle thread costs memory.
  //
  // OpenSSL is initialised first and without its exit handler: the pool is destroyed at exit after OpenSSL's own
  // cleanup would have run (that handler is registered when the first TLS connection is made, after the pool
  // exists), and destroying the pool frees the TLS connections its pending handlers still hold, which then read
  // freed OpenSSL state (a SIGSEGV at exit, seen once in CI, the cpprestsdk "crash on exit with SSL" pattern).
  static std::once_flag pool_once;
  std::call_once(pool_once, [] {
    OPENSSL_init_ssl(OPENSSL_INIT_NO_ATEXIT, nullptr);
    try {
      crossplat::threadpool::initialize_with_threads(4);
    } catch (const std::exception&) {
      // Already initialised by someone else in this process: keep theirs.
    }
  });
  auto impl = std::make_unique<Impl>();
  try {
    web::uri base(config.server);
    impl->http = std::make_unique<client::http_client>(base, Impl::HttpConfig(config, options.request_timeout));
    impl->watch = std::make_unique<client::http_client>(base, Impl::HttpConfig(config, std::chrono::hours(2)));
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("kubernetes client for ", config.server, ": ", e.what()));
  }
  if (options.metrics != nullptr) {
    impl->requests = &prometheus::BuildCounter()
                          .Name("flyte_kube_requests_total")
                          .Help("Kubernetes API requests by verb, resource and HTTP status (0: no answer)")
                          .Register(options.metrics->prometheus());
  }
  impl->config = std::move(config);
  impl->options = std::move(options);
  return std::unique_ptr<Client>(new Client(std::move(impl)));
}

Client::Client(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Client::~Client() = default;

const ClusterConfig& Client::config() const { return impl_->config; }

RequestCounts Client::counts() const {
  RequestCounts c;
  c.get = impl_->n_get;
  c.list = impl_->n_list;
  c.watch = impl_->n_watch;
  c.create = impl_->n_create;
  c.update = impl_->n_update;
  c.patch = impl_->n_patch;
  c.del = impl_->n_delete;
  return c;
}

absl::StatusOr<Json> Client::Create(const Resource& r, const std::string& ns, const Json& object, bool dry_run) {
  std::string path = r.Path(ns);
  if (dry_run) path += "?dryRun=All";
  return impl_->Call("create", r.plural, http::methods::POST, path, &object, "application/json");
}

absl::StatusOr<Json> Client::Get(const Resource& r, const std::string& ns, const std::string& name) {
  return impl_->Call("get", r.plural, http::methods::GET, r.Path(ns, name), nullptr, "");
}

absl::StatusOr<ListResult> Client::List(const Resource& r, const std::string& ns, const ListOptions& o) {
  std::string query;
  AddParam(&query, "labelSelector", o.label_selector);
  AddParam(&query, "fieldSelector", o.field_selector);
  if (o.limit > 0) AddParam(&query, "limit", std::to_string(o.limit));
  AddParam(&query, "continue", o.continue_token);
  AddParam(&query, "resourceVersion", o.resource_version);
  absl::StatusOr<Json> j = impl_->Call("list", r.plural, http::methods::GET, r.Path(ns) + query, nullptr, "");
  if (!j.ok()) return j.status();
  ListResult out;
  if (j->contains("items") && (*j)["items"].is_array()) {
    out.items.reserve((*j)["items"].size());
    for (Json& item : (*j)["items"]) out.items.push_back(std::move(item));
  }
  const Json& meta = (*j)["metadata"];
  if (meta.is_object()) {
    out.resource_version = meta.value("resourceVersion", "");
    out.continue_token = meta.value("continue", "");
  }
  return out;
}

absl::StatusOr<Json> Client::Update(const Resource& r, const std::string& ns, const Json& object) {
  std::string name = object["metadata"].value("name", "");
  return impl_->Call("update", r.plural, http::methods::PUT, r.Path(ns, name), &object, "application/json");
}

absl::StatusOr<Json> Client::UpdateStatus(const Resource& r, const std::string& ns, const Json& object) {
  std::string name = object["metadata"].value("name", "");
  return impl_->Call("update", r.plural, http::methods::PUT, r.Path(ns, name, "status"), &object, "application/json");
}

absl::StatusOr<Json> Client::Patch(const Resource& r, const std::string& ns, const std::string& name,
                                   const Json& patch, PatchType type, const std::string& subresource) {
  const char* ct = type == PatchType::kMerge   ? "application/merge-patch+json"
                   : type == PatchType::kJson  ? "application/json-patch+json"
                                               : "application/strategic-merge-patch+json";
  return impl_->Call("patch", r.plural, http::methods::PATCH, r.Path(ns, name, subresource), &patch, ct);
}

namespace {
Json DeleteBody(const DeleteOptions& o) {
  Json body = {{"apiVersion", "v1"}, {"kind", "DeleteOptions"}};
  if (!o.propagation_policy.empty()) body["propagationPolicy"] = o.propagation_policy;
  if (!o.precondition_uid.empty()) body["preconditions"] = {{"uid", o.precondition_uid}};
  if (o.grace_period_seconds) body["gracePeriodSeconds"] = *o.grace_period_seconds;
  return body;
}
}  // namespace

absl::Status Client::Delete(const Resource& r, const std::string& ns, const std::string& name,
                            const DeleteOptions& options) {
  Json body = DeleteBody(options);
  return impl_->Call("delete", r.plural, http::methods::DEL, r.Path(ns, name), &body, "application/json").status();
}

absl::Status Client::DeleteCollection(const Resource& r, const std::string& ns, const std::string& label_selector,
                                      const DeleteOptions& options) {
  std::string query;
  AddParam(&query, "labelSelector", label_selector);
  Json body = DeleteBody(options);
  return impl_->Call("delete", r.plural, http::methods::DEL, r.Path(ns) + query, &body, "application/json").status();
}

absl::Status Client::Watch(const Resource& r, const std::string& ns, const WatchOptions& o,
                           const std::function<void(WatchEvent)>& on_event, StopToken* stop) {
  std::string query = "?watch=true";
  AddParam(&query, "resourceVersion", o.resource_version);
  AddParam(&query, "labelSelector", o.label_selector);
  AddParam(&query, "fieldSelector", o.field_selector);
  if (o.allow_bookmarks) query += "&allowWatchBookmarks=true";
  if (o.timeout_seconds > 0) query += "&timeoutSeconds=" + std::to_string(o.timeout_seconds);
  const std::string path = r.Path(ns) + query;
  const std::string what = "watch " + path;
  if (stop != nullptr && stop->stopped()) return absl::CancelledError(what + ": cancelled");
  http::http_request req = impl_->Request(http::methods::GET, path);
  try {
    http::http_response resp = stop != nullptr ? impl_->watch->request(req, stop->impl().source.get_token()).get()
                                               : impl_->watch->request(req).get();
    impl_->Count("watch", r.plural, resp.status_code());
    if (resp.status_code() != 200) {
      return ErrorFromBody(what, resp.status_code(), resp.extract_utf8string(true).get());
    }
    concurrency::streams::istream body = resp.body();
    while (true) {
      concurrency::streams::container_buffer<std::string> line;
      size_t n = body.read_line(line).get();
      if (stop != nullptr && stop->stopped()) return absl::CancelledError(what + ": cancelled");
      if (n == 0) {
        if (body.is_eof()) return absl::OkStatus();
        continue;
      }
      Json ev = Json::parse(line.collection(), nullptr, false);
      if (!ev.is_object() || !ev.contains("type") || !ev["type"].is_string()) {
        return absl::InternalError(absl::StrCat(what, ": a watch line is not an event: ", line.collection().substr(0, 200)));
      }
      const std::string type = ev["type"];
      if (type == "ERROR") {
        const Json& obj = ev["object"];
        int code = obj.is_object() ? obj.value("code", 0) : 0;
        return ErrorFromBody(what, code == 0 ? 500 : code, obj.dump());
      }
      WatchEvent out;
      if (type == "ADDED") out.type = WatchEventType::kAdded;
      else if (type == "MODIFIED") out.type = WatchEventType::kModified;
      else if (type == "DELETED") out.type = WatchEventType::kDeleted;
      else if (type == "BOOKMARK") out.type = WatchEventType::kBookmark;
      else return absl::InternalError(absl::StrCat(what, ": unknown watch event type ", type));
      out.object = std::move(ev["object"]);
      on_event(std::move(out));
    }
  } catch (const std::exception& e) {
    if (stop != nullptr && stop->stopped()) return absl::CancelledError(what + ": cancelled");
    return FromException(what, e);
  }
}

absl::Status Client::Stream(const std::string& path_and_query, const std::function<bool(const std::string&)>& on_data,
                            StopToken* stop) {
  const std::string what = "stream " + path_and_query;
  http::http_request req = impl_->Request(http::methods::GET, path_and_query);
  try {
    http::http_response resp = stop != nullptr ? impl_->watch->request(req, stop->impl().source.get_token()).get()
                                               : impl_->watch->request(req).get();
    impl_->Count("get", "stream", resp.status_code());
    if (resp.status_code() != 200) {
      return ErrorFromBody(what, resp.status_code(), resp.extract_utf8string(true).get());
    }
    concurrency::streams::istream body = resp.body();
    while (true) {
      // Line by line: read(buffer, n) waits until n bytes have come, so a follow that writes a line now and then
      // would deliver nothing until 64 KiB had piled up.
      concurrency::streams::container_buffer<std::string> line;
      size_t n = body.read_line(line).get();
      if (stop != nullptr && stop->stopped()) return absl::CancelledError(what + ": cancelled");
      if (n == 0 && body.is_eof()) return absl::OkStatus();
      std::string data = std::move(line.collection());
      if (!body.is_eof()) data.push_back('\n');  // read_line drops it; a last line without one stays without
      if (!on_data(data)) return absl::OkStatus();
    }
  } catch (const std::exception& e) {
    if (stop != nullptr && stop->stopped()) return absl::CancelledError(what + ": cancelled");
    return FromException(what, e);
  }
}

absl::StatusOr<std::string> Client::GetRaw(const std::string& path) {
  const std::string what = "get " + path;
  try {
    http::http_response resp = impl_->http->request(impl_->Request(http::methods::GET, path)).get();
    std::string text = resp.extract_utf8string(true).get();
    impl_->Count("get", "raw", resp.status_code());
    if (resp.status_code() < 200 || resp.status_code() >= 300) return ErrorFromBody(what, resp.status_code(), text);
    return text;
  } catch (const std::exception& e) {
    return FromException(what, e);
  }
}

std::string FormatMicroTime(std::chrono::system_clock::time_point t) { return common::FormatUtcMicros(t, "Z"); }

std::string FormatTime(std::chrono::system_clock::time_point t) {
  time_t secs = std::chrono::system_clock::to_time_t(t);
  struct tm tm {};
  gmtime_r(&secs, &tm);
  char buf[32];
  strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

absl::StatusOr<std::chrono::system_clock::time_point> ParseTime(const std::string& text) {
  struct tm tm {};
  const char* rest = strptime(text.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  if (rest == nullptr) return absl::InvalidArgumentError(absl::StrCat("not an RFC 3339 time: '", text, "'"));
  int64_t micros = 0;
  if (*rest == '.') {
    ++rest;
    int digits = 0;
    while (*rest >= '0' && *rest <= '9') {
      if (digits < 6) {
        micros = micros * 10 + (*rest - '0');
        ++digits;
      }
      ++rest;
    }
    while (digits++ < 6) micros *= 10;
  }
  if (std::string(rest) != "Z") {
    return absl::InvalidArgumentError(absl::StrCat("not an RFC 3339 UTC time: '", text, "'"));
  }
  time_t secs = timegm(&tm);
  return std::chrono::system_clock::time_point(std::chrono::seconds(secs) + std::chrono::microseconds(micros));
}

}  // namespace flyte::kube

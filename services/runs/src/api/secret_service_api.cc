#include "api/secret_service_api.h"

#include <google/protobuf/generated_message_reflection.h>
#include <google/protobuf/util/time_util.h>

#include <string>

#include "domain/naming.h"
#include "flyte/internal/secret/v1/secret_resolve_service.pb.h"
#include "flyteidl2/secret/payload.pb.h"
#include "flyteidl2/secret/secret.pb.h"

namespace flyte::runs::api {
namespace {
namespace sec = flyteidl2::secret;
namespace internal = flyte::internal::secret::v1;
constexpr char kService[] = "flyteidl2.secret.SecretService";
constexpr char kResolveService[] = "flyte.internal.secret.v1.SecretResolveService";
constexpr int kMaxResolveNames = 100;

UserSecretKey KeyOf(const sec::SecretIdentifier& id) {
  return UserSecretKey{OrgOrDefault(id.organization()), id.project(), id.domain(), id.name()};
}

absl::Status RefuseSystemSecrets(bool include_system_secrets) {
  if (include_system_secrets) {
    return absl::InvalidArgumentError("include_system_secrets is not supported: there are no system secrets");
  }
  return absl::OkStatus();
}

// The value as given (string_value or binary_value), with the type checked.
absl::StatusOr<std::string> ValueOf(const sec::SecretSpec& spec, bool has_spec) {
  if (!has_spec) return absl::InvalidArgumentError("secret_spec is required");
  if (!sec::SecretType_IsValid(spec.type())) {
    return absl::InvalidArgumentError("secret_spec.type " + std::to_string(spec.type()) + " is not a SecretType");
  }
  switch (spec.value_case()) {
    case sec::SecretSpec::kStringValue: return spec.string_value();
    case sec::SecretSpec::kBinaryValue: return spec.binary_value();
    case sec::SecretSpec::VALUE_NOT_SET: break;
  }
  return absl::InvalidArgumentError("secret_spec.value (string_value or binary_value) is required");
}

void ToProto(const UserSecretRecord& r, sec::Secret* out) {
  sec::SecretIdentifier* id = out->mutable_id();
  id->set_organization(r.id.org);
  id->set_project(r.id.project);
  id->set_domain(r.id.domain);
  id->set_name(r.id.name);
  sec::SecretMetadata* md = out->mutable_secret_metadata();
  *md->mutable_created_time() =
      google::protobuf::util::TimeUtil::MicrosecondsToTimestamp(common::ToUnixMicros(r.created_at));
  md->set_type(static_cast<sec::SecretType>(r.type));
  // One store, read by every task wherever it runs: the secret is present everywhere it can be used.
  md->mutable_secret_status()->set_overall_status(sec::FULLY_PRESENT);
}

}  // namespace

void SecretServiceApi::Register(rpc::Router& router) {
  // secret.proto declares only the service (as ClusterService's service.proto): pull its descriptor in.
  google::protobuf::internal::AssignDescriptors(&descriptor_table_flyteidl2_2fsecret_2fsecret_2eproto);
  router.Unary<sec::CreateSecretRequest, sec::CreateSecretResponse>(
      kService, "CreateSecret",
      [this](const rpc::CallContext&, const sec::CreateSecretRequest& req, sec::CreateSecretResponse*) {
        absl::StatusOr<std::string> value = ValueOf(req.secret_spec(), req.has_secret_spec());
        if (!value.ok()) return value.status();
        return secrets_.Create(KeyOf(req.id()), req.secret_spec().type(), *value);
      });
  router.Unary<sec::UpdateSecretRequest, sec::UpdateSecretResponse>(
      kService, "UpdateSecret",
      [this](const rpc::CallContext&, const sec::UpdateSecretRequest& req, sec::UpdateSecretResponse*) {
        absl::StatusOr<std::string> value = ValueOf(req.secret_spec(), req.has_secret_spec());
        if (!value.ok()) return value.status();
        return secrets_.Update(KeyOf(req.id()), req.secret_spec().type(), *value);
      });
  router.Unary<sec::GetSecretRequest, sec::GetSecretResponse>(
      kService, "GetSecret",
      [this](const rpc::CallContext&, const sec::GetSecretRequest& req, sec::GetSecretResponse* resp) {
        if (absl::Status s = RefuseSystemSecrets(req.include_system_secrets()); !s.ok()) return s;
        absl::StatusOr<UserSecretRecord> r = secrets_.Get(KeyOf(req.id()));
        if (!r.ok()) return r.status();
        ToProto(*r, resp->mutable_secret());
        return absl::OkStatus();
      });
  router.Unary<sec::DeleteSecretRequest, sec::DeleteSecretResponse>(
      kService, "DeleteSecret",
      [this](const rpc::CallContext&, const sec::DeleteSecretRequest& req, sec::DeleteSecretResponse*) {
        if (absl::Status s = RefuseSystemSecrets(req.include_system_secrets()); !s.ok()) return s;
        return secrets_.Delete(KeyOf(req.id()));
      });
  router.Unary<sec::ListSecretsRequest, sec::ListSecretsResponse>(
      kService, "ListSecrets",
      [this](const rpc::CallContext&, const sec::ListSecretsRequest& req, sec::ListSecretsResponse* resp) {
        if (absl::Status s = RefuseSystemSecrets(req.include_system_secrets()); !s.ok()) return s;
        if (!req.per_cluster_tokens().empty()) {
          return absl::InvalidArgumentError("per_cluster_tokens is not supported: use token (one store, no clusters)");
        }
        absl::StatusOr<SecretPage> page =
            secrets_.List(OrgOrDefault(req.organization()), req.project(), req.domain(), req.limit(), req.token());
        if (!page.ok()) return page.status();
        for (const UserSecretRecord& r : page->secrets) ToProto(r, resp->add_secrets());
        resp->set_token(page->next_token);
        return absl::OkStatus();
      });

  router.Unary<internal::ResolveSecretsRequest, internal::ResolveSecretsResponse>(
      kResolveService, "ResolveSecrets",
      [this](const rpc::CallContext& ctx, const internal::ResolveSecretsRequest& req,
             internal::ResolveSecretsResponse* resp) {
        if (absl::Status caller = caller_.Check(ctx, kResolveService); !caller.ok()) return caller;
        if (req.names().empty()) return absl::InvalidArgumentError("names must name at least one secret");
        if (req.names_size() > kMaxResolveNames) {
          return absl::InvalidArgumentError("names: at most " + std::to_string(kMaxResolveNames) + " secrets");
        }
        std::vector<std::string> names(req.names().begin(), req.names().end());
        absl::StatusOr<std::vector<std::string>> values =
            secrets_.Resolve(OrgOrDefault(req.org()), req.project(), req.domain(), names);
        if (!values.ok()) return values.status();
        for (size_t i = 0; i < names.size(); ++i) {
          internal::ResolvedSecret* out = resp->add_secrets();
          out->set_name(names[i]);
          out->set_value((*values)[i]);
        }
        return absl::OkStatus();
      });
}

}  // namespace flyte::runs::api

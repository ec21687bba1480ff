#include "domain/naming.h"
#include "api/converters.h"

#include <cctype>
#include <charconv>

#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/time_util.h>

// ListRequest.sort_by and ActionEvent.start_time/end_time are deprecated upstream but still sent and read by
// released clients, so they are honoured.
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

namespace flyte::runs::api {
namespace {

namespace wf = flyteidl2::workflow;
namespace pb = google::protobuf;
using pb::util::TimeUtil;

std::string Path(std::string_view base, std::string_view leaf) {
  return base.empty() ? std::string(leaf) : std::string(base) + "." + std::string(leaf);
}

absl::Status Required(std::string_view base, std::string_view leaf) {
  return absl::InvalidArgumentError(Path(base, leaf) + " is required");
}

void SetTime(TimePoint t, pb::Timestamp* out) { *out = TimeUtil::MicrosecondsToTimestamp(common::ToUnixMicros(t)); }

TimePoint FromTimestamp(const pb::Timestamp& ts) {
  return common::FromUnixMicros(TimeUtil::TimestampToMicroseconds(ts));
}

void FillError(const ErrorInfo& e, wf::ErrorInfo* out) {
  out->set_message(e.message);
  out->set_kind(static_cast<wf::ErrorInfo::Kind>(e.kind));
  out->set_code(e.code);
}

ErrorInfo FromError(const wf::ErrorInfo& e) {
  ErrorInfo out;
  out.message = e.message();
  out.kind = static_cast<ErrorKind>(e.kind());
  out.code = e.code();
  return out;
}

void FillStatus(const Action& a, wf::ActionStatus* out) {
  out->set_phase(static_cast<flyteidl2::common::ActionPhase>(a.phase));
  SetTime(a.started_at.value_or(a.created_at), out->mutable_start_time());
  if (a.ended_at) {
    SetTime(*a.ended_at, out->mutable_end_time());
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(*a.ended_at - a.started_at.value_or(a.created_at));
    out->set_duration_ms(static_cast<uint64_t>(std::max<int64_t>(0, ms.count())));
  }
  out->set_attempts(a.attempts);
  out->set_cache_status(static_cast<flyteidl2::core::CatalogCacheStatus>(a.cache_status));
}

void FillMetadata(const Action& a, wf::ActionMetadata* out) {
  // Extras the client sent (executed_by, source, ...) first; the columns we own win.
  if (!a.metadata.empty()) out->ParseFromString(a.metadata);
  out->set_parent(a.parent.value_or(""));
  out->set_group(a.group);
  out->set_action_type(static_cast<wf::ActionType>(a.type));
  out->set_environment_name(a.environment);
  switch (a.type) {
    case ActionType::kTrace: {
      out->mutable_trace()->set_name(a.short_name.empty() ? a.key.name : a.short_name);
      break;
    }
    case ActionType::kCondition: {
      out->mutable_condition()->set_name(a.short_name.empty() ? a.key.name : a.short_name);
      break;
    }
    default: {
      auto* t = out->mutable_task();
      FillTaskId(TaskKey{a.task_org, a.task_project, a.task_domain, a.task_name, a.task_version}, t->mutable_id());
      t->set_task_type(a.task_type);
      t->set_short_name(a.short_name);
      break;
    }
  }
}

void FillClusterEvent(const ClusterEvent& e, wf::ClusterEvent* out) {
  SetTime(e.occurred_at, out->mutable_occurred_at());
  out->set_message(e.message);
  out->set_type(static_cast<wf::ClusterEvent::Type>(e.type));
  out->set_reason(e.reason);
}

void FillAttempt(const Attempt& at, wf::ActionAttempt* out) {
  if (!at.log_info.empty()) {
    wf::ActionAttempt logs;
    if (logs.ParseFromString(at.log_info)) {
      *out->mutable_log_info() = logs.log_info();
      if (logs.has_log_context()) *out->mutable_log_context() = logs.log_context();
      out->set_cache_status(logs.cache_status());
    }
  }
  out->set_logs_available(out->log_info_size() > 0);
  out->set_phase(static_cast<flyteidl2::common::ActionPhase>(at.phase));
  SetTime(at.start_time, out->mutable_start_time());
  if (at.end_time) SetTime(*at.end_time, out->mutable_end_time());
  if (at.error) FillError(*at.error, out->mutable_error_info());
  out->set_attempt(at.attempt);
  if (!at.output_uri.empty()) out->mutable_outputs()->set_output_uri(at.output_uri);
  for (const auto& e : at.cluster_events) FillClusterEvent(e, out->add_cluster_events());
  for (const auto& t : at.transitions) {
    auto* pt = out->add_phase_transitions();
    pt->set_phase(static_cast<flyteidl2::common::ActionPhase>(t.phase));
    SetTime(t.start_time, pt->mutable_start_time());
    if (t.end_time) SetTime(*t.end_time, pt->mutable_end_time());
  }
  out->set_cluster(at.cluster);
}

// Filter values arrive as text; the repository wants phases as numbers and times as unix micros.
absl::StatusOr<std::string> NormalizeValue(Field field, const std::string& v, const std::string& path) {
  if (field == Field::kPhase) {
    int n = 0;
    auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (ec == std::errc() && ptr == v.data() + v.size() && IsValidPhase(n)) return std::to_string(n);
    flyteidl2::common::ActionPhase p;
    std::string upper;
    for (char c : v) upper.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
    if (flyteidl2::common::ActionPhase_Parse(upper, &p) ||
        flyteidl2::common::ActionPhase_Parse("ACTION_PHASE_" + upper, &p)) {
      return std::to_string(static_cast<int>(p));
    }
    return absl::InvalidArgumentError(path + " \"" + v + "\" is not an action phase");
  }
  if (field == Field::kCreatedAt || field == Field::kUpdatedAt || field == Field::kEndedAt) {
    pb::Timestamp ts;
    if (!TimeUtil::FromString(v, &ts)) {
      return absl::InvalidArgumentError(path + " \"" + v + "\" is not an RFC 3339 timestamp");
    }
    return std::to_string(TimeUtil::TimestampToMicroseconds(ts));
  }
  if (field == Field::kActionType) {
    wf::ActionType t;
    if (wf::ActionType_Parse(v, &t) || wf::ActionType_Parse("ACTION_TYPE_" + v, &t)) {
      return std::to_string(static_cast<int>(t));
    }
    return v;
  }
  return v;
}

absl::StatusOr<SortKey> ToSort(const flyteidl2::common::Sort& s, const FieldAllowlist& fields,
                               const std::string& path) {
  auto it = fields.find(s.key());
  if (it == fields.end()) {
    return absl::InvalidArgumentError(path + ".key \"" + s.key() + "\" is not a sortable field");
  }
  return SortKey{it->second, s.direction() == flyteidl2::common::Sort::ASCENDING};
}

}  // namespace

absl::StatusOr<TraceOutcome> ToTraceOutcome(const wf::TraceAction& trace, std::string_view path) {
  if (!IsValidPhase(trace.phase())) {
    return absl::InvalidArgumentError(Path(path, "phase") + " " + std::to_string(trace.phase()) +
                                      " is not an action phase");
  }
  TraceOutcome o;
  o.phase = static_cast<Phase>(trace.phase());
  if (trace.has_start_time()) o.start_time = FromTimestamp(trace.start_time());
  if (trace.has_end_time()) o.end_time = FromTimestamp(trace.end_time());
  o.output_uri = trace.outputs().output_uri();
  return o;
}

// ---- identifiers ----

absl::StatusOr<RunKey> ToRunKey(const flyteidl2::common::RunIdentifier& id, std::string_view path) {
  if (id.project().empty()) return Required(path, "project");
  if (id.domain().empty()) return Required(path, "domain");
  if (id.name().empty()) return Required(path, "name");
  return RunKey{OrgOrDefault(id.org()), id.project(), id.domain(), id.name()};
}

absl::StatusOr<ActionKey> ToActionKey(const flyteidl2::common::ActionIdentifier& id, std::string_view path) {
  if (!id.has_run()) return Required(path, "run");
  absl::StatusOr<RunKey> run = ToRunKey(id.run(), Path(path, "run"));
  if (!run.ok()) return run.status();
  if (id.name().empty()) return Required(path, "name");
  return ActionKey{*run, id.name()};
}

absl::StatusOr<TaskKey> ToTaskKey(const flyteidl2::task::TaskIdentifier& id, std::string_view path,
                                  bool need_version) {
  if (id.project().empty()) return Required(path, "project");
  if (id.domain().empty()) return Required(path, "domain");
  if (id.name().empty()) return Required(path, "name");
  if (need_version && id.version().empty()) return Required(path, "version");
  return TaskKey{OrgOrDefault(id.org()), id.project(), id.domain(), id.name(), id.version()};
}

void FillRunId(const RunKey& k, flyteidl2::common::RunIdentifier* out) {
  out->set_org(k.org);
  out->set_project(k.project);
  out->set_domain(k.domain);
  out->set_name(k.name);
}

void FillActionId(const ActionKey& k, flyteidl2::common::ActionIdentifier* out) {
  FillRunId(k.run, out->mutable_run());
  out->set_name(k.name);
}

void FillTaskId(const TaskKey& k, flyteidl2::task::TaskIdentifier* out) {
  out->set_org(k.org);
  out->set_project(k.project);
  out->set_domain(k.domain);
  out->set_name(k.name);
  out->set_version(k.version);
}

// ---- lists ----

const FieldAllowlist& RunListFields() {
  static const FieldAllowlist kFields = {
      {"name", Field::kName},           {"run_name", Field::kName},        {"phase", Field::kPhase},
      {"created_at", Field::kCreatedAt}, {"updated_at", Field::kUpdatedAt}, {"ended_at", Field::kEndedAt},
      {"task_name", Field::kTaskName},  {"task_version", Field::kTaskVersion},
      {"environment_name", Field::kEnvironment}, {"short_name", Field::kShortName},
      {"created_by", Field::kCreatedBy},  // what Run.listall(created_by_subject=...) sends
      {std::string(kLabelFieldPrefix), Field::kLabel},  // "labels.<key>": with_labels / with_label_keys
  };
  return kFields;
}

const FieldAllowlist& ActionListFields() {
  static const FieldAllowlist kFields = {
      {"name", Field::kName},           {"phase", Field::kPhase},          {"parent", Field::kParent},
      {"parent_name", Field::kParent},  // what the SDK's Action.listall(parent_name=...) sends
      {"action_type", Field::kActionType}, {"created_at", Field::kCreatedAt}, {"updated_at", Field::kUpdatedAt},
      {"ended_at", Field::kEndedAt},    {"task_name", Field::kTaskName},   {"task_version", Field::kTaskVersion},
      {"short_name", Field::kShortName}, {"environment_name", Field::kEnvironment},
  };
  return kFields;
}

const FieldAllowlist& TaskListFields() {
  static const FieldAllowlist kFields = {
      {"name", Field::kName},           {"task_name", Field::kTaskName},   {"environment_name", Field::kEnvironment},
      {"short_name", Field::kShortName}, {"created_at", Field::kCreatedAt}, {"updated_at", Field::kUpdatedAt},
  };
  return kFields;
}

absl::StatusOr<Filter> ToFilter(const flyteidl2::common::Filter& f, const FieldAllowlist& fields,
                                std::string_view path) {
  using F = flyteidl2::common::Filter;
  const std::string p(path);
  // "labels.<key>" where the list allows labels: one entry, "labels.", stands for every key.
  const bool label = f.field().rfind(kLabelFieldPrefix, 0) == 0 && fields.count(kLabelFieldPrefix) > 0;
  auto field = fields.find(label ? std::string_view(kLabelFieldPrefix) : std::string_view(f.field()));
  if (field == fields.end() || (!label && field->second == Field::kLabel)) {
    return absl::InvalidArgumentError(p + ".field \"" + f.field() + "\" is not a filterable field");
  }
  Filter out{field->second, FilterOp::kEqual, {}};
  if (label) {
    out.key = f.field().substr(std::string_view(kLabelFieldPrefix).size());
    if (out.key.empty()) return absl::InvalidArgumentError(p + ".field \"labels.\" needs a label key after the dot");
    if (f.function() == F::EXISTS || f.function() == F::NOT_EXISTS) {
      if (f.values_size() != 0) return absl::InvalidArgumentError(p + ".values must be empty for EXISTS/NOT_EXISTS");
      out.op = f.function() == F::EXISTS ? FilterOp::kExists : FilterOp::kNotExists;
      return out;
    }
    if (f.function() != F::EQUAL && f.function() != F::NOT_EQUAL && f.function() != F::VALUE_IN) {
      return absl::InvalidArgumentError(p + ".function " + F::Function_Name(f.function()) +
                                        " is not supported on labels (EQUAL, NOT_EQUAL, VALUE_IN, EXISTS, "
                                        "NOT_EXISTS)");
    }
  }
  switch (f.function()) {
    case F::EQUAL: out.op = FilterOp::kEqual; break;
    case F::NOT_EQUAL: out.op = FilterOp::kNotEqual; break;
    case F::GREATER_THAN: out.op = FilterOp::kGreaterThan; break;
    case F::GREATER_THAN_OR_EQUAL: out.op = FilterOp::kGreaterOrEqual; break;
    case F::LESS_THAN: out.op = FilterOp::kLessThan; break;
    case F::LESS_THAN_OR_EQUAL: out.op = FilterOp::kLessOrEqual; break;
    case F::CONTAINS: out.op = FilterOp::kContains; break;
    case F::VALUE_IN: out.op = FilterOp::kValueIn; break;
    case F::ENDS_WITH: out.op = FilterOp::kEndsWith; break;
    case F::NOT_ENDS_WITH: out.op = FilterOp::kNotEndsWith; break;
    case F::CONTAINS_CASE_INSENSITIVE: out.op = FilterOp::kContainsCaseInsensitive; break;
    default:
      return absl::InvalidArgumentError(p + ".function " + F::Function_Name(f.function()) + " is not supported");
  }
  if (f.values_size() == 0) return absl::InvalidArgumentError(p + ".values must not be empty");
  if (out.op != FilterOp::kValueIn && f.values_size() != 1) {
    return absl::InvalidArgumentError(p + ".values must have exactly one value for " +
                                      F::Function_Name(f.function()));
  }
  for (int i = 0; i < f.values_size(); ++i) {
    absl::StatusOr<std::string> v =
        NormalizeValue(out.field, f.values(i), p + ".values[" + std::to_string(i) + "]");
    if (!v.ok()) return v.status();
    out.values.push_back(std::move(*v));
  }
  return out;
}

absl::Status ApplyListRequest(const flyteidl2::common::ListRequest& req, const FieldAllowlist& fields,
                              std::string_view path, ListQuery* query) {
  const std::string p(path);
  if (req.limit() > kMaxListLimit) {
    return absl::InvalidArgumentError(p + ".limit " + std::to_string(req.limit()) + " exceeds the maximum " +
                                      std::to_string(kMaxListLimit));
  }
  query->limit = req.limit() == 0 ? kDefaultListLimit : req.limit();
  query->offset = 0;
  if (!req.token().empty()) {
    const std::string& t = req.token();
    uint64_t offset = 0;
    auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), offset);
    if (ec != std::errc() || ptr != t.data() + t.size()) {
      return absl::InvalidArgumentError(p + ".token \"" + t + "\" is not a valid page token");
    }
    query->offset = offset;
  }
  if (req.raw_filters_size() > 0) return absl::InvalidArgumentError(p + ".raw_filters is not supported");
  for (int i = 0; i < req.filters_size(); ++i) {
    absl::StatusOr<Filter> f = ToFilter(req.filters(i), fields, p + ".filters[" + std::to_string(i) + "]");
    if (!f.ok()) return f.status();
    query->filters.push_back(std::move(*f));
  }
  query->sort.clear();
  if (req.has_sort_by() && !req.sort_by().key().empty()) {
    absl::StatusOr<SortKey> s = ToSort(req.sort_by(), fields, p + ".sort_by");
    if (!s.ok()) return s.status();
    query->sort.push_back(*s);
  }
  for (int i = 0; i < req.sort_by_fields_size(); ++i) {
    absl::StatusOr<SortKey> s =
        ToSort(req.sort_by_fields(i), fields, p + ".sort_by_fields[" + std::to_string(i) + "]");
    if (!s.ok()) return s.status();
    query->sort.push_back(*s);
  }
  return absl::OkStatus();
}

std::string NextToken(const std::optional<uint64_t>& next_offset) {
  return next_offset ? std::to_string(*next_offset) : "";
}

// ---- runs and actions ----

void ToAction(const Action& a, wf::Action* out) {
  FillActionId(a.key, out->mutable_id());
  FillMetadata(a, out->mutable_metadata());
  FillStatus(a, out->mutable_status());
}

void ToActionDetails(const ActionWithAttempts& aw, wf::ActionDetails* out) {
  const Action& a = aw.action;
  FillActionId(a.key, out->mutable_id());
  FillMetadata(a, out->mutable_metadata());
  FillStatus(a, out->mutable_status());
  if (a.phase == Phase::kAborted) {
    out->mutable_abort_info()->set_reason(a.abort_reason.value_or(""));
  } else if (a.error) {
    FillError(*a.error, out->mutable_error_info());
  }
  // The SDK decodes typed outputs only when the task spec is present.
  if (!a.task_spec.empty()) {
    out->mutable_task()->ParseFromString(a.task_spec);
  } else if (!a.trace_spec.empty()) {
    out->mutable_trace()->ParseFromString(a.trace_spec);
  } else if (!a.condition_spec.empty()) {
    out->mutable_condition()->ParseFromString(a.condition_spec);
  }
  for (const Attempt& at : aw.attempts) FillAttempt(at, out->add_attempts());
}

void ToRun(const Action& root, wf::Run* out) {
  ToAction(root, out->mutable_action());
  if (!root.run_spec.empty()) {
    flyteidl2::task::RunSpec spec;
    if (spec.ParseFromString(root.run_spec)) {
      for (const auto& [k, v] : spec.labels().values()) (*out->mutable_labels())[k] = v;
    }
  }
}

void ToRunDetails(const ActionWithAttempts& root, wf::RunDetails* out) {
  if (!root.action.run_spec.empty()) out->mutable_run_spec()->ParseFromString(root.action.run_spec);
  ToActionDetails(root, out->mutable_action());
}

void ToEnrichedAction(const EnrichedActionView& a, wf::EnrichedAction* out) {
  ToAction(a.action, out->mutable_action());
  out->set_meets_filter(a.meets_filter);
  for (const auto& [phase, count] : a.children_phase_counts) (*out->mutable_children_phase_counts())[phase] = count;
}

void ToClusterEvent(const ClusterEvent& e, wf::ClusterEvent* out) { FillClusterEvent(e, out); }

void ToActionUpdate(const Action& a, wf::ActionUpdate* out) {
  FillActionId(a.key, out->mutable_action_id());
  out->set_phase(static_cast<flyteidl2::common::ActionPhase>(a.phase));
  if (a.error) {
    auto* e = out->mutable_error();
    e->set_code(a.error->code);
    e->set_message(a.error->message);
    e->set_kind(static_cast<flyteidl2::core::ExecutionError::ErrorKind>(a.error->kind));
  }
  out->set_output_uri(a.output_uri);
}

// ---- tasks ----

absl::StatusOr<Task> ToTask(const flyteidl2::task::TaskIdentifier& id, const flyteidl2::task::TaskSpec& spec,
                            std::string_view id_path, std::string_view spec_path, bool need_version) {
  absl::StatusOr<TaskKey> key = ToTaskKey(id, id_path, need_version);
  if (!key.ok()) return key.status();
  if (!spec.has_task_template()) return Required(spec_path, "task_template");
  Task t;
  t.key = *key;
  spec.SerializeToString(&t.spec);
  t.short_name = spec.short_name().empty() ? key->name : spec.short_name();
  t.environment = spec.environment().name();
  t.task_type = spec.task_template().type();
  t.code_bundle_uri = CodeBundleUri(spec);
  return t;
}

std::string CodeBundleUri(const flyteidl2::task::TaskSpec& spec) {
  const auto& args = spec.task_template().container().args();
  for (int i = 0; i + 1 < args.size(); ++i) {
    if (args[i] == "--tgz" || args[i] == "--pkl") return args[i + 1];
  }
  return "";
}

void ToTaskMessage(const Task& t, flyteidl2::task::Task* out) {
  FillTaskId(t.key, out->mutable_task_id());
  auto* m = out->mutable_metadata();
  m->set_short_name(t.short_name);
  m->set_environment_name(t.environment);
  SetTime(t.updated_at, m->mutable_deployed_at());
}

void ToTaskDetails(const Task& t, flyteidl2::task::TaskDetails* out) {
  FillTaskId(t.key, out->mutable_task_id());
  auto* m = out->mutable_metadata();
  m->set_short_name(t.short_name);
  m->set_environment_name(t.environment);
  SetTime(t.updated_at, m->mutable_deployed_at());
  if (!t.spec.empty()) out->mutable_spec()->ParseFromString(t.spec);
}

// ---- state ----

absl::StatusOr<ActionEvent> ParseStateJson(const std::string& json) {
  wf::ActionEvent msg;
  pb::util::JsonParseOptions opts;
  opts.ignore_unknown_fields = true;
  const auto parsed = pb::util::JsonStringToMessage(json, &msg, opts);
  if (!parsed.ok()) {
    return absl::InvalidArgumentError("state is not a JSON flyteidl2.workflow.ActionEvent: " +
                                      parsed.message().ToString());
  }
  return FromActionEventProto(msg);
}

ActionEvent FromActionEventProto(const wf::ActionEvent& msg) {
  ActionEvent e;
  e.attempt = msg.attempt();
  e.phase = static_cast<Phase>(msg.phase());
  if (msg.has_updated_time()) {
    e.occurred_at = FromTimestamp(msg.updated_time());
  } else if (msg.has_reported_time()) {
    e.occurred_at = FromTimestamp(msg.reported_time());
  }
  if (msg.has_outputs() && !msg.outputs().output_uri().empty()) e.output_uri = msg.outputs().output_uri();
  if (msg.has_error_info()) e.error = FromError(msg.error_info());
  for (const auto& ce : msg.cluster_events()) {
    e.cluster_events.push_back(
        ClusterEvent{ce.has_occurred_at() ? FromTimestamp(ce.occurred_at()) : TimePoint{}, ce.message(),
                     static_cast<int>(ce.type()), ce.reason()});
  }
  e.cache_status = static_cast<int>(msg.cache_status());
  // The attempt's extras ride in one serialized ActionAttempt (the attempt row's log_info column): logs, log
  // context and the cache status.
  if (msg.log_info_size() > 0 || msg.has_log_context() || msg.cache_status() != 0) {
    wf::ActionAttempt logs;
    *logs.mutable_log_info() = msg.log_info();
    if (msg.has_log_context()) *logs.mutable_log_context() = msg.log_context();
    logs.set_cache_status(msg.cache_status());
    logs.SerializeToString(&e.log_info);
  }
  e.cluster = msg.cluster();
  return e;
}

std::string ToStateJson(const ActionWithAttempts& aw) {
  const Action& a = aw.action;
  wf::ActionEvent msg;
  FillActionId(a.key, msg.mutable_id());
  msg.set_phase(static_cast<flyteidl2::common::ActionPhase>(a.phase));
  msg.set_version(static_cast<uint32_t>(a.version));
  SetTime(a.started_at.value_or(a.created_at), msg.mutable_start_time());
  SetTime(a.updated_at, msg.mutable_updated_time());
  if (a.ended_at) SetTime(*a.ended_at, msg.mutable_end_time());
  if (a.error) FillError(*a.error, msg.mutable_error_info());
  if (!a.output_uri.empty()) msg.mutable_outputs()->set_output_uri(a.output_uri);
  msg.set_attempt(a.attempts);
  msg.set_cache_status(static_cast<flyteidl2::core::CatalogCacheStatus>(a.cache_status));
  if (!aw.attempts.empty()) {
    const Attempt& last = aw.attempts.back();
    msg.set_attempt(last.attempt);
    msg.set_cluster(last.cluster);
    for (const auto& ce : last.cluster_events) FillClusterEvent(ce, msg.add_cluster_events());
    if (!last.log_info.empty()) {
      wf::ActionAttempt logs;
      if (logs.ParseFromString(last.log_info)) {
        *msg.mutable_log_info() = logs.log_info();
        if (logs.has_log_context()) *msg.mutable_log_context() = logs.log_context();
      }
    }
  }
  std::string json;
  (void)pb::util::MessageToJsonString(msg, &json);
  return json;
}

std::string WithRecoveredFrom(const std::string& metadata, const ActionKey& source) {
  flyteidl2::workflow::ActionMetadata extras;
  if (!metadata.empty()) extras.ParseFromString(metadata);
  FillActionId(source, extras.mutable_recovered_from());
  return extras.SerializeAsString();
}

}  // namespace flyte::runs::api

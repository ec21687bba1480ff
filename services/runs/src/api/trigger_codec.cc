#include "api/trigger_codec.h"

#include <google/protobuf/util/time_util.h>

#include "absl/strings/str_cat.h"
#include "domain/naming.h"
#include "flyteidl2/workflow/run_definition.pb.h"

namespace flyte::runs::api {
namespace {
namespace tk = flyteidl2::task;
namespace tr = flyteidl2::trigger;
using google::protobuf::util::TimeUtil;

google::protobuf::Timestamp ToTimestamp(common::TimePoint t) {
  return TimeUtil::MicrosecondsToTimestamp(common::ToUnixMicros(t));
}
common::TimePoint FromTimestamp(const google::protobuf::Timestamp& ts) {
  return common::FromUnixMicros(TimeUtil::TimestampToMicroseconds(ts));
}

// `expression_path` names the expression's field in errors ("automation_spec.schedule.cron.expression").
absl::StatusOr<Schedule> CronOf(const std::string& expression, std::string_view expression_path,
                                const std::string& timezone) {
  if (!timezone.empty() && timezone != "UTC" && timezone != "Etc/UTC") {
    return absl::InvalidArgumentError(absl::StrCat("automation_spec.schedule.cron.timezone \"", timezone,
                                                   "\" is not supported: schedules are evaluated in UTC"));
  }
  absl::StatusOr<CronSchedule> cron = ParseCron(expression);
  if (!cron.ok()) return absl::InvalidArgumentError(absl::StrCat(std::string(expression_path), ": ", cron.status().message()));
  Schedule s;
  s.kind = Schedule::Kind::kCron;
  s.cron = *cron;
  return s;
}

absl::StatusOr<std::optional<Schedule>> ScheduleFromSpec(const tk::TriggerAutomationSpec& a,
                                                         common::TimePoint default_anchor) {
  if (a.has_artifact() || a.type() == tk::TYPE_ARTIFACT) {
    return absl::InvalidArgumentError("automation_spec.artifact is not supported: artifact triggers are not served");
  }
  if (!a.has_schedule()) {
    if (a.type() == tk::TYPE_SCHEDULE) return absl::InvalidArgumentError("automation_spec.schedule is required");
    return std::optional<Schedule>();  // TYPE_NONE: a launch configuration fired on demand only
  }
  const tk::Schedule& sc = a.schedule();
  switch (sc.expression_case()) {
    case tk::Schedule::kRate: {
      const tk::FixedRate& r = sc.rate();
      if (r.value() == 0) return absl::InvalidArgumentError("automation_spec.schedule.rate.value must be positive");
      std::chrono::seconds unit;
      switch (r.unit()) {
        case tk::FIXED_RATE_UNIT_MINUTE: unit = std::chrono::minutes(1); break;
        case tk::FIXED_RATE_UNIT_HOUR: unit = std::chrono::hours(1); break;
        case tk::FIXED_RATE_UNIT_DAY: unit = std::chrono::hours(24); break;
        default:
          return absl::InvalidArgumentError(
              absl::StrCat("automation_spec.schedule.rate.unit ", static_cast<int>(r.unit()), " is not supported"));
      }
      Schedule s;
      s.kind = Schedule::Kind::kFixedRate;
      s.period = unit * static_cast<int64_t>(r.value());
      s.anchor = r.has_start_time() ? FromTimestamp(r.start_time()) : default_anchor;
      return std::optional<Schedule>(s);
    }
    case tk::Schedule::kCron: {
      absl::StatusOr<Schedule> s =
          CronOf(sc.cron().expression(), "automation_spec.schedule.cron.expression", sc.cron().timezone());
      if (!s.ok()) return s.status();
      return std::optional<Schedule>(*s);
    }
    case tk::Schedule::kCronExpression: {
      absl::StatusOr<Schedule> s = CronOf(sc.cron_expression(), "automation_spec.schedule.cron_expression", "");
      if (!s.ok()) return s.status();
      return std::optional<Schedule>(*s);
    }
    default:
      return absl::InvalidArgumentError("automation_spec.schedule needs rate or cron");
  }
}

}  // namespace

absl::StatusOr<TriggerKey> ToTriggerKey(const flyteidl2::common::TriggerName& n, std::string_view path) {
  if (n.project().empty()) return absl::InvalidArgumentError(absl::StrCat(std::string(path), ".project is required"));
  if (n.domain().empty()) return absl::InvalidArgumentError(absl::StrCat(std::string(path), ".domain is required"));
  if (n.task_name().empty()) return absl::InvalidArgumentError(absl::StrCat(std::string(path), ".task_name is required"));
  if (n.name().empty()) return absl::InvalidArgumentError(absl::StrCat(std::string(path), ".name is required"));
  return TriggerKey{OrgOrDefault(n.org()), n.project(), n.domain(), n.task_name(), n.name()};
}

void FillTriggerName(const TriggerKey& k, flyteidl2::common::TriggerName* out) {
  out->set_org(k.org);
  out->set_project(k.project);
  out->set_domain(k.domain);
  out->set_task_name(k.task_name);
  out->set_name(k.name);
}

absl::StatusOr<Trigger> ToTrigger(const tk::TaskTrigger& in, const TaskKey& task, std::string_view path) {
  if (in.name().empty()) return absl::InvalidArgumentError(absl::StrCat(std::string(path), ".name is required"));
  Trigger t;
  t.key = TriggerKey{task.org, task.project, task.domain, task.name, in.name()};
  t.task_version = task.version;
  t.active = in.spec().active();
  tr::TriggerSpec spec;
  switch (in.spec().input_wrapper_case()) {
    case tk::TaskTriggerSpec::kInputs: *spec.mutable_inputs() = in.spec().inputs(); break;
    case tk::TaskTriggerSpec::kOffloadedInputData:
      if (in.spec().offloaded_input_data().uri().empty()) {
        return absl::InvalidArgumentError(absl::StrCat(std::string(path), ".spec.offloaded_input_data.uri is required"));
      }
      *spec.mutable_offloaded_input_data() = in.spec().offloaded_input_data();
      break;
    default: break;
  }
  if (in.spec().has_run_spec()) *spec.mutable_run_spec() = in.spec().run_spec();
  spec.set_active(t.active);
  spec.set_task_version(task.version);
  spec.set_description(in.spec().description());
  t.spec = spec.SerializeAsString();
  t.automation_spec = in.automation_spec().SerializeAsString();
  // The schedule must read now: a bad one is refused at deploy, naming the field.
  absl::StatusOr<std::optional<Schedule>> s = ScheduleFromSpec(in.automation_spec(), common::TimePoint{});
  if (!s.ok()) return absl::InvalidArgumentError(absl::StrCat(std::string(path), ".", s.status().message()));
  if (s->has_value()) {
    if (absl::StatusOr<common::TimePoint> next = NextTick(**s, common::TimePoint{}); !next.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(std::string(path), ".automation_spec.schedule: ", next.status().message()));
    }
  }
  return t;
}

namespace {

void FillCommon(const Trigger& t, flyteidl2::common::TriggerIdentifier* id, tr::TriggerStatus* status,
                tk::TriggerAutomationSpec* automation) {
  FillTriggerName(t.key, id->mutable_name());
  id->set_revision(static_cast<uint64_t>(t.revision));
  *status->mutable_deployed_at() = ToTimestamp(t.deployed_at);
  *status->mutable_updated_at() = ToTimestamp(t.updated_at);
  if (t.triggered_at) *status->mutable_triggered_at() = ToTimestamp(*t.triggered_at);
  automation->ParseFromString(t.automation_spec);
}

}  // namespace

void ToTriggerMessage(const Trigger& t, tr::Trigger* out) {
  FillCommon(t, out->mutable_id(), out->mutable_status(), out->mutable_automation_spec());
  out->set_active(t.active);
}

void ToTriggerDetails(const Trigger& t, tr::TriggerDetails* out) {
  FillCommon(t, out->mutable_id(), out->mutable_status(), out->mutable_automation_spec());
  out->mutable_spec()->ParseFromString(t.spec);
  out->mutable_spec()->set_active(t.active);
  if (!out->spec().description().empty()) out->set_description(out->spec().description());
}

absl::StatusOr<std::optional<Schedule>> ProtoTriggerCodec::ScheduleOf(const Trigger& t,
                                                                      common::TimePoint default_anchor) {
  tk::TriggerAutomationSpec a;
  if (!a.ParseFromString(t.automation_spec)) return absl::DataLossError("unreadable automation_spec");
  return ScheduleFromSpec(a, default_anchor);
}

absl::StatusOr<CreateRunParams> ProtoTriggerCodec::RunFor(const Trigger& t, common::TimePoint tick) {
  tr::TriggerSpec spec;
  tk::TriggerAutomationSpec automation;
  if (!spec.ParseFromString(t.spec) || !automation.ParseFromString(t.automation_spec)) {
    return absl::DataLossError("unreadable trigger spec");
  }
  CreateRunParams p;
  p.run = RunKey{t.key.org, t.key.project, t.key.domain, ""};
  p.task_id = TaskKey{t.key.org, t.key.project, t.key.domain, t.key.task_name, t.task_version};
  if (spec.has_offloaded_input_data()) {
    // The SDK's runtime fills the kickoff input from run_start_time (the blob's context names it).
    p.offloaded_input_uri = spec.offloaded_input_data().uri();
  } else {
    tk::Inputs inputs = spec.inputs();
    const std::string& kickoff = automation.schedule().kickoff_time_input_arg();
    if (!kickoff.empty()) {
      // Shown as the run's input; the runtime also fills it from run_start_time.
      tk::NamedLiteral* lit = nullptr;
      for (auto& l : *inputs.mutable_literals()) {
        if (l.name() == kickoff) lit = &l;
      }
      if (lit == nullptr) lit = inputs.add_literals();
      lit->set_name(kickoff);
      *lit->mutable_value()->mutable_scalar()->mutable_primitive()->mutable_datetime() = ToTimestamp(tick);
    }
    p.inputs = inputs.SerializeAsString();
  }
  tk::RunSpec run_spec = spec.run_spec();
  *run_spec.mutable_run_start_time() = ToTimestamp(tick);
  for (const auto& [k, v] : run_spec.labels().values()) p.labels[k] = v;
  p.run_spec = run_spec.SerializeAsString();
  flyteidl2::workflow::ActionMetadata extras;
  extras.set_source(flyteidl2::workflow::RUN_SOURCE_SCHEDULE_TRIGGER);
  p.metadata = WithTrigger(extras.SerializeAsString(), t);
  return p;
}

std::string WithTrigger(const std::string& metadata, const Trigger& t) {
  flyteidl2::workflow::ActionMetadata extras;
  if (!metadata.empty()) extras.ParseFromString(metadata);
  FillTriggerName(t.key, extras.mutable_trigger_id()->mutable_name());
  extras.mutable_trigger_id()->set_revision(static_cast<uint64_t>(t.revision));
  extras.set_trigger_name(t.key.name);
  extras.mutable_trigger_type()->ParseFromString(t.automation_spec);
  return extras.SerializeAsString();
}

}  // namespace flyte::runs::api

#include "controller/rollout_proto.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "controller/proto_unknown_fields.h"
#include "google/protobuf/util/time_util.h"

namespace smartcanary {
namespace {

void RefToProto(const AnalysisRef& ref, v1::AnalysisStep* out) {
  for (const TemplateRef& t : ref.templates) {
    v1::TemplateRef* proto = out->add_templates();
    proto->set_template_name(t.name);
    proto->set_cluster_scope(t.cluster_scope);
  }
  for (const AnalysisArg& arg : ref.args) {
    v1::Arg* proto = out->add_args();
    proto->set_name(arg.name);
    proto->set_value(arg.value.value_or(""));
  }
  if (ref.on_error != OnError::kRollback)
    out->set_on_error(OnErrorName(ref.on_error));
}

absl::StatusOr<AnalysisRef> RefFromProto(const v1::AnalysisStep& proto,
                                         const std::string& path) {
  AnalysisRef ref;
  if (proto.templates().empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ".templates: must list at least one template"));
  }
  for (int i = 0; i < proto.templates_size(); ++i) {
    if (proto.templates(i).template_name().empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ".templates[", i, "].templateName: is required"));
    }
    ref.templates.push_back({proto.templates(i).template_name(),
                             proto.templates(i).cluster_scope()});
  }
  for (const v1::Arg& arg : proto.args())
    ref.args.push_back({arg.name(), arg.value()});
  if (proto.on_error() == "pause") {
    ref.on_error = OnError::kPause;
  } else if (!proto.on_error().empty() && proto.on_error() != "rollback") {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ".onError: \"", proto.on_error(),
                     "\" is not one of rollback, pause"));
  }
  return ref;
}

v1::AnalysisRunStatus RunToProto(const std::string& name,
                                 const AnalysisRun& run) {
  v1::AnalysisRunStatus out;
  out.set_name(name);
  out.set_phase(RunPhaseName(run.phase));
  out.set_message(run.message);
  for (const MetricRun& metric : run.metrics) {
    v1::MetricStatus* m = out.add_metrics();
    m->set_name(metric.name);
    m->set_phase(RunPhaseName(metric.phase));
    m->set_successful(metric.successful);
    m->set_failed(metric.failed);
    m->set_inconclusive(metric.inconclusive);
    m->set_error(metric.errors);
    m->set_pending(metric.pending);
    m->set_dry_run(metric.dry_run);
    if (!metric.recent.empty()) {
      m->set_last_message(metric.recent.back().message);
      for (double v : metric.recent.back().values) m->add_last_values(v);
    }
    for (const MeasurementRecord& record : metric.recent) {
      v1::RecentMeasurement* r = m->add_recent();
      r->set_phase(RecordPhaseName(record));
      for (double v : record.values) r->add_values(v);
      r->set_message(record.message);
      *r->mutable_at() = google::protobuf::util::TimeUtil::SecondsToTimestamp(
          absl::ToUnixSeconds(record.at));
    }
  }
  return out;
}

}  // namespace

v1::RolloutSpec SpecToProto(const RolloutSpec& spec) {
  v1::RolloutSpec out;
  const TrafficRouting& tr = spec.traffic_routing;
  v1::TrafficRouting* routing = out.mutable_traffic_routing();
  routing->set_virtual_service(tr.virtual_service);
  for (const std::string& route : tr.routes) routing->add_routes(route);
  for (const VirtualServiceRef& vs : tr.virtual_services) {
    v1::VirtualServiceRoutes* item = routing->add_virtual_services();
    item->set_name(vs.name);
    for (const std::string& route : vs.routes) item->add_routes(route);
  }
  routing->set_destination_rule(tr.destination_rule);
  routing->set_stable_subset(tr.stable_subset);
  routing->set_canary_subset(tr.canary_subset);
  routing->set_stable_service(tr.stable_service);
  routing->set_canary_service(tr.canary_service);
  for (const auto& [key, value] : spec.canary_labels)
    (*out.mutable_canary_labels())[key] = value;
  for (const Step& step : spec.steps) {
    v1::Step* proto = out.add_steps();
    if (step.kind == Step::Kind::kSetWeight) {
      proto->set_set_weight(step.weight);
    } else if (step.kind == Step::Kind::kAnalysis) {
      RefToProto(step.analysis, proto->mutable_analysis());
    } else {
      proto->mutable_pause()->set_duration_seconds(
          step.pause_duration ? absl::ToInt64Seconds(*step.pause_duration) : 0);
    }
  }
  out.set_early_promotion(spec.early_promotion);
  if (spec.preflight != PreflightPolicy::kWarn)
    out.set_preflight(PreflightPolicyName(spec.preflight));
  if (spec.progress_deadline) {
    out.set_progress_deadline_seconds(
        absl::ToInt64Seconds(*spec.progress_deadline));
  }
  out.set_progress_deadline_abort(spec.progress_deadline_abort);
  if (spec.background_analysis) {
    RefToProto(spec.background_analysis->analysis,
               out.mutable_analysis()->mutable_analysis());
    out.mutable_analysis()->set_starting_step(
        spec.background_analysis->starting_step);
  }
  return out;
}

absl::StatusOr<RolloutSpec> SpecFromProto(const v1::RolloutSpec& proto) {
  if (auto s = RejectUnknownProtoFields(proto, "spec"); !s.ok()) return s;
  RolloutSpec spec;
  const v1::TrafficRouting& routing = proto.traffic_routing();
  TrafficRouting& tr = spec.traffic_routing;
  tr.virtual_service = routing.virtual_service();
  tr.routes.assign(routing.routes().begin(), routing.routes().end());
  for (const v1::VirtualServiceRoutes& vs : routing.virtual_services()) {
    tr.virtual_services.push_back(
        {vs.name(), {vs.routes().begin(), vs.routes().end()}});
  }
  tr.destination_rule = routing.destination_rule();
  tr.stable_subset = routing.stable_subset();
  tr.canary_subset = routing.canary_subset();
  tr.stable_service = routing.stable_service();
  tr.canary_service = routing.canary_service();
  spec.canary_labels.insert(proto.canary_labels().begin(),
                            proto.canary_labels().end());
  for (int i = 0; i < proto.steps_size(); ++i) {
    const v1::Step& step = proto.steps(i);
    Step out;
    switch (step.kind_case()) {
      case v1::Step::kSetWeight:
        out.kind = Step::Kind::kSetWeight;
        out.weight = step.set_weight();
        break;
      case v1::Step::kPause:
        out.kind = Step::Kind::kPause;
        if (step.pause().duration_seconds() < 0) {
          return absl::InvalidArgumentError(absl::StrCat(
              "spec.steps[", i, "].pause.duration: must not be negative"));
        }
        if (step.pause().duration_seconds() > 0) {
          out.pause_duration = absl::Seconds(step.pause().duration_seconds());
        }
        break;
      case v1::Step::kAnalysis: {
        auto ref = RefFromProto(step.analysis(),
                                absl::StrCat("spec.steps[", i, "].analysis"));
        if (!ref.ok()) return ref.status();
        out.kind = Step::Kind::kAnalysis;
        out.analysis = *ref;
        break;
      }
      default:
        return absl::InvalidArgumentError(absl::StrCat(
            "spec.steps[", i, "]: must set one of setWeight, pause, analysis"));
    }
    spec.steps.push_back(out);
  }
  spec.early_promotion = proto.early_promotion();
  if (proto.progress_deadline_seconds() < 0) {
    return absl::InvalidArgumentError(
        "spec.progressDeadlineSeconds: must not be negative");
  }
  if (proto.progress_deadline_seconds() > 0)
    spec.progress_deadline = absl::Seconds(proto.progress_deadline_seconds());
  spec.progress_deadline_abort = proto.progress_deadline_abort();
  if (!proto.preflight().empty()) {
    auto policy = ParsePreflightPolicy(proto.preflight());
    if (!policy.ok()) return policy.status();
    spec.preflight = *policy;
  }
  if (proto.has_analysis()) {
    auto ref = RefFromProto(proto.analysis().analysis(), "spec.analysis");
    if (!ref.ok()) return ref.status();
    spec.background_analysis =
        BackgroundAnalysis{*ref, proto.analysis().starting_step()};
  }
  if (auto status = ValidateRolloutSpec(spec); !status.ok()) return status;
  return spec;
}

v1::Rollout RolloutToProto(const CanaryRollout& rollout) {
  using google::protobuf::util::TimeUtil;
  v1::Rollout out;
  out.set_namespace_(rollout.namespace_name);
  out.set_name(rollout.name);
  *out.mutable_spec() = SpecToProto(rollout.spec);
  const RolloutStatus& status = rollout.status;
  const bool started = status.observed_generation == rollout.generation;
  switch (status.phase) {
    case Phase::kProgressing:
      out.set_phase(v1::PROGRESSING);
      break;
    case Phase::kPaused:
      out.set_phase(v1::PAUSED);
      break;
    case Phase::kHealthy:
      out.set_phase(v1::HEALTHY);
      break;
    case Phase::kDegraded:
      out.set_phase(v1::DEGRADED);
      break;
  }
  if (!started) out.set_phase(v1::PROGRESSING);
  out.set_current_step_index(started ? status.current_step_index : 0);
  out.set_total_steps(static_cast<int>(rollout.spec.steps.size()));
  out.set_canary_weight(status.canary_weight);
  out.set_stable_weight(100 - status.canary_weight);
  out.set_message(started ? status.message
                          : "new spec accepted; waiting for canaryd");
  if (status.pause_started_at) {
    *out.mutable_pause_started_at() = TimeUtil::SecondsToTimestamp(
        absl::ToUnixSeconds(*status.pause_started_at));
  }
  out.set_paused_by_user(status.paused_by_user());
  if (started) {
    out.set_pause_reason(PauseReasonName(status.pause_reason));
    for (const std::string& warning : status.warnings)
      out.add_warnings(warning);
    for (const RolloutCondition& c : status.conditions) {
      v1::RolloutCondition* condition = out.add_conditions();
      condition->set_type(c.type);
      condition->set_status(c.status);
      condition->set_reason(c.reason);
      condition->set_message(c.message);
      *condition->mutable_last_transition_time() =
          TimeUtil::SecondsToTimestamp(absl::ToUnixSeconds(c.last_transition));
    }
  }
  out.set_generation(rollout.generation);
  out.set_observed_generation(status.observed_generation);
  google::protobuf::Timestamp created;
  if (TimeUtil::FromString(rollout.creation_timestamp, &created))
    *out.mutable_created_at() = created;
  if (started && status.step_run) {
    *out.add_analysis_runs() =
        RunToProto(absl::StrCat("step ", status.step_run->step_index + 1),
                   *status.step_run);
  }
  if (started && status.background_run) {
    *out.add_analysis_runs() = RunToProto("background", *status.background_run);
  }
  if (started && status.preflight) {
    const PreflightStatus& p = *status.preflight;
    v1::PreflightResult* preflight = out.mutable_preflight();
    preflight->set_result(PreflightResultName(p));
    auto seconds = [](absl::Duration d) {
      return d == absl::InfiniteDuration() ? -1 : absl::ToInt64Seconds(d);
    };
    preflight->set_regression_seconds(seconds(p.regression_detected));
    preflight->set_not_worse_seconds(seconds(p.not_worse_proven));
    preflight->set_plan_long_enough(p.plan_long_enough);
    preflight->set_message(p.message);
    *preflight->mutable_computed_at() =
        TimeUtil::SecondsToTimestamp(absl::ToUnixSeconds(p.computed_at));
  }
  return out;
}

}  // namespace smartcanary

#include "controller/reconciler.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "controller/kube/resources.h"
#include "controller/state_machine.h"
#include "google/protobuf/util/time_util.h"
#include "spdlog/spdlog.h"

namespace smartcanary {
namespace {

using google::protobuf::util::TimeUtil;
using nlohmann::json;

// More decisions than a rollout has steps and measurements means a bug.
constexpr int kDecisionsPerPass = 1000;

absl::Status ApplyTraffic(TrafficRouter& router, const RolloutSpec& spec,
                          const Decision& decision) {
  if (decision.select_canary_labels) {
    // A new rollout: check every object before the first write, so that a
    // misconfigured rollout patches nothing.
    if (auto status = router.Verify(); !status.ok()) return status;
  }
  if (decision.promote_stable_labels) {
    // Stable must serve the new version before its weight returns to 100.
    if (auto status = router.PromoteStable(spec.canary_labels); !status.ok())
      return status;
  }
  if (auto status = router.SetCanaryWeight(decision.canary_weight);
      !status.ok())
    return status;
  if (decision.select_canary_labels)
    return router.SelectCanary(spec.canary_labels);
  return absl::OkStatus();
}

google::protobuf::Timestamp ToTimestamp(absl::Time t) {
  return TimeUtil::MillisecondsToTimestamp(absl::ToUnixMillis(t));
}

v1::RolloutContext ContextOf(const CanaryRollout& rollout,
                             const RolloutStatus& status,
                             const AnalysisRun& run) {
  v1::RolloutContext context;
  context.set_namespace_(rollout.namespace_name);
  context.set_name(rollout.name);
  context.mutable_canary_labels()->insert(rollout.spec.canary_labels.begin(),
                                          rollout.spec.canary_labels.end());
  *context.mutable_analysis_started_at() = ToTimestamp(run.started_at);
  absl::Duration planned = absl::ZeroDuration();
  for (const Step& step : rollout.spec.steps) {
    if (step.kind == Step::Kind::kPause && step.pause_duration)
      planned += *step.pause_duration;
  }
  context.set_planned_pause_seconds(absl::ToInt64Seconds(planned));
  for (const WeightChange& change : status.weight_history) {
    v1::WeightChange* proto = context.add_weight_timeline();
    *proto->mutable_at() = ToTimestamp(change.at);
    proto->set_canary_weight(change.canary_weight);
  }
  return context;
}

}  // namespace

bool IsConfigError(const absl::Status& status) {
  return absl::IsFailedPrecondition(status) || absl::IsNotFound(status) ||
         absl::IsInvalidArgument(status);
}

Reconciler::Reconciler(const kube::KubeClient& client, ReconcilerDeps deps)
    : client_(client), deps_(std::move(deps)), templates_(client) {}

absl::StatusOr<CanaryRollout> Reconciler::WriteStatus(
    const CanaryRollout& rollout, const RolloutStatus& status,
    std::optional<Command> command) {
  json ops = json::array({{{"op", "replace"},
                           {"path", "/metadata/resourceVersion"},
                           {"value", rollout.resource_version}},
                          {{"op", "add"},
                           {"path", "/status"},
                           {"value", RolloutStatusToJson(status)}}});
  auto written = client_.JsonPatch(
      kube::kCanaryRollouts.Item(rollout.namespace_name, rollout.name) +
          "/status",
      ops);
  if (!written.ok()) return written.status();
  CanaryRollout updated = rollout;
  updated.status = status;
  updated.resource_version =
      (*written)["metadata"].value("resourceVersion", "");
  if (deps_.events != nullptr) {
    auto events = EventsBetween(rollout.status, status, command);
    if (!events.empty()) deps_.events->Publish(updated, events);
  }
  if (deps_.metrics != nullptr) {
    deps_.metrics->SetRollout(rollout.namespace_name, rollout.name,
                              PhaseName(status.phase), status.canary_weight);
  }
  return updated;
}

absl::StatusOr<ActiveAnalysis> Reconciler::ActiveAnalysesFor(
    const CanaryRollout& rollout, const RolloutStatus& status,
    std::map<std::string, std::string>& step_args,
    std::map<std::string, std::string>& background_args,
    std::map<std::string, ResolvedAnalysis>& resolved_this_pass) {
  auto resolve =
      [&](const AnalysisRef& ref,
          const std::string& where) -> absl::StatusOr<ResolvedAnalysis> {
    if (auto cached = resolved_this_pass.find(where);
        cached != resolved_this_pass.end()) {
      return cached->second;
    }
    auto resolved = templates_.Resolve(rollout.namespace_name, ref, where);
    if (resolved.ok()) resolved_this_pass[where] = *resolved;
    return resolved;
  };
  ActiveAnalysis active;
  const RolloutSpec& spec = rollout.spec;
  const int index = status.current_step_index;
  if (status.observed_generation == rollout.generation &&
      index < static_cast<int>(spec.steps.size()) &&
      spec.steps[index].kind == Step::Kind::kAnalysis) {
    auto resolved = resolve(spec.steps[index].analysis,
                            absl::StrCat("spec.steps[", index, "].analysis"));
    if (!resolved.ok()) return resolved.status();
    active.step = resolved->metrics;
    step_args = resolved->args;
  }
  if (status.observed_generation == rollout.generation &&
      BackgroundActive(spec, status)) {
    auto resolved =
        resolve(spec.background_analysis->analysis, "spec.analysis");
    if (!resolved.ok()) return resolved.status();
    active.background = resolved->metrics;
    background_args = resolved->args;
  }
  return active;
}

RolloutStatus Reconciler::TakeMeasurements(
    const CanaryRollout& rollout, const Decision& decision,
    const ActiveAnalysis& analysis,
    const std::map<std::string, std::string>& step_args,
    const std::map<std::string, std::string>& background_args, absl::Time now) {
  RolloutStatus next = decision.next;
  auto measure = [&](const std::vector<std::string>& due,
                     const std::vector<MetricSpec>& specs,
                     const std::map<std::string, std::string>& args,
                     std::optional<AnalysisRun>& run) {
    if (due.empty() || !run) return;
    std::vector<const MetricSpec*> metrics;
    for (const MetricSpec& spec : specs) {
      if (std::find(due.begin(), due.end(), spec.name) != due.end())
        metrics.push_back(&spec);
    }
    for (const auto& [metric, record] : deps_.analyzer->Measure(
             metrics, args, ContextOf(rollout, next, *run), now)) {
      *run = Record(specs, *run, metric, record);
      if (deps_.metrics != nullptr) {
        deps_.metrics->Count(
            "canaryd_measurements_total",
            absl::StrCat("phase=\"",
                         analysis::MeasurementPhaseName(record.phase), "\""));
      }
    }
  };
  measure(decision.measure_step, analysis.step, step_args, next.step_run);
  measure(decision.measure_background, analysis.background, background_args,
          next.background_run);
  return next;
}

absl::StatusOr<absl::Duration> Reconciler::Reconcile(const std::string& ns,
                                                     const std::string& name,
                                                     absl::Time now) {
  auto object = client_.Get(kube::kCanaryRollouts.Item(ns, name));
  if (absl::IsNotFound(object.status())) {
    if (deps_.metrics != nullptr) deps_.metrics->ForgetRollout(ns, name);
    return absl::InfiniteDuration();
  }
  if (!object.ok()) return object.status();
  auto parsed = CanaryRolloutFromJson(*object);
  if (!parsed.ok()) {
    // Stored by kubectl past what the schema checks: say so in the status and
    // touch no traffic, since the routing itself may be what is wrong.
    CanaryRollout broken;
    broken.namespace_name = ns;
    broken.name = name;
    broken.resource_version =
        (*object)["metadata"].value("resourceVersion", "");
    broken.status = ParseRolloutStatus(object->value("status", json()))
                        .value_or(RolloutStatus{});
    RolloutStatus degraded =
        Degrade(broken.status, std::string(parsed.status().message()));
    degraded.observed_generation =
        (*object)["metadata"].value("generation", int64_t{0});
    if (degraded == broken.status) return absl::InfiniteDuration();
    auto written = WriteStatus(broken, degraded);
    if (!written.ok()) return written.status();
    return absl::InfiniteDuration();
  }
  CanaryRollout rollout = *parsed;
  std::unique_ptr<TrafficRouter> router = deps_.routers(rollout);
  // Mesh objects or templates that do not fit: traffic back on stable first
  // (best effort: the routing itself may be what does not fit), then say why.
  auto degrade = [&](const RolloutStatus& from,
                     const std::string& why) -> absl::StatusOr<absl::Duration> {
    if (auto zero = router->SetCanaryWeight(0);
        !zero.ok() && !IsConfigError(zero))
      return zero;
    RolloutStatus next = Degrade(from, why);
    if (next == rollout.status) return absl::InfiniteDuration();
    spdlog::warn("{}/{}: degraded: {}", ns, name, next.message);
    auto written = WriteStatus(rollout, next);
    if (!written.ok()) return written.status();
    return absl::InfiniteDuration();
  };
  std::map<std::string, ResolvedAnalysis> resolved_this_pass;
  for (int i = 0; i < kDecisionsPerPass; ++i) {
    std::map<std::string, std::string> step_args, background_args;
    auto analysis = ActiveAnalysesFor(rollout, rollout.status, step_args,
                                      background_args, resolved_this_pass);
    if (!analysis.ok()) {
      if (!IsConfigError(analysis.status())) return analysis.status();
      return degrade(rollout.status,
                     absl::StrCat("analysis: ", analysis.status().message()));
    }
    const Decision decision = Decide(rollout.spec, rollout.generation,
                                     rollout.status, now, *analysis);
    RolloutStatus next = decision.next;
    if (decision.select_canary_labels) {
      if (auto valid = templates_.ValidateSpec(ns, rollout.spec); !valid.ok()) {
        if (!IsConfigError(valid)) return valid;
        return degrade(next, absl::StrCat("analysis: ", valid.message()));
      }
    }
    if (decision.wants_measurements()) {
      next = TakeMeasurements(rollout, decision, *analysis, step_args,
                              background_args, now);
    } else if (auto applied = ApplyTraffic(*router, rollout.spec, decision);
               !applied.ok()) {
      if (deps_.metrics != nullptr)
        deps_.metrics->Count("canaryd_patch_errors_total");
      if (!IsConfigError(applied)) return applied;
      return degrade(next,
                     absl::StrCat("traffic routing: ", applied.message()));
    }
    if (next != rollout.status) {
      auto written = WriteStatus(rollout, next);
      if (!written.ok()) return written.status();
      if (next.phase != rollout.status.phase ||
          next.current_step_index != rollout.status.current_step_index ||
          next.canary_weight != rollout.status.canary_weight) {
        spdlog::info("{}/{}: {} step {} weight {}: {}", ns, name,
                     PhaseName(next.phase), next.current_step_index,
                     next.canary_weight, next.message);
      }
      rollout = *written;
    }
    // A zero requeue means the decision moved the rollout on (new rollout,
    // next step, new measurements): decide again at once.
    if (decision.requeue_after != absl::ZeroDuration())
      return decision.requeue_after;
  }
  return absl::InternalError(absl::StrCat(ns, "/", name,
                                          ": no stable state after ",
                                          kDecisionsPerPass, " decisions"));
}

}  // namespace smartcanary

#include "controller/reconciler.h"

#include <algorithm>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "controller/analysis/alpha_budget.h"
#include "controller/kube/resources.h"
#include "controller/preflight_plan.h"
#include "controller/rollout_finalizer.h"
#include "google/protobuf/util/time_util.h"
#include "spdlog/spdlog.h"

namespace smartcanary {
namespace {

using google::protobuf::util::TimeUtil;
using nlohmann::json;

// More decisions than a rollout has steps and measurements means a bug.
constexpr int kDecisionsPerPass = 1000;
// A reconcile waiting for measurements looks again after this even if no
// callback wakes it (the analyzer call's own deadline is shorter).
const absl::Duration kMeasurementRecheck =
    kMaxMeasurementTime + absl::Seconds(15);

constexpr int kCommandConflictRetries = 5;

// How often a pre-flight that holds the rollout (or could not be computed)
// is asked again: the stable's traffic may have grown.
const absl::Duration kPreflightRefresh = absl::Seconds(30);

// Traffic first, confirmed by reading it back: an abort's reply and status
// never claim stable 100 before the VirtualService shows it. `router` reads
// the API server itself (ServerRouter), not the watch cache, so both the
// decision to patch and the read-back are the server's.
absl::Status ReturnTrafficToStable(TrafficRouter& router) {
  if (auto zero = router.SetCanaryWeight(0); !zero.ok()) return zero.status();
  auto weight = router.GetCanaryWeight();
  if (!weight.ok()) return weight.status();
  if (*weight != 0) {
    return absl::UnavailableError(
        absl::StrCat("the VirtualService still shows canary weight ", *weight));
  }
  return absl::OkStatus();
}

std::string KeyOf(const std::string& ns, const std::string& name) {
  return absl::StrCat(ns, "/", name);
}

// Applies a decision's traffic; returns whether the weights had drifted from
// what the status already said (someone else changed them).
absl::StatusOr<bool> ApplyTraffic(TrafficRouter& router,
                                  const RolloutSpec& spec,
                                  const RolloutStatus& before,
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
  auto changed = router.SetCanaryWeight(decision.canary_weight);
  if (!changed.ok()) return changed.status();
  if (decision.select_canary_labels) {
    if (auto status = router.SelectCanary(spec.canary_labels); !status.ok())
      return status;
  }
  return *changed && !decision.select_canary_labels &&
         decision.canary_weight == before.canary_weight;
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

BatchId BatchIdOf(const CanaryRollout& rollout, const Decision& decision) {
  const RolloutStatus& next = decision.next;
  BatchId id;
  id.generation = rollout.generation;
  id.step_index = next.current_step_index;
  if (next.step_run) id.step_run_started = next.step_run->started_at;
  if (next.background_run)
    id.background_run_started = next.background_run->started_at;
  id.step_metrics = decision.measure_step;
  id.background_metrics = decision.measure_background;
  return id;
}

std::vector<std::string> MeshObjectsOf(const CanaryRollout& rollout) {
  const TrafficRouting& routing = rollout.spec.traffic_routing;
  const std::string& ns = rollout.namespace_name;
  std::vector<std::string> out;
  for (const VirtualServiceRef& vs : routing.AllVirtualServices()) {
    out.push_back(
        absl::StrCat(kube::kVirtualServices.plural, "/", ns, "/", vs.name));
  }
  if (routing.subset_level()) {
    out.push_back(absl::StrCat(kube::kDestinationRules.plural, "/", ns, "/",
                               routing.destination_rule));
  }
  return out;
}

}  // namespace

bool IsConfigError(const absl::Status& status) {
  return absl::IsFailedPrecondition(status) || absl::IsNotFound(status) ||
         absl::IsInvalidArgument(status);
}

Reconciler::Reconciler(const kube::KubeApi& client, ReconcilerDeps deps)
    : client_(client),
      deps_(std::move(deps)),
      templates_(client),
      inbox_(std::make_shared<MeasurementInbox>(
          [wake = deps_.wake](const std::string& key) {
            if (wake) wake(key);
          })),
      preflights_(std::make_shared<PreflightInbox>(
          [wake = deps_.wake](const std::string& key) {
            if (wake) wake(key);
          })) {}

Reconciler::~Reconciler() { Shutdown(); }

absl::Status Reconciler::Fence() const {
  if (deps_.may_write && !deps_.may_write()) {
    return absl::UnavailableError(
        "not the leader: this canaryd may not write (its lease is not held)");
  }
  return absl::OkStatus();
}

std::unique_ptr<TrafficRouter> Reconciler::ServerRouter(
    const CanaryRollout& rollout) const {
  return deps_.server_routers ? deps_.server_routers(rollout)
                              : deps_.routers(rollout);
}

void Reconciler::Shutdown() {
  inbox_->Close();
  preflights_->Close();
}

std::vector<std::string> Reconciler::RolloutsUsing(
    const std::string& object_key) const {
  absl::MutexLock lock(&index_mu_);
  auto it = rollouts_by_object_.find(object_key);
  if (it == rollouts_by_object_.end()) return {};
  return {it->second.begin(), it->second.end()};
}

void Reconciler::IndexRouting(const std::string& key,
                              const CanaryRollout* rollout) {
  absl::MutexLock lock(&index_mu_);
  for (const std::string& object : objects_by_rollout_[key]) {
    auto it = rollouts_by_object_.find(object);
    if (it == rollouts_by_object_.end()) continue;
    it->second.erase(key);
    if (it->second.empty()) rollouts_by_object_.erase(it);
  }
  objects_by_rollout_.erase(key);
  if (rollout == nullptr) return;
  objects_by_rollout_[key] = MeshObjectsOf(*rollout);
  for (const std::string& object : objects_by_rollout_[key])
    rollouts_by_object_[object].insert(key);
}

absl::StatusOr<CanaryRollout> Reconciler::WriteStatus(
    const CanaryRollout& rollout, const RolloutStatus& status,
    std::optional<Command> command) {
  if (auto fenced = Fence(); !fenced.ok()) return fenced;
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
    if (!events.empty())
      deps_.events->PublishChange(updated, rollout.status, events);
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
  // One alpha per rollout: comparative metrics share it across the
  // background analysis and every analysis step (alpha_budget.h).
  auto comparative = [](const std::vector<MetricSpec>& metrics) {
    return std::any_of(metrics.begin(), metrics.end(),
                       [](const auto& m) { return m.query.has_comparative(); });
  };
  if (comparative(active.step) || comparative(active.background)) {
    std::vector<ResolvedAnalysis> all;
    for (size_t i = 0; i < spec.steps.size(); ++i) {
      if (spec.steps[i].kind != Step::Kind::kAnalysis) continue;
      // Checked when the rollout started (ValidateSpec); a template gone
      // since is reported when its step is reached.
      auto resolved = resolve(spec.steps[i].analysis,
                              absl::StrCat("spec.steps[", i, "].analysis"));
      if (resolved.ok()) all.push_back(*resolved);
    }
    if (spec.background_analysis) {
      auto resolved =
          resolve(spec.background_analysis->analysis, "spec.analysis");
      if (resolved.ok()) all.push_back(*resolved);
    }
    const int distinct = DistinctComparativeMetrics(all);
    ShareAlpha(active.step, distinct);
    ShareAlpha(active.background, distinct);
  }
  return active;
}

std::optional<RolloutStatus> Reconciler::TakeMeasurements(
    const CanaryRollout& rollout, const Decision& decision,
    const ActiveAnalysis& analysis,
    const std::map<std::string, std::string>& step_args,
    const std::map<std::string, std::string>& background_args, absl::Time now) {
  const std::string key = KeyOf(rollout.namespace_name, rollout.name);
  const BatchId id = BatchIdOf(rollout, decision);
  RolloutStatus next = decision.next;
  auto metrics_named = [](const std::vector<std::string>& names,
                          const std::vector<MetricSpec>& specs) {
    std::vector<const MetricSpec*> out;
    for (const MetricSpec& spec : specs) {
      if (std::find(names.begin(), names.end(), spec.name) != names.end())
        out.push_back(&spec);
    }
    return out;
  };
  if (auto batch = inbox_->Take(key, id)) {
    auto record = [&](const std::vector<NamedMeasurement>& measured,
                      const std::vector<MetricSpec>& specs,
                      std::optional<AnalysisRun>& run) {
      if (!run) return;
      for (const auto& [metric, measurement] : measured) {
        *run = Record(specs, *run, metric, measurement);
        if (deps_.metrics != nullptr) {
          deps_.metrics->Count(
              "canaryd_measurements_total",
              absl::StrCat("phase=\"",
                           analysis::MeasurementPhaseName(measurement.phase),
                           "\""));
        }
      }
    };
    record(batch->step, analysis.step, next.step_run);
    record(batch->background, analysis.background, next.background_run);
    return next;
  }
  struct Call {
    bool background;
    std::vector<const MetricSpec*> metrics;
    const std::map<std::string, std::string>* args;
    const std::optional<AnalysisRun>* run;
  };
  std::vector<Call> calls;
  if (!decision.measure_step.empty() && next.step_run) {
    calls.push_back({false, metrics_named(decision.measure_step, analysis.step),
                     &step_args, &next.step_run});
  }
  if (!decision.measure_background.empty() && next.background_run) {
    calls.push_back(
        {true, metrics_named(decision.measure_background, analysis.background),
         &background_args, &next.background_run});
  }
  if (calls.empty() ||
      !inbox_->Begin(key, id, static_cast<int>(calls.size()))) {
    return std::nullopt;
  }
  for (const Call& call : calls) {
    deps_.analyzer->MeasureAsync(
        call.metrics, *call.args, ContextOf(rollout, next, **call.run), now,
        [inbox = inbox_, key,
         background = call.background](std::vector<NamedMeasurement> results) {
          inbox->Deliver(key, background, std::move(results));
        });
  }
  return std::nullopt;
}

absl::StatusOr<bool> Reconciler::RunPreflight(
    CanaryRollout& rollout, absl::Time now,
    std::map<std::string, ResolvedAnalysis>& resolved_this_pass) {
  const std::string key = KeyOf(rollout.namespace_name, rollout.name);
  const int64_t generation = rollout.generation;
  if (rollout.status.observed_generation != generation ||
      rollout.status.phase == Phase::kHealthy ||
      rollout.status.phase == Phase::kDegraded) {
    return false;
  }
  if (auto delivered = preflights_->Take(key);
      delivered && delivered->generation == generation) {
    const auto& before = rollout.status.preflight;
    // A person's promote past the hold stands for the whole generation.
    delivered->overridden =
        before && before->generation == generation && before->overridden;
    RolloutStatus next = rollout.status;
    next.preflight = *delivered;
    next = AsWritten(next);
    if (next != rollout.status) {
      auto written = WriteStatus(rollout, next);
      if (!written.ok()) return written.status();
      rollout = *written;
    }
  }
  const RolloutStatus& status = rollout.status;
  const bool current =
      status.preflight && status.preflight->generation == generation;
  const bool due = !current ||
                   status.preflight->step_index != status.current_step_index ||
                   ((status.pause_reason == PauseReason::kPreflight ||
                     status.preflight->unknown) &&
                    now - status.preflight->computed_at >= kPreflightRefresh);
  if (!due) return false;
  // The rollout's first comparative metric, with its share of the alpha;
  // without one there is nothing to pre-flight.
  std::vector<std::pair<std::string, const AnalysisRef*>> refs;
  if (rollout.spec.background_analysis)
    refs.emplace_back("spec.analysis",
                      &rollout.spec.background_analysis->analysis);
  for (size_t i = 0; i < rollout.spec.steps.size(); ++i) {
    if (rollout.spec.steps[i].kind == Step::Kind::kAnalysis) {
      refs.emplace_back(absl::StrCat("spec.steps[", i, "].analysis"),
                        &rollout.spec.steps[i].analysis);
    }
  }
  std::vector<ResolvedAnalysis> all;
  std::optional<std::pair<MetricSpec, std::map<std::string, std::string>>>
      chosen;
  for (const auto& [where, ref] : refs) {
    auto cached = resolved_this_pass.find(where);
    if (cached == resolved_this_pass.end()) {
      auto resolved = templates_.Resolve(rollout.namespace_name, *ref, where);
      // A missing template is reported when its analysis is reached.
      if (!resolved.ok()) continue;
      cached = resolved_this_pass.emplace(where, *resolved).first;
    }
    all.push_back(cached->second);
    for (const MetricSpec& metric : cached->second.metrics) {
      if (!chosen && metric.query.has_comparative())
        chosen.emplace(metric, cached->second.args);
    }
  }
  if (!chosen) return false;
  std::vector<MetricSpec> shared = {chosen->first};
  ShareAlpha(shared, DistinctComparativeMetrics(all));
  if (preflights_->Begin(key)) {
    deps_.analyzer->PreflightAsync(
        shared[0], chosen->second, rollout.namespace_name,
        PreflightPlan(rollout.spec, status),
        [inbox = preflights_, key, generation, now,
         step = status.current_step_index](
            absl::StatusOr<v1::PreflightResponse> answer) {
          PreflightStatus result;
          if (answer.ok()) {
            result = PreflightFromResponse(*answer, now);
          } else {
            // Unknown never holds a rollout: the judge still watches it.
            result.unknown = true;
            result.message =
                absl::StrCat("pre-flight unknown: ", answer.status().message());
            result.computed_at = now;
          }
          result.generation = generation;
          result.step_index = step;
          inbox->Deliver(key, std::move(result));
        });
  }
  return rollout.spec.preflight == PreflightPolicy::kEnforce &&
         status.canary_weight == 0 && !current;
}

absl::StatusOr<absl::Duration> Reconciler::Finalize(const json& object,
                                                    const std::string& ns,
                                                    const std::string& name) {
  const std::string key = KeyOf(ns, name);
  if (auto fenced = Fence(); !fenced.ok()) return fenced;
  if (HasTrafficFinalizer(object)) {
    if (auto parsed = CanaryRolloutFromJson(object); parsed.ok()) {
      auto zero = ServerRouter(*parsed)->SetCanaryWeight(0);
      // Gone or unfit mesh objects carry no traffic to return.
      if (!zero.ok() && !IsConfigError(zero.status())) return zero.status();
      spdlog::info("{}: deleted; traffic returned to stable", key);
    }
    auto removed = client_.JsonPatch(kube::kCanaryRollouts.Item(ns, name),
                                     RemoveTrafficFinalizerPatch(object));
    if (!removed.ok() && !absl::IsNotFound(removed.status()))
      return removed.status();
  }
  IndexRouting(key, nullptr);
  inbox_->Forget(key);
  preflights_->Forget(key);
  if (deps_.metrics != nullptr) deps_.metrics->ForgetRollout(ns, name);
  return absl::InfiniteDuration();
}

absl::StatusOr<absl::Duration> Reconciler::Reconcile(const std::string& ns,
                                                     const std::string& name,
                                                     absl::Time now) {
  KeyedMutex::Lock lock(locks_, KeyOf(ns, name));
  // The exception boundary: whatever a rollout holds (a parser bug, a
  // library that throws) fails that rollout, never the daemon and the other
  // rollouts it serves.
  std::string what;
  try {
    return ReconcileLocked(ns, name, now);
  } catch (const std::exception& e) {
    what = e.what();
  } catch (...) {
    what = "an unknown exception";
  }
  const std::string key = KeyOf(ns, name);
  const std::string why = absl::StrCat("internal error: ", what);
  spdlog::error("{}: {}", key, why);
  // Degraded with the message and traffic back on stable, as for a rollout
  // that does not fit; each step may throw again, so it is guarded too.
  try {
    auto object = client_.Get(kube::kCanaryRollouts.Item(ns, name));
    if (!object.ok()) return object.status();
    auto rollout = CanaryRolloutFromJson(*object);
    if (!rollout.ok()) return absl::InternalError(why);
    if (auto fenced = Fence(); !fenced.ok()) return fenced;
    RolloutStatus next = Degrade(rollout->status, why);
    if (auto zero = ServerRouter(*rollout)->SetCanaryWeight(0); !zero.ok()) {
      next.canary_weight = rollout->status.canary_weight;
      absl::StrAppend(&next.message,
                      "; traffic could not be returned to stable: ",
                      zero.status().message());
    }
    next = AsWritten(next);
    if (next != rollout->status) {
      if (auto written = WriteStatus(*rollout, next); !written.ok())
        return written.status();
    }
  } catch (...) {
    spdlog::error("{}: could not mark the rollout Degraded either", key);
    return absl::InternalError(why);
  }
  // The same object would throw again: wait for it to change.
  return absl::InfiniteDuration();
}

absl::StatusOr<absl::Duration> Reconciler::ReconcileLocked(
    const std::string& ns, const std::string& name, absl::Time now) {
  const std::string key = KeyOf(ns, name);
  auto object = client_.Get(kube::kCanaryRollouts.Item(ns, name));
  if (absl::IsNotFound(object.status())) {
    IndexRouting(key, nullptr);
    inbox_->Forget(key);
    preflights_->Forget(key);
    if (deps_.metrics != nullptr) deps_.metrics->ForgetRollout(ns, name);
    return absl::InfiniteDuration();
  }
  if (!object.ok()) return object.status();
  if (BeingDeleted(*object)) return Finalize(*object, ns, name);
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
    RolloutStatus degraded = AsWritten(
        Degrade(broken.status, std::string(parsed.status().message())));
    degraded.observed_generation =
        (*object)["metadata"].value("generation", int64_t{0});
    if (degraded == broken.status) return absl::InfiniteDuration();
    auto written = WriteStatus(broken, degraded);
    if (!written.ok()) return written.status();
    return absl::InfiniteDuration();
  }
  CanaryRollout rollout = *parsed;
  // Every write below (finalizer, traffic, status) happens only while this
  // process holds the lease; WriteStatus asks again.
  if (auto fenced = Fence(); !fenced.ok()) return fenced;
  if (!HasTrafficFinalizer(*object)) {
    // Before the first weight moves, so that deleting the rollout can
    // always return its traffic.
    auto added = client_.JsonPatch(kube::kCanaryRollouts.Item(ns, name),
                                   AddTrafficFinalizerPatch(*object));
    if (!added.ok()) return added.status();
    rollout.resource_version =
        (*added)["metadata"].value("resourceVersion", "");
  }
  IndexRouting(key, &rollout);
  // From the status as read, so a restarted or new leader shows every
  // rollout, not only those it has written since.
  if (deps_.metrics != nullptr) {
    deps_.metrics->SetRollout(ns, name, PhaseName(rollout.status.phase),
                              rollout.status.canary_weight);
  }
  std::unique_ptr<TrafficRouter> router = deps_.routers(rollout);
  // Mesh objects or templates that do not fit: traffic back on stable first
  // (best effort: the routing itself may be what does not fit), then say why
  // and what the weights are.
  auto degrade = [&](const RolloutStatus& from,
                     const std::string& why) -> absl::StatusOr<absl::Duration> {
    auto zero = router->SetCanaryWeight(0);
    if (!zero.ok() && !IsConfigError(zero.status())) return zero.status();
    RolloutStatus next = Degrade(from, why);
    if (!zero.ok()) {
      next.canary_weight = rollout.status.canary_weight;
      next.message = absl::StrCat(why,
                                  "; traffic could not be returned to "
                                  "stable (canary weight left as it was): ",
                                  zero.status().message());
    }
    next = AsWritten(next);
    if (next == rollout.status) return absl::InfiniteDuration();
    spdlog::warn("{}: degraded: {}", key, next.message);
    auto written = WriteStatus(rollout, next);
    if (!written.ok()) return written.status();
    return absl::InfiniteDuration();
  };
  std::map<std::string, ResolvedAnalysis> resolved_this_pass;
  for (int i = 0; i < kDecisionsPerPass; ++i) {
    auto wait_for_preflight = RunPreflight(rollout, now, resolved_this_pass);
    if (!wait_for_preflight.ok()) return wait_for_preflight.status();
    if (*wait_for_preflight) return kMeasurementRecheck;  // woken on arrival
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
    if (auto fenced = Fence(); !fenced.ok()) return fenced;
    RolloutStatus next = decision.next;
    if (decision.select_canary_labels) {
      if (auto valid = templates_.ValidateSpec(ns, rollout.spec); !valid.ok()) {
        if (!IsConfigError(valid)) return valid;
        return degrade(next, absl::StrCat("analysis: ", valid.message()));
      }
    }
    if (decision.wants_measurements()) {
      auto measured = TakeMeasurements(rollout, decision, *analysis, step_args,
                                       background_args, now);
      if (!measured) return kMeasurementRecheck;  // woken when they arrive
      next = *measured;
    } else if (auto drifted = ApplyTraffic(*router, rollout.spec,
                                           rollout.status, decision);
               !drifted.ok()) {
      if (deps_.metrics != nullptr)
        deps_.metrics->Count("canaryd_patch_errors_total");
      if (!IsConfigError(drifted.status())) return drifted.status();
      return degrade(
          next, absl::StrCat("traffic routing: ", drifted.status().message()));
    } else if (*drifted) {
      spdlog::warn("{}: weights had drifted; put back to canary {}", key,
                   decision.canary_weight);
      if (deps_.metrics != nullptr)
        deps_.metrics->Count("canaryd_drift_corrections_total");
    }
    next = AsWritten(next);
    if (next != rollout.status) {
      auto written = WriteStatus(rollout, next);
      if (!written.ok()) return written.status();
      if (next.phase != rollout.status.phase ||
          next.current_step_index != rollout.status.current_step_index ||
          next.canary_weight != rollout.status.canary_weight) {
        spdlog::info("{}: {} step {} weight {}: {}", key, PhaseName(next.phase),
                     next.current_step_index, next.canary_weight, next.message);
      }
      rollout = *written;
    }
    // A zero requeue means the decision moved the rollout on (new rollout,
    // next step, new measurements): decide again at once.
    if (decision.requeue_after != absl::ZeroDuration()) {
      return rollout.status.pause_reason == PauseReason::kPreflight
                 ? std::min(decision.requeue_after, kPreflightRefresh)
                 : decision.requeue_after;
    }
  }
  return absl::InternalError(absl::StrCat(key, ": no stable state after ",
                                          kDecisionsPerPass, " decisions"));
}

absl::StatusOr<Reconciler::CommandResult> Reconciler::RunCommand(
    const std::string& ns, const std::string& name, Command command,
    absl::Time now) {
  // The RPC's exception boundary: the caller gets INTERNAL with the reason.
  try {
    return RunCommandGuarded(ns, name, command, now);
  } catch (const std::exception& e) {
    spdlog::error("{}/{}: {}: {}", ns, name, CommandName(command), e.what());
    return absl::InternalError(
        absl::StrCat(CommandName(command), ": internal error: ", e.what()));
  } catch (...) {
    return absl::InternalError(
        absl::StrCat(CommandName(command), ": internal error"));
  }
}

absl::StatusOr<Reconciler::CommandResult> Reconciler::RunCommandGuarded(
    const std::string& ns, const std::string& name, Command command,
    absl::Time now) {
  const std::string key = KeyOf(ns, name);
  KeyedMutex::Lock lock(locks_, key);
  absl::StatusOr<CanaryRollout> written;
  std::string message;
  // Only a concurrent edit of the object (kubectl) makes the status write
  // conflict; read again and redo.
  for (int attempt = 0; attempt < kCommandConflictRetries; ++attempt) {
    auto object = client_.Get(kube::kCanaryRollouts.Item(ns, name));
    if (absl::IsNotFound(object.status())) {
      return absl::NotFoundError(
          absl::StrCat("CanaryRollout ", key, " not found"));
    }
    if (!object.ok()) return object.status();
    auto rollout = CanaryRolloutFromJson(*object);
    if (!rollout.ok()) return rollout.status();
    if (rollout->status.observed_generation != rollout->generation) {
      return absl::FailedPreconditionError(absl::StrCat(
          "cannot ", CommandName(command), ": generation ", rollout->generation,
          " has not been started by canaryd yet; try again"));
    }
    auto next = ApplyCommand(rollout->spec, rollout->status, command);
    if (!next.ok()) return next.status();
    if (auto fenced = Fence(); !fenced.ok()) return fenced;
    if (command == Command::kAbort) {
      if (auto zero = ReturnTrafficToStable(*ServerRouter(*rollout));
          !zero.ok()) {
        return absl::Status(
            zero.code(),
            absl::StrCat("abort: traffic could not be returned to stable, so "
                         "nothing was changed: ",
                         zero.message()));
      }
    }
    written = WriteStatus(*rollout, *next, command);
    message = next->message;
    if (!absl::IsAborted(written.status())) break;
  }
  if (!written.ok()) return written.status();
  spdlog::info("{}: {}: {}", key, CommandName(command), message);
  CommandResult result{*written, absl::ZeroDuration()};
  auto requeue = ReconcileLocked(ns, name, now);
  if (requeue.ok()) {
    result.requeue_after = *requeue;
  } else {
    spdlog::warn("{}: after {}: {}", key, CommandName(command),
                 requeue.status().ToString());
  }
  if (auto latest = client_.Get(kube::kCanaryRollouts.Item(ns, name));
      latest.ok()) {
    if (auto parsed = CanaryRolloutFromJson(*latest); parsed.ok())
      result.rollout = *parsed;
  }
  return result;
}

}  // namespace smartcanary

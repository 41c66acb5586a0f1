#include "controller/reconciler.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "controller/kube/resources.h"
#include "controller/state_machine.h"
#include "spdlog/spdlog.h"

namespace smartcanary {
namespace {

using nlohmann::json;

// More decisions than a rollout has steps means a bug, not progress.
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
    if (auto status = router.PromoteStable(spec.canary_labels); !status.ok()) return status;
  }
  if (auto status = router.SetCanaryWeight(decision.canary_weight); !status.ok()) return status;
  if (decision.select_canary_labels) {
    return router.SelectCanary(spec.canary_labels);
  }
  return absl::OkStatus();
}

}  // namespace

bool IsRoutingConfigError(const absl::Status& status) {
  return absl::IsFailedPrecondition(status) || absl::IsNotFound(status);
}

Reconciler::Reconciler(const kube::KubeClient& client, RouterFactory routers)
    : client_(client), routers_(std::move(routers)) {}

absl::StatusOr<CanaryRollout> Reconciler::WriteStatus(const CanaryRollout& rollout,
                                                      const RolloutStatus& status) {
  json ops = json::array(
      {{{"op", "replace"}, {"path", "/metadata/resourceVersion"}, {"value", rollout.resource_version}},
       {{"op", "add"}, {"path", "/status"}, {"value", RolloutStatusToJson(status)}}});
  auto written = client_.JsonPatch(
      kube::kCanaryRollouts.Item(rollout.namespace_name, rollout.name) + "/status", ops);
  if (!written.ok()) return written.status();
  CanaryRollout updated = rollout;
  updated.status = status;
  updated.resource_version = (*written)["metadata"].value("resourceVersion", "");
  return updated;
}

absl::StatusOr<absl::Duration> Reconciler::Reconcile(const std::string& ns,
                                                     const std::string& name,
                                                     absl::Time now) {
  auto object = client_.Get(kube::kCanaryRollouts.Item(ns, name));
  if (absl::IsNotFound(object.status())) return absl::InfiniteDuration();
  if (!object.ok()) return object.status();
  auto parsed = CanaryRolloutFromJson(*object);
  if (!parsed.ok()) {
    // Stored by kubectl past what the schema checks: say so in the status and
    // touch no traffic, since the routing itself may be what is wrong.
    CanaryRollout broken;
    broken.namespace_name = ns;
    broken.name = name;
    broken.resource_version = (*object)["metadata"].value("resourceVersion", "");
    auto status = ParseRolloutStatus(object->value("status", json())).value_or(RolloutStatus{});
    RolloutStatus degraded = Degrade(status, std::string(parsed.status().message()));
    degraded.observed_generation = (*object)["metadata"].value("generation", int64_t{0});
    if (degraded == status) return absl::InfiniteDuration();
    auto written = WriteStatus(broken, degraded);
    if (!written.ok()) return written.status();
    return absl::InfiniteDuration();
  }
  CanaryRollout rollout = *parsed;
  std::unique_ptr<TrafficRouter> router = routers_(rollout);
  for (int i = 0; i < kDecisionsPerPass; ++i) {
    const Decision decision = Decide(rollout.spec, rollout.generation, rollout.status, now);
    RolloutStatus next = decision.next;
    if (auto applied = ApplyTraffic(*router, rollout.spec, decision); !applied.ok()) {
      if (!IsRoutingConfigError(applied)) return applied;
      next = Degrade(next, absl::StrCat("traffic routing: ", applied.message()));
      if (next == rollout.status) return absl::InfiniteDuration();
      spdlog::warn("{}/{}: degraded: {}", ns, name, next.message);
      auto written = WriteStatus(rollout, next);
      if (!written.ok()) return written.status();
      return absl::InfiniteDuration();
    }
    if (next != rollout.status) {
      auto written = WriteStatus(rollout, next);
      if (!written.ok()) return written.status();
      spdlog::info("{}/{}: {} step {} weight {}: {}", ns, name, PhaseName(next.phase),
                   next.current_step_index, next.canary_weight, next.message);
      rollout = *written;
    }
    // A zero requeue means the decision moved the rollout on (new rollout,
    // next step): decide again at once.
    if (decision.requeue_after != absl::ZeroDuration()) return decision.requeue_after;
  }
  return absl::InternalError(
      absl::StrCat(ns, "/", name, ": no stable state after ", kDecisionsPerPass, " decisions"));
}

}  // namespace smartcanary

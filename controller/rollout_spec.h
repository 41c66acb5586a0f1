#ifndef SMARTCANARY_CONTROLLER_ROLLOUT_SPEC_H_
#define SMARTCANARY_CONTROLLER_ROLLOUT_SPEC_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "controller/analysis/analysis_spec.h"
#include "controller/preflight_status.h"
#include "nlohmann/json.hpp"

namespace smartcanary {

// One entry of spec.steps, in Argo Rollouts' vocabulary.
struct Step {
  enum class Kind { kSetWeight, kPause, kAnalysis };
  Kind kind = Kind::kSetWeight;
  int weight = 0;  // kSetWeight: the canary's share, 0..100.
  // kPause: how long; nullopt means until promoted (`pause: {}`).
  std::optional<absl::Duration> pause_duration;
  // kAnalysis: blocks the rollout until these templates' metrics complete.
  AnalysisRef analysis;

  bool operator==(const Step&) const = default;
};

// One VirtualService and the http routes of it a rollout owns; no routes
// means the only route the VirtualService has.
struct VirtualServiceRef {
  std::string name;
  std::vector<std::string> routes;
  bool operator==(const VirtualServiceRef&) const = default;
};

struct TrafficRouting {
  // Exactly one of the two forms, as in Argo Rollouts: `virtualService`
  // (virtual_service, routes) or `virtualServices` (virtual_services, e.g. a
  // gateway and a mesh VirtualService for the same hosts).
  std::string virtual_service;
  // The VirtualService http routes this rollout owns; empty means the only
  // route the VirtualService has.
  std::vector<std::string> routes;
  // Subset-level: DestinationRule with a stable and a canary subset.
  std::string destination_rule;
  std::string stable_subset;
  std::string canary_subset;
  // Host-level: two Services.
  std::string stable_service;
  std::string canary_service;
  // The `virtualServices` form (last, so that positional initializers of
  // the fields above keep their meaning).
  std::vector<VirtualServiceRef> virtual_services;

  bool subset_level() const { return !destination_rule.empty(); }
  // Every VirtualService the rollout moves, whichever form named them.
  std::vector<VirtualServiceRef> AllVirtualServices() const;
  // The field path of AllVirtualServices()[index] ("...virtualService" or
  // "...virtualServices[i]"), for messages.
  std::string VirtualServicePath(size_t index) const;
  bool operator==(const TrafficRouting&) const = default;
};

struct RolloutSpec {
  TrafficRouting traffic_routing;
  std::map<std::string, std::string> canary_labels;
  std::vector<Step> steps;
  // Runs from steps[starting_step] until the rollout completes; a failure
  // rolls back at once.
  std::optional<BackgroundAnalysis> background_analysis;
  // Timed pauses end as soon as every comparative metric of the background
  // analysis has proven the canary not worse than its margin.
  bool early_promotion = false;
  // progressDeadlineSeconds, in Argo's shape; unset: no deadline. The clock
  // runs while the rollout is Progressing on one step or held by an
  // analysis (Inconclusive, outage); a user's pause and pause steps stop it.
  std::optional<absl::Duration> progress_deadline;
  // progressDeadlineAbort: past the deadline, roll back to stable.
  bool progress_deadline_abort = false;
  // spec.preflight: what a too-short plan does (warn: report it; enforce:
  // hold before the canary takes weight).
  PreflightPolicy preflight = PreflightPolicy::kWarn;

  bool operator==(const RolloutSpec&) const = default;
};

// Reads a CanaryRollout `spec` object. Every error names the field path
// (e.g. "spec.steps[2].setWeight") and what is wrong with it; unknown fields
// are errors, so a typo never silently becomes a default.
absl::StatusOr<RolloutSpec> ParseRolloutSpec(const nlohmann::json& spec);

// Checks what the parser cannot see from one field alone: routing mode
// completeness and step values. ParseRolloutSpec calls it; proto-built specs
// call it directly.
absl::Status ValidateRolloutSpec(const RolloutSpec& spec);

nlohmann::json RolloutSpecToJson(const RolloutSpec& spec);

// "30s", "10m", "1h30m" or a bare number of seconds, as Argo accepts.
absl::StatusOr<absl::Duration> ParseStepDuration(const nlohmann::json& value);
std::string FormatStepDuration(absl::Duration duration);

}  // namespace smartcanary

#endif  // SMARTCANARY_CONTROLLER_ROLLOUT_SPEC_H_

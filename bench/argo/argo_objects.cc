#include "bench/argo/argo_objects.h"

#include "absl/strings/str_cat.h"
#include "bench/scale_objects.h"

namespace smartcanary::bench::argo {

using nlohmann::json;

namespace {

json FailAtArgs(absl::Time fail_at) {
  json arg = {{"name", "fail_at"},
              {"value", absl::StrCat(absl::ToUnixSeconds(fail_at))}};
  return json::array({std::move(arg)});
}

json ArgoAnalysis(absl::Time fail_at) {
  json ref = {{"templateName", kDeadlineTemplate}};
  return {{"templates", json::array({std::move(ref)})},
          {"startingStep", 1},
          {"args", FailAtArgs(fail_at)}};
}

json PodTemplate(const std::string& name, int revision) {
  json labels = {{"app", name}};
  json annotations = {{"bench/revision", absl::StrCat(revision)}};
  // Never pulled: no kubelet runs, the stand-in reports the pod ready.
  json container = {{"name", "app"}, {"image", "registry.invalid/app:v1"}};
  json spec = json::object();
  spec["containers"] = json::array({std::move(container)});
  return {{"metadata",
           {{"labels", std::move(labels)},
            {"annotations", std::move(annotations)}}},
          {"spec", std::move(spec)}};
}

}  // namespace

json PlanSteps() {
  return json::array({{{"setWeight", 20}},
                      {{"pause", json::object()}},
                      {{"setWeight", 50}},
                      {{"pause", json::object()}},
                      {{"setWeight", 100}}});
}

json CanaryRollout(const std::string& ns, const std::string& name,
                   const absl::Time* fail_at) {
  // The scale benchmark's rollout, with this benchmark's plan and template.
  json rollout =
      Rollout(ns, name, fail_at ? Background::kDeadline : Background::kNone,
              fail_at ? *fail_at : absl::UnixEpoch());
  rollout["spec"]["steps"] = PlanSteps();
  return rollout;
}

json ArgoRollout(const std::string& ns, const std::string& name, int revision,
                 const absl::Time* fail_at) {
  json destination_rule = {{"name", name},
                           {"stableSubsetName", "stable"},
                           {"canarySubsetName", "canary"}};
  json istio = {{"virtualService", {{"name", name}}},
                {"destinationRule", std::move(destination_rule)}};
  json canary = {{"trafficRouting", {{"istio", std::move(istio)}}},
                 {"steps", PlanSteps()}};
  if (fail_at) canary["analysis"] = ArgoAnalysis(*fail_at);
  json spec = {{"replicas", 1},
               {"revisionHistoryLimit", 1},
               {"selector", {{"matchLabels", {{"app", name}}}}},
               {"template", PodTemplate(name, revision)},
               {"strategy", {{"canary", std::move(canary)}}}};
  return {{"apiVersion", "argoproj.io/v1alpha1"},
          {"kind", "Rollout"},
          {"metadata", {{"name", name}, {"namespace", ns}}},
          {"spec", std::move(spec)}};
}

json ArgoRevisionPatch(int revision, const absl::Time* fail_at) {
  json annotations = {{"bench/revision", absl::StrCat(revision)}};
  json spec = {
      {"template", {{"metadata", {{"annotations", std::move(annotations)}}}}}};
  if (fail_at)
    spec["strategy"] = {{"canary", {{"analysis", ArgoAnalysis(*fail_at)}}}};
  return {{"spec", std::move(spec)}};
}

json ArgoDeadlineTemplate(const std::string& ns,
                          const std::string& prometheus_url,
                          absl::Duration interval) {
  json prometheus = {{"address", prometheus_url}, {"query", "vector(time())"}};
  json metric = {
      {"name", "before-deadline"},
      {"interval", absl::StrCat(absl::ToInt64Seconds(interval), "s")},
      {"successCondition", "result[0] < {{args.fail_at}}"},
      {"failureLimit", 0},
      {"provider", {{"prometheus", std::move(prometheus)}}}};
  json spec = {{"args", json::array({{{"name", "fail_at"}}})},
               {"metrics", json::array({std::move(metric)})}};
  return {{"apiVersion", "argoproj.io/v1alpha1"},
          {"kind", "AnalysisTemplate"},
          {"metadata", {{"name", kDeadlineTemplate}, {"namespace", ns}}},
          {"spec", std::move(spec)}};
}

json ArgoAbortPatch() { return {{"status", {{"abort", true}}}}; }

}  // namespace smartcanary::bench::argo

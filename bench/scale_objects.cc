#include "bench/scale_objects.h"

#include "absl/strings/str_cat.h"
#include "controller/kube/resources.h"

namespace smartcanary::bench {

using nlohmann::json;

// Arrays are spelled json::array(...): nested braces alone are ambiguous
// between arrays and objects.
namespace {

json Metadata(const std::string& ns, const std::string& name) {
  return {{"name", name}, {"namespace", ns}};
}

json Template(const std::string& ns, const std::string& name, json args,
              json metric) {
  json spec = json::object();
  spec["args"] = std::move(args);
  spec["metrics"] = json::array({std::move(metric)});
  return {{"apiVersion", kube::kCanaryRolloutApiVersion},
          {"kind", "CanaryAnalysisTemplate"},
          {"metadata", Metadata(ns, name)},
          {"spec", std::move(spec)}};
}

json Destination(const std::string& host, const std::string& subset,
                 int weight) {
  json destination = {{"host", host}, {"subset", subset}};
  return {{"destination", std::move(destination)}, {"weight", weight}};
}

json Subset(const std::string& name) {
  json labels = {{"version", "v1"}};
  return {{"name", name}, {"labels", std::move(labels)}};
}

}  // namespace

json VirtualService(const std::string& ns, const std::string& name) {
  json route = json::object();
  route["route"] = json::array(
      {Destination(name, "stable", 100), Destination(name, "canary", 0)});
  json spec = json::object();
  spec["hosts"] = json::array({name});
  spec["http"] = json::array({std::move(route)});
  return {{"apiVersion", "networking.istio.io/v1"},
          {"kind", "VirtualService"},
          {"metadata", Metadata(ns, name)},
          {"spec", std::move(spec)}};
}

json DestinationRule(const std::string& ns, const std::string& name) {
  json spec = json::object();
  spec["host"] = name;
  spec["subsets"] = json::array({Subset("stable"), Subset("canary")});
  return {{"apiVersion", "networking.istio.io/v1"},
          {"kind", "DestinationRule"},
          {"metadata", Metadata(ns, name)},
          {"spec", std::move(spec)}};
}

json HangingTemplate(const std::string& ns, const std::string& prometheus_url) {
  json prometheus = {
      {"address", prometheus_url}, {"query", "vector(1)"}, {"timeout", 300}};
  json provider = {{"prometheus", std::move(prometheus)}};
  // Errors never reach the limit during a run: the rollout stays on its
  // pause with one measurement always in flight.
  return Template(ns, kHangingTemplate, json::array(),
                  {{"name", "never-answers"},
                   {"interval", "10s"},
                   {"successCondition", "result[0] >= 0"},
                   {"consecutiveErrorLimit", 1000},
                   {"provider", std::move(provider)}});
}

json DeadlineTemplate(const std::string& ns, const std::string& prometheus_url,
                      absl::Duration interval) {
  json prometheus = {{"address", prometheus_url},
                     {"query", "vector(time())"},
                     {"timeout", 10},
                     {"scrapeInterval", "1s"}};
  json provider = {{"prometheus", std::move(prometheus)}};
  json arg = {{"name", "fail_at"}};
  return Template(
      ns, kDeadlineTemplate, json::array({std::move(arg)}),
      {{"name", "before-deadline"},
       {"interval", absl::StrCat(absl::ToInt64Seconds(interval), "s")},
       {"successCondition", "result[0] < {{args.fail_at}}"},
       {"failureLimit", 0},
       {"provider", std::move(provider)}});
}

json Rollout(const std::string& ns, const std::string& name,
             Background background, absl::Time fail_at) {
  json destination_rule = {{"name", name},
                           {"stableSubsetName", "stable"},
                           {"canarySubsetName", "canary"}};
  json virtual_service = {{"name", name}};
  json istio = {{"virtualService", std::move(virtual_service)},
                {"destinationRule", std::move(destination_rule)}};
  json set_weight = {{"setWeight", 20}};
  json pause = {{"pause", json::object()}};
  json spec = json::object();
  spec["canaryLabels"] = {{"version", "v2"}};
  spec["trafficRouting"] = {{"istio", std::move(istio)}};
  spec["steps"] = json::array({std::move(set_weight), std::move(pause)});
  if (background != Background::kNone) {
    const bool hanging = background == Background::kHanging;
    json ref = {
        {"templateName", hanging ? kHangingTemplate : kDeadlineTemplate}};
    json analysis = {{"startingStep", 1},
                     {"templates", json::array({std::move(ref)})}};
    if (!hanging) {
      json arg = {{"name", "fail_at"},
                  {"value", absl::StrCat(absl::ToUnixSeconds(fail_at))}};
      analysis["args"] = json::array({std::move(arg)});
    }
    spec["analysis"] = std::move(analysis);
  }
  return {{"apiVersion", kube::kCanaryRolloutApiVersion},
          {"kind", "CanaryRollout"},
          {"metadata", Metadata(ns, name)},
          {"spec", std::move(spec)}};
}

}  // namespace smartcanary::bench

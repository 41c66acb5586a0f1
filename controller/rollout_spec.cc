#include "controller/rollout_spec.h"

#include <set>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/k8s_names.h"
#include "common/utf8.h"
#include "controller/json_fields.h"

namespace smartcanary {
namespace {

using nlohmann::json;

// As the CRD's maxItems: each one is read and patched at every step.
constexpr size_t kMaxVirtualServices = 16;

absl::StatusOr<const json*> RequireObject(const json& parent,
                                          const std::string& key,
                                          const std::string& path) {
  auto it = parent.find(key);
  if (it == parent.end()) return FieldError(path, "is required");
  if (!it->is_object()) return FieldError(path, "must be an object");
  return &*it;
}

absl::StatusOr<VirtualServiceRef> ParseVirtualServiceRef(
    const json& value, const std::string& path) {
  if (!value.is_object()) return FieldError(path, "must be an object");
  if (auto s = RejectUnknownFields(value, path, {"name", "routes"}); !s.ok())
    return s;
  VirtualServiceRef out;
  auto name = StringField(value, "name", path + ".name");
  if (!name.ok()) return name.status();
  out.name = *name;
  if (auto routes = value.find("routes"); routes != value.end()) {
    if (!routes->is_array()) {
      return FieldError(path + ".routes", "must be a list of route names");
    }
    for (size_t i = 0; i < routes->size(); ++i) {
      if (!(*routes)[i].is_string() ||
          (*routes)[i].get<std::string>().empty()) {
        return FieldError(absl::StrCat(path, ".routes[", i, "]"),
                          "must be a non-empty route name");
      }
      out.routes.push_back((*routes)[i].get<std::string>());
    }
  }
  return out;
}

absl::StatusOr<Step> ParseStep(const json& item, const std::string& path) {
  if (!item.is_object() || item.size() != 1) {
    return FieldError(
        path,
        "must be an object with exactly one of setWeight, pause, analysis");
  }
  Step step;
  const std::string kind = item.begin().key();
  const json& value = item.begin().value();
  if (kind == "setWeight") {
    auto weight = IntegerIn(value, path + ".setWeight", 0, 100);
    if (!weight.ok()) return weight.status();
    step.kind = Step::Kind::kSetWeight;
    step.weight = static_cast<int>(*weight);
    return step;
  }
  if (kind == "pause") {
    if (!value.is_object())
      return FieldError(path + ".pause", "must be an object");
    if (auto status = RejectUnknownFields(value, path + ".pause", {"duration"});
        !status.ok()) {
      return status;
    }
    step.kind = Step::Kind::kPause;
    if (value.contains("duration")) {
      auto duration = ParseStepDuration(value["duration"]);
      if (!duration.ok()) {
        return FieldError(path + ".pause.duration",
                          std::string(duration.status().message()));
      }
      step.pause_duration = *duration;
    }
    return step;
  }
  if (kind == "analysis") {
    auto ref = ParseAnalysisRef(value, path + ".analysis");
    if (!ref.ok()) return ref.status();
    if (value.contains("startingStep")) {
      return FieldError(path + ".analysis.startingStep",
                        "only the background spec.analysis has one");
    }
    step.kind = Step::Kind::kAnalysis;
    step.analysis = *ref;
    return step;
  }
  return FieldError(
      path + "." + kind,
      "unknown step type (supported: setWeight, pause, analysis)");
}

absl::Status ParseTrafficRouting(const json& spec, RolloutSpec& out) {
  auto routing = RequireObject(spec, "trafficRouting", "spec.trafficRouting");
  if (!routing.ok()) return routing.status();
  if (auto s = RejectUnknownFields(**routing, "spec.trafficRouting", {"istio"});
      !s.ok()) {
    return s;
  }
  auto istio = RequireObject(**routing, "istio", "spec.trafficRouting.istio");
  if (!istio.ok()) return istio.status();
  const std::string istio_path = "spec.trafficRouting.istio";
  if (auto s = RejectUnknownFields(
          **istio, istio_path,
          {"virtualService", "virtualServices", "destinationRule"});
      !s.ok()) {
    return s;
  }
  TrafficRouting& tr = out.traffic_routing;
  const json& istio_object = **istio;
  const bool single = istio_object.contains("virtualService");
  if (single == istio_object.contains("virtualServices")) {
    return FieldError(istio_path,
                      "set exactly one of virtualService and virtualServices");
  }
  if (single) {
    auto vs = ParseVirtualServiceRef(istio_object["virtualService"],
                                     istio_path + ".virtualService");
    if (!vs.ok()) return vs.status();
    tr.virtual_service = vs->name;
    tr.routes = vs->routes;
  } else {
    const json& list = istio_object["virtualServices"];
    const std::string list_path = istio_path + ".virtualServices";
    if (!list.is_array() || list.empty() || list.size() > kMaxVirtualServices) {
      return FieldError(list_path,
                        absl::StrCat("must be a list of 1 to ",
                                     kMaxVirtualServices, " VirtualServices"));
    }
    for (size_t i = 0; i < list.size(); ++i) {
      auto vs =
          ParseVirtualServiceRef(list[i], absl::StrCat(list_path, "[", i, "]"));
      if (!vs.ok()) return vs.status();
      tr.virtual_services.push_back(*vs);
    }
  }
  if (auto dr = istio.value()->find("destinationRule");
      dr != istio.value()->end()) {
    const std::string dr_path = istio_path + ".destinationRule";
    if (!dr->is_object()) return FieldError(dr_path, "must be an object");
    if (auto s = RejectUnknownFields(
            *dr, dr_path, {"name", "stableSubsetName", "canarySubsetName"});
        !s.ok()) {
      return s;
    }
    for (auto [key, field] :
         {std::pair{"name", &tr.destination_rule},
          std::pair{"stableSubsetName", &tr.stable_subset},
          std::pair{"canarySubsetName", &tr.canary_subset}}) {
      auto value = StringField(*dr, key, dr_path + "." + key);
      if (!value.ok()) return value.status();
      *field = *value;
    }
  }
  for (auto [key, field] : {std::pair{"stableService", &tr.stable_service},
                            std::pair{"canaryService", &tr.canary_service}}) {
    auto value = StringField(spec, key, std::string("spec.") + key);
    if (!value.ok()) return value.status();
    *field = *value;
  }
  return absl::OkStatus();
}

// Every name below becomes an API path segment or a label selector: it must
// be a Kubernetes name, so it can never reach into another namespace.
absl::Status CheckName(const std::string& path, const std::string& name,
                       absl::Status (*rule)(absl::string_view)) {
  if (auto s = rule(name); !s.ok())
    return FieldError(path, std::string(s.message()));
  return absl::OkStatus();
}

absl::Status CheckTemplateNames(const AnalysisRef& ref,
                                const std::string& path) {
  for (size_t i = 0; i < ref.templates.size(); ++i) {
    if (auto s =
            CheckName(absl::StrCat(path, ".templates[", i, "].templateName"),
                      ref.templates[i].name, ValidateDns1123Subdomain);
        !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

// Names of Kubernetes objects and labels, checked once the routing mode is
// known to be complete.
absl::Status CheckNames(const RolloutSpec& spec) {
  const TrafficRouting& tr = spec.traffic_routing;
  const std::string istio = "spec.trafficRouting.istio";
  const std::vector<VirtualServiceRef> virtual_services =
      tr.AllVirtualServices();
  std::set<std::string> seen;
  for (size_t v = 0; v < virtual_services.size(); ++v) {
    const VirtualServiceRef& vs = virtual_services[v];
    const std::string path = tr.VirtualServicePath(v);
    if (auto s = CheckName(path + ".name", vs.name, ValidateDns1123Subdomain);
        !s.ok()) {
      return s;
    }
    // Two entries for one object would patch it twice per step, each patch
    // guarded against the other.
    if (!seen.insert(vs.name).second) {
      return FieldError(path + ".name",
                        absl::StrCat("\"", vs.name, "\" is listed twice"));
    }
    // Istio does not restrict http route names; they only select routes
    // inside the VirtualService, so printable UTF-8 of bounded length will
    // do.
    for (size_t i = 0; i < vs.routes.size(); ++i) {
      const std::string& route = vs.routes[i];
      if (route.size() > kMaxSubdomainLength || !IsValidUtf8(route) ||
          QuoteForMessage(route, kMaxSubdomainLength) != route) {
        return FieldError(
            absl::StrCat(path, ".routes[", i, "]"),
            absl::StrCat("\"", QuoteForMessage(route, 80),
                         "\" is not a valid route name: must be printable "
                         "UTF-8 of at most ",
                         kMaxSubdomainLength, " bytes"));
      }
    }
  }
  const std::string dr = istio + ".destinationRule";
  using Rule = absl::Status (*)(absl::string_view);
  struct NameField {
    std::string path;
    const std::string* name;
    Rule rule;
  };
  for (const auto& [path, name, rule] : {
           NameField{dr + ".name", &tr.destination_rule,
                     ValidateDns1123Subdomain},
           // Istio requires subset names to be DNS-1123 labels.
           NameField{dr + ".stableSubsetName", &tr.stable_subset,
                     ValidateDns1123Label},
           NameField{dr + ".canarySubsetName", &tr.canary_subset,
                     ValidateDns1123Label},
           // Service names are DNS-1123 labels (they become DNS names).
           NameField{"spec.stableService", &tr.stable_service,
                     ValidateDns1123Label},
           NameField{"spec.canaryService", &tr.canary_service,
                     ValidateDns1123Label},
       }) {
    if (name->empty()) continue;  // the routing mode check said which apply
    if (auto s = CheckName(path, *name, rule); !s.ok()) return s;
  }
  for (const auto& [key, value] : spec.canary_labels) {
    const std::string path =
        absl::StrCat("spec.canaryLabels[\"", QuoteForMessage(key, 80), "\"]");
    if (auto s = ValidateLabelKey(key); !s.ok())
      return FieldError(path, std::string(s.message()));
    if (value.empty()) return FieldError(path, "the value must not be empty");
    if (auto s = ValidateLabelValue(value); !s.ok())
      return FieldError(path, std::string(s.message()));
  }
  for (size_t i = 0; i < spec.steps.size(); ++i) {
    if (spec.steps[i].kind != Step::Kind::kAnalysis) continue;
    if (auto s =
            CheckTemplateNames(spec.steps[i].analysis,
                               absl::StrCat("spec.steps[", i, "].analysis"));
        !s.ok()) {
      return s;
    }
  }
  if (spec.background_analysis) {
    return CheckTemplateNames(spec.background_analysis->analysis,
                              "spec.analysis");
  }
  return absl::OkStatus();
}

}  // namespace

std::vector<VirtualServiceRef> TrafficRouting::AllVirtualServices() const {
  if (!virtual_services.empty()) return virtual_services;
  return {VirtualServiceRef{virtual_service, routes}};
}

std::string TrafficRouting::VirtualServicePath(size_t index) const {
  const std::string istio = "spec.trafficRouting.istio";
  if (virtual_services.empty()) return istio + ".virtualService";
  return absl::StrCat(istio, ".virtualServices[", index, "]");
}

absl::StatusOr<absl::Duration> ParseStepDuration(const json& value) {
  if (value.is_number_integer()) {
    if (value.get<int64_t>() < 0)
      return absl::InvalidArgumentError("must not be negative");
    return absl::Seconds(value.get<int64_t>());
  }
  if (!value.is_string()) {
    return absl::InvalidArgumentError(
        "must be a duration such as \"30s\", \"10m\" or \"1h\"");
  }
  std::string text = value.get<std::string>();
  int64_t seconds_only = 0;
  if (absl::SimpleAtoi(text, &seconds_only) && seconds_only >= 0) {
    return absl::Seconds(seconds_only);
  }
  absl::Duration duration;
  if (!absl::ParseDuration(text, &duration) ||
      duration < absl::ZeroDuration() || duration == absl::InfiniteDuration()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "\"", QuoteForMessage(text, 80),
        "\" is not a duration such as \"30s\", \"10m\" or \"1h\""));
  }
  return duration;
}

std::string FormatStepDuration(absl::Duration duration) {
  return absl::FormatDuration(duration);
}

absl::Status ValidateRolloutSpec(const RolloutSpec& spec) {
  const TrafficRouting& tr = spec.traffic_routing;
  const std::string istio = "spec.trafficRouting.istio";
  if ((!tr.virtual_service.empty() || !tr.routes.empty()) &&
      !tr.virtual_services.empty()) {
    return FieldError(istio,
                      "set exactly one of virtualService and virtualServices");
  }
  if (tr.virtual_services.empty() && tr.virtual_service.empty()) {
    return FieldError(istio + ".virtualService.name", "is required");
  }
  if (tr.virtual_services.size() > kMaxVirtualServices) {
    return FieldError(istio + ".virtualServices",
                      absl::StrCat("must be a list of 1 to ",
                                   kMaxVirtualServices, " VirtualServices"));
  }
  for (size_t i = 0; i < tr.virtual_services.size(); ++i) {
    if (tr.virtual_services[i].name.empty())
      return FieldError(tr.VirtualServicePath(i) + ".name", "is required");
  }
  const bool subset = !tr.destination_rule.empty() ||
                      !tr.stable_subset.empty() || !tr.canary_subset.empty();
  const bool host = !tr.stable_service.empty() || !tr.canary_service.empty();
  if (subset && host) {
    return FieldError("spec",
                      "choose subset-level routing (trafficRouting.istio."
                      "destinationRule) or host-level routing (stableService/"
                      "canaryService), not both");
  }
  if (!subset && !host) {
    return FieldError("spec.trafficRouting.istio.destinationRule",
                      "is required unless spec.stableService and "
                      "spec.canaryService are set");
  }
  if (subset) {
    const std::string dr = istio + ".destinationRule";
    if (tr.destination_rule.empty())
      return FieldError(dr + ".name", "is required");
    if (tr.stable_subset.empty())
      return FieldError(dr + ".stableSubsetName", "is required");
    if (tr.canary_subset.empty())
      return FieldError(dr + ".canarySubsetName", "is required");
    if (tr.stable_subset == tr.canary_subset) {
      return FieldError(dr + ".canarySubsetName",
                        "must differ from stableSubsetName");
    }
    if (spec.canary_labels.empty()) {
      return FieldError("spec.canaryLabels",
                        "is required for subset-level routing (the pod labels "
                        "of the version being rolled out, e.g. {version: v2})");
    }
  } else {
    if (tr.stable_service.empty())
      return FieldError("spec.stableService", "is required");
    if (tr.canary_service.empty())
      return FieldError("spec.canaryService", "is required");
    if (tr.stable_service == tr.canary_service) {
      return FieldError("spec.canaryService",
                        "must differ from spec.stableService");
    }
  }
  if (spec.steps.empty())
    return FieldError("spec.steps", "must list at least one step");
  for (size_t i = 0; i < spec.steps.size(); ++i) {
    const Step& step = spec.steps[i];
    if (step.kind == Step::Kind::kSetWeight &&
        (step.weight < 0 || step.weight > 100)) {
      return FieldError(
          absl::StrCat("spec.steps[", i, "].setWeight"),
          absl::StrCat("must be between 0 and 100, got ", step.weight));
    }
  }
  if (spec.background_analysis &&
      (spec.background_analysis->starting_step < 0 ||
       spec.background_analysis->starting_step >=
           static_cast<int>(spec.steps.size()))) {
    return FieldError(
        "spec.analysis.startingStep",
        absl::StrCat("must be a step index from 0 to ", spec.steps.size() - 1,
                     ", got ", spec.background_analysis->starting_step));
  }
  if (spec.progress_deadline && *spec.progress_deadline < absl::Seconds(1)) {
    return FieldError("spec.progressDeadlineSeconds",
                      "must be at least 1 second");
  }
  if (spec.progress_deadline_abort && !spec.progress_deadline) {
    return FieldError("spec.progressDeadlineAbort",
                      "needs spec.progressDeadlineSeconds");
  }
  if (spec.early_promotion && !spec.background_analysis) {
    return FieldError("spec.earlyPromotion",
                      "needs a background spec.analysis with a comparative "
                      "metric to prove the "
                      "canary not worse");
  }
  return CheckNames(spec);
}

absl::StatusOr<RolloutSpec> ParseRolloutSpec(const json& spec) {
  if (!spec.is_object()) return FieldError("spec", "must be an object");
  if (auto s = RejectUnknownFields(
          spec, "spec",
          {"trafficRouting", "canaryLabels", "steps", "stableService",
           "canaryService", "analysis", "earlyPromotion",
           "progressDeadlineSeconds", "progressDeadlineAbort", "preflight"});
      !s.ok()) {
    return s;
  }
  RolloutSpec out;
  if (auto s = ParseTrafficRouting(spec, out); !s.ok()) return s;
  if (auto labels = spec.find("canaryLabels"); labels != spec.end()) {
    if (!labels->is_object())
      return FieldError("spec.canaryLabels", "must be a map of labels");
    for (const auto& [key, value] : labels->items()) {
      if (!value.is_string()) {
        return FieldError(absl::StrCat("spec.canaryLabels[\"",
                                       QuoteForMessage(key, 80), "\"]"),
                          "must be a string");
      }
      out.canary_labels[key] = value.get<std::string>();
    }
  }
  auto steps = spec.find("steps");
  if (steps == spec.end()) return FieldError("spec.steps", "is required");
  if (!steps->is_array()) return FieldError("spec.steps", "must be a list");
  for (size_t i = 0; i < steps->size(); ++i) {
    auto step = ParseStep((*steps)[i], absl::StrCat("spec.steps[", i, "]"));
    if (!step.ok()) return step.status();
    out.steps.push_back(*step);
  }
  if (auto early = spec.find("earlyPromotion"); early != spec.end()) {
    if (!early->is_boolean())
      return FieldError("spec.earlyPromotion", "must be true or false");
    out.early_promotion = early->get<bool>();
  }
  if (auto deadline = spec.find("progressDeadlineSeconds");
      deadline != spec.end()) {
    if (!deadline->is_number_integer() ||
        !IntegerIn(*deadline, "", 1, INT64_MAX).ok()) {
      return FieldError("spec.progressDeadlineSeconds",
                        "must be a whole number of seconds, at least 1");
    }
    out.progress_deadline = absl::Seconds(deadline->get<int64_t>());
  }
  if (auto abort = spec.find("progressDeadlineAbort"); abort != spec.end()) {
    if (!abort->is_boolean())
      return FieldError("spec.progressDeadlineAbort", "must be true or false");
    out.progress_deadline_abort = abort->get<bool>();
  }
  if (auto preflight = spec.find("preflight"); preflight != spec.end()) {
    auto policy = ParsePreflightPolicy(*preflight);
    if (!policy.ok()) return policy.status();
    out.preflight = *policy;
  }
  if (auto background = spec.find("analysis"); background != spec.end()) {
    auto ref = ParseAnalysisRef(*background, "spec.analysis");
    if (!ref.ok()) return ref.status();
    int starting_step = 0;
    if (auto starting = background->find("startingStep");
        starting != background->end()) {
      // The range against the steps is ValidateRolloutSpec's.
      auto index =
          IntegerIn(*starting, "spec.analysis.startingStep", 0, INT32_MAX);
      if (!index.ok()) return index.status();
      starting_step = static_cast<int>(*index);
    }
    out.background_analysis = BackgroundAnalysis{*ref, starting_step};
  }
  if (auto s = ValidateRolloutSpec(out); !s.ok()) return s;
  return out;
}

json RolloutSpecToJson(const RolloutSpec& spec) {
  const TrafficRouting& tr = spec.traffic_routing;
  auto vs_json = [](const VirtualServiceRef& vs) {
    json out = {{"name", vs.name}};
    if (!vs.routes.empty()) out["routes"] = vs.routes;
    return out;
  };
  json istio = json::object();
  if (tr.virtual_services.empty()) {
    istio["virtualService"] = vs_json({tr.virtual_service, tr.routes});
  } else {
    json list = json::array();
    for (const VirtualServiceRef& vs : tr.virtual_services)
      list.push_back(vs_json(vs));
    istio["virtualServices"] = list;
  }
  if (tr.subset_level()) {
    istio["destinationRule"] = {{"name", tr.destination_rule},
                                {"stableSubsetName", tr.stable_subset},
                                {"canarySubsetName", tr.canary_subset}};
  }
  json out = {{"trafficRouting", {{"istio", istio}}}};
  if (!tr.stable_service.empty()) out["stableService"] = tr.stable_service;
  if (!tr.canary_service.empty()) out["canaryService"] = tr.canary_service;
  if (!spec.canary_labels.empty()) out["canaryLabels"] = spec.canary_labels;
  json steps = json::array();
  for (const Step& step : spec.steps) {
    if (step.kind == Step::Kind::kSetWeight) {
      steps.push_back({{"setWeight", step.weight}});
    } else if (step.kind == Step::Kind::kAnalysis) {
      steps.push_back({{"analysis", AnalysisRefToJson(step.analysis)}});
    } else if (step.pause_duration) {
      steps.push_back(
          {{"pause",
            {{"duration", FormatStepDuration(*step.pause_duration)}}}});
    } else {
      steps.push_back({{"pause", json::object()}});
    }
  }
  out["steps"] = steps;
  if (spec.early_promotion) out["earlyPromotion"] = true;
  if (spec.progress_deadline) {
    out["progressDeadlineSeconds"] =
        absl::ToInt64Seconds(*spec.progress_deadline);
  }
  if (spec.progress_deadline_abort) out["progressDeadlineAbort"] = true;
  if (spec.preflight != PreflightPolicy::kWarn)
    out["preflight"] = PreflightPolicyName(spec.preflight);
  if (spec.background_analysis) {
    json background = AnalysisRefToJson(spec.background_analysis->analysis);
    background["startingStep"] = spec.background_analysis->starting_step;
    out["analysis"] = background;
  }
  return out;
}

}  // namespace smartcanary

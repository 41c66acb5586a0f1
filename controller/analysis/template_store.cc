#include "controller/analysis/template_store.h"

#include <set>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "analysis/comparative.h"
#include "analysis/condition.h"
#include "controller/kube/resources.h"

namespace smartcanary {
namespace {

absl::Status CheckMetric(const MetricSpec& metric,
                         const std::map<std::string, std::string>& args,
                         const std::string& where) {
  if (metric.query.has_comparative()) {
    if (auto substituted =
            analysis::SubstituteArgs(metric.query.comparative(), args);
        !substituted.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          where, " metric \"", metric.name,
          "\" provider.comparative: ", substituted.status().message()));
    }
    return absl::OkStatus();
  }
  auto fail = [&](const std::string& field, const absl::Status& status) {
    return absl::InvalidArgumentError(absl::StrCat(where, " metric \"",
                                                   metric.name, "\" ", field,
                                                   ": ", status.message()));
  };
  if (auto address =
          analysis::SubstituteArgs(metric.query.prometheus().address(), args);
      !address.ok()) {
    return fail("provider.prometheus.address", address.status());
  }
  if (auto query =
          analysis::SubstituteArgs(metric.query.prometheus().query(), args);
      !query.ok()) {
    return fail("provider.prometheus.query", query.status());
  }
  if (metric.query.success_condition().empty() &&
      metric.query.failure_condition().empty()) {
    return fail("successCondition",
                absl::InvalidArgumentError(
                    "give a successCondition or a failureCondition"));
  }
  for (auto [field, text] :
       {std::pair{"successCondition", &metric.query.success_condition()},
        std::pair{"failureCondition", &metric.query.failure_condition()}}) {
    if (text->empty()) continue;
    auto substituted = analysis::SubstituteArgs(*text, args);
    if (!substituted.ok()) return fail(field, substituted.status());
    if (auto parsed = analysis::Condition::Parse(*substituted); !parsed.ok()) {
      return fail(field, parsed.status());
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ResolvedAnalysis> TemplateStore::Resolve(
    const std::string& ns, const AnalysisRef& ref,
    const std::string& where) const {
  ResolvedAnalysis resolved;
  std::set<std::string> names;
  for (size_t i = 0; i < ref.templates.size(); ++i) {
    const TemplateRef& t = ref.templates[i];
    const std::string kind = t.cluster_scope ? "ClusterCanaryAnalysisTemplate"
                                             : "CanaryAnalysisTemplate";
    const std::string id = t.cluster_scope
                               ? absl::StrCat(kind, " ", t.name)
                               : absl::StrCat(kind, " ", ns, "/", t.name);
    auto object = client_.Get(
        t.cluster_scope ? kube::kClusterAnalysisTemplates.Item("", t.name)
                        : kube::kAnalysisTemplates.Item(ns, t.name));
    if (absl::IsNotFound(object.status())) {
      return absl::FailedPreconditionError(
          absl::StrCat(where, ".templates[", i, "]: ", id, " not found"));
    }
    if (!object.ok()) return object.status();
    auto parsed =
        ParseAnalysisTemplate(object->value("spec", nlohmann::json()), id);
    if (!parsed.ok()) return parsed.status();
    auto args =
        ResolveArgs(parsed->args, ref.args, absl::StrCat(where, " (", id, ")"));
    if (!args.ok()) return args.status();
    for (const MetricSpec& metric : parsed->metrics) {
      if (!names.insert(metric.name).second) {
        return absl::InvalidArgumentError(
            absl::StrCat(where, ": metric \"", metric.name,
                         "\" is defined by more than one template"));
      }
      if (auto s = CheckMetric(metric, *args, id); !s.ok()) return s;
      resolved.metrics.push_back(metric);
    }
    resolved.args.insert(args->begin(), args->end());
  }
  // The rollout's false-rollback budget is shared by its comparative
  // metrics (Bonferroni: valid under any dependence between them).
  int comparative = 0;
  for (const MetricSpec& metric : resolved.metrics)
    comparative += metric.query.has_comparative();
  for (MetricSpec& metric : resolved.metrics) {
    if (metric.query.has_comparative())
      metric.query.mutable_comparative()->set_budget_share(comparative);
  }
  return resolved;
}

absl::Status TemplateStore::ValidateSpec(const std::string& ns,
                                         const RolloutSpec& spec) const {
  for (size_t i = 0; i < spec.steps.size(); ++i) {
    if (spec.steps[i].kind != Step::Kind::kAnalysis) continue;
    auto resolved = Resolve(ns, spec.steps[i].analysis,
                            absl::StrCat("spec.steps[", i, "].analysis"));
    if (!resolved.ok()) return resolved.status();
  }
  if (spec.background_analysis) {
    auto resolved =
        Resolve(ns, spec.background_analysis->analysis, "spec.analysis");
    if (!resolved.ok()) return resolved.status();
  }
  return absl::OkStatus();
}

}  // namespace smartcanary

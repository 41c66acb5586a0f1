#include "cli/render.h"

#include <cstdint>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "common/text_escape.h"

namespace smartcanary::cli {
namespace {

using nlohmann::json;

// Every string the server sends goes through this before the terminal: a
// status message or name with ESC or CR must not redraw the screen.
std::string Safe(const std::string& text) {
  return EscapeControlCharacters(text);
}

const char* PhaseIcon(v1::Phase phase) {
  switch (phase) {
    case v1::HEALTHY:
      return "✔";
    case v1::DEGRADED:
      return "✖";
    case v1::PAUSED:
      return "॥";
    default:
      return "◌";
  }
}

std::string StepText(const v1::Step& step) {
  if (step.has_analysis()) {
    std::vector<std::string> names;
    for (const v1::TemplateRef& t : step.analysis().templates())
      names.push_back(Safe(t.template_name()));
    return absl::StrCat("analysis ", absl::StrJoin(names, ", "));
  }
  if (step.has_pause()) {
    if (step.pause().duration_seconds() > 0) {
      return absl::StrCat(
          "pause ",
          absl::FormatDuration(absl::Seconds(step.pause().duration_seconds())));
    }
    return "pause (until promoted)";
  }
  return absl::StrCat("setWeight ", step.set_weight());
}

// The icon of step `index` given where the rollout stands.
const char* StepIcon(const v1::Rollout& rollout, int index) {
  const int current = rollout.current_step_index();
  if (rollout.phase() == v1::HEALTHY || index < current) return "✔";
  if (index > current) return "◷";
  if (rollout.phase() == v1::DEGRADED) return "✖";
  if (rollout.phase() == v1::PAUSED) return "॥";
  return "◌";
}

// How many of each metric's latest measurements `get` shows.
constexpr int kShownMeasurements = 3;

std::string PauseText(const std::string& reason) {
  if (reason == "User") return " (paused by user)";
  if (reason == "Inconclusive")
    return " (held: analysis inconclusive, measuring on)";
  if (reason == "Outage")
    return " (held: analysis outage, measuring on, resumes by itself)";
  if (reason == "Preflight")
    return " (held: pre-flight, plan too short; resumes when one passes)";
  return "";
}

// "4m10s", or "never" for the -1 the status uses for "not within the plan".
std::string PreflightTime(int64_t seconds) {
  if (seconds < 0) return "never within the plan";
  return absl::FormatDuration(absl::Seconds(seconds));
}

const char* RunIcon(const std::string& phase) {
  if (phase == "Pending") return "◷";
  if (phase == "Successful") return "✔";
  if (phase == "Failed") return "✖";
  if (phase == "Inconclusive") return "?";
  if (phase == "Error") return "⚠";
  return "◌";
}

std::string Routing(const v1::RolloutSpec& spec) {
  const v1::TrafficRouting& tr = spec.traffic_routing();
  // Several VirtualServices (virtualServices) show as "a, b".
  std::string virtual_services = Safe(tr.virtual_service());
  for (const v1::VirtualServiceRoutes& vs : tr.virtual_services()) {
    if (!virtual_services.empty()) virtual_services += ", ";
    virtual_services += Safe(vs.name());
  }
  if (!tr.destination_rule().empty()) {
    return absl::StrCat("Istio subset-level: VirtualService ", virtual_services,
                        ", DestinationRule ", Safe(tr.destination_rule()), " (",
                        Safe(tr.stable_subset()), "/", Safe(tr.canary_subset()),
                        ")");
  }
  return absl::StrCat("Istio host-level: VirtualService ", virtual_services,
                      ", services ", Safe(tr.stable_service()), "/",
                      Safe(tr.canary_service()));
}

json AnalysisJson(const v1::Rollout& rollout) {
  json runs = json::array();
  for (const v1::AnalysisRunStatus& run : rollout.analysis_runs()) {
    json metrics = json::array();
    for (const v1::MetricStatus& m : run.metrics()) {
      metrics.push_back({{"name", m.name()},
                         {"phase", m.phase()},
                         {"successful", m.successful()},
                         {"failed", m.failed()},
                         {"inconclusive", m.inconclusive()},
                         {"error", m.error()},
                         {"pending", m.pending()},
                         {"dryRun", m.dry_run()},
                         {"lastMessage", m.last_message()}});
    }
    runs.push_back({{"name", run.name()},
                    {"phase", run.phase()},
                    {"message", run.message()},
                    {"metrics", metrics}});
  }
  return runs;
}

json PreflightJson(const v1::Rollout& rollout) {
  if (!rollout.has_preflight()) return nullptr;
  const v1::PreflightResult& p = rollout.preflight();
  return {{"result", p.result()},
          {"regressionSeconds", p.regression_seconds()},
          {"notWorseSeconds", p.not_worse_seconds()},
          {"planLongEnough", p.plan_long_enough()},
          {"message", p.message()}};
}

}  // namespace

const char* PhaseText(v1::Phase phase) {
  switch (phase) {
    case v1::HEALTHY:
      return "Healthy";
    case v1::DEGRADED:
      return "Degraded";
    case v1::PAUSED:
      return "Paused";
    default:
      return "Progressing";
  }
}

std::string RenderRolloutTree(const v1::Rollout& rollout) {
  std::string out;
  const int total = rollout.total_steps();
  const int shown_step = std::min(rollout.current_step_index() + 1, total);
  absl::StrAppendFormat(&out, "Name:          %s\n", Safe(rollout.name()));
  absl::StrAppendFormat(&out, "Namespace:     %s\n",
                        Safe(rollout.namespace_()));
  absl::StrAppendFormat(&out, "Status:        %s %s%s\n",
                        PhaseIcon(rollout.phase()), PhaseText(rollout.phase()),
                        PauseText(rollout.pause_reason()));
  absl::StrAppendFormat(&out, "Message:       %s\n", Safe(rollout.message()));
  absl::StrAppendFormat(&out, "Routing:       %s\n", Routing(rollout.spec()));
  absl::StrAppendFormat(&out, "Step:          %d/%d\n",
                        rollout.phase() == v1::HEALTHY ? total : shown_step,
                        total);
  absl::StrAppendFormat(&out, "Weights:       stable %d / canary %d\n",
                        rollout.stable_weight(), rollout.canary_weight());
  for (const v1::RolloutCondition& c : rollout.conditions()) {
    absl::StrAppendFormat(&out, "Condition:     %s=%s %s: %s\n", Safe(c.type()),
                          Safe(c.status()), Safe(c.reason()),
                          Safe(c.message()));
  }
  for (const std::string& warning : rollout.warnings())
    absl::StrAppendFormat(&out, "Warning:       %s\n", Safe(warning));
  if (rollout.has_preflight()) {
    const v1::PreflightResult& p = rollout.preflight();
    absl::StrAppendFormat(
        &out, "Pre-flight:    %s: 2x regression shows in %s, not worse in %s\n",
        Safe(p.result()), PreflightTime(p.regression_seconds()),
        PreflightTime(p.not_worse_seconds()));
    absl::StrAppendFormat(&out, "               %s\n", Safe(p.message()));
  }
  absl::StrAppendFormat(&out, "\n%-34s %-14s %s\n", "NAME", "KIND", "STATUS");
  absl::StrAppendFormat(&out, "⟳ %-32s %-14s %s %s\n", Safe(rollout.name()),
                        "CanaryRollout", PhaseIcon(rollout.phase()),
                        PhaseText(rollout.phase()));
  for (int i = 0; i < total; ++i) {
    const bool last = i == total - 1 && rollout.analysis_runs().empty();
    absl::StrAppendFormat(&out, "%s%s %d. %s\n", last ? "└──" : "├──",
                          StepIcon(rollout, i), i + 1,
                          StepText(rollout.spec().steps(i)));
  }
  for (int r = 0; r < rollout.analysis_runs_size(); ++r) {
    const v1::AnalysisRunStatus& run = rollout.analysis_runs(r);
    const bool last_run = r == rollout.analysis_runs_size() - 1;
    absl::StrAppendFormat(&out, "%sα %s analysis  %s %s\n",
                          last_run ? "└──" : "├──", Safe(run.name()),
                          RunIcon(run.phase()), Safe(run.phase()));
    for (int m = 0; m < run.metrics_size(); ++m) {
      const v1::MetricStatus& metric = run.metrics(m);
      const bool last_metric = m == run.metrics_size() - 1;
      const std::string indent = last_run ? "   " : "│  ";
      absl::StrAppendFormat(
          &out, "%s%s%s %-22s ✔ %d  ✖ %d  ? %d  ⚠ %d  ◷ %d pending\n", indent,
          last_metric ? "└──" : "├──", RunIcon(metric.phase()),
          Safe(metric.name()) + (metric.dry_run() ? " (dry-run)" : ""),
          metric.successful(), metric.failed(), metric.inconclusive(),
          metric.error(), metric.pending());
      // The live measurements, newest last.
      const int shown = std::min(metric.recent_size(), kShownMeasurements);
      for (int i = metric.recent_size() - shown; i < metric.recent_size();
           ++i) {
        const v1::RecentMeasurement& r = metric.recent(i);
        absl::StrAppendFormat(
            &out, "%s%s   %s %s %s\n", indent, last_metric ? "   " : "│  ",
            absl::FormatTime("%H:%M:%S",
                             absl::FromUnixSeconds(r.at().seconds()),
                             absl::UTCTimeZone()),
            RunIcon(r.phase()), Safe(r.message().substr(0, 110)));
      }
    }
  }
  return out;
}

std::string RenderRolloutTable(const v1::ListRolloutsResponse& list) {
  std::string out =
      absl::StrFormat("%-16s %-28s %-14s %-6s %-14s %s\n", "NAMESPACE", "NAME",
                      "STATUS", "STEP", "STABLE/CANARY", "MESSAGE");
  for (const v1::Rollout& rollout : list.rollouts()) {
    absl::StrAppendFormat(
        &out, "%-16s %-28s %s %-12s %-6s %-14s %s\n",
        Safe(rollout.namespace_()), Safe(rollout.name()),
        PhaseIcon(rollout.phase()), PhaseText(rollout.phase()),
        absl::StrCat(
            std::min(rollout.current_step_index() + 1, rollout.total_steps()),
            "/", rollout.total_steps()),
        absl::StrCat(rollout.stable_weight(), "/", rollout.canary_weight()),
        Safe(rollout.message()));
  }
  return out;
}

std::string RenderJson(const json& value) {
  // Invalid UTF-8 becomes U+FFFD instead of an exception. JSON escapes C0
  // controls itself; C1 ones (U+0080..U+009F) it leaves raw, and some
  // terminals act on them, so they are escaped too.
  const std::string text =
      value.dump(2, ' ', false, json::error_handler_t::replace);
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const auto next =
        i + 1 < text.size() ? static_cast<uint8_t>(text[i + 1]) : 0;
    if (static_cast<uint8_t>(text[i]) == 0xC2 && next >= 0x80 && next <= 0x9F) {
      absl::StrAppendFormat(&out, "\\u%04x", next);
      ++i;
    } else {
      out += text[i];
    }
  }
  return out;
}

json RolloutToJson(const v1::Rollout& rollout) {
  json steps = json::array();
  for (const v1::Step& step : rollout.spec().steps()) {
    if (step.has_analysis()) {
      json templates = json::array();
      for (const v1::TemplateRef& t : step.analysis().templates())
        templates.push_back(t.template_name());
      steps.push_back({{"analysis", {{"templates", templates}}}});
    } else if (step.has_pause()) {
      json pause = json::object();
      if (step.pause().duration_seconds() > 0) {
        pause["durationSeconds"] = step.pause().duration_seconds();
      }
      steps.push_back({{"pause", pause}});
    } else {
      steps.push_back({{"setWeight", step.set_weight()}});
    }
  }
  return {{"name", rollout.name()},
          {"namespace", rollout.namespace_()},
          {"phase", PhaseText(rollout.phase())},
          {"currentStepIndex", rollout.current_step_index()},
          {"totalSteps", rollout.total_steps()},
          {"canaryWeight", rollout.canary_weight()},
          {"stableWeight", rollout.stable_weight()},
          {"message", rollout.message()},
          {"pausedByUser", rollout.paused_by_user()},
          {"pauseReason", rollout.pause_reason()},
          {"warnings", rollout.warnings()},
          {"generation", rollout.generation()},
          {"observedGeneration", rollout.observed_generation()},
          {"steps", steps},
          {"analysis", AnalysisJson(rollout)},
          {"preflight", PreflightJson(rollout)}};
}

}  // namespace smartcanary::cli

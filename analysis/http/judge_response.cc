#include "analysis/http/judge_response.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/utf8.h"

namespace smartcanary::analysis::http {
namespace {

using json = nlohmann::json;

constexpr size_t kMaxMessageBytes = 4096;

const char* VerdictOf(MeasurementPhase phase) {
  switch (phase) {
    case MeasurementPhase::kSuccessful:
      return "Pass";
    case MeasurementPhase::kFailed:
      return "Fail";
    case MeasurementPhase::kInconclusive:
      return "Inconclusive";
    case MeasurementPhase::kError:
      return "Error";
  }
  return "Error";
}

// NaN and infinities (a ratio with no events) as null: JSON has no NaN.
json Number(double value) {
  return std::isfinite(value) ? json(value) : json(nullptr);
}

json EvidenceJson(const stats::Evidence& e, double alpha, double margin) {
  return {
      {"canary",
       {{"events", e.canary_events}, {"requests", e.canary_requests}}},
      {"baseline",
       {{"events", e.baseline_events}, {"requests", e.baseline_requests}}},
      {"rateRatio", Number(e.rate_ratio)},
      {"ratioInterval", {Number(e.ratio_low), Number(e.ratio_high)}},
      {"eValueWorse", Number(std::exp(e.log_e_worse))},
      {"eValueNotWorse", Number(std::exp(e.log_e_not_worse))},
      // The e-values' thresholds: alpha's shares for rolling back and for
      // promoting (stats/evidence.h).
      {"thresholdWorse", 1 / (alpha * stats::kRollbackShare)},
      {"thresholdNotWorse", 1 / (alpha * stats::kPromotionShare)},
      {"maxBurst", e.max_burst},
      {"alpha", alpha},
      {"margin", margin},
      {"worse", e.worse},
      {"notWorse", e.not_worse},
      {"informativeIntervals", e.informative_intervals},
      {"dispersion",
       {{"canary", Number(e.canary_dispersion)},
        {"baseline", Number(e.baseline_dispersion)}}},
  };
}

// What the verdict takes for granted, said so a reader can judge whether
// it holds for their service.
json Assumptions(const JudgeRequest& request,
                 const ComparativeVerdict& verdict) {
  json out = json::array();
  out.push_back(
      "same traffic: the canary and baseline selectors serve requests from "
      "the same callers over the same window, so a shared swing cancels");
  if (verdict.evidence) {
    out.push_back(absl::StrFormat(
        "bursts: valid if errors come in independent bursts of at most %g "
        "events (maxBurst), each inside one resolution interval",
        verdict.evidence->max_burst));
  }
  out.push_back(
      "anytime-valid: asking again every interval does not raise the false "
      "verdict rate above alpha");
  out.push_back(
      request.canary_weight
          ? absl::StrCat("routing checked: the canary's share of requests "
                         "must match canaryWeight ",
                         *request.canary_weight, "% within 5 points")
          : std::string("routing not checked: no canaryWeight was given, so "
                        "the canary's share of traffic is taken on trust"));
  return out;
}

}  // namespace

JudgeAnswer Answer(const JudgeRequest& request,
                   const ComparativeVerdict& verdict, absl::Time start,
                   absl::Time end, Caller caller) {
  JudgeAnswer out;
  out.verdict = VerdictOf(verdict.verdict.phase);
  const v1::ComparativeProvider& provider = request.metric.comparative();
  out.body = {
      {"verdict", out.verdict},
      {"phase", MeasurementPhaseName(verdict.verdict.phase)},
      {"message", SanitizeAndCap(verdict.verdict.message, kMaxMessageBytes)},
      {"notWorse", verdict.not_worse},
      {"noData", IsNoDataVerdict(verdict.verdict)},
      {"window",
       {{"start",
         absl::FormatTime(absl::RFC3339_sec, start, absl::UTCTimeZone())},
        {"end",
         absl::FormatTime(absl::RFC3339_sec, end, absl::UTCTimeZone())}}},
      {"evidence", verdict.evidence
                       ? EvidenceJson(*verdict.evidence, provider.alpha(),
                                      provider.margin())
                       : json(nullptr)},
      {"assumptions", Assumptions(request, verdict)},
  };
  switch (verdict.verdict.phase) {
    case MeasurementPhase::kSuccessful:
      out.code = 200;
      break;
    case MeasurementPhase::kFailed:
      out.code = caller == Caller::kArgo ? 200 : 412;
      break;
    case MeasurementPhase::kInconclusive:
      out.code = caller == Caller::kArgo ? 200 : 503;
      break;
    case MeasurementPhase::kError:
      out.code = 502;
      break;
  }
  return out;
}

std::string ErrorBody(const std::string& message) {
  return json{{"error", SanitizeAndCap(message, kMaxMessageBytes)}}.dump() +
         "\n";
}

}  // namespace smartcanary::analysis::http

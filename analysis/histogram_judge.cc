#include "analysis/histogram_judge.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "analysis/stats/histogram.h"

namespace smartcanary::analysis {

bool IsLatencyHistogram(const v1::ComparativeProvider& provider) {
  return provider.has_istio() &&
         provider.istio().event() == "latency-histogram";
}

absl::Status CheckHistogramBuckets(const v1::IstioPreset& istio) {
  const auto& buckets = istio.latency_buckets_ms();
  if (buckets.empty() || buckets.size() > kMaxHistogramBuckets) {
    return absl::InvalidArgumentError(
        absl::StrCat("istio.latencyBucketsMs: latency-histogram needs 1 to ",
                     kMaxHistogramBuckets,
                     " bucket boundaries (le values), got ", buckets.size()));
  }
  for (int i = 0; i < buckets.size(); ++i) {
    if (!std::isfinite(buckets[i]) || buckets[i] <= 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("istio.latencyBucketsMs[", i,
                       "]: must be a positive number of milliseconds"));
    }
    if (i > 0 && buckets[i] <= buckets[i - 1]) {
      return absl::InvalidArgumentError(absl::StrCat(
          "istio.latencyBucketsMs[", i, "]: boundaries must increase (",
          buckets[i], " after ", buckets[i - 1], ")"));
    }
  }
  return absl::OkStatus();
}

std::vector<v1::ComparativeProvider> BoundaryProviders(
    const v1::ComparativeProvider& provider) {
  std::vector<v1::ComparativeProvider> out;
  for (double le : provider.istio().latency_buckets_ms()) {
    v1::ComparativeProvider one = provider;
    one.mutable_istio()->set_event("slower-than");
    one.mutable_istio()->set_latency_objective_ms(le);
    one.mutable_istio()->clear_latency_buckets_ms();
    out.push_back(std::move(one));
  }
  return out;
}

ComparativeVerdict JudgeHistogram(
    std::span<const std::vector<stats::IntervalCounts>> per_boundary,
    std::span<const double> boundaries_ms, double alpha, double margin,
    absl::Duration step, double max_burst, bool check_routing) {
  if (per_boundary.empty()) {
    ComparativeVerdict out;
    out.verdict = {MeasurementPhase::kError, {}, "no bucket boundaries"};
    return out;
  }
  // Every boundary counts the same requests, so the first one answers the
  // checks that look at requests only; its own sequential test is unused.
  ComparativeVerdict out = JudgeComparative(
      per_boundary[0], alpha, margin, step, absl::ZeroDuration(),
      absl::ZeroDuration(), max_burst, check_routing);
  if (!out.evidence) return out;
  const stats::HistogramEvidence h =
      stats::EvaluateHistogram(per_boundary, margin, alpha, max_burst);
  const int worst = std::max(0, h.worst_boundary);
  // The worst boundary's own numbers, for the HTTP API's fields.
  const stats::Evidence e =
      stats::Evaluate(per_boundary[worst], margin, alpha, max_burst);
  out.evidence = e;
  out.not_worse = h.not_worse;
  const std::string message = absl::StrFormat(
      "latency histogram over %d boundaries: worst at le=%gms, canary %.3g%% "
      "slower vs baseline %.3g%% (ratio %.3g); mean e-value worse %.3g "
      "(threshold %.3g), least not-worse %.3g (threshold %.3g); valid if "
      "slow requests come in independent bursts of <= %g (maxBurst), each "
      "inside one %s interval",
      static_cast<int>(per_boundary.size()), boundaries_ms[worst],
      e.canary_requests > 0 ? 100 * e.canary_events / e.canary_requests : 0.0,
      e.baseline_requests > 0 ? 100 * e.baseline_events / e.baseline_requests
                              : 0.0,
      e.rate_ratio, std::exp(h.log_e_worse),
      1 / (alpha * stats::kRollbackShare), std::exp(h.log_e_not_worse),
      1 / (alpha * stats::kPromotionShare), max_burst,
      absl::FormatDuration(step));
  const std::vector<double> values = {e.rate_ratio, e.ratio_low, e.ratio_high};
  if (h.worse) {
    out.verdict = {MeasurementPhase::kFailed, values,
                   absl::StrCat("canary slower than ", 1 + margin,
                                "x baseline: ", message)};
  } else {
    out.verdict = {MeasurementPhase::kSuccessful, values,
                   absl::StrCat(h.not_worse ? "canary not slower (proven): "
                                            : "no latency regression shown "
                                              "yet: ",
                                message)};
  }
  return out;
}

}  // namespace smartcanary::analysis

#include "analysis/comparative.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "analysis/condition.h"

namespace smartcanary::analysis {
namespace {

constexpr int kLivenessIntervals = 3;
constexpr double kRoutingTolerance = 0.05;

// A PromQL double-quoted string holding `value` exactly: a service name or
// label value (possibly from a rollout's args) can never end the string and
// add matchers or operators of its own.
std::string Quoted(absl::string_view value) {
  std::string out = "\"";
  for (char c : value) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          absl::StrAppendFormat(&out, "\\x%02x", static_cast<unsigned char>(c));
        } else {
          out.push_back(c);
        }
    }
  }
  return out + "\"";
}

std::string Selector(
    const std::string& service,
    const google::protobuf::Map<std::string, std::string>& labels,
    const std::string& extra) {
  std::vector<std::string> parts = {
      "reporter=\"destination\"",
      absl::StrCat("destination_service_name=", Quoted(service))};
  std::map<std::string, std::string> sorted(labels.begin(), labels.end());
  for (const auto& [key, value] : sorted)
    parts.push_back(absl::StrCat(key, "=", Quoted(value)));
  if (!extra.empty()) parts.push_back(extra);
  return absl::StrCat("{", absl::StrJoin(parts, ","), "}");
}

std::string Percent(double events, double requests) {
  return requests > 0 ? absl::StrFormat("%.3g%%", 100 * events / requests)
                      : "n/a";
}

double Delta(const CounterSamples& series, int64_t from, int64_t to) {
  auto value = [&](int64_t t) {
    auto it = series.find(t);
    return it == series.end() ? 0.0 : it->second;
  };
  const double before = value(from), after = value(to);
  return after >= before ? after - before : after;  // a reset restarts at 0
}

std::string Seconds(double s) {
  if (!std::isfinite(s)) return "forever";
  return absl::FormatDuration(absl::Seconds(std::round(s)));
}

// The assumptions the guarantee rests on (docs/STATISTICS.md, "Validity"),
// with what the counts suggest.
std::string Assumptions(const stats::Evidence& e, absl::Duration step) {
  std::string out = absl::StrFormat(
      "valid if errors come in independent bursts of <= %g events (maxBurst), "
      "each inside one %s interval",
      e.max_burst, absl::FormatDuration(step));
  const double observed =
      std::max(std::isnan(e.canary_dispersion) ? 0 : e.canary_dispersion,
               std::isnan(e.baseline_dispersion) ? 0 : e.baseline_dispersion);
  if (observed > 0) {
    absl::StrAppend(&out,
                    absl::StrFormat(", observed dispersion %.2g", observed));
    // Geometric bursts of mean s show a dispersion near 2s - 1 and need
    // maxBurst near 3.3 s (docs/STATISTICS.md, "Validity").
    if (observed > 2 * e.max_burst)
      absl::StrAppend(&out, " (bursts look larger: raise maxBurst)");
  }
  return out;
}

}  // namespace

absl::StatusOr<v1::ComparativeProvider> SubstituteArgs(
    const v1::ComparativeProvider& provider,
    const std::map<std::string, std::string>& args) {
  v1::ComparativeProvider out = provider;
  std::vector<std::string*> fields = {
      out.mutable_prometheus()->mutable_address(), out.mutable_canary_events(),
      out.mutable_canary_requests(), out.mutable_baseline_events(),
      out.mutable_baseline_requests()};
  // mutable_istio() would create the preset, and QueriesFor would then use
  // it (with no service) instead of the custom counters.
  if (out.has_istio()) {
    fields.push_back(out.mutable_istio()->mutable_service());
    for (auto* labels : {out.mutable_istio()->mutable_canary(),
                         out.mutable_istio()->mutable_baseline()}) {
      for (auto& [key, value] : *labels) fields.push_back(&value);
    }
  }
  for (std::string* field : fields) {
    auto substituted = analysis::SubstituteArgs(*field, args);
    if (!substituted.ok()) return substituted.status();
    *field = *substituted;
  }
  return out;
}

CounterQueries QueriesFor(const v1::ComparativeProvider& p) {
  if (!p.has_istio()) {
    return {p.canary_events(), p.canary_requests(), p.baseline_events(),
            p.baseline_requests()};
  }
  const v1::IstioPreset& istio = p.istio();
  auto arm = [&](const google::protobuf::Map<std::string, std::string>& labels,
                 bool events) {
    if (istio.event() == "slower-than") {
      const std::string count =
          absl::StrCat("sum(istio_request_duration_milliseconds_count",
                       Selector(istio.service(), labels, ""), ")");
      if (!events) return count;
      // Above the objective = all requests - those in the bucket at it.
      return absl::StrCat(
          count, " - sum(istio_request_duration_milliseconds_bucket",
          Selector(istio.service(), labels,
                   absl::StrCat("le=\"", istio.latency_objective_ms(), "\"")),
          ")");
    }
    const std::string filter = !events ? ""
                               : istio.event() == "http-5xx"
                                   ? "response_code=~\"5..\""
                                   : "grpc_response_status!~\"0|\"";
    return absl::StrCat("sum(istio_requests_total",
                        Selector(istio.service(), labels, filter), ")");
  };
  return {arm(istio.canary(), true), arm(istio.canary(), false),
          arm(istio.baseline(), true), arm(istio.baseline(), false)};
}

std::vector<stats::IntervalCounts> ToIntervals(
    const CounterSamples& canary_events, const CounterSamples& canary_requests,
    const CounterSamples& baseline_events,
    const CounterSamples& baseline_requests,
    const std::vector<std::pair<absl::Time, int>>& weights, absl::Time start,
    absl::Duration step, int intervals) {
  std::vector<stats::IntervalCounts> out;
  const int64_t t0 = absl::ToUnixSeconds(start),
                dt = absl::ToInt64Seconds(step);
  auto share_between = [&](absl::Time from, absl::Time to) {
    double weighted = 0;
    for (size_t i = 0; i < weights.size(); ++i) {
      const absl::Time begin = std::max(weights[i].first, from);
      const absl::Time end =
          std::min(i + 1 < weights.size() ? weights[i + 1].first : to, to);
      if (end > begin)
        weighted +=
            weights[i].second / 100.0 * absl::ToDoubleSeconds(end - begin);
    }
    return weighted / absl::ToDoubleSeconds(to - from);
  };
  for (int k = 1; k <= intervals; ++k) {
    const int64_t from = t0 + (k - 1) * dt, to = t0 + k * dt;
    stats::IntervalCounts c;
    c.canary_events = Delta(canary_events, from, to);
    c.canary_requests = Delta(canary_requests, from, to);
    c.baseline_events = Delta(baseline_events, from, to);
    c.baseline_requests = Delta(baseline_requests, from, to);
    // Rates can't exceed their requests (samples straddling a scrape).
    c.canary_events = std::min(c.canary_events, c.canary_requests);
    c.baseline_events = std::min(c.baseline_events, c.baseline_requests);
    c.configured_canary_share =
        share_between(absl::FromUnixSeconds(from), absl::FromUnixSeconds(to));
    out.push_back(c);
  }
  return out;
}

ComparativeVerdict JudgeComparative(
    const std::vector<stats::IntervalCounts>& intervals, double alpha,
    double margin, absl::Duration step, absl::Duration planned,
    absl::Duration covered, double max_burst, bool check_routing) {
  ComparativeVerdict out;
  Verdict& v = out.verdict;
  double canary_requests = 0;
  for (const auto& c : intervals) canary_requests += c.canary_requests;
  if (canary_requests == 0) {
    v = {MeasurementPhase::kInconclusive,
         {},
         "no data: the canary has served no requests yet"};
    return out;
  }
  // Liveness: a canary with weight that stops serving fails.
  if (check_routing && intervals.size() >= kLivenessIntervals) {
    bool silent = true;
    for (size_t i = intervals.size() - kLivenessIntervals; i < intervals.size();
         ++i) {
      const auto& c = intervals[i];
      silent = silent && c.canary_requests == 0 &&
               c.configured_canary_share > 0 && c.baseline_requests > 0;
    }
    if (silent) {
      v = {MeasurementPhase::kFailed,
           {0},
           absl::StrCat(
               "canary stopped serving: no requests for ",
               absl::FormatDuration(step * kLivenessIntervals),
               " while the VirtualService gives it ",
               std::round(100 * intervals.back().configured_canary_share),
               "% of traffic")};
      return out;
    }
  }
  double observed = 0, configured = 0;
  out.routing_checked = check_routing;
  if (check_routing && stats::RoutingMismatch(intervals, kRoutingTolerance,
                                              alpha * stats::kRoutingShare,
                                              &observed, &configured)) {
    // A routing fault is not evidence that the canary is bad: hold the
    // rollout for a person (Inconclusive pauses), never roll back.
    v = {MeasurementPhase::kInconclusive,
         {observed},
         absl::StrFormat(
             "routing mismatch: the canary gets %.1f%% of requests but the "
             "VirtualService sets %.1f%%; paused until routing is fixed (the "
             "comparison is not trusted)",
             100 * observed, 100 * configured)};
    return out;
  }
  const stats::Evidence e =
      stats::Evaluate(intervals, margin, alpha, max_burst);
  const double seconds =
      covered > absl::ZeroDuration()
          ? absl::ToDoubleSeconds(covered)
          : absl::ToDoubleSeconds(step) * static_cast<double>(intervals.size());
  const double baseline_rate =
      e.baseline_events / std::max(e.baseline_requests, 1.0);
  const double needed =
      baseline_rate > 0
          ? stats::MinimumDetectionSeconds(
                e.baseline_requests / seconds, e.canary_requests / seconds,
                baseline_rate, 2 * baseline_rate, alpha, 0.1)
          : std::nan("");
  std::string preflight =
      std::isnan(needed)
          ? "no baseline events yet: detection time unknown"
          : absl::StrCat("at ",
                         absl::StrFormat("%.3g", e.canary_requests / seconds),
                         " req/s a 2x regression needs >= ", Seconds(needed),
                         " to show");
  // The bound counts independent events; this test weighs each as
  // 1/maxBurst of one where intervals are busy, so it needs up to about
  // maxBurst times as long; less where they are sparse (docs/STATISTICS.md,
  // "Power").
  if (!std::isnan(needed) && e.max_burst > 1) {
    absl::StrAppend(&preflight, " (this test, at maxBurst ",
                    absl::StrFormat("%g", e.max_burst), ": up to about ",
                    Seconds(needed * e.max_burst), ")");
  }
  if (!std::isnan(needed) && planned > absl::ZeroDuration() &&
      needed > absl::ToDoubleSeconds(planned)) {
    absl::StrAppend(&preflight, " (longer than the plan's ",
                    absl::FormatDuration(planned),
                    " of timed pauses: too little traffic to judge in time)");
  }
  const std::string evidence = absl::StrFormat(
      "canary %s (%.0f/%.0f req) vs baseline %s (%.0f/%.0f); rate ratio %.3g, "
      "anytime %.3g%% "
      "interval [%.3g, %.3g]; e-value worse %.3g (threshold %.3g), not-worse "
      "%.3g (threshold %.3g); "
      "%s; %s",
      Percent(e.canary_events, e.canary_requests), e.canary_events,
      e.canary_requests, Percent(e.baseline_events, e.baseline_requests),
      e.baseline_events, e.baseline_requests, e.rate_ratio,
      100 * (1 - alpha * (stats::kRollbackShare + stats::kPromotionShare)),
      e.ratio_low, e.ratio_high, std::exp(e.log_e_worse),
      1 / (alpha * stats::kRollbackShare), std::exp(e.log_e_not_worse),
      1 / (alpha * stats::kPromotionShare), Assumptions(e, step), preflight);
  out.not_worse = e.not_worse;
  out.evidence = e;
  if (e.worse) {
    v = {MeasurementPhase::kFailed,
         {e.rate_ratio, e.ratio_low, e.ratio_high},
         absl::StrCat("canary worse than ", 1 + margin,
                      "x baseline: ", evidence)};
  } else {
    v = {MeasurementPhase::kSuccessful,
         {e.rate_ratio, e.ratio_low, e.ratio_high},
         absl::StrCat(e.not_worse ? "canary not worse (proven): "
                                  : "no regression shown yet: ",
                      evidence)};
  }
  return out;
}

}  // namespace smartcanary::analysis

#include "analysis/preflight.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace smartcanary::analysis {
namespace {

// The judge's information per second about r against r0 when the true
// ratio is `ratio`: events arrive at q (n_b + n_c r) per second and each
// tells, at best, kl(theta(r) || theta(r0)) nats about which arm it came
// from (Poisson thinning, stats::CanaryEventShare); the judge weighs each
// event as 1/max_burst of one (its burst inflation), so its information is
// that much smaller; except where the arm that rises under the alternative
// (the canary for a regression, the baseline for "not worse") expects few
// events an interval, where its switched process's linear factor may
// gather more (stats::LinearBetGrowth, at the exact alternative).
double InformationRate(const PreflightInput& in, double share, double ratio) {
  const double canary = in.requests_per_second * share,
               baseline = in.requests_per_second * (1 - share);
  if (canary <= 0 || baseline <= 0 || in.error_rate <= 0) return 0;
  const double ratio0 = 1 + in.margin;
  const double theta = stats::CanaryEventShare(ratio, baseline, canary);
  const double theta0 = stats::CanaryEventShare(ratio0, baseline, canary);
  const double events = in.error_rate * (baseline + canary * ratio);
  const double chord =
      events * stats::BernoulliKl(theta, theta0) / in.max_burst;
  const bool worse = ratio > ratio0;
  const double seconds = absl::ToDoubleSeconds(in.interval);
  const double canary_mean = in.error_rate * canary * ratio * seconds,
               baseline_mean = in.error_rate * baseline * seconds;
  const double rising_mean = worse ? canary_mean : baseline_mean;
  if (in.max_burst <= 1 || rising_mean > stats::kLinearMaxExpectedEvents)
    return chord;
  const double linear =
      (worse ? stats::LinearBetGrowth(theta0, theta, in.max_burst, canary_mean,
                                      baseline_mean)
             : stats::LinearBetGrowth(1 - theta0, 1 - theta, in.max_burst,
                                      baseline_mean, canary_mean)) /
      seconds;
  return std::max(chord, linear);
}

// When the information gathered along the plan first reaches `needed`.
absl::Duration TimeToGather(const PreflightInput& in, double ratio,
                            double needed) {
  double seconds = 0;
  for (const PreflightStep& step : in.plan) {
    const double rate = InformationRate(in, step.canary_share, ratio);
    const bool forever = step.duration == absl::InfiniteDuration();
    const double length = forever ? 0 : absl::ToDoubleSeconds(step.duration);
    if (rate > 0 && (forever || rate * length >= needed))
      return absl::Seconds(seconds + needed / rate);
    if (forever) break;
    needed -= rate * length;
    seconds += length;
  }
  return absl::InfiniteDuration();
}

// "`done` in >= 6m41s", or "`not_done` within the plan" when the plan ends
// first.
std::string Within(absl::Duration d, const char* done, const char* not_done) {
  if (d == absl::InfiniteDuration())
    return absl::StrCat(not_done, " within the plan");
  return absl::StrCat(
      done, " in >= ",
      absl::FormatDuration(absl::Seconds(std::ceil(absl::ToDoubleSeconds(d)))));
}

}  // namespace

absl::StatusOr<PreflightResult> Preflight(const PreflightInput& in) {
  auto bad = [](const std::string& field, const std::string& what) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": ", what));
  };
  if (!(in.requests_per_second >= 0 && std::isfinite(in.requests_per_second)))
    return bad("requests_per_second", "must be finite and >= 0");
  if (!(in.error_rate >= 0 && in.error_rate <= 1))
    return bad("error_rate", "must be a fraction in [0, 1]");
  if (!(in.margin >= 0 && std::isfinite(in.margin)))
    return bad("margin", "must be finite and >= 0");
  if (!(in.alpha > 0 && in.alpha < 1)) return bad("alpha", "must be in (0, 1)");
  if (!(in.max_burst >= 1 && std::isfinite(in.max_burst)))
    return bad("max_burst", "must be finite and >= 1");
  if (!(in.beta > 0 && in.beta < 1)) return bad("beta", "must be in (0, 1)");
  if (!(in.interval > absl::ZeroDuration() &&
        in.interval < absl::InfiniteDuration()))
    return bad("interval", "must be positive and finite");
  PreflightResult out;
  for (size_t i = 0; i < in.plan.size(); ++i) {
    const PreflightStep& step = in.plan[i];
    if (!(step.canary_share >= 0 && step.canary_share <= 1))
      return bad(absl::StrCat("plan[", i, "].canary_share"),
                 "must be a fraction in [0, 1]");
    if (step.duration < absl::ZeroDuration())
      return bad(absl::StrCat("plan[", i, "].duration"), "must be >= 0");
    out.plan_length += step.duration;
  }
  // kl(1-beta || a) nats give power 1-beta at level a (STATISTICS.md,
  // "Guards"): a lower bound any test, this judge included, needs.
  const double to_roll_back =
      stats::BernoulliKl(1 - in.beta, in.alpha * stats::kRollbackShare);
  const double to_promote =
      stats::BernoulliKl(1 - in.beta, in.alpha * stats::kPromotionShare);
  // A 2x regression within the margin is no regression to this judge.
  out.regression_detected = 2 > 1 + in.margin
                                ? TimeToGather(in, 2, to_roll_back)
                                : absl::InfiniteDuration();
  out.not_worse_proven = in.margin > 0 ? TimeToGather(in, 1, to_promote)
                                       : absl::InfiniteDuration();
  out.regression_within_plan =
      out.regression_detected != absl::InfiniteDuration();
  out.not_worse_within_plan = out.not_worse_proven != absl::InfiniteDuration();
  out.message = absl::StrFormat(
      "at %.3g req/s and %.3g%% errors (margin %g, alpha %g, maxBurst %g): a "
      "2x regression %s, an equal canary is %s; the plan lasts %s",
      in.requests_per_second, 100 * in.error_rate, in.margin, in.alpha,
      in.max_burst, Within(out.regression_detected, "shows", "does not show"),
      Within(out.not_worse_proven, "proven not worse", "not proven not worse"),
      out.plan_length == absl::InfiniteDuration()
          ? "until someone promotes it"
          : absl::FormatDuration(absl::Seconds(
                std::ceil(absl::ToDoubleSeconds(out.plan_length)))));
  if (in.error_rate <= 0) {
    absl::StrAppend(&out.message,
                    "; the stable shows no errors, so nothing can show");
  } else if (!out.regression_within_plan) {
    absl::StrAppend(&out.message,
                    "; the plan ends before a 2x regression could show "
                    "(lengthen its pauses or raise its weights)");
  }
  return out;
}

}  // namespace smartcanary::analysis

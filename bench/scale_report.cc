#include "bench/scale_report.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace smartcanary::bench {
namespace {

constexpr double kAbortP99Target = 1.0;  // seconds, at 1,000 rollouts
constexpr double kPeakRssTargetMb = 100;
constexpr double kCoresTarget = 1.0;

std::string Spread(const std::vector<double>& values) {
  if (values.empty()) return "–";
  return absl::StrFormat("p50 %.3f / p99 %.3f / max %.3f (n=%d)",
                         Percentile(values, 0.5), Percentile(values, 0.99),
                         *std::max_element(values.begin(), values.end()),
                         static_cast<int>(values.size()));
}

double Cores(const ScaleResult& r) {
  return r.wall > 0 ? r.usage.cpu_seconds / r.wall : 0;
}

std::string Row(const std::string& label,
                const std::vector<ScaleResult>& results,
                const std::function<std::string(const ScaleResult&)>& cell) {
  std::vector<std::string> cells = {label};
  for (const ScaleResult& r : results) cells.push_back(cell(r));
  return absl::StrCat("| ", absl::StrJoin(cells, " | "), " |\n");
}

// Rows about the kill -9 and restart of canaryd, for the runs that did it.
std::string Restart(const std::vector<ScaleResult>& results) {
  if (std::none_of(results.begin(), results.end(),
                   [](const ScaleResult& r) { return r.restart.ran; })) {
    return "";
  }
  auto cell = [](const std::function<std::string(const RestartResult&)>& f) {
    return [f](const ScaleResult& r) {
      return r.restart.ran ? f(r.restart) : std::string("–");
    };
  };
  std::string out;
  out += Row("6. restart (kill -9): fresh canaryd → /readyz; → reconciles ≥ N",
             results, cell([](const RestartResult& r) {
               return absl::StrFormat("%.1f s; %.1f s", r.ready, r.settled);
             }));
  out +=
      Row("6. Abort → watch sees 100/0, one at a time right after the "
          "restart (s)",
          results, cell([](const RestartResult& r) {
            std::string spread = Spread(r.aborts);
            if (!r.abort_errors.empty())
              absl::StrAppend(&spread, "; ", r.abort_errors.size(),
                              " failed: ", r.abort_errors.front());
            return spread;
          }));
  out += Row("6. fresh canaryd until settled and aborts done: peak RSS; CPU",
             results, cell([](const RestartResult& r) {
               return absl::StrFormat("%.1f MB; %.1f s in %.1f s",
                                      r.usage.peak_rss_mb, r.usage.cpu_seconds,
                                      r.wall);
             }));
  out += Row("6. API requests by the fresh canaryd in that time", results,
             [](const ScaleResult& r) {
               if (!r.restart.ran) return std::string("–");
               return absl::StrFormat("%.0f (%.2f per rollout)",
                                      r.restart.requests.Total(),
                                      r.restart.requests.Total() / r.rollouts);
             });
  out +=
      Row("6. rollouts with a `canaryd_canary_weight` series: before the "
          "kill / after the restart",
          results, [](const ScaleResult& r) {
            if (!r.restart.ran) return std::string("–");
            return absl::StrCat(r.restart.weight_series_before, " / ",
                                r.restart.weight_series_after, " (of ",
                                r.rollouts, ")");
          });
  return out;
}

std::string Verdict(bool met) { return met ? "**met**" : "**missed**"; }

std::string Targets(const std::vector<ScaleResult>& results) {
  std::string out =
      "| target | rollouts | measured | verdict |\n|---|---|---|---|\n";
  for (const ScaleResult& r : results) {
    if (r.rollouts < 1000) continue;
    for (const auto& [what, values] :
         {std::pair<const char*, const std::vector<double>*>{
              "abort → VirtualService 100/0, one at a time",
              &r.abort_one_at_a_time},
          {"abort → VirtualService 100/0, one at a time during the ramp",
           &r.abort_during_ramp},
          {"abort → VirtualService 100/0, right after a restart",
           &r.restart.aborts},
          {"abort → VirtualService 100/0, burst", &r.abort_burst}}) {
      const double p99 = Percentile(*values, 0.99);
      absl::StrAppendFormat(
          &out,
          "| %s: p99 < %.0f s with %d%% of rollouts' analysis hanging | %d | "
          "p99 %.3f s | %s |\n",
          what, kAbortP99Target, r.hanging * 100 / r.rollouts, r.rollouts, p99,
          Verdict(!values->empty() && p99 < kAbortP99Target &&
                  r.abort_errors.empty() && r.restart.abort_errors.empty()));
    }
  }
  for (const ScaleResult& r : results) {
    absl::StrAppendFormat(
        &out, "| canaryd peak RSS < %.0f MB | %d | %.1f MB | %s |\n",
        kPeakRssTargetMb, r.rollouts, r.usage.peak_rss_mb,
        Verdict(r.usage.peak_rss_mb < kPeakRssTargetMb));
  }
  for (const ScaleResult& r : results) {
    absl::StrAppendFormat(
        &out, "| canaryd average CPU < %.0f core | %d | %.3f cores | %s |\n",
        kCoresTarget, r.rollouts, Cores(r), Verdict(Cores(r) < kCoresTarget));
  }
  return out;
}

// Two columns per run: the ramp to 20% alone, and the whole run.
std::string RequestsPerStep(const std::vector<ScaleResult>& results) {
  std::set<std::string> keys;
  for (const ScaleResult& r : results)
    for (const auto& [key, count] : r.requests.by_request) keys.insert(key);
  std::string out = "| request |";
  std::string rule = "|---|";
  for (const ScaleResult& r : results) {
    absl::StrAppend(&out, " ", r.rollouts, ": ramp | ", r.rollouts,
                    ": whole run |");
    absl::StrAppend(&rule, "---|---|");
  }
  out += "\n" + rule + "\n";
  auto per_step = [](const RequestCounts& counts, const std::string& key,
                     int steps) {
    double count = counts.Total();
    if (!key.empty()) {
      auto it = counts.by_request.find(key);
      count = it == counts.by_request.end() ? 0 : it->second;
    }
    return steps > 0 ? absl::StrFormat("%.2f", count / steps)
                     : std::string("–");
  };
  auto row = [&](const std::string& label, const std::string& key) {
    std::vector<std::string> cells = {label};
    for (const ScaleResult& r : results) {
      cells.push_back(per_step(r.ramp_requests, key, r.ramp_steps));
      cells.push_back(per_step(r.requests, key, r.steps));
    }
    return absl::StrCat("| ", absl::StrJoin(cells, " | "), " |\n");
  };
  for (const std::string& key : keys)
    out += row(absl::StrCat("`", key, "`"), key);
  out += row("**all**", "");
  return out;
}

}  // namespace

double Percentile(std::vector<double> values, double p) {
  if (values.empty()) return std::numeric_limits<double>::quiet_NaN();
  std::sort(values.begin(), values.end());
  const size_t rank = static_cast<size_t>(std::ceil(p * values.size()));
  return values[std::clamp<size_t>(rank, 1, values.size()) - 1];
}

std::string RenderMarkdown(const std::vector<ScaleResult>& results) {
  std::string out = "| measured | ";
  std::vector<std::string> heads, rules = {"---"};
  for (const ScaleResult& r : results) {
    heads.push_back(absl::StrCat(r.rollouts, " rollouts"));
    rules.push_back("---");
  }
  absl::StrAppend(&out, absl::StrJoin(heads, " | "), " |\n|",
                  absl::StrJoin(rules, "|"), "|\n");
  auto seconds = [](double s) { return absl::StrFormat("%.1f s", s); };
  out += Row("rollouts: hanging analysis / failing at a deadline / plain",
             results, [](const ScaleResult& r) {
               return absl::StrCat(r.hanging, " / ", r.deadline, " / ",
                                   r.rollouts - r.hanging - r.deadline);
             });
  out += Row("5. all rollouts at 20% (first creation → last seen at 20)",
             results, [&](const ScaleResult& r) {
               return absl::StrCat(seconds(r.all_at_20), " (", r.reached_20,
                                   "/", r.rollouts, " reached)");
             });
  out += Row("one rollout: its creation → 20% (s)", results,
             [](const ScaleResult& r) { return Spread(r.each_to_20); });
  out += Row("1. Abort → watch sees 100/0, one at a time during the ramp (s)",
             results,
             [](const ScaleResult& r) { return Spread(r.abort_during_ramp); });
  out +=
      Row("1. Abort → watch sees 100/0, one at a time (s)", results,
          [](const ScaleResult& r) { return Spread(r.abort_one_at_a_time); });
  out += Row("Abort's gRPC reply, one at a time (s)", results,
             [](const ScaleResult& r) { return Spread(r.abort_reply); });
  out += Row("1. Abort → watch sees 100/0, all sent at once (s)", results,
             [](const ScaleResult& r) { return Spread(r.abort_burst); });
  out += Row(
      "control: the API server alone, same burst (2 GET + 2 PATCH "
      "per thread) (s)",
      results, [](const ScaleResult& r) { return Spread(r.control_burst); });
  out += Row("aborts that failed", results, [](const ScaleResult& r) {
    return r.abort_errors.empty() ? std::string("0")
                                  : absl::StrCat(r.abort_errors.size(), ": ",
                                                 r.abort_errors.front());
  });
  out += Row("hanging Prometheus queries held open (aborts begin / end)",
             results, [](const ScaleResult& r) {
               return absl::StrCat(r.hanging_queries_before, " / ",
                                   r.hanging_queries_after);
             });
  out += Row(
      "2. failing measurement's timestamp → watch sees 100/0 (s)", results,
      [](const ScaleResult& r) { return Spread(r.verdict_from_measurement); });
  out += Row("2. deadline T → watch sees 100/0 (s)", results,
             [](const ScaleResult& r) {
               std::string cell = Spread(r.verdict_from_deadline);
               if (r.verdict_missing > 0)
                 absl::StrAppend(&cell, "; ", r.verdict_missing, " never");
               return cell;
             });
  out += Row("3. canaryd peak RSS (VmHWM)", results, [](const ScaleResult& r) {
    return absl::StrFormat("%.1f MB", r.usage.peak_rss_mb);
  });
  out += Row("3. canaryd CPU (user+system) over its life", results,
             [&](const ScaleResult& r) {
               return absl::StrCat(absl::StrFormat("%.1f", r.usage.cpu_seconds),
                                   " s in ", seconds(r.wall));
             });
  out += Row("3. average cores", results, [](const ScaleResult& r) {
    return absl::StrFormat("%.3f", Cores(r));
  });
  out += Row("3. CPU seconds per rollout-minute", results,
             [](const ScaleResult& r) {
               return r.rollout_minutes > 0
                          ? absl::StrFormat(
                                "%.4f", r.usage.cpu_seconds / r.rollout_minutes)
                          : std::string("–");
             });
  out += Row("4. API requests by canaryd / rollout steps", results,
             [](const ScaleResult& r) {
               return absl::StrFormat(
                   "%.0f / %d = **%.2f per step**", r.requests.Total(), r.steps,
                   r.steps > 0 ? r.requests.Total() / r.steps : 0.0);
             });
  out += Row(
      "4. the same while ramping to 20% (2 steps per rollout)", results,
      [](const ScaleResult& r) {
        return absl::StrFormat(
            "%.0f / %d = **%.2f per step**", r.ramp_requests.Total(),
            r.ramp_steps,
            r.ramp_steps > 0 ? r.ramp_requests.Total() / r.ramp_steps : 0.0);
      });
  out += Row(
      "API answers other than 2xx (code request: count)", results,
      [](const ScaleResult& r) {
        std::vector<std::string> codes;
        for (const auto& [request, count] : r.requests.by_code) {
          if (!request.empty() && request[0] != '2')
            codes.push_back(absl::StrFormat("`%s`: %.0f", request, count));
        }
        return codes.empty() ? std::string("none") : absl::StrJoin(codes, ", ");
      });
  out += Row("canaryd reconciles / reconcile errors", results,
             [](const ScaleResult& r) {
               return absl::StrFormat("%.0f / %.0f", r.reconciles,
                                      r.reconcile_errors);
             });
  out += Restart(results);
  absl::StrAppend(&out, "\n### Targets\n\n", Targets(results),
                  "\n### API requests per rollout step, by verb and resource\n"
                  "\n",
                  RequestsPerStep(results));
  return out;
}

}  // namespace smartcanary::bench

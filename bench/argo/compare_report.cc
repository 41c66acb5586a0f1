#include "bench/argo/compare_report.h"

#include <functional>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "bench/scale_report.h"

namespace smartcanary::bench::argo {
namespace {

constexpr double kReactionAt1000Seconds = 1.0;
constexpr double kMemoryRatio = 0.2;  // at least 5x less peak memory

struct Metric {
  std::string label;
  std::function<std::optional<double>(const SideResult&)> value;
  // Met when ours / Argo's is at most this (and, at N = 1000, ours is under
  // `absolute_at_1000` when set).
  double max_ratio;
  std::optional<double> absolute_at_1000;
};

std::vector<Metric> Metrics() {
  return {
      {"abort → stable 100, p50",
       [](const SideResult& s) { return PercentileOf(s.abort_seconds, 0.5); },
       1.0, std::nullopt},
      {"abort → stable 100, p99",
       [](const SideResult& s) { return PercentileOf(s.abort_seconds, 0.99); },
       1.0, kReactionAt1000Seconds},
      {"failed measurement → stable 100, p50",
       [](const SideResult& s) { return PercentileOf(s.failure_seconds, 0.5); },
       1.0, std::nullopt},
      {"failed measurement → stable 100, p99",
       [](const SideResult& s) {
         return PercentileOf(s.failure_seconds, 0.99);
       },
       1.0, kReactionAt1000Seconds},
      {"peak RSS (MB)",
       [](const SideResult& s) { return std::optional(s.peak_rss_mb); },
       kMemoryRatio, std::nullopt},
      {"peak anonymous memory (MB; RssAnon, sampled)",
       [](const SideResult& s) { return std::optional(s.peak_anon_mb); },
       kMemoryRatio, std::nullopt},
      {"CPU seconds in the window",
       [](const SideResult& s) { return std::optional(s.cpu_seconds); }, 1.0,
       std::nullopt},
      {"API requests per rollout step", RequestsPerStep, 1.0, std::nullopt},
  };
}

std::string Verdict(const Metric& metric, const ComparePair& pair) {
  const auto ours = metric.value(pair.ours);
  const auto ratio = Ratio(ours, metric.value(pair.argo));
  if (!ratio) return "–";
  bool met = *ratio <= metric.max_ratio;
  if (metric.absolute_at_1000 && pair.ours.rollouts >= 1000)
    met = met && *ours < *metric.absolute_at_1000;
  return met ? "met" : "**missed**";
}

}  // namespace

RequestCounts ControllerRequests(const RequestCounts& counts) {
  RequestCounts out;
  for (const auto& [request, count] : counts.by_request)
    if (!absl::EndsWith(request, "replicasets/status"))
      out.by_request[request] = count;
  for (const auto& [code, count] : counts.by_code)
    if (!absl::EndsWith(code, "replicasets/status")) out.by_code[code] = count;
  return out;
}

std::optional<double> Ratio(std::optional<double> ours,
                            std::optional<double> theirs) {
  if (!ours || !theirs || *theirs == 0) return std::nullopt;
  return *ours / *theirs;
}

std::optional<double> PercentileOf(const std::vector<double>& values,
                                   double p) {
  if (values.empty()) return std::nullopt;
  return Percentile(values, p);
}

std::optional<double> RequestsPerStep(const SideResult& side) {
  if (side.steps <= 0) return std::nullopt;
  return side.requests.Total() / side.steps;
}

std::string RenderComparison(const std::vector<ComparePair>& pairs) {
  std::string out =
      "### Ratios: ours / Argo Rollouts' (below 1: ours is less)\n\n";
  out += "| measure | target |";
  std::string rule = "|---|---|";
  for (const ComparePair& pair : pairs) {
    absl::StrAppend(&out, " N = ", pair.ours.rollouts, " |");
    rule += "---|";
  }
  absl::StrAppend(&out, "\n", rule, "\n");
  for (const Metric& metric : Metrics()) {
    const std::string target =
        metric.max_ratio < 1
            ? absl::StrFormat("≤ %.1f", metric.max_ratio)
            : (metric.absolute_at_1000 ? "≤ 1, and < 1 s at N = 1000" : "≤ 1");
    absl::StrAppend(&out, "| ", metric.label, " | ", target, " |");
    for (const ComparePair& pair : pairs) {
      const auto ratio =
          Ratio(metric.value(pair.ours), metric.value(pair.argo));
      absl::StrAppend(&out, " ", ratio ? absl::StrFormat("%.2f", *ratio) : "–",
                      " (", Verdict(metric, pair), ") |");
    }
    out += "\n";
  }

  out += "\n### Raw figures (canaryd / Argo Rollouts)\n\n| measure |";
  rule = "|---|";
  for (const ComparePair& pair : pairs) {
    absl::StrAppend(&out, " N = ", pair.ours.rollouts, " |");
    rule += "---|";
  }
  absl::StrAppend(&out, "\n", rule, "\n");
  auto row = [&](const std::string& label,
                 const std::function<std::string(const SideResult&)>& cell) {
    absl::StrAppend(&out, "| ", label, " |");
    for (const ComparePair& pair : pairs)
      absl::StrAppend(&out, " ", cell(pair.ours), " / ", cell(pair.argo), " |");
    out += "\n";
  };
  for (const Metric& metric : Metrics()) {
    row(metric.label, [&](const SideResult& s) {
      const auto value = metric.value(s);
      return value ? absl::StrFormat("%.3f", *value) : std::string("–");
    });
  }
  row("samples: aborts, failed analyses, lost", [](const SideResult& s) {
    return absl::StrFormat("%d, %d, %d", s.abort_seconds.size(),
                           s.failure_seconds.size(), s.failed_samples);
  });
  row("plan steps executed",
      [](const SideResult& s) { return absl::StrCat(s.steps); });
  row("API requests", [](const SideResult& s) {
    return absl::StrFormat("%.0f", s.requests.Total());
  });
  row("measured window (s)", [](const SideResult& s) {
    return absl::StrFormat("%.1f", s.wall_seconds);
  });

  out +=
      "\n### API requests by verb and resource (canaryd / Argo Rollouts)\n\n";
  out += "| request |";
  rule = "|---|";
  std::set<std::string> keys;
  for (const ComparePair& pair : pairs) {
    absl::StrAppend(&out, " N = ", pair.ours.rollouts, " |");
    rule += "---|";
    for (const auto& [key, count] : pair.ours.requests.by_request)
      keys.insert(key);
    for (const auto& [key, count] : pair.argo.requests.by_request)
      keys.insert(key);
  }
  absl::StrAppend(&out, "\n", rule, "\n");
  for (const std::string& key : keys) {
    row(key, [&](const SideResult& s) {
      auto it = s.requests.by_request.find(key);
      return it == s.requests.by_request.end()
                 ? std::string("0")
                 : absl::StrFormat("%.0f", it->second);
    });
  }
  return out;
}

}  // namespace smartcanary::bench::argo

#include "cli/backtest_request.h"

#include <cmath>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "cli/backtest_csv.h"
#include "google/protobuf/util/time_util.h"

namespace smartcanary::cli {
namespace {

using google::protobuf::util::TimeUtil;

absl::Status FlagError(const std::string& flag, const std::string& what) {
  return absl::InvalidArgumentError(absl::StrCat(flag, ": ", what));
}

std::string Flag(const Args& args, const std::string& name) {
  auto it = args.backtest.find(name);
  return it == args.backtest.end() ? "" : it->second;
}

// RFC 3339 (2026-11-27T10:00:00Z) or Unix seconds.
absl::StatusOr<absl::Time> ParseInstant(const std::string& flag,
                                        const std::string& text) {
  absl::Time t;
  int64_t seconds = 0;
  if (absl::SimpleAtoi(text, &seconds)) return absl::FromUnixSeconds(seconds);
  std::string error;
  if (absl::ParseTime(absl::RFC3339_full, text, &t, &error)) return t;
  return FlagError(flag,
                   absl::StrCat("\"", text,
                                "\" is neither RFC 3339 "
                                "(2026-11-27T10:00:00Z) nor Unix seconds"));
}

// A number flag, when given, into `out`.
absl::Status Number(const Args& args, const std::string& flag, double* out,
                    bool* given = nullptr) {
  const std::string text = Flag(args, flag);
  if (given != nullptr) *given = !text.empty();
  if (text.empty()) return absl::OkStatus();
  if (!absl::SimpleAtod(text, out) || !std::isfinite(*out))
    return FlagError(flag, absl::StrCat("\"", text, "\" is not a number"));
  return absl::OkStatus();
}

absl::Status Labels(const Args& args, const std::string& flag,
                    google::protobuf::Map<std::string, std::string>* out) {
  const std::string text = Flag(args, flag);
  if (text.empty()) return FlagError(flag, "is required (e.g. version=v2)");
  for (absl::string_view pair : absl::StrSplit(text, ',')) {
    std::pair<std::string, std::string> kv = absl::StrSplit(pair, '=');
    if (kv.first.empty() || kv.second.empty())
      return FlagError(flag, absl::StrCat("\"", pair, "\" is not LABEL=VALUE"));
    (*out)[kv.first] = kv.second;
  }
  return absl::OkStatus();
}

// "20" (constant from --start) or "TIME=WEIGHT,TIME=WEIGHT".
absl::Status Weights(const Args& args, absl::Time start,
                     v1::BacktestRange* range) {
  const std::string text = Flag(args, "--weights");
  if (text.empty())
    return FlagError("--weights",
                     "is required: the canary's weight, e.g. 20, or "
                     "TIME=WEIGHT,TIME=WEIGHT as it changed");
  auto weight_of = [](absl::string_view w) -> absl::StatusOr<int> {
    int weight = 0;
    if (!absl::SimpleAtoi(w, &weight) || weight < 0 || weight > 100)
      return FlagError("--weights",
                       absl::StrCat("\"", w, "\" is not a weight in 0..100"));
    return weight;
  };
  if (text.find('=') == std::string::npos) {
    auto weight = weight_of(text);
    if (!weight.ok()) return weight.status();
    v1::WeightChange* change = range->add_weight_timeline();
    *change->mutable_at() =
        TimeUtil::MillisecondsToTimestamp(absl::ToUnixMillis(start));
    change->set_canary_weight(*weight);
    return absl::OkStatus();
  }
  for (absl::string_view pair : absl::StrSplit(text, ',')) {
    std::pair<std::string, std::string> kv = absl::StrSplit(pair, '=');
    auto at = ParseInstant("--weights", kv.first);
    if (!at.ok()) return at.status();
    auto weight = weight_of(kv.second);
    if (!weight.ok()) return weight.status();
    v1::WeightChange* change = range->add_weight_timeline();
    *change->mutable_at() =
        TimeUtil::MillisecondsToTimestamp(absl::ToUnixMillis(*at));
    change->set_canary_weight(*weight);
  }
  return absl::OkStatus();
}

absl::Status Provider(const Args& args, v1::ComparativeProvider* provider) {
  provider->mutable_prometheus()->set_address(Flag(args, "--prometheus"));
  const std::string step = Flag(args, "--step");
  if (!step.empty()) {
    absl::Duration d;
    if (!absl::ParseDuration(step, &d) || d < absl::Seconds(1) ||
        d != absl::Seconds(absl::ToInt64Seconds(d)))
      return FlagError("--step", "must be whole seconds such as 5s or 1m");
    provider->set_resolution_seconds(
        static_cast<int32_t>(absl::ToInt64Seconds(d)));
  }
  const std::string custom[] = {"--canary-events", "--canary-requests",
                                "--baseline-events", "--baseline-requests"};
  int given = 0;
  for (const std::string& flag : custom) given += !Flag(args, flag).empty();
  if (given > 0) {
    if (given < 4)
      return FlagError("--canary-events",
                       "give all four counter queries (--canary-events, "
                       "--canary-requests, --baseline-events, "
                       "--baseline-requests) or none");
    provider->set_canary_events(Flag(args, custom[0]));
    provider->set_canary_requests(Flag(args, custom[1]));
    provider->set_baseline_events(Flag(args, custom[2]));
    provider->set_baseline_requests(Flag(args, custom[3]));
    return absl::OkStatus();
  }
  v1::IstioPreset* istio = provider->mutable_istio();
  istio->set_service(Flag(args, "--service"));
  if (istio->service().empty())
    return FlagError("--service",
                     "is required with the Istio preset (or give the four "
                     "counter queries)");
  if (auto s = Labels(args, "--canary", istio->mutable_canary()); !s.ok())
    return s;
  if (auto s = Labels(args, "--baseline", istio->mutable_baseline()); !s.ok())
    return s;
  const std::string event =
      Flag(args, "--event").empty() ? "grpc-errors" : Flag(args, "--event");
  if (event != "grpc-errors" && event != "http-5xx" && event != "slower-than")
    return FlagError("--event", absl::StrCat("\"", event,
                                             "\" is not grpc-errors, "
                                             "http-5xx or slower-than"));
  istio->set_event(event);
  double objective = 0;
  bool objective_given = false;
  if (auto s =
          Number(args, "--latency-objective-ms", &objective, &objective_given);
      !s.ok())
    return s;
  if (event == "slower-than" && !(objective > 0))
    return FlagError("--latency-objective-ms",
                     "is required (> 0) with --event slower-than");
  istio->set_latency_objective_ms(objective);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<v1::BacktestRequest> BuildBacktestRequest(
    const Args& args, const std::string& csv_text, absl::Time now) {
  v1::BacktestRequest request;
  double value = 0;
  bool given = false;
  for (const char* flag : {"--alpha", "--margin", "--max-burst"}) {
    if (auto s = Number(args, flag, &value, &given); !s.ok()) return s;
    if (!given) continue;
    if (std::string(flag) == "--alpha") request.set_alpha(value);
    if (std::string(flag) == "--margin") request.set_margin(value);
    if (std::string(flag) == "--max-burst") request.set_max_burst(value);
  }
  if (auto s = Number(args, "--judge-every", &value, &given); !s.ok()) return s;
  if (given) {
    if (value < 1 || value != std::floor(value) || value > 1e6)
      return FlagError("--judge-every", "must be a whole number >= 1");
    request.set_judge_every(static_cast<int32_t>(value));
  }
  const std::string planned = Flag(args, "--planned-pauses");
  if (!planned.empty()) {
    absl::Duration d;
    if (!absl::ParseDuration(planned, &d) || d < absl::ZeroDuration())
      return FlagError("--planned-pauses", "must be a duration such as 15m");
    request.set_planned_pause_seconds(absl::ToInt64Seconds(d));
  }
  if (args.csv) {
    if (!Flag(args, "--prometheus").empty())
      return FlagError("--csv",
                       "reads counts from standard input: drop "
                       "--prometheus (or --csv)");
    auto counts = ParseBacktestCsv(csv_text);
    if (!counts.ok()) return counts.status();
    *request.mutable_counts() = *std::move(counts);
    return request;
  }
  if (Flag(args, "--prometheus").empty())
    return FlagError("--prometheus",
                     "is required (or --csv to read counts from standard "
                     "input)");
  v1::BacktestRange* range = request.mutable_range();
  if (Flag(args, "--start").empty())
    return FlagError("--start", "is required (RFC 3339 or Unix seconds)");
  auto start = ParseInstant("--start", Flag(args, "--start"));
  if (!start.ok()) return start.status();
  absl::Time end = now;
  if (!Flag(args, "--end").empty()) {
    auto parsed = ParseInstant("--end", Flag(args, "--end"));
    if (!parsed.ok()) return parsed.status();
    end = *parsed;
  }
  if (end <= *start) return FlagError("--end", "must be after --start");
  *range->mutable_start() =
      TimeUtil::MillisecondsToTimestamp(absl::ToUnixMillis(*start));
  *range->mutable_end() =
      TimeUtil::MillisecondsToTimestamp(absl::ToUnixMillis(end));
  if (auto s = Weights(args, *start, range); !s.ok()) return s;
  if (auto s = Provider(args, range->mutable_provider()); !s.ok()) return s;
  return request;
}

}  // namespace smartcanary::cli

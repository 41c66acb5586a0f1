#include "controller/analysis/analysis_run.h"

#include <algorithm>
#include <cmath>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace smartcanary {
namespace {

using nlohmann::json;

const MetricSpec* FindSpec(const std::vector<MetricSpec>& specs,
                           const std::string& name) {
  for (const MetricSpec& spec : specs) {
    if (spec.name == name) return &spec;
  }
  return nullptr;
}

RunPhase MetricPhase(const MetricSpec& spec, const MetricRun& run) {
  if (run.failed > spec.failure_limit) return RunPhase::kFailed;
  if (run.consecutive_errors > spec.consecutive_error_limit)
    return RunPhase::kError;
  if (run.inconclusive > spec.inconclusive_limit)
    return RunPhase::kInconclusive;
  // Errors say nothing about the canary, so they never complete a metric:
  // an analyzer that is down cannot let a rollout advance.
  const int planned = spec.planned_measurements();
  const int judged = run.successful + run.failed + run.inconclusive;
  if (planned > 0 && judged >= planned) {
    // Failures within failureLimit are already accounted for; the latest
    // verdict decides between success and no evidence.
    for (auto it = run.recent.rbegin(); it != run.recent.rend(); ++it) {
      if (it->phase == MeasurementPhase::kError || it->pending) continue;
      return it->phase == MeasurementPhase::kInconclusive
                 ? RunPhase::kInconclusive
                 : RunPhase::kSuccessful;
    }
  }
  return RunPhase::kRunning;
}

std::string Why(const MetricSpec& spec, const MetricRun& run) {
  const std::string last =
      run.recent.empty() ? "" : ": " + run.recent.back().message;
  switch (run.phase) {
    case RunPhase::kFailed:
      return absl::StrCat("metric \"", run.name, "\" failed (", run.failed,
                          " failed > failureLimit ", spec.failure_limit, ")",
                          last);
    case RunPhase::kError:
      return absl::StrCat("metric \"", run.name, "\" errored (",
                          run.consecutive_errors,
                          " consecutive errors > consecutiveErrorLimit ",
                          spec.consecutive_error_limit, ")", last);
    case RunPhase::kInconclusive:
      return absl::StrCat("metric \"", run.name, "\" inconclusive (",
                          run.inconclusive,
                          " inconclusive > inconclusiveLimit ",
                          spec.inconclusive_limit, ")", last);
    default:
      return "";
  }
}

const char* MeasurementName(MeasurementPhase phase) {
  return analysis::MeasurementPhaseName(phase);
}

std::optional<MeasurementPhase> MeasurementFromName(const std::string& name) {
  for (MeasurementPhase phase :
       {MeasurementPhase::kSuccessful, MeasurementPhase::kFailed,
        MeasurementPhase::kInconclusive, MeasurementPhase::kError}) {
    if (name == MeasurementName(phase)) return phase;
  }
  return std::nullopt;
}

std::optional<RunPhase> RunPhaseFromName(const std::string& name) {
  for (RunPhase phase :
       {RunPhase::kRunning, RunPhase::kSuccessful, RunPhase::kFailed,
        RunPhase::kInconclusive, RunPhase::kError}) {
    if (name == RunPhaseName(phase)) return phase;
  }
  return std::nullopt;
}

std::string TimeText(absl::Time t) {
  return absl::FormatTime(absl::RFC3339_full, t, absl::UTCTimeZone());
}

bool Measuring(RunPhase phase) {
  return phase == RunPhase::kRunning || phase == RunPhase::kInconclusive ||
         phase == RunPhase::kError;
}

absl::StatusOr<absl::Time> TimeFrom(const json& value) {
  absl::Time t;
  std::string error;
  if (!value.is_string() ||
      !absl::ParseTime(absl::RFC3339_full, value.get<std::string>(), &t,
                       &error)) {
    return absl::InvalidArgumentError("analysis run: bad time " + value.dump());
  }
  return t;
}

// JSON has no NaN or Inf; they travel as strings.
json ValueToJson(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  return v;
}

double ValueFromJson(const json& v) {
  if (v.is_number()) return v.get<double>();
  const std::string text = v.is_string() ? v.get<std::string>() : "";
  if (text == "+Inf") return INFINITY;
  if (text == "-Inf") return -INFINITY;
  return std::nan("");
}

}  // namespace

bool MeasurementRecord::operator==(const MeasurementRecord& other) const {
  return phase == other.phase && message == other.message && at == other.at &&
         not_worse == other.not_worse && no_data == other.no_data &&
         pending == other.pending &&
         std::equal(values.begin(), values.end(), other.values.begin(),
                    other.values.end(), [](double a, double b) {
                      return a == b || (std::isnan(a) && std::isnan(b));
                    });
}

const char* RunPhaseName(RunPhase phase) {
  switch (phase) {
    case RunPhase::kRunning:
      return "Running";
    case RunPhase::kSuccessful:
      return "Successful";
    case RunPhase::kFailed:
      return "Failed";
    case RunPhase::kInconclusive:
      return "Inconclusive";
    case RunPhase::kError:
      return "Error";
  }
  return "Running";
}

std::string MetricLabel(const MetricRun& run) {
  return run.dry_run ? run.name + " (dry-run)" : run.name;
}

const char* RecordPhaseName(const MeasurementRecord& record) {
  return record.pending ? "Pending" : MeasurementName(record.phase);
}

AnalysisRun StartRun(int step_index, const std::vector<MetricSpec>& metrics,
                     absl::Time now) {
  AnalysisRun run;
  run.step_index = step_index;
  run.started_at = now;
  run.warm_up_from = now;
  for (const MetricSpec& spec : metrics) {
    MetricRun metric;
    metric.name = spec.name;
    metric.dry_run = spec.dry_run;
    run.metrics.push_back(metric);
  }
  run.message = "waiting for the first measurement";
  return run;
}

DueMeasurements Due(const std::vector<MetricSpec>& specs,
                    const AnalysisRun& run, absl::Time now) {
  DueMeasurements due;
  if (!Measuring(run.phase)) return due;
  for (const MetricRun& metric : run.metrics) {
    const MetricSpec* spec = FindSpec(specs, metric.name);
    if (spec == nullptr || !Measuring(metric.phase)) continue;
    absl::Time when;
    const bool pending = !metric.recent.empty() && metric.recent.back().pending;
    if (!metric.last_at) {
      when = run.started_at + spec->initial_delay;
    } else if (spec->interval > absl::ZeroDuration()) {
      when = *metric.last_at + spec->interval;
    } else if (!pending) {
      continue;
    } else {
      when = absl::InfiniteFuture();
    }
    // A pending measurement is no verdict: measure again once the warm-up
    // is over, without waiting out a longer interval.
    if (pending) when = std::min(when, run.warm_up_from + spec->WarmUp());
    if (when <= now) {
      due.metrics.push_back(metric.name);
    } else {
      due.next_in = std::min(due.next_in, when - now);
    }
  }
  return due;
}

AnalysisRun Record(const std::vector<MetricSpec>& specs, AnalysisRun run,
                   const std::string& metric,
                   const MeasurementRecord& measurement) {
  for (MetricRun& m : run.metrics) {
    if (m.name != metric) continue;
    const MetricSpec* spec = FindSpec(specs, metric);
    if (spec == nullptr) break;
    ++m.measured;
    m.last_at = measurement.at;
    MeasurementRecord record = measurement;
    const absl::Time warm_until = run.warm_up_from + spec->WarmUp();
    record.pending = measurement.no_data &&
                     measurement.phase == MeasurementPhase::kInconclusive &&
                     measurement.at < warm_until;
    if (record.pending) {
      record.message = absl::StrCat(
          "pending: warm-up until ", TimeText(warm_until), " (",
          absl::FormatDuration(spec->WarmUp()),
          " after the canary took traffic): ", measurement.message);
    }
    if (record.pending) {
      ++m.pending;
    } else {
      switch (measurement.phase) {
        case MeasurementPhase::kSuccessful:
          ++m.successful;
          break;
        case MeasurementPhase::kFailed:
          ++m.failed;
          break;
        case MeasurementPhase::kInconclusive:
          ++m.inconclusive;
          break;
        case MeasurementPhase::kError:
          ++m.errors;
          break;
      }
    }
    m.consecutive_errors = measurement.phase == MeasurementPhase::kError
                               ? m.consecutive_errors + 1
                               : 0;
    m.recent.push_back(record);
    if (m.recent.size() > kKeptMeasurements) m.recent.erase(m.recent.begin());
    m.phase = MetricPhase(*spec, m);
  }
  // The run's phase is its worst metric's; it succeeds when all have. A
  // dry-run metric only keeps the run Running until it is done.
  run.phase = RunPhase::kSuccessful;
  run.message = "all metrics successful";
  for (RunPhase worst : {RunPhase::kFailed, RunPhase::kError,
                         RunPhase::kInconclusive, RunPhase::kRunning}) {
    auto found = std::find_if(
        run.metrics.begin(), run.metrics.end(), [&](const MetricRun& m) {
          return m.phase == worst &&
                 (!m.dry_run || worst == RunPhase::kRunning);
        });
    if (found == run.metrics.end()) continue;
    run.phase = worst;
    const MetricSpec* spec = FindSpec(specs, found->name);
    run.message =
        worst == RunPhase::kRunning || spec == nullptr
            ? absl::StrCat("running: last ", MetricLabel(*found), ": ",
                           found->recent.empty() ? "not measured yet"
                                                 : found->recent.back().message)
            : Why(*spec, *found);
    break;
  }
  if (run.phase == RunPhase::kSuccessful) {
    // Shown, never acted on: what a dry-run metric would have done.
    for (const MetricRun& m : run.metrics) {
      if (m.dry_run && m.phase != RunPhase::kSuccessful) {
        absl::StrAppend(&run.message, "; ", MetricLabel(m), " ",
                        RunPhaseName(m.phase), " (✔", m.successful, " ✖",
                        m.failed, " ?", m.inconclusive, " ⚠", m.errors, ")");
      }
    }
  }
  return run;
}

AnalysisRun Conclude(AnalysisRun run) {
  if (run.phase != RunPhase::kRunning) return run;
  for (const MetricRun& m : run.metrics) {
    if (m.successful == 0 && !m.dry_run) {
      run.phase = RunPhase::kInconclusive;
      run.message =
          absl::StrCat("metric \"", m.name, "\" never measured a success (✔0 ✖",
                       m.failed, " ?", m.inconclusive, " ⚠", m.errors, ")");
      return run;
    }
  }
  run.phase = RunPhase::kSuccessful;
  run.message = "no metric failed while the rollout ran";
  return run;
}

json AnalysisRunToJson(const AnalysisRun& run) {
  json metrics = json::array();
  for (const MetricRun& m : run.metrics) {
    json recent = json::array();
    for (const MeasurementRecord& r : m.recent) {
      json values = json::array();
      for (double v : r.values) values.push_back(ValueToJson(v));
      json record = {{"phase", RecordPhaseName(r)},
                     {"values", values},
                     {"message", r.message},
                     {"at", TimeText(r.at)},
                     {"notWorse", r.not_worse}};
      if (r.no_data) record["noData"] = true;
      recent.push_back(record);
    }
    json item = {
        {"name", m.name},         {"phase", RunPhaseName(m.phase)},
        {"measured", m.measured}, {"successful", m.successful},
        {"failed", m.failed},     {"inconclusive", m.inconclusive},
        {"error", m.errors},      {"consecutiveError", m.consecutive_errors},
        {"pending", m.pending},   {"measurements", recent}};
    if (m.last_at) item["lastMeasuredAt"] = TimeText(*m.last_at);
    if (m.dry_run) item["dryRun"] = true;
    metrics.push_back(item);
  }
  return {{"stepIndex", run.step_index},
          {"startedAt", TimeText(run.started_at)},
          {"warmUpFrom", TimeText(run.warm_up_from)},
          {"phase", RunPhaseName(run.phase)},
          {"message", run.message},
          {"metrics", metrics}};
}

absl::StatusOr<AnalysisRun> AnalysisRunFromJson(const json& value) {
  AnalysisRun run;
  try {
    run.step_index = value.value("stepIndex", -1);
    auto started = TimeFrom(value["startedAt"]);
    if (!started.ok()) return started.status();
    run.started_at = *started;
    run.warm_up_from = *started;
    if (value.contains("warmUpFrom")) {
      auto from = TimeFrom(value["warmUpFrom"]);
      if (!from.ok()) return from.status();
      run.warm_up_from = *from;
    }
    run.phase =
        RunPhaseFromName(value.value("phase", "")).value_or(RunPhase::kRunning);
    run.message = value.value("message", "");
    for (const json& item : value.value("metrics", json::array())) {
      MetricRun m;
      m.name = item.value("name", "");
      m.phase = RunPhaseFromName(item.value("phase", ""))
                    .value_or(RunPhase::kRunning);
      m.measured = item.value("measured", 0);
      m.successful = item.value("successful", 0);
      m.failed = item.value("failed", 0);
      m.inconclusive = item.value("inconclusive", 0);
      m.errors = item.value("error", 0);
      m.consecutive_errors = item.value("consecutiveError", 0);
      m.pending = item.value("pending", 0);
      m.dry_run = item.value("dryRun", false);
      if (item.contains("lastMeasuredAt")) {
        auto last = TimeFrom(item["lastMeasuredAt"]);
        if (!last.ok()) return last.status();
        m.last_at = *last;
      }
      for (const json& r : item.value("measurements", json::array())) {
        MeasurementRecord record;
        const std::string phase = r.value("phase", "");
        record.pending = phase == "Pending";
        record.phase =
            record.pending
                ? MeasurementPhase::kInconclusive
                : MeasurementFromName(phase).value_or(MeasurementPhase::kError);
        record.no_data = r.value("noData", record.pending);
        for (const json& v : r.value("values", json::array()))
          record.values.push_back(ValueFromJson(v));
        record.message = r.value("message", "");
        record.not_worse = r.value("notWorse", false);
        auto at = TimeFrom(r["at"]);
        if (!at.ok()) return at.status();
        record.at = *at;
        m.recent.push_back(record);
      }
      run.metrics.push_back(m);
    }
  } catch (const json::exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat("status analysis run: ", e.what()));
  }
  return run;
}

}  // namespace smartcanary

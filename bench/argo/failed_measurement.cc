#include "bench/argo/failed_measurement.h"

#include <functional>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"

namespace smartcanary::bench::argo {

using nlohmann::json;

namespace {

// The object at `key`, or an empty one when missing or of another type.
json Object(const json& parent, const char* key) {
  if (!parent.is_object()) return json::object();
  auto it = parent.find(key);
  return it != parent.end() && it->is_object() ? *it : json::object();
}

json Array(const json& parent, const char* key) {
  if (!parent.is_object()) return json::array();
  auto it = parent.find(key);
  return it != parent.end() && it->is_array() ? *it : json::array();
}

// The earliest value(m) of the Failed measurements m in
// metrics[].measurements[].
std::optional<absl::Time> Earliest(
    const json& metrics,
    const std::function<std::optional<double>(const json&)>& value) {
  std::optional<double> first;
  for (const json& metric : metrics) {
    for (const json& m : Array(metric, "measurements")) {
      if (!m.is_object() || !m.contains("phase") || m["phase"] != "Failed")
        continue;
      const auto seconds = value(m);
      if (seconds && (!first || *seconds < *first)) first = seconds;
    }
  }
  if (!first) return std::nullopt;
  return absl::FromUnixMicros(static_cast<int64_t>(*first * 1e6));
}

}  // namespace

std::optional<absl::Time> OursFirstFailure(const json& rollout) {
  const json analysis = Object(Object(rollout, "status"), "backgroundAnalysis");
  return Earliest(Array(analysis, "metrics"),
                  [](const json& m) -> std::optional<double> {
                    const json values = Array(m, "values");
                    if (values.empty() || !values[0].is_number())
                      return std::nullopt;
                    return values[0].get<double>();
                  });
}

std::optional<absl::Time> ArgoFirstFailure(const json& run) {
  return Earliest(Array(Object(run, "status"), "metricResults"),
                  [](const json& m) -> std::optional<double> {
                    auto it = m.find("value");
                    if (it == m.end() || !it->is_string()) return std::nullopt;
                    absl::string_view text = it->get_ref<const std::string&>();
                    if (!absl::ConsumePrefix(&text, "[") ||
                        !absl::ConsumeSuffix(&text, "]")) {
                      return std::nullopt;
                    }
                    double seconds = 0;
                    if (!absl::SimpleAtod(text, &seconds)) return std::nullopt;
                    return seconds;
                  });
}

}  // namespace smartcanary::bench::argo

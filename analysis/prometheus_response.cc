#include "analysis/prometheus_response.h"

#include <cmath>
#include <cstdint>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"

namespace smartcanary::analysis {
namespace {

using nlohmann::json;

// Timestamps beyond this (year 5138) are not Prometheus': refusing them keeps
// the conversion to absl::Time free of overflow.
constexpr double kMaxUnixSeconds = 1e11;

absl::Status AnswerError(const std::string& path, absl::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat("Prometheus answer: ", path, ": ", what));
}

// The answer's `data` object, whose `resultType` must be one of `types`.
absl::StatusOr<json> DataOf(absl::string_view body,
                            std::initializer_list<absl::string_view> types,
                            absl::string_view hint) {
  if (NestingDepth(body) > kMaxResponseDepth) {
    return AnswerError("(body)", absl::StrCat("nests deeper than ",
                                              kMaxResponseDepth, " levels"));
  }
  json parsed = json::parse(body.begin(), body.end(), nullptr, false);
  if (parsed.is_discarded()) {
    return AnswerError("(body)",
                       absl::StrCat("is not JSON: \"", Snippet(body), "\""));
  }
  if (!parsed.is_object()) return AnswerError("(body)", "is not an object");
  auto data = parsed.find("data");
  if (data == parsed.end() || !data->is_object())
    return AnswerError("data", "is missing or not an object");
  auto type = data->find("resultType");
  if (type == data->end() || !type->is_string())
    return AnswerError("data.resultType", "is missing or not a string");
  const std::string& name = type->get_ref<const std::string&>();
  for (absl::string_view wanted : types) {
    if (name == wanted) return std::move(*data);
  }
  return absl::InvalidArgumentError(
      absl::StrCat("the query gives a ", Snippet(name, 20), "; ", hint));
}

// Prometheus encodes a sample as [unix seconds, "value"], the value a string
// ("NaN" and "+Inf" included).
absl::StatusOr<std::pair<absl::Time, double>> SampleOf(
    const json& pair, const std::string& path) {
  if (!pair.is_array() || pair.size() != 2)
    return AnswerError(path, "must be a [time, \"value\"] pair");
  if (!pair[0].is_number())
    return AnswerError(path + "[0]", "must be a number (unix seconds)");
  const double seconds = pair[0].get<double>();
  if (!std::isfinite(seconds) || std::abs(seconds) > kMaxUnixSeconds)
    return AnswerError(path + "[0]", "is not a plausible unix time");
  if (!pair[1].is_string())
    return AnswerError(path + "[1]", "must be a string holding a number");
  const std::string& text = pair[1].get_ref<const std::string&>();
  double value = 0;
  if (text == "+Inf") {
    value = INFINITY;
  } else if (text == "-Inf") {
    value = -INFINITY;
  } else if (!absl::SimpleAtod(text, &value)) {
    return AnswerError(path + "[1]", absl::StrCat("\"", Snippet(text, 40),
                                                  "\" is not a number"));
  }
  return std::pair{absl::FromUnixMillis(static_cast<int64_t>(seconds * 1000)),
                   value};
}

// A result item at `path`: an object, whose labels are returned.
absl::StatusOr<std::map<std::string, std::string>> LabelsOf(
    const json& item, const std::string& path) {
  if (!item.is_object()) return AnswerError(path, "must be an object");
  std::map<std::string, std::string> labels;
  auto metric = item.find("metric");
  if (metric == item.end()) return labels;  // an expression's result
  if (!metric->is_object())
    return AnswerError(path + ".metric", "must be an object");
  for (const auto& [key, value] : metric->items()) {
    if (!value.is_string())
      return AnswerError(absl::StrCat(path, ".metric.", Snippet(key, 40)),
                         "must be a string");
    labels[key] = value.get<std::string>();
  }
  return labels;
}

absl::StatusOr<const json*> ResultArray(const json& data) {
  auto result = data.find("result");
  if (result == data.end() || !result->is_array())
    return AnswerError("data.result", "is missing or not a list");
  return &*result;
}

}  // namespace

int NestingDepth(absl::string_view body) {
  int depth = 0, deepest = 0;
  bool in_string = false, escaped = false;
  for (char c : body) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return deepest;
}

absl::StatusOr<std::vector<Sample>> ParseQueryResponse(absl::string_view body) {
  auto data = DataOf(body, {"vector", "scalar"},
                     "use an instant vector or scalar expression");
  if (!data.ok()) return data.status();
  std::vector<Sample> samples;
  auto result = data->find("result");
  if ((*data)["resultType"] == "scalar") {
    if (result == data->end()) return AnswerError("data.result", "is missing");
    auto sample = SampleOf(*result, "data.result");
    if (!sample.ok()) return sample.status();
    samples.push_back({{}, sample->second});
    return samples;
  }
  auto items = ResultArray(*data);
  if (!items.ok()) return items.status();
  for (size_t i = 0; i < (*items)->size(); ++i) {
    const json& item = (**items)[i];
    const std::string path = absl::StrCat("data.result[", i, "]");
    auto labels = LabelsOf(item, path);
    if (!labels.ok()) return labels.status();
    auto value = item.find("value");
    if (value == item.end()) return AnswerError(path + ".value", "is missing");
    auto sample = SampleOf(*value, path + ".value");
    if (!sample.ok()) return sample.status();
    samples.push_back({std::move(*labels), sample->second});
  }
  return samples;
}

absl::StatusOr<std::vector<Series>> ParseRangeResponse(absl::string_view body) {
  auto data = DataOf(body, {"matrix"}, "a range query answers a matrix");
  if (!data.ok()) return data.status();
  auto items = ResultArray(*data);
  if (!items.ok()) return items.status();
  std::vector<Series> series;
  for (size_t i = 0; i < (*items)->size(); ++i) {
    const json& item = (**items)[i];
    const std::string path = absl::StrCat("data.result[", i, "]");
    auto labels = LabelsOf(item, path);
    if (!labels.ok()) return labels.status();
    auto values = item.find("values");
    if (values == item.end() || !values->is_array())
      return AnswerError(path + ".values", "is missing or not a list");
    Series one{std::move(*labels), {}};
    for (size_t j = 0; j < values->size(); ++j) {
      auto sample =
          SampleOf((*values)[j], absl::StrCat(path, ".values[", j, "]"));
      if (!sample.ok()) return sample.status();
      one.points.push_back(*sample);
    }
    series.push_back(std::move(one));
  }
  return series;
}

absl::Status ErrorAnswerStatus(int code, absl::string_view body,
                               absl::string_view where) {
  if (NestingDepth(body) <= kMaxResponseDepth) {
    json parsed = json::parse(body.begin(), body.end(), nullptr, false);
    if (parsed.is_object() && parsed.value("status", json()) == "error") {
      const json type = parsed.value("errorType", json());
      const json error = parsed.value("error", json());
      const std::string message = absl::StrCat(
          "Prometheus: ",
          type.is_string() ? Snippet(type.get<std::string>(), 40) : "error",
          ": ", error.is_string() ? Snippet(error.get<std::string>()) : "");
      if (code == 400 || code == 422)
        return absl::InvalidArgumentError(message);
      return absl::UnavailableError(message);
    }
  }
  return absl::UnavailableError(absl::StrCat(where, " answered HTTP ", code,
                                             ": \"", Snippet(body), "\""));
}

std::string Snippet(absl::string_view text, size_t max_bytes) {
  std::string out;
  for (unsigned char c : text.substr(0, max_bytes))
    out.push_back(c >= 0x20 && c < 0x7f ? static_cast<char>(c) : '?');
  if (text.size() > max_bytes) out += "...";
  return out;
}

}  // namespace smartcanary::analysis

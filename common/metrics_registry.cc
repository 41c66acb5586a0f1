#include "common/metrics_registry.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace smartcanary {
namespace {

std::string Escaped(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

// A label set with one more label (a histogram's le).
std::string With(const std::string& labels, const std::string& extra) {
  return labels.empty() ? extra : absl::StrCat(labels, ",", extra);
}

std::string Bound(double bound) { return absl::StrCat(bound); }

}  // namespace

std::string MetricLabels(
    const std::vector<std::pair<std::string, std::string>>& labels) {
  std::string out;
  for (const auto& [name, value] : labels) {
    absl::StrAppend(&out, out.empty() ? "" : ",", name, "=\"", Escaped(value),
                    "\"");
  }
  return out;
}

void MetricsRegistry::DescribeCounter(const std::string& name,
                                      const std::string& help) {
  absl::MutexLock lock(&mu_);
  if (Find(name) == nullptr) families_.push_back(NewFamily(name, help));
}

void MetricsRegistry::DescribeHistogram(const std::string& name,
                                        const std::string& help,
                                        std::vector<double> bounds) {
  std::sort(bounds.begin(), bounds.end());
  absl::MutexLock lock(&mu_);
  if (Find(name) == nullptr) {
    families_.push_back(NewFamily(name, help));
    families_.back().histogram = true;
    families_.back().bounds = std::move(bounds);
  }
}

MetricsRegistry::Family MetricsRegistry::NewFamily(const std::string& name,
                                                   const std::string& help) {
  Family family;
  family.name = name;
  family.help = help;
  return family;
}

MetricsRegistry::Family* MetricsRegistry::Find(const std::string& name) {
  for (Family& family : families_) {
    if (family.name == name) return &family;
  }
  return nullptr;
}

void MetricsRegistry::Count(const std::string& counter,
                            const std::string& labels, uint64_t by) {
  absl::MutexLock lock(&mu_);
  Family* family = Find(counter);
  // An undeclared counter is still counted: a missing DescribeCounter must
  // not lose data, and Render shows it without HELP.
  if (family == nullptr) {
    families_.push_back(NewFamily(counter, ""));
    family = &families_.back();
  }
  family->counters[labels] += by;
}

void MetricsRegistry::Observe(const std::string& histogram,
                              const std::string& labels, double value) {
  absl::MutexLock lock(&mu_);
  Family* family = Find(histogram);
  if (family == nullptr || !family->histogram) return;
  Histogram& h = family->histograms[labels];
  h.buckets.resize(family->bounds.size() + 1);
  const size_t slot =
      std::lower_bound(family->bounds.begin(), family->bounds.end(), value) -
      family->bounds.begin();
  ++h.buckets[slot];
  ++h.count;
  h.sum += value;
}

uint64_t MetricsRegistry::Get(const std::string& counter,
                              const std::string& labels) const {
  absl::MutexLock lock(&mu_);
  for (const Family& family : families_) {
    if (family.name != counter) continue;
    auto value = family.counters.find(labels);
    return value == family.counters.end() ? 0 : value->second;
  }
  return 0;
}

std::string MetricsRegistry::Render() const {
  absl::MutexLock lock(&mu_);
  std::string out;
  for (const Family& family : families_) {
    if (!family.help.empty())
      absl::StrAppend(&out, "# HELP ", family.name, " ", family.help, "\n");
    absl::StrAppend(&out, "# TYPE ", family.name, " ",
                    family.histogram ? "histogram" : "counter", "\n");
    if (!family.histogram) {
      if (family.counters.empty()) absl::StrAppend(&out, family.name, " 0\n");
      for (const auto& [labels, value] : family.counters) {
        absl::StrAppend(&out, family.name,
                        labels.empty() ? "" : "{" + labels + "}", " ", value,
                        "\n");
      }
      continue;
    }
    for (const auto& [labels, h] : family.histograms) {
      uint64_t cumulative = 0;
      for (size_t i = 0; i < h.buckets.size(); ++i) {
        cumulative += h.buckets[i];
        const std::string le =
            i < family.bounds.size() ? Bound(family.bounds[i]) : "+Inf";
        absl::StrAppend(&out, family.name, "_bucket{",
                        With(labels, absl::StrCat("le=\"", le, "\"")), "} ",
                        cumulative, "\n");
      }
      const std::string braces = labels.empty() ? "" : "{" + labels + "}";
      absl::StrAppend(&out, family.name, "_sum", braces, " ", h.sum, "\n",
                      family.name, "_count", braces, " ", h.count, "\n");
    }
  }
  return out;
}

}  // namespace smartcanary

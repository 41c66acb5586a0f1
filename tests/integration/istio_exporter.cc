#include "tests/integration/istio_exporter.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/metrics_registry.h"

namespace smartcanary::testing {

IstioExporter::IstioExporter(std::vector<IstioArm> arms)
    : arms_(std::move(arms)), counts_(arms_.size()), last_(absl::Now()) {
  server_ = std::make_unique<http::HttpServer>();
  server_->Handle("/metrics", [this] {
    return http::Response{200, "text/plain; version=0.0.4", Render()};
  });
  auto port = server_->Start("127.0.0.1:0");
  port_ = port.ok() ? *port : 0;
}

std::string IstioExporter::target() const {
  return absl::StrCat("127.0.0.1:", port_);
}

void IstioExporter::SetErrorShare(size_t index, double share) {
  absl::MutexLock lock(&mu_);
  Advance();  // the old share up to now
  arms_[index].error_share = share;
}

void IstioExporter::SetRequestsPerSecond(size_t index, double rps) {
  absl::MutexLock lock(&mu_);
  Advance();  // the old rate up to now
  arms_[index].requests_per_second = rps;
}

// Counters advance by the time since the last scrape, so a changed error
// share affects only requests after it, as with a real canary.
void IstioExporter::Advance() {
  const absl::Time now = absl::Now();
  const double seconds = absl::ToDoubleSeconds(now - last_);
  last_ = now;
  for (size_t i = 0; i < arms_.size(); ++i) {
    const double n = arms_[i].requests_per_second * seconds;
    counts_[i].errors += n * arms_[i].error_share;
    counts_[i].ok += n * (1 - arms_[i].error_share);
  }
}

std::string IstioExporter::Render() {
  absl::MutexLock lock(&mu_);
  Advance();
  std::string out = "# TYPE istio_requests_total counter\n";
  for (size_t i = 0; i < arms_.size(); ++i) {
    std::vector<std::pair<std::string, std::string>> labels = {
        {"reporter", "destination"}};
    labels.insert(labels.end(), arms_[i].labels.begin(), arms_[i].labels.end());
    for (const auto& [code, count] :
         {std::pair{"200", counts_[i].ok}, {"503", counts_[i].errors}}) {
      auto with_code = labels;
      with_code.push_back({"response_code", code});
      absl::StrAppend(&out, "istio_requests_total{", MetricLabels(with_code),
                      "} ", std::floor(count), "\n");
    }
  }
  return out;
}

}  // namespace smartcanary::testing

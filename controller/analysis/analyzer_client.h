#ifndef SMARTCANARY_CONTROLLER_ANALYSIS_ANALYZER_CLIENT_H_
#define SMARTCANARY_CONTROLLER_ANALYSIS_ANALYZER_CLIENT_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/token_file.h"
#include "controller/analysis/analysis_run.h"
#include "controller/analysis/analysis_spec.h"
#include "controller/analysis/secret_refs.h"
#include "smartcanary/v1/analysis.grpc.pb.h"

namespace smartcanary {

using NamedMeasurement = std::pair<std::string, MeasurementRecord>;

using MeasuredCallback = std::function<void(std::vector<NamedMeasurement>)>;

// The analyzer's pre-flight answer, or why there is none.
using PreflightCallback =
    std::function<void(absl::StatusOr<v1::PreflightResponse>)>;

// The longest a measurement may take, whatever a template's timeout says:
// the analyzer call's deadline is the template timeout plus a margin, capped
// here, so no rollout waits on a silent Prometheus for longer.
inline constexpr absl::Duration kMaxMeasurementTime = absl::Minutes(5);

// Takes one measurement of each metric, asynchronously: `done` runs exactly
// once, on another thread, so no reconcile worker waits on Prometheus. Never
// fails as a whole: a metric that cannot be measured (the analyzer down,
// Prometheus unreachable or silent) comes back as an Error measurement
// saying why, which counts toward its consecutiveErrorLimit and never passes.
class Analyzer {
 public:
  virtual ~Analyzer() = default;
  virtual void MeasureAsync(const std::vector<const MetricSpec*>& metrics,
                            const std::map<std::string, std::string>& args,
                            const v1::RolloutContext& context, absl::Time now,
                            MeasuredCallback done) = 0;
  // Asks the analyzer's Preflight for one comparative metric over `plan`,
  // asynchronously like MeasureAsync: `done` runs exactly once, on another
  // thread. An analyzer that offers no pre-flight answers UNIMPLEMENTED.
  virtual void PreflightAsync(const MetricSpec& metric,
                              const std::map<std::string, std::string>& args,
                              const std::string& ns,
                              std::vector<v1::PlanStep> plan,
                              PreflightCallback done) {
    (void)metric, (void)args, (void)ns, (void)plan;
    done(absl::UnimplementedError("this analyzer offers no pre-flight"));
  }
};

struct GrpcAnalyzerOptions {
  // The shared token the analyzer demands (--analyzer-token-file), sent as
  // `authorization: Bearer` on every call; null: none (a local analyzer
  // started with --insecure-no-auth).
  std::shared_ptr<const TokenFile> token;
  // Reads a template's secretKeyRef, always in the rollout's namespace;
  // unset: such a metric measures as Error saying so.
  SecretReader read_secret;
  // The CA (PEM file) that signed the analyzer's certificate: TLS to the
  // analyzer, re-read when it changes; empty: plaintext.
  std::string ca_file;
};

// The canary-analyzer over gRPC (the callback API: no thread per call).
class GrpcAnalyzer : public Analyzer {
 public:
  explicit GrpcAnalyzer(const std::string& address,
                        GrpcAnalyzerOptions options = {});
  void MeasureAsync(const std::vector<const MetricSpec*>& metrics,
                    const std::map<std::string, std::string>& args,
                    const v1::RolloutContext& context, absl::Time now,
                    MeasuredCallback done) override;
  void PreflightAsync(const MetricSpec& metric,
                      const std::map<std::string, std::string>& args,
                      const std::string& ns, std::vector<v1::PlanStep> plan,
                      PreflightCallback done) override;

 private:
  std::string address_;
  GrpcAnalyzerOptions options_;
  std::unique_ptr<v1::AnalysisService::Stub> stub_;
};

}  // namespace smartcanary

#endif  // SMARTCANARY_CONTROLLER_ANALYSIS_ANALYZER_CLIENT_H_

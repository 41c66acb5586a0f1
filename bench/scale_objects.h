#ifndef SMARTCANARY_BENCH_SCALE_OBJECTS_H_
#define SMARTCANARY_BENCH_SCALE_OBJECTS_H_

#include <string>

#include "absl/time/time.h"
#include "nlohmann/json.hpp"

// The objects of the controller scale benchmark, as the API server takes
// them: every rollout has a VirtualService and a DestinationRule of its own
// (both named after it) and the plan setWeight 20, pause {}.
namespace smartcanary::bench {

// What runs in the background of a rollout from its pause step on.
enum class Background {
  kNone,
  // A Prometheus that never answers: each measurement hangs for the
  // template's whole timeout (300 s, the schema's maximum).
  kHanging,
  // A real Prometheus asked `vector(time())` with successCondition
  // `result[0] < fail_at`: measurements pass until the wall clock reaches
  // fail_at, then the first one fails and the rollout is rolled back.
  kDeadline,
};

inline constexpr char kHangingTemplate[] = "hanging-prometheus";
inline constexpr char kDeadlineTemplate[] = "fails-at-deadline";

nlohmann::json VirtualService(const std::string& ns, const std::string& name);
nlohmann::json DestinationRule(const std::string& ns, const std::string& name);
nlohmann::json HangingTemplate(const std::string& ns,
                               const std::string& prometheus_url);
nlohmann::json DeadlineTemplate(const std::string& ns,
                                const std::string& prometheus_url,
                                absl::Duration interval);
nlohmann::json Rollout(const std::string& ns, const std::string& name,
                       Background background, absl::Time fail_at);

}  // namespace smartcanary::bench

#endif  // SMARTCANARY_BENCH_SCALE_OBJECTS_H_

#ifndef SMARTCANARY_CLI_MANIFEST_H_
#define SMARTCANARY_CLI_MANIFEST_H_

#include <string>

#include "absl/status/statusor.h"
#include "controller/rollout_spec.h"
#include "nlohmann/json.hpp"

namespace smartcanary::cli {

// YAML as JSON, typed as Kubernetes reads it: plain scalars that look like
// numbers, booleans or null become those; quoted scalars stay strings.
absl::StatusOr<nlohmann::json> YamlToJson(const std::string& yaml_text);

struct Manifest {
  std::string namespace_name;  // empty: not given in the file
  std::string name;
  RolloutSpec spec;
};

// Reads one CanaryRollout document. Errors name the field and the file.
absl::StatusOr<Manifest> ParseManifest(const std::string& yaml_text);

}  // namespace smartcanary::cli

#endif  // SMARTCANARY_CLI_MANIFEST_H_

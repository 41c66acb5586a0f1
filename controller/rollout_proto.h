#ifndef SMARTCANARY_CONTROLLER_ROLLOUT_PROTO_H_
#define SMARTCANARY_CONTROLLER_ROLLOUT_PROTO_H_

#include "absl/status/statusor.h"
#include "controller/canary_rollout.h"
#include "smartcanary/v1/rollout.pb.h"

// Conversions between the rollout model and its gRPC messages.
namespace smartcanary {

v1::RolloutSpec SpecToProto(const RolloutSpec& spec);
// Validates like ParseRolloutSpec, naming the CRD field on error.
absl::StatusOr<RolloutSpec> SpecFromProto(const v1::RolloutSpec& proto);
v1::Rollout RolloutToProto(const CanaryRollout& rollout);

}  // namespace smartcanary

#endif  // SMARTCANARY_CONTROLLER_ROLLOUT_PROTO_H_

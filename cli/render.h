#ifndef SMARTCANARY_CLI_RENDER_H_
#define SMARTCANARY_CLI_RENDER_H_

#include <string>

#include "nlohmann/json.hpp"
#include "smartcanary/v1/rollout.pb.h"

namespace smartcanary::cli {

// `canaryctl get`: a status block and a tree of steps in the style of
// `kubectl argo rollouts get rollout`.
std::string RenderRolloutTree(const v1::Rollout& rollout);
// `canaryctl list`: one line per rollout.
std::string RenderRolloutTable(const v1::ListRolloutsResponse& list);
// `-o json`.
nlohmann::json RolloutToJson(const v1::Rollout& rollout);
// Indented JSON that is always valid UTF-8 with every control character
// escaped, safe to print.
std::string RenderJson(const nlohmann::json& value);

const char* PhaseText(v1::Phase phase);

}  // namespace smartcanary::cli

#endif  // SMARTCANARY_CLI_RENDER_H_

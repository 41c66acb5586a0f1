#ifndef SMARTCANARY_COMMON_FLAG_NAMES_H_
#define SMARTCANARY_COMMON_FLAG_NAMES_H_

#include <string>
#include <vector>

namespace smartcanary {

// absl flags are named with underscores; users type kubectl-style dashes
// (--grpc-listen). Rewrites the names (not the values) of `--long-flags` up
// to a bare `--`, and returns storage that outlives the argv it fills.
std::vector<std::string> DashedFlagsToAbsl(int argc, char** argv);
std::vector<char*> ArgvOf(std::vector<std::string>& args);

}  // namespace smartcanary

#endif  // SMARTCANARY_COMMON_FLAG_NAMES_H_

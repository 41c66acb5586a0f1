#ifndef SMARTCANARY_ANALYSIS_CONDITION_H_
#define SMARTCANARY_ANALYSIS_CONDITION_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace smartcanary::analysis {

// A success or failure condition in the Argo Rollouts expression language
// people already write: `result[0] >= 0.95`, `len(result) == 0 ||
// isNaN(result[0])`. Supported: `result`, `result[i]`, numbers, true/false, + -
// * /,
// == != < <= > >=, && || !, parentheses, isNaN(), isInf(), len(), default().
// As in Argo, any comparison with NaN is false.
class Condition {
 public:
  // Limits that keep a hostile condition from exhausting memory or stack:
  // longer text or deeper nesting of ( ), !, -, [ ] and calls is an error.
  static constexpr size_t kMaxLength = 4096;
  static constexpr int kMaxNesting = 64;

  // INVALID_ARGUMENT with the position and what was expected; any text of
  // the condition in the message is valid UTF-8.
  static absl::StatusOr<Condition> Parse(const std::string& text);

  // `result` is the query's values (a one-element result also works as a
  // plain number). INVALID_ARGUMENT when the expression cannot be evaluated
  // on these values (an index past the end, a list compared to a number).
  absl::StatusOr<bool> Evaluate(const std::vector<double>& result) const;

  const std::string& text() const { return text_; }

  struct Node;

 private:
  std::string text_;
  std::shared_ptr<const Node> root_;
};

// Replaces every {{args.NAME}} (spaces allowed inside the braces). An
// unknown NAME is INVALID_ARGUMENT naming it.
absl::StatusOr<std::string> SubstituteArgs(
    const std::string& text, const std::map<std::string, std::string>& args);

}  // namespace smartcanary::analysis

#endif  // SMARTCANARY_ANALYSIS_CONDITION_H_

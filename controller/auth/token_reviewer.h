#ifndef SMARTCANARY_CONTROLLER_AUTH_TOKEN_REVIEWER_H_
#define SMARTCANARY_CONTROLLER_AUTH_TOKEN_REVIEWER_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "controller/auth/caller.h"
#include "controller/auth/review_cache.h"
#include "controller/kube/kube_api.h"
#include "nlohmann/json.hpp"

namespace smartcanary::auth {

// The body of a TokenReview (authentication.k8s.io/v1) for `token`.
nlohmann::json TokenReviewJson(const std::string& token);

// The API server's answer: the Caller, UNAUTHENTICATED (with the server's
// reason) when the token is not valid, INTERNAL when the answer is not a
// TokenReview.
absl::StatusOr<Caller> CallerFromTokenReview(const nlohmann::json& review);

struct TokenReviewerOptions {
  absl::Duration valid_ttl = absl::Seconds(60);
  absl::Duration invalid_ttl = absl::Seconds(10);
  size_t max_entries = 4096;
};

// Bearer tokens checked with the API server that issued them, answers kept
// briefly (keyed by the token's SHA-256). A review that could not be made
// (API server down) is UNAVAILABLE and is not kept.
class TokenReviewer {
 public:
  TokenReviewer(const kube::KubeApi& api, TokenReviewerOptions options = {})
      : api_(api), options_(options), cache_(options.max_entries) {}

  absl::StatusOr<Caller> Review(const std::string& token, absl::Time now);

 private:
  struct Answer {
    bool valid = false;
    Caller caller;
    std::string reason;
  };

  const kube::KubeApi& api_;
  const TokenReviewerOptions options_;
  ReviewCache<Answer> cache_;
};

}  // namespace smartcanary::auth

#endif  // SMARTCANARY_CONTROLLER_AUTH_TOKEN_REVIEWER_H_

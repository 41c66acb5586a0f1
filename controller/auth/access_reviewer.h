#ifndef SMARTCANARY_CONTROLLER_AUTH_ACCESS_REVIEWER_H_
#define SMARTCANARY_CONTROLLER_AUTH_ACCESS_REVIEWER_H_

#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "controller/auth/caller.h"
#include "controller/auth/review_cache.h"
#include "controller/auth/rpc_policy.h"
#include "controller/kube/kube_api.h"
#include "nlohmann/json.hpp"

namespace smartcanary::auth {

// The body of a SubjectAccessReview (authorization.k8s.io/v1): may `caller`
// do `access`?
nlohmann::json AccessReviewJson(const Caller& caller, const Access& access);

// The answer: OK when allowed, PERMISSION_DENIED naming user, verb,
// resource and namespace (and the API server's reason) when not, INTERNAL
// when the answer is not a SubjectAccessReview.
absl::Status VerdictFromAccessReview(const nlohmann::json& review,
                                     const Caller& caller,
                                     const Access& access);

struct AccessReviewerOptions {
  absl::Duration allowed_ttl = absl::Seconds(30);
  absl::Duration denied_ttl = absl::Seconds(5);
  size_t max_entries = 8192;
};

// Every RPC authorized by the API server's own authorizers (RBAC) for the
// caller's identity, verdicts kept briefly. A review that could not be made
// is UNAVAILABLE and is not kept.
class AccessReviewer {
 public:
  AccessReviewer(const kube::KubeApi& api, AccessReviewerOptions options = {})
      : api_(api), options_(options), cache_(options.max_entries) {}

  absl::Status Review(const Caller& caller, const Access& access,
                      absl::Time now);

 private:
  const kube::KubeApi& api_;
  const AccessReviewerOptions options_;
  ReviewCache<absl::Status> cache_;
};

}  // namespace smartcanary::auth

#endif  // SMARTCANARY_CONTROLLER_AUTH_ACCESS_REVIEWER_H_

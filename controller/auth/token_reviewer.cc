#include "controller/auth/token_reviewer.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "controller/auth/digest.h"
#include "controller/auth/review_json.h"

namespace smartcanary::auth {
namespace {

using nlohmann::json;

constexpr char kTokenReviews[] = "/apis/authentication.k8s.io/v1/tokenreviews";

}  // namespace

json TokenReviewJson(const std::string& token) {
  return json{{"apiVersion", "authentication.k8s.io/v1"},
              {"kind", "TokenReview"},
              {"spec", {{"token", token}}}};
}

absl::StatusOr<Caller> CallerFromTokenReview(const json& review) {
  if (!review.is_object())
    return absl::InternalError("the TokenReview answer is not an object");
  auto status = ObjectAt(review, "status", "TokenReview");
  if (!status.ok()) return status.status();
  auto authenticated = BoolAt(*status, "authenticated", "status");
  if (!authenticated.ok()) return authenticated.status();
  if (!*authenticated) {
    auto error = StringAt(*status, "error", "status");
    return absl::UnauthenticatedError(absl::StrCat(
        "the bearer token is not valid",
        error.ok() && !error->empty() ? absl::StrCat(": ", *error) : ""));
  }
  auto user = ObjectAt(*status, "user", "status");
  if (!user.ok()) return user.status();
  Caller caller;
  auto name = StringAt(*user, "username", "status.user");
  if (!name.ok()) return name.status();
  if (name->empty())
    return absl::InternalError("status.user.username: empty in the answer");
  caller.user = *name;
  auto uid = StringAt(*user, "uid", "status.user");
  if (!uid.ok()) return uid.status();
  caller.uid = *uid;
  auto groups = StringsAt(*user, "groups", "status.user");
  if (!groups.ok()) return groups.status();
  caller.groups = *groups;
  auto extra = ObjectAt(*user, "extra", "status.user");
  if (!extra.ok()) return extra.status();
  for (const auto& [key, values] : extra->items()) {
    auto list = StringsAt(*extra, key, "status.user.extra");
    if (!list.ok()) return list.status();
    caller.extra[key] = *list;
  }
  return caller;
}

absl::StatusOr<Caller> TokenReviewer::Review(const std::string& token,
                                             absl::Time now) {
  if (token.empty())
    return absl::UnauthenticatedError("the bearer token is empty");
  const std::string key = Sha256Hex(token);
  if (!key.empty()) {
    if (auto cached = cache_.Find(key, now)) {
      if (cached->valid) return cached->caller;
      return absl::UnauthenticatedError(cached->reason);
    }
  }
  auto answer = api_.Post(kTokenReviews, TokenReviewJson(token));
  if (!answer.ok()) {
    // Not a verdict on the token: the caller may try again.
    return absl::UnavailableError(absl::StrCat(
        "cannot check the token with the API server (TokenReview): ",
        answer.status().message()));
  }
  auto caller = CallerFromTokenReview(*answer);
  if (!key.empty()) {
    if (caller.ok()) {
      cache_.Put(key, Answer{true, *caller, ""}, now + options_.valid_ttl, now);
    } else if (absl::IsUnauthenticated(caller.status())) {
      cache_.Put(key, Answer{false, {}, std::string(caller.status().message())},
                 now + options_.invalid_ttl, now);
    }
  }
  return caller;
}

}  // namespace smartcanary::auth

#include "controller/auth/access_reviewer.h"

#include "absl/strings/str_cat.h"
#include "controller/auth/digest.h"
#include "controller/auth/review_json.h"

namespace smartcanary::auth {
namespace {

using nlohmann::json;

constexpr char kSubjectAccessReviews[] =
    "/apis/authorization.k8s.io/v1/subjectaccessreviews";

}  // namespace

json AccessReviewJson(const Caller& caller, const Access& access) {
  json attributes = {{"group", kApiGroup},
                     {"resource", access.resource},
                     {"verb", access.verb}};
  if (!access.subresource.empty())
    attributes["subresource"] = access.subresource;
  if (!access.ns.empty()) attributes["namespace"] = access.ns;
  if (!access.name.empty()) attributes["name"] = access.name;
  json spec = {{"user", caller.user}, {"resourceAttributes", attributes}};
  if (!caller.uid.empty()) spec["uid"] = caller.uid;
  if (!caller.groups.empty()) spec["groups"] = caller.groups;
  if (!caller.extra.empty()) spec["extra"] = caller.extra;
  return json{{"apiVersion", "authorization.k8s.io/v1"},
              {"kind", "SubjectAccessReview"},
              {"spec", spec}};
}

absl::Status VerdictFromAccessReview(const json& review, const Caller& caller,
                                     const Access& access) {
  if (!review.is_object())
    return absl::InternalError(
        "the SubjectAccessReview answer is not an object");
  auto status = ObjectAt(review, "status", "SubjectAccessReview");
  if (!status.ok()) return status.status();
  auto allowed = BoolAt(*status, "allowed", "status");
  if (!allowed.ok()) return allowed.status();
  auto denied = BoolAt(*status, "denied", "status");
  if (!denied.ok()) return denied.status();
  if (*allowed && !*denied) return absl::OkStatus();
  auto reason = StringAt(*status, "reason", "status");
  return absl::PermissionDeniedError(absl::StrCat(
      "user \"", caller.user, "\" may not ", Describe(access),
      reason.ok() && !reason->empty() ? absl::StrCat(": ", *reason) : ""));
}

absl::Status AccessReviewer::Review(const Caller& caller, const Access& access,
                                    absl::Time now) {
  const json body = AccessReviewJson(caller, access);
  // The whole question is the key: the same user with other groups (another
  // token) is another question.
  const std::string key =
      Sha256Hex(body.dump(-1, ' ', false, json::error_handler_t::replace));
  if (!key.empty()) {
    if (auto cached = cache_.Find(key, now)) return *cached;
  }
  auto answer = api_.Post(kSubjectAccessReviews, body);
  if (!answer.ok()) {
    return absl::UnavailableError(absl::StrCat(
        "cannot check permissions with the API server (SubjectAccessReview): ",
        answer.status().message()));
  }
  absl::Status verdict = VerdictFromAccessReview(*answer, caller, access);
  if (!key.empty() && (verdict.ok() || absl::IsPermissionDenied(verdict))) {
    cache_.Put(
        key, verdict,
        now + (verdict.ok() ? options_.allowed_ttl : options_.denied_ttl), now);
  }
  return verdict;
}

}  // namespace smartcanary::auth

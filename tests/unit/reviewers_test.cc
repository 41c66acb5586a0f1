// TokenReview and SubjectAccessReview: the bodies canaryd sends, how it
// reads the answers, and which answers it keeps.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <deque>

#include "controller/auth/access_reviewer.h"
#include "controller/auth/token_reviewer.h"

namespace smartcanary::auth {
namespace {

using nlohmann::json;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

const absl::Time kStart = absl::FromUnixSeconds(1'000'000);

// Answers POSTs from a script and records them; nothing else is called.
class ScriptedApi : public kube::KubeApi {
 public:
  mutable std::deque<absl::StatusOr<json>> answers;
  mutable std::vector<std::pair<std::string, json>> posts;

  absl::StatusOr<json> Post(const std::string& path,
                            const json& body) const override {
    posts.emplace_back(path, body);
    if (answers.empty()) return absl::InternalError("unscripted POST");
    auto answer = answers.front();
    answers.pop_front();
    return answer;
  }
  absl::StatusOr<json> Get(const std::string&) const override {
    return Unused();
  }
  absl::StatusOr<kube::ListResult> List(const std::string&) const override {
    return Unused();
  }
  absl::StatusOr<json> Put(const std::string&, const json&) const override {
    return Unused();
  }
  absl::StatusOr<json> JsonPatch(const std::string&,
                                 const json&) const override {
    return Unused();
  }
  absl::StatusOr<json> MergePatch(const std::string&,
                                  const json&) const override {
    return Unused();
  }
  absl::StatusOr<json> Delete(const std::string&) const override {
    return Unused();
  }
  absl::Status Watch(const std::string&, const EventHandler&,
                     const std::function<bool()>&) const override {
    return Unused();
  }

 private:
  static absl::Status Unused() {
    ADD_FAILURE() << "reviews only POST";
    return absl::InternalError("unused");
  }
};

json Authenticated() {
  return json::parse(R"({"apiVersion": "authentication.k8s.io/v1",
    "kind": "TokenReview", "status": {"authenticated": true, "user": {
      "username": "system:serviceaccount:team-a:deployer", "uid": "u-1",
      "groups": ["system:serviceaccounts", "system:authenticated"],
      "extra": {"authentication.kubernetes.io/pod-name": ["p"]}}}})");
}

json NotAuthenticated() {
  return json::parse(R"({"status": {"authenticated": false,
    "error": "token has expired"}})");
}

TEST(TokenReviewTest, SendsTheTokenAndReadsTheUser) {
  EXPECT_EQ(TokenReviewJson("t0k")["spec"]["token"], "t0k");
  EXPECT_EQ(TokenReviewJson("t0k")["kind"], "TokenReview");
  auto caller = CallerFromTokenReview(Authenticated());
  ASSERT_TRUE(caller.ok()) << caller.status();
  EXPECT_EQ(caller->user, "system:serviceaccount:team-a:deployer");
  EXPECT_EQ(caller->uid, "u-1");
  EXPECT_THAT(caller->groups,
              ElementsAre("system:serviceaccounts", "system:authenticated"));
  EXPECT_THAT(caller->extra["authentication.kubernetes.io/pod-name"],
              ElementsAre("p"));
}

TEST(TokenReviewTest, InvalidTokenIsUnauthenticatedWithTheReason) {
  auto caller = CallerFromTokenReview(NotAuthenticated());
  EXPECT_EQ(caller.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(caller.status().message(), HasSubstr("token has expired"));
}

TEST(TokenReviewTest, WrongTypesInTheAnswerAreErrorsNotExceptions) {
  for (const char* answer : {
           R"({"status": {"authenticated": "yes"}})",
           R"({"status": {"authenticated": true, "user": {"username": 7}}})",
           R"({"status": {"authenticated": true, "user": {"username": "u",
               "groups": "g"}}})",
           R"({"status": {"authenticated": true, "user": {"username": "u",
               "extra": {"k": [1]}}}})",
           R"({"status": {"authenticated": true, "user": {}}})",
           R"({"status": []})",
           R"([1, 2])",
       }) {
    auto caller = CallerFromTokenReview(json::parse(answer));
    EXPECT_EQ(caller.status().code(), absl::StatusCode::kInternal) << answer;
  }
}

TEST(TokenReviewerTest, KeepsAnswersForTheirTtlKeyedByDigest) {
  ScriptedApi api;
  TokenReviewer reviewer(api, {absl::Seconds(60), absl::Seconds(10), 16});
  api.answers = {Authenticated(), NotAuthenticated(), Authenticated()};
  ASSERT_TRUE(reviewer.Review("good", kStart).ok());
  ASSERT_TRUE(reviewer.Review("good", kStart + absl::Seconds(59)).ok());
  EXPECT_EQ(api.posts.size(), 1u);
  EXPECT_EQ(api.posts[0].first, "/apis/authentication.k8s.io/v1/tokenreviews");

  EXPECT_EQ(reviewer.Review("bad", kStart).status().code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(reviewer.Review("bad", kStart + absl::Seconds(9)).status().code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(api.posts.size(), 2u);

  // Expired: asked again.
  ASSERT_TRUE(reviewer.Review("good", kStart + absl::Seconds(61)).ok());
  EXPECT_EQ(api.posts.size(), 3u);
}

TEST(TokenReviewerTest, AnApiFailureIsUnavailableAndNotKept) {
  ScriptedApi api;
  TokenReviewer reviewer(api);
  api.answers = {absl::UnavailableError("connection refused"), Authenticated()};
  auto first = reviewer.Review("good", kStart);
  EXPECT_EQ(first.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(first.status().message(), HasSubstr("TokenReview"));
  EXPECT_TRUE(reviewer.Review("good", kStart).ok());
  EXPECT_EQ(api.posts.size(), 2u);
}

TEST(TokenReviewerTest, AnEmptyTokenIsNeverSent) {
  ScriptedApi api;
  TokenReviewer reviewer(api);
  EXPECT_EQ(reviewer.Review("", kStart).status().code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_TRUE(api.posts.empty());
}

const Caller kDeployer{"system:serviceaccount:team-a:deployer",
                       "u-1",
                       {"system:serviceaccounts", "system:authenticated"},
                       {{"k", {"v"}}}};

json Allowed(bool allowed, const std::string& reason = "") {
  return json{{"status", {{"allowed", allowed}, {"reason", reason}}}};
}

TEST(AccessReviewTest, AsksAboutTheCallerAndTheRpcsAccess) {
  const json body = AccessReviewJson(
      kDeployer, AccessFor(RolloutRpc::kAbort, "team-a", "checkout"));
  EXPECT_EQ(body["kind"], "SubjectAccessReview");
  EXPECT_EQ(body["spec"]["user"], kDeployer.user);
  EXPECT_EQ(body["spec"]["uid"], "u-1");
  EXPECT_EQ(body["spec"]["groups"], json(kDeployer.groups));
  EXPECT_EQ(body["spec"]["extra"]["k"], json::array({"v"}));
  EXPECT_EQ(body["spec"]["resourceAttributes"],
            json({{"group", "smartcanary.dev"},
                  {"resource", "canaryrollouts"},
                  {"subresource", "abort"},
                  {"verb", "update"},
                  {"namespace", "team-a"},
                  {"name", "checkout"}}));
  // Every namespace: no namespace attribute at all.
  EXPECT_FALSE(
      AccessReviewJson(kDeployer, AccessFor(RolloutRpc::kList, "",
                                            ""))["spec"]["resourceAttributes"]
          .contains("namespace"));
}

TEST(AccessReviewTest, DenialNamesUserVerbResourceAndNamespace) {
  const Access access = AccessFor(RolloutRpc::kAbort, "team-b", "checkout");
  absl::Status denied = VerdictFromAccessReview(
      Allowed(false, "no RBAC policy matched"), kDeployer, access);
  EXPECT_EQ(denied.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(denied.message(),
            "user \"system:serviceaccount:team-a:deployer\" may not update "
            "canaryrollouts/abort.smartcanary.dev in namespace \"team-b\": no "
            "RBAC policy matched");
  EXPECT_TRUE(VerdictFromAccessReview(Allowed(true), kDeployer, access).ok());
  // An explicit denial wins even if another authorizer allowed.
  EXPECT_EQ(VerdictFromAccessReview(
                json{{"status", {{"allowed", true}, {"denied", true}}}},
                kDeployer, access)
                .code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(VerdictFromAccessReview(json{{"status", {{"allowed", "true"}}}},
                                    kDeployer, access)
                .code(),
            absl::StatusCode::kInternal);
}

TEST(AccessReviewerTest, KeepsVerdictsPerQuestionForTheirTtl) {
  ScriptedApi api;
  AccessReviewer reviewer(api, {absl::Seconds(30), absl::Seconds(5), 16});
  const Access abort_a = AccessFor(RolloutRpc::kAbort, "team-a", "r");
  const Access abort_b = AccessFor(RolloutRpc::kAbort, "team-b", "r");
  api.answers = {Allowed(true), Allowed(false), Allowed(false)};
  EXPECT_TRUE(reviewer.Review(kDeployer, abort_a, kStart).ok());
  EXPECT_TRUE(
      reviewer.Review(kDeployer, abort_a, kStart + absl::Seconds(29)).ok());
  EXPECT_EQ(api.posts.size(), 1u);
  EXPECT_EQ(api.posts[0].first,
            "/apis/authorization.k8s.io/v1/subjectaccessreviews");
  EXPECT_EQ(reviewer.Review(kDeployer, abort_b, kStart).code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(
      reviewer.Review(kDeployer, abort_b, kStart + absl::Seconds(4)).code(),
      absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(api.posts.size(), 2u);
  // Another identity is another question.
  Caller other = kDeployer;
  other.groups.push_back("admins");
  EXPECT_EQ(reviewer.Review(other, abort_b, kStart).code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(api.posts.size(), 3u);
}

TEST(AccessReviewerTest, AnApiFailureIsUnavailableAndNotKept) {
  ScriptedApi api;
  AccessReviewer reviewer(api);
  const Access get = AccessFor(RolloutRpc::kGet, "team-a", "r");
  api.answers = {absl::UnavailableError("API server down"), Allowed(true)};
  absl::Status first = reviewer.Review(kDeployer, get, kStart);
  EXPECT_EQ(first.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(first.message(), HasSubstr("SubjectAccessReview"));
  EXPECT_TRUE(reviewer.Review(kDeployer, get, kStart).ok());
}

}  // namespace
}  // namespace smartcanary::auth

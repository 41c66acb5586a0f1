#include "controller/analysis/secret_refs.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "controller/analysis/analysis_spec.h"

namespace smartcanary {
namespace {

using nlohmann::json;

absl::StatusOr<AnalysisTemplate> Template(const std::string& prometheus) {
  return ParseAnalysisTemplate(
      json::parse(R"({"metrics": [{"name": "m", "successCondition": "true",
        "provider": {"prometheus": )" +
                  prometheus + "}}]}"),
      "CanaryAnalysisTemplate t");
}

TEST(ParseSecretRefs, ReadsArgoSecretKeyRefs) {
  auto parsed = Template(R"({"address": "http://p.svc:9090", "query": "up",
      "bearerToken": {"secretKeyRef": {"name": "prom-auth", "key": "token"}},
      "basicAuth": {"username": "u",
                    "password": {"secretKeyRef": {"name": "basic.auth",
                                                  "key": "pass_word"}}}})");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  const v1::PrometheusProvider& p = parsed->metrics[0].query.prometheus();
  EXPECT_EQ(p.bearer_token_secret().name(), "prom-auth");
  EXPECT_EQ(p.bearer_token_secret().key(), "token");
  EXPECT_EQ(p.basic_auth_user(), "u");
  EXPECT_EQ(p.basic_auth_password_secret().name(), "basic.auth");
  EXPECT_EQ(p.basic_auth_password_secret().key(), "pass_word");
  // The spec holds references only, never a value.
  EXPECT_TRUE(p.bearer_token().empty());
}

TEST(ParseSecretRefs, BadReferencesNameTheField) {
  const std::string base = R"("address": "http://p.svc", "query": "up", )";
  const std::pair<std::string, std::string> cases[] = {
      {R"("bearerToken": "abc")", "bearerToken"},
      {R"("bearerToken": {})", "bearerToken.secretKeyRef: is required"},
      {R"("bearerToken": {"secretKeyRef": {"name": "../other", "key": "k"}})",
       "bearerToken.secretKeyRef.name: must be a Secret name"},
      {R"("bearerToken": {"secretKeyRef": {"name": "Upper", "key": "k"}})",
       "bearerToken.secretKeyRef.name"},
      {R"("bearerToken": {"secretKeyRef": {"name": "s", "key": "a/b"}})",
       "bearerToken.secretKeyRef.key: must be a Secret key"},
      {R"("bearerToken": {"secretKeyRef": {"name": "s", "key": 5}})",
       "bearerToken.secretKeyRef.key: is required"},
      {R"("bearerToken": {"secretKeyRef": {"name": "s", "key": "k",
          "namespace": "other"}})",
       "secretKeyRef.namespace"},
      {R"("bearerToken": {"secretKeyRef": {"name": "s", "key": "k"}},
          "bearerTokenFile": "/t")",
       "give bearerToken or bearerTokenFile, not both"},
      {R"("basicAuth": {"username": "u", "passwordFile": "p",
          "password": {"secretKeyRef": {"name": "s", "key": "k"}}})",
       "basicAuth.password: give password or passwordFile"},
  };
  for (const auto& [fields, expected] : cases) {
    auto parsed = Template("{" + base + fields + "}");
    ASSERT_FALSE(parsed.ok()) << fields;
    EXPECT_NE(parsed.status().message().find(expected), std::string::npos)
        << parsed.status();
    EXPECT_NE(parsed.status().message().find("provider.prometheus"),
              std::string::npos)
        << parsed.status();
  }
}

TEST(FillMetricSecrets, ReadsInTheGivenNamespaceAndDropsTheReferences) {
  v1::Metric metric;
  v1::PrometheusProvider* p = metric.mutable_prometheus();
  p->mutable_bearer_token_secret()->set_name("prom-auth");
  p->mutable_bearer_token_secret()->set_key("token");
  p->set_basic_auth_user("u");
  p->mutable_basic_auth_password_secret()->set_name("basic");
  p->mutable_basic_auth_password_secret()->set_key("pw");
  std::vector<std::string> reads;
  SecretReader read = [&](const std::string& ns, const std::string& name,
                          const std::string& key) {
    reads.push_back(ns + "/" + name + "/" + key);
    return absl::StatusOr<std::string>("value-of-" + key + "\n");
  };
  ASSERT_TRUE(FillMetricSecrets("team-a", read, &metric).ok());
  EXPECT_EQ(reads, (std::vector<std::string>{"team-a/prom-auth/token",
                                             "team-a/basic/pw"}));
  EXPECT_EQ(p->bearer_token(), "value-of-token");
  EXPECT_EQ(p->basic_auth_password(), "value-of-pw");
  EXPECT_FALSE(p->has_bearer_token_secret());
  EXPECT_FALSE(p->has_basic_auth_password_secret());
}

TEST(FillMetricSecrets, ErrorsNameTheSecretButNeverTheValue) {
  v1::Metric metric;
  v1::PrometheusProvider* p =
      metric.mutable_comparative()->mutable_prometheus();
  p->mutable_bearer_token_secret()->set_name("prom-auth");
  p->mutable_bearer_token_secret()->set_key("token");
  absl::Status missing = FillMetricSecrets(
      "team-a",
      [](const std::string&, const std::string&, const std::string&) {
        return absl::StatusOr<std::string>(
            absl::NotFoundError("no such Secret"));
      },
      &metric);
  EXPECT_EQ(missing.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(missing.message(),
            "provider.comparative.prometheus.bearerToken: Secret "
            "team-a/prom-auth key token: no such Secret");
  absl::Status injected = FillMetricSecrets(
      "team-a",
      [](const std::string&, const std::string&, const std::string&) {
        return absl::StatusOr<std::string>("t0ken\r\nX-Evil: 1");
      },
      &metric);
  EXPECT_FALSE(injected.ok());
  EXPECT_NE(injected.message().find("line break"), std::string::npos);
  EXPECT_EQ(injected.message().find("t0ken"), std::string::npos);
  EXPECT_FALSE(FillMetricSecrets("team-a", nullptr, &metric).ok());
}

TEST(FillMetricSecrets, NoReferencesNeedNoReader) {
  v1::Metric metric;
  metric.mutable_prometheus()->set_address("http://p.svc");
  EXPECT_TRUE(FillMetricSecrets("team-a", nullptr, &metric).ok());
}

}  // namespace
}  // namespace smartcanary

#include "analysis/prometheus_client.h"

#include <gtest/gtest.h>

#include "tests/unit/scripted_http_server.h"

namespace smartcanary::analysis {
namespace {

using smartcanary::testing::HttpReply;
using smartcanary::testing::InTurn;
using smartcanary::testing::ScriptedHttpServer;

constexpr char kOne[] =
    R"({"status":"success","data":{"resultType":"vector","result":[)"
    R"({"metric":{},"value":[1,"1"]}]}})";

PrometheusOptions Options(const std::string& address,
                          const std::string& allowed = "127.0.0.0/8") {
  PrometheusOptions options;
  options.address = address;
  options.address_policy = *AddressPolicy::Parse(allowed);
  options.timeout = absl::Seconds(20);
  return options;
}

TEST(PrometheusClient, ARedirectIsNeverFollowed) {
  ScriptedHttpServer server(InTurn({HttpReply(
      302, "", {"Location: http://169.254.169.254/latest/meta-data"})}));
  auto samples = PrometheusClient(Options(server.url())).Query("up");
  ASSERT_FALSE(samples.ok());
  EXPECT_NE(samples.status().message().find("answered HTTP 302"),
            std::string::npos)
      << samples.status();
  EXPECT_EQ(server.requests().size(), 1u);
}

TEST(PrometheusClient, HeaderInjectionIsRefusedBeforeAnyRequest) {
  ScriptedHttpServer server(InTurn({HttpReply(200, kOne)}));
  PrometheusOptions injected = Options(server.url());
  injected.headers["X-Scope"] = "a\r\nAuthorization: Bearer stolen";
  auto samples = PrometheusClient(injected).Query("up");
  ASSERT_FALSE(samples.ok());
  EXPECT_NE(samples.status().message().find("provider.prometheus.headers"),
            std::string::npos)
      << samples.status();
  PrometheusOptions token = Options(server.url());
  token.bearer_token = "t\nX: y";
  EXPECT_FALSE(PrometheusClient(token).Query("up").ok());
  EXPECT_TRUE(server.requests().empty());
}

TEST(PrometheusClient, SecretValuesBecomeTheAuthorizationHeader) {
  ScriptedHttpServer server(InTurn({HttpReply(200, kOne)}));
  PrometheusOptions bearer = Options(server.url());
  bearer.bearer_token = "from-a-secret";
  ASSERT_TRUE(PrometheusClient(bearer).Query("up").ok());
  PrometheusOptions basic = Options(server.url());
  basic.basic_auth_user = "u";
  basic.basic_auth_password = "p";
  ASSERT_TRUE(PrometheusClient(basic).Query("up").ok());
  ASSERT_EQ(server.requests().size(), 2u);
  EXPECT_EQ(server.requests()[0].headers.at("authorization"),
            "Bearer from-a-secret");
  EXPECT_EQ(server.requests()[1].headers.at("authorization"), "Basic dTpw");
}

TEST(PrometheusClient, NamesAreResolvedAndEveryAddressChecked) {
  ScriptedHttpServer server(InTurn({HttpReply(200, kOne)}));
  const std::string by_name =
      "http://localhost:" + server.url().substr(server.url().rfind(':') + 1);
  // Listed by name but resolving to loopback, which no CIDR allows.
  auto refused = PrometheusClient(Options(by_name, "localhost")).Query("up");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_NE(refused.status().message().find("resolves to"), std::string::npos)
      << refused.status();
  EXPECT_TRUE(server.requests().empty());
  auto allowed =
      PrometheusClient(Options(by_name, "127.0.0.0/8,::1")).Query("up");
  ASSERT_TRUE(allowed.ok()) << allowed.status();
  EXPECT_EQ(server.requests().size(), 1u);
  auto unknown =
      PrometheusClient(Options("http://no-such-host.invalid", "*.invalid"))
          .Query("up");
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kUnavailable)
      << unknown.status();
}

}  // namespace
}  // namespace smartcanary::analysis

// canaryctl's credentials: kubeconfig first, flags override, like kubectl.
#include "cli/credentials.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include "absl/strings/escaping.h"

namespace smartcanary::cli {
namespace {

using ::testing::HasSubstr;

class CredentialsTest : public ::testing::Test {
 protected:
  std::string Write(const std::string& name, const std::string& text) {
    const std::string path = dir_ + "/" + name;
    std::ofstream(path) << text;
    return path;
  }

  std::string Kubeconfig() {
    const std::string ca =
        absl::Base64Escape("-----BEGIN CERTIFICATE-----\nCA\n");
    const std::string cert = absl::Base64Escape("CLIENT CERT");
    const std::string key = absl::Base64Escape("CLIENT KEY");
    Write("dev-token", "  dev-token-value\n");
    return Write("kubeconfig", R"(apiVersion: v1
kind: Config
current-context: prod
clusters:
- name: c
  cluster: {server: "https://127.0.0.1:6443", certificate-authority-data: )" +
                                   ca + R"(}
contexts:
- name: prod
  context: {cluster: c, user: deployer, namespace: team-a}
- name: dev
  context: {cluster: c, user: dev}
- name: certs
  context: {cluster: c, user: cert-user}
users:
- name: deployer
  user: {token: prod-token}
- name: dev
  user: {tokenFile: dev-token}
- name: cert-user
  user: {client-certificate-data: )" +
                                   cert + ", client-key-data: " + key + R"(}
)");
  }

  const std::string dir_ = [] {
    const char* tmp = std::getenv("TEST_TMPDIR");
    return std::string(tmp != nullptr ? tmp : "/tmp");
  }();
};

TEST_F(CredentialsTest, TakesTokenCaAndNamespaceFromTheCurrentContext) {
  Args args;
  auto credentials = LoadCredentials(args, Kubeconfig(), "");
  ASSERT_TRUE(credentials.ok()) << credentials.status();
  EXPECT_EQ(credentials->token, "prod-token");
  EXPECT_EQ(credentials->ca_pem, "-----BEGIN CERTIFICATE-----\nCA\n");
  EXPECT_EQ(credentials->namespace_name, "team-a");
  EXPECT_FALSE(credentials->insecure);
}

TEST_F(CredentialsTest, ContextTokenFileAndClientCertificates) {
  Args args;
  args.kubeconfig = Kubeconfig();
  args.context = "dev";
  auto dev = LoadCredentials(args, "", "");
  ASSERT_TRUE(dev.ok()) << dev.status();
  EXPECT_EQ(dev->token, "dev-token-value");
  args.context = "certs";
  auto certs = LoadCredentials(args, "", "");
  ASSERT_TRUE(certs.ok()) << certs.status();
  EXPECT_EQ(certs->token, "");
  EXPECT_EQ(certs->client_cert_pem, "CLIENT CERT");
  EXPECT_EQ(certs->client_key_pem, "CLIENT KEY");
  args.context = "nope";
  auto missing = LoadCredentials(args, "", "");
  EXPECT_FALSE(missing.ok());
  EXPECT_THAT(missing.status().message(), HasSubstr("\"nope\""));
}

TEST_F(CredentialsTest, FlagsOverrideTheKubeconfig) {
  Args args;
  args.token = "flag-token";
  args.certificate_authority = Write("ca.pem", "FLAG CA");
  args.tls_server_name = "canaryd.smartcanary-system.svc";
  args.context = "certs";
  auto credentials = LoadCredentials(args, Kubeconfig(), "");
  ASSERT_TRUE(credentials.ok()) << credentials.status();
  EXPECT_EQ(credentials->token, "flag-token");
  EXPECT_EQ(credentials->ca_pem, "FLAG CA");
  EXPECT_EQ(credentials->server_name, "canaryd.smartcanary-system.svc");
  // The token is the identity: no client certificate besides.
  EXPECT_EQ(credentials->client_cert_pem, "");

  args = Args{};
  args.token_file = Write("token", "file-token\n");
  credentials = LoadCredentials(args, "", "");
  ASSERT_TRUE(credentials.ok()) << credentials.status();
  EXPECT_EQ(credentials->token, "file-token");
}

TEST_F(CredentialsTest, MissingDefaultKubeconfigIsFineNamedOnesAreNot) {
  Args args;
  args.insecure = true;
  auto none = LoadCredentials(args, dir_ + "/absent", dir_ + "/no-home");
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_TRUE(none->insecure);
  EXPECT_EQ(none->token, "");

  args.kubeconfig = dir_ + "/absent";
  auto named = LoadCredentials(args, "", "");
  EXPECT_EQ(named.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(named.status().message(), HasSubstr("--kubeconfig"));

  args = Args{};
  args.token_file = dir_ + "/absent-token";
  auto token = LoadCredentials(args, "", "");
  EXPECT_THAT(token.status().message(), HasSubstr("--token-file"));
}

TEST_F(CredentialsTest, ParsesTheCredentialFlags) {
  auto args = ParseArgs({"get", "r", "--kubeconfig=/k", "--context", "dev",
                         "--token-file", "/t", "--certificate-authority", "/ca",
                         "--tls-server-name", "canaryd", "--insecure"},
                        "localhost:9090");
  ASSERT_TRUE(args.ok()) << args.status();
  EXPECT_EQ(args->kubeconfig, "/k");
  EXPECT_EQ(args->context, "dev");
  EXPECT_EQ(args->token_file, "/t");
  EXPECT_EQ(args->certificate_authority, "/ca");
  EXPECT_EQ(args->tls_server_name, "canaryd");
  EXPECT_TRUE(args->insecure);
  EXPECT_FALSE(args->namespace_set);
  EXPECT_TRUE(ParseArgs({"list", "-n", "x"}, "s")->namespace_set);
}

}  // namespace
}  // namespace smartcanary::cli

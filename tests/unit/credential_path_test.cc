#include "analysis/credential_path.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

namespace smartcanary::analysis {
namespace {

constexpr char kField[] = "provider.prometheus.bearerTokenFile";

TEST(CredentialPath, InsideTheDirectoryIsNormalised) {
  EXPECT_EQ(*CredentialPath("/etc/creds", "/etc/creds/prom/token", kField),
            "/etc/creds/prom/token");
  EXPECT_EQ(*CredentialPath("/etc/creds/", "prom//./token", kField),
            "/etc/creds/prom/token");
}

TEST(CredentialPath, OutsideOrDotDotIsRefusedNamingTheField) {
  for (const char* path :
       {"/etc/shadow", "/etc/creds/../shadow", "../shadow", "/etc/creds",
        "/etc/credsX/token", "/var/run/secrets/kubernetes.io/token", "",
        "prom/../../shadow"}) {
    auto checked = CredentialPath("/etc/creds", path, kField);
    ASSERT_FALSE(checked.ok()) << path;
    EXPECT_EQ(checked.status().code(), absl::StatusCode::kPermissionDenied);
    EXPECT_NE(checked.status().message().find(kField), std::string::npos)
        << checked.status();
  }
  auto shadow = CredentialPath("/etc/creds", "/etc/shadow", kField);
  EXPECT_NE(shadow.status().message().find("--credentials-dir"),
            std::string::npos);
}

TEST(ResolveCredentialPath, ASymlinkOutOfTheDirectoryIsRefused) {
  char base[] = "/tmp/credential-path-XXXXXX";
  ASSERT_NE(mkdtemp(base), nullptr);
  const std::string dir = base;
  ASSERT_EQ(mkdir((dir + "/creds").c_str(), 0700), 0);
  std::ofstream(dir + "/creds/token") << "secret\n";
  std::ofstream(dir + "/outside") << "not yours\n";
  ASSERT_EQ(symlink((dir + "/outside").c_str(), (dir + "/creds/link").c_str()),
            0);
  ASSERT_EQ(symlink("token", (dir + "/creds/alias").c_str()), 0);

  auto token = ResolveCredentialPath(dir + "/creds", "token", kField);
  ASSERT_TRUE(token.ok()) << token.status();
  EXPECT_EQ(*token, dir + "/creds/token");
  // A link that stays inside is fine: Kubernetes mounts Secrets that way.
  auto alias = ResolveCredentialPath(dir + "/creds", "alias", kField);
  ASSERT_TRUE(alias.ok()) << alias.status();
  EXPECT_EQ(*alias, dir + "/creds/token");
  auto link = ResolveCredentialPath(dir + "/creds", "link", kField);
  ASSERT_FALSE(link.ok());
  EXPECT_EQ(link.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_NE(link.status().message().find("symbolic link"), std::string::npos);
  auto missing = ResolveCredentialPath(dir + "/creds", "absent", kField);
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(std::system(("rm -rf " + dir).c_str()), 0);
}

}  // namespace
}  // namespace smartcanary::analysis

// What the binaries call themselves: canaryctl as the kubectl plugin, the
// --version line, and which flags --help lists.
#include "cli/invocation.h"

#include "common/usage.h"
#include "common/version.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace smartcanary {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(CommandNameTest, KubectlPluginByItsFileName) {
  EXPECT_EQ(cli::CommandName("/usr/local/bin/kubectl-canary"),
            "kubectl canary");
  EXPECT_EQ(cli::CommandName("kubectl-canary"), "kubectl canary");
}

TEST(CommandNameTest, AnyOtherNameIsCanaryctl) {
  EXPECT_EQ(cli::CommandName("/opt/bin/canaryctl"), "canaryctl");
  EXPECT_EQ(cli::CommandName("./ctl"), "canaryctl");
  EXPECT_EQ(cli::CommandName(""), "canaryctl");
  // Only the file name counts, not a directory named like the plugin.
  EXPECT_EQ(cli::CommandName("/kubectl-canary/canaryctl"), "canaryctl");
}

TEST(UsageAsTest, NamesTheCommandAsTyped) {
  const std::string usage = cli::UsageAs("kubectl canary");
  EXPECT_THAT(usage, HasSubstr("Usage: kubectl canary COMMAND"));
  EXPECT_THAT(usage, Not(HasSubstr("canaryctl")));
  EXPECT_THAT(cli::UsageAs("canaryctl"), HasSubstr("Usage: canaryctl COMMAND"));
}

TEST(VersionLineTest, NamesProgramVersionAndRevision) {
  EXPECT_FALSE(Version().empty());
  // Tests are not stamped builds.
  EXPECT_EQ(Revision(), "unknown");
  EXPECT_EQ(
      VersionLine("canaryd"),
      std::string("canaryd ") + std::string(Version()) + " (revision unknown)");
}

TEST(IsOwnFlagFileTest, OursListedAbslsNot) {
  EXPECT_TRUE(IsOwnFlagFile("controller/main.cc"));
  EXPECT_TRUE(IsOwnFlagFile("analysis/main.cc"));
  EXPECT_FALSE(IsOwnFlagFile("absl/flags/parse.cc"));
  EXPECT_FALSE(IsOwnFlagFile("/build/abseil-1/absl/flags/internal/usage.cc"));
}

}  // namespace
}  // namespace smartcanary

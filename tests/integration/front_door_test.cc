// The three binaries' front doors, run as a user would: --version and
// --help, and canaryctl as a kubectl plugin through the real kubectl.
#include <stdlib.h>

#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/cluster_fixture.h"

namespace smartcanary::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::string Quote(const std::string& arg) { return "'" + arg + "'"; }

std::string ReleaseVersion() {
  std::ifstream in(RunfilePath("VERSION"));
  std::string version;
  in >> version;
  return version;
}

CommandResult RunBinary(const std::string& binary, const std::string& args) {
  return RunShell(absl::StrCat(Quote(RunfilePath(binary)), " ", args));
}

TEST(FrontDoorTest, VersionNamesReleaseAndRevision) {
  const std::string version = ReleaseVersion();
  ASSERT_FALSE(version.empty());
  for (const auto& [binary, name] :
       {std::pair<std::string, std::string>{"controller/canaryd", "canaryd"},
        {"analysis/canary-analyzer", "canary-analyzer"},
        {"cli/canaryctl", "canaryctl"}}) {
    const CommandResult result = RunBinary(binary, "--version");
    EXPECT_EQ(result.exit_code, 0) << result.output;
    // Test builds are unstamped: the revision is unknown.
    EXPECT_EQ(result.output,
              absl::StrCat(name, " ", version, " (revision unknown)\n"));
  }
}

TEST(FrontDoorTest, CanarydHelpSaysWhatItIsAndListsItsFlags) {
  const CommandResult result = RunBinary("controller/canaryd", "--help");
  EXPECT_EQ(result.exit_code, 1) << "absl exits 1 after --help";
  EXPECT_THAT(result.output, HasSubstr("rollout controller"));
  EXPECT_THAT(result.output, HasSubstr("Usage: canaryd [flags]"));
  EXPECT_THAT(result.output, HasSubstr("--grpc_listen"));
  EXPECT_THAT(result.output, HasSubstr("--leader_elect"));
  EXPECT_THAT(result.output, Not(HasSubstr("SetProgramUsageMessage")));
  EXPECT_THAT(result.output, Not(HasSubstr("No flags matched")));
  // absl's own flags are for --helpfull.
  EXPECT_THAT(result.output, Not(HasSubstr("--flagfile")));
}

TEST(FrontDoorTest, AnalyzerHelpSaysWhatItIsAndListsItsFlags) {
  const CommandResult result = RunBinary("analysis/canary-analyzer", "--help");
  EXPECT_THAT(result.output, HasSubstr("analysis service"));
  EXPECT_THAT(result.output, HasSubstr("Usage: canary-analyzer [flags]"));
  EXPECT_THAT(result.output, HasSubstr("--allowed_prometheus"));
  EXPECT_THAT(result.output, HasSubstr("--client_token_file"));
  EXPECT_THAT(result.output, Not(HasSubstr("No flags matched")));
}

TEST(FrontDoorTest, CanaryctlHelpNamesCanaryctl) {
  const CommandResult result = RunBinary("cli/canaryctl", "--help");
  EXPECT_EQ(result.exit_code, 0) << result.output;
  EXPECT_THAT(result.output, HasSubstr("Usage: canaryctl COMMAND"));
}

// kubectl runs `kubectl canary ARGS` as kubectl-canary ARGS when that is on
// PATH: the plugin is a link to canaryctl, as the image and the README
// install it.
TEST(FrontDoorTest, KubectlRunsCanaryctlAsPlugin) {
  const char* kubectl = std::getenv("KUBECTL");
  ASSERT_NE(kubectl, nullptr)
      << "run with --test_env=KUBECTL=... (scripts/test.sh)";
  std::string dir = absl::StrCat(std::getenv("TEST_TMPDIR"), "/plugin.XXXXXX");
  ASSERT_NE(mkdtemp(dir.data()), nullptr);
  const CommandResult link =
      RunShell(absl::StrCat("ln -s ", Quote(RunfilePath("cli/canaryctl")), " ",
                            Quote(dir + "/kubectl-canary")));
  ASSERT_EQ(link.exit_code, 0) << link.output;
  const std::string path =
      absl::StrCat("PATH=", Quote(dir), ":\"$PATH\" ", Quote(kubectl));

  const CommandResult help = RunShell(path + " canary --help");
  EXPECT_EQ(help.exit_code, 0) << help.output;
  EXPECT_THAT(help.output, HasSubstr("Usage: kubectl canary COMMAND"));
  EXPECT_THAT(help.output, Not(HasSubstr("canaryctl")));

  const CommandResult plugins = RunShell(path + " plugin list");
  EXPECT_THAT(plugins.output, HasSubstr(dir + "/kubectl-canary"));

  const CommandResult version = RunShell(path + " canary --version");
  EXPECT_EQ(version.exit_code, 0) << version.output;
  EXPECT_THAT(version.output, HasSubstr(ReleaseVersion()));
}

}  // namespace
}  // namespace smartcanary::testing

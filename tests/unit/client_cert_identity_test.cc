#include "controller/auth/client_cert_identity.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace smartcanary::auth {
namespace {

using ::testing::ElementsAre;

TEST(ClientCertIdentityTest, CommonNameIsTheUserOrganizationsTheGroups) {
  auto caller = CallerFromX509Subject("CN=alice,O=team-b,O=team-a");
  ASSERT_TRUE(caller.ok()) << caller.status();
  EXPECT_EQ(caller->user, "alice");
  EXPECT_THAT(caller->groups,
              ElementsAre("team-b", "team-a", "system:authenticated"));
}

TEST(ClientCertIdentityTest, UndoesEscapesAndIgnoresOtherAttributes) {
  auto caller = CallerFromX509Subject(
      "CN=ci\\, deploy+OU=ops,O=acme\\2Cinc,L=Berlin,C=DE");
  ASSERT_TRUE(caller.ok()) << caller.status();
  EXPECT_EQ(caller->user, "ci, deploy");
  EXPECT_THAT(caller->groups, ElementsAre("acme,inc", "system:authenticated"));
}

TEST(ClientCertIdentityTest, NoCommonNameIsNoIdentity) {
  auto caller = CallerFromX509Subject("O=team-a,C=DE");
  EXPECT_EQ(caller.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_NE(caller.status().message().find("CN"), std::string::npos);
  EXPECT_FALSE(CallerFromX509Subject("").ok());
  EXPECT_FALSE(CallerFromX509Subject("CN=").ok());
}

}  // namespace
}  // namespace smartcanary::auth

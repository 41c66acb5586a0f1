#include "controller/auth/rpc_policy.h"

#include <gtest/gtest.h>

#include "controller/auth/rpc_gate.h"

namespace smartcanary::auth {
namespace {

TEST(RpcPolicyTest, ReadsNeedGetOrList) {
  EXPECT_EQ(AccessFor(RolloutRpc::kGet, "a", "r"),
            (Access{"get", "canaryrollouts", "", "a", "r"}));
  // canaryctl status polls through WatchRollout: a read.
  EXPECT_EQ(AccessFor(RolloutRpc::kWatch, "a", "r"),
            (Access{"get", "canaryrollouts", "", "a", "r"}));
  EXPECT_EQ(AccessFor(RolloutRpc::kList, "a", "ignored"),
            (Access{"list", "canaryrollouts", "", "a", ""}));
  EXPECT_EQ(AccessFor(RolloutRpc::kList, "", ""),
            (Access{"list", "canaryrollouts", "", "", ""}));
}

TEST(RpcPolicyTest, StartCreatesOrUpdates) {
  EXPECT_EQ(AccessFor(RolloutRpc::kStart, "a", "r", /*exists=*/false).verb,
            "create");
  EXPECT_EQ(AccessFor(RolloutRpc::kStart, "a", "r", /*exists=*/true).verb,
            "update");
  EXPECT_EQ(AccessFor(RolloutRpc::kStart, "a", "r", true).subresource, "");
}

TEST(RpcPolicyTest, CommandsUpdateTheirSubresource) {
  for (RolloutRpc rpc :
       {RolloutRpc::kPromote, RolloutRpc::kPause, RolloutRpc::kResume}) {
    EXPECT_EQ(AccessFor(rpc, "a", "r"),
              (Access{"update", "canaryrollouts", "control", "a", "r"}));
  }
  for (RolloutRpc rpc : {RolloutRpc::kAbort, RolloutRpc::kRetry}) {
    EXPECT_EQ(AccessFor(rpc, "a", "r"),
              (Access{"update", "canaryrollouts", "abort", "a", "r"}));
  }
}

TEST(RpcPolicyTest, DescribeNamesVerbResourceAndNamespace) {
  EXPECT_EQ(Describe(AccessFor(RolloutRpc::kAbort, "team-b", "r")),
            "update canaryrollouts/abort.smartcanary.dev in namespace "
            "\"team-b\"");
  EXPECT_EQ(Describe(AccessFor(RolloutRpc::kList, "", "")),
            "list canaryrollouts.smartcanary.dev in all namespaces");
}

TEST(BearerTokenTest, AcceptsOnlyTheBearerScheme) {
  EXPECT_EQ(BearerToken("Bearer abc.def"), "abc.def");
  EXPECT_EQ(BearerToken("bearer  abc "), "abc");
  EXPECT_EQ(BearerToken("Basic dXNlcjpwYXNz"), std::nullopt);
  EXPECT_EQ(BearerToken("Bearer "), std::nullopt);
  EXPECT_EQ(BearerToken("Bearer"), std::nullopt);
  EXPECT_EQ(BearerToken(""), std::nullopt);
}

}  // namespace
}  // namespace smartcanary::auth

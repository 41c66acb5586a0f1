// canaryctl's output of server-provided text: a status message that tries to
// clear the screen or overwrite a line shows as visible escapes instead.
#include <gtest/gtest.h>

#include "cli/render.h"
#include "nlohmann/json.hpp"

namespace smartcanary::cli {
namespace {

const std::string kClearScreen = "\x1b[2J";

v1::Rollout HostileRollout() {
  v1::Rollout rollout;
  rollout.set_namespace_("shop");
  rollout.set_name("web\rfake");
  rollout.set_message(kClearScreen + "all good\rDegraded? no\n\x07");
  rollout.set_total_steps(1);
  rollout.mutable_spec()->add_steps()->set_set_weight(10);
  rollout.mutable_spec()->mutable_traffic_routing()->set_virtual_service(
      "vs\x1b]0;title\x07");
  rollout.add_warnings("w\x1b[1A");
  v1::RolloutCondition* condition = rollout.add_conditions();
  condition->set_type("Progressing");
  condition->set_message("c\x1b[31m");
  v1::AnalysisRunStatus* run = rollout.add_analysis_runs();
  run->set_name("run\r");
  v1::MetricStatus* metric = run->add_metrics();
  metric->set_name("m\x1b");
  metric->add_recent()->set_message("measured \x1b[2J\xc2\x9b");
  return rollout;
}

// No raw ESC, CR, BEL or C1 CSI; newlines only where the renderer put them.
void ExpectNoControls(const std::string& out) {
  EXPECT_EQ(out.find('\x1b'), std::string::npos) << out;
  EXPECT_EQ(out.find('\r'), std::string::npos) << out;
  EXPECT_EQ(out.find('\x07'), std::string::npos) << out;
  EXPECT_EQ(out.find("\xc2\x9b"), std::string::npos) << out;
}

TEST(RenderEscapeTest, TreeShowsControlCharactersAsEscapes) {
  const std::string out = RenderRolloutTree(HostileRollout());
  ExpectNoControls(out);
  EXPECT_NE(
      out.find("Message:       \\x1b[2Jall good\\rDegraded? no\\n\\x07\n"),
      std::string::npos)
      << out;
  EXPECT_NE(out.find("Name:          web\\rfake\n"), std::string::npos) << out;
  EXPECT_NE(out.find("measured \\x1b[2J\\u{009b}"), std::string::npos) << out;
}

TEST(RenderEscapeTest, TableShowsControlCharactersAsEscapes) {
  v1::ListRolloutsResponse list;
  *list.add_rollouts() = HostileRollout();
  const std::string out = RenderRolloutTable(list);
  ExpectNoControls(out);
  // Header and one row: the message's newline did not add a line.
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 2) << out;
}

TEST(RenderEscapeTest, JsonKeepsTheTextButNoRawControls) {
  v1::Rollout rollout = HostileRollout();
  const std::string out = RenderJson(RolloutToJson(rollout));
  ExpectNoControls(out);
  const nlohmann::json parsed = nlohmann::json::parse(out, nullptr, false);
  ASSERT_FALSE(parsed.is_discarded()) << out;
  // Escaped in the output, the same text once parsed.
  EXPECT_EQ(parsed["message"], rollout.message());
  EXPECT_EQ(parsed["analysis"][0]["metrics"][0]["name"], "m\x1b");
}

}  // namespace
}  // namespace smartcanary::cli

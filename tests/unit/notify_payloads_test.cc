// What a transition looks like to Kubernetes Events and to webhooks.
#include <gtest/gtest.h>

#include "controller/notify/notification.h"
#include "controller/notify/payloads.h"
#include "controller/notify/webhook_target.h"

namespace smartcanary::notify {
namespace {

using nlohmann::json;

CanaryRollout Rollout(Phase phase, int weight) {
  CanaryRollout r;
  r.namespace_name = "shop";
  r.name = "checkout";
  r.uid = "uid-1";
  r.resource_version = "42";
  r.status.phase = phase;
  r.status.canary_weight = weight;
  return r;
}

TEST(ReasonForTest, TransitionsAreCamelCaseWithWarningsForBadNews) {
  struct Case {
    RolloutEvent event;
    std::string reason;
    EventType type;
  };
  const Case cases[] = {
      {{"started", "x"}, "RolloutStarted", EventType::kNormal},
      {{"weight", "x"}, "WeightSet", EventType::kNormal},
      {{"paused", "x"}, "Paused", EventType::kNormal},
      {{"resumed", "x"}, "Resumed", EventType::kNormal},
      {{"promoted", "x"}, "Promoted", EventType::kNormal},
      {{"completed", "x"}, "Completed", EventType::kNormal},
      {{"retried", "x"}, "Retried", EventType::kNormal},
      {{"aborted", "x"}, "Aborted", EventType::kWarning},
      {{"rolled-back", "x"}, "RolledBack", EventType::kWarning},
      {{"warning", "x"}, "AnalysisWarning", EventType::kWarning},
      {{"progress-deadline", "x"},
       "ProgressDeadlineExceeded",
       EventType::kWarning},
      {{"analysis", "x", "Running"}, "AnalysisRunning", EventType::kNormal},
      {{"analysis", "x", "Successful"},
       "AnalysisSuccessful",
       EventType::kNormal},
      {{"analysis", "x", "Failed"}, "AnalysisFailed", EventType::kWarning},
      {{"analysis", "x", "Inconclusive"},
       "AnalysisInconclusive",
       EventType::kWarning},
      {{"analysis", "x", "Error"}, "AnalysisError", EventType::kWarning},
      {{"analysis", "x"}, "AnalysisMeasurement", EventType::kWarning},
      {{"some-new-kind", "x"}, "SomeNewKind", EventType::kNormal},
  };
  for (const Case& c : cases) {
    const Reason reason = ReasonFor(c.event);
    EXPECT_EQ(reason.reason, c.reason) << c.event.kind;
    EXPECT_EQ(reason.type, c.type) << c.event.kind;
  }
}

TEST(NotificationsForTest, CarriesBothPhasesTheWeightAndTheVerdict) {
  RolloutStatus before;
  before.phase = Phase::kProgressing;
  const absl::Time at = absl::FromUnixSeconds(1700000000);
  auto out = NotificationsFor(
      Rollout(Phase::kDegraded, 0), before,
      {{"analysis", "step 1 analysis Failed: errors", "Failed"},
       {"rolled-back", "rolled back: errors"}},
      at);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].reason, "AnalysisFailed");
  EXPECT_EQ(out[0].verdict, "Failed");
  EXPECT_EQ(out[1].reason, "RolledBack");
  EXPECT_EQ(out[1].type, EventType::kWarning);
  EXPECT_EQ(out[1].from_phase, "Progressing");
  EXPECT_EQ(out[1].to_phase, "Degraded");
  EXPECT_EQ(out[1].weight, 0);
  EXPECT_EQ(out[1].uid, "uid-1");
  EXPECT_EQ(out[1].at, at);
}

TEST(PayloadTest, GenericJsonHasEveryDocumentedField) {
  RolloutStatus before;
  before.phase = Phase::kPaused;
  auto n = NotificationsFor(Rollout(Phase::kProgressing, 50), before,
                            {{"weight", "canary weight 20 → 50 (stable 50)"}},
                            absl::FromUnixMillis(1700000000123))[0];
  EXPECT_EQ(GenericPayload(n),
            json({{"rollout", "checkout"},
                  {"namespace", "shop"},
                  {"uid", "uid-1"},
                  {"event", "weight"},
                  {"reason", "WeightSet"},
                  {"type", "Normal"},
                  {"fromPhase", "Paused"},
                  {"toPhase", "Progressing"},
                  {"weight", 50},
                  {"verdict", ""},
                  {"message", "canary weight 20 → 50 (stable 50)"},
                  {"time", "2023-11-14T22:13:20.123Z"}}));
}

TEST(PayloadTest, SlackHasFallbackTextAndBlocksWithMarkupEscaped) {
  RolloutStatus before;
  before.phase = Phase::kProgressing;
  auto n = NotificationsFor(
      Rollout(Phase::kDegraded, 0), before,
      {{"rolled-back", "p99 <!channel> & <http://evil|click>"}},
      absl::Now())[0];
  json slack = SlackPayload(n);
  const std::string text = slack["text"];
  EXPECT_NE(text.find(":warning: *shop/checkout* RolledBack: "),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("p99 &lt;!channel&gt; &amp; &lt;http://evil|click&gt;"),
            std::string::npos)
      << text;
  EXPECT_EQ(text.find("<!channel>"), std::string::npos);
  ASSERT_EQ(slack["blocks"].size(), 2u);
  EXPECT_EQ(slack["blocks"][0]["type"], "section");
  EXPECT_EQ(slack["blocks"][0]["text"]["type"], "mrkdwn");
  EXPECT_EQ(slack["blocks"][0]["text"]["text"], text);
  EXPECT_EQ(slack["blocks"][1]["type"], "context");
  EXPECT_EQ(slack["blocks"][1]["elements"][0]["text"],
            "Progressing → Degraded · canary 0%");
}

TEST(WebhookTargetTest, RedactionKeepsOnlySchemeAndHost) {
  EXPECT_EQ(RedactUrl("https://hooks.slack.com/services/T0/B0/secret"),
            "https://hooks.slack.com/…");
  EXPECT_EQ(RedactUrl("http://127.0.0.1:8080?token=abc"),
            "http://127.0.0.1:8080/…");
  EXPECT_EQ(RedactUrl("https://user:pw@example.com/x"),
            "https://…@example.com/…");
  EXPECT_EQ(RedactUrl("http://example.com"), "http://example.com");
  EXPECT_EQ(RedactUrl("secret-token"), "(not a URL)");
}

TEST(WebhookTargetTest, ParsesBothListsAndNamesTheFlagOfABadEntry) {
  auto targets = ParseWebhookTargets({"http://a.example/hook", " "},
                                     {"https://hooks.slack.com/services/x"});
  ASSERT_TRUE(targets.ok()) << targets.status();
  ASSERT_EQ(targets->size(), 2u);
  EXPECT_EQ((*targets)[0].format, WebhookFormat::kGeneric);
  EXPECT_EQ((*targets)[1].format, WebhookFormat::kSlack);

  auto bad = ParseWebhookTargets({}, {"ftp://hooks.slack.com/services/SECRET"});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  const std::string message(bad.status().message());
  EXPECT_NE(message.find("--notify-slack-url"), std::string::npos) << message;
  EXPECT_NE(message.find("not an http:// or https:// URL"), std::string::npos);
  EXPECT_EQ(message.find("SECRET"), std::string::npos) << message;

  auto no_host = ParseWebhookTargets({"https:///path"}, {});
  ASSERT_FALSE(no_host.ok());
  EXPECT_NE(no_host.status().message().find("--notify-webhook-url"),
            std::string::npos);
}

TEST(WebhookTargetTest, UrlsInAFileByCommaOrLineWithComments) {
  EXPECT_EQ(
      UrlsInText("# team hooks\nhttps://a/x, https://b/y\n\n  "
                 "https://c/z\r\n"),
      (std::vector<std::string>{"https://a/x", "https://b/y", "https://c/z"}));
  EXPECT_TRUE(UrlsInText("").empty());
}

}  // namespace
}  // namespace smartcanary::notify

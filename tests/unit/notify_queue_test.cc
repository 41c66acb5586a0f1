// Deliveries never hold up whoever publishes: bounded queues that drop the
// oldest, a receiver that never answers, Events through the fake recorder.
#include <gtest/gtest.h>

#include <atomic>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "controller/notify/delivery_queue.h"
#include "controller/notify/fake_event_recorder.h"
#include "controller/notify/recorder_sink.h"
#include "controller/notify/webhook_notifier.h"
#include "nlohmann/json.hpp"
#include "tests/unit/scripted_http_server.h"

namespace smartcanary::notify {
namespace {

using testing::HttpReply;
using testing::Reply;
using testing::ScriptedHttpServer;
using testing::SeenRequest;

// A generous guard against a hang, never a timing claim.
constexpr absl::Duration kGuard = absl::Seconds(20);

bool WaitUntil(const std::function<bool()>& done) {
  const absl::Time give_up = absl::Now() + kGuard;
  while (!done()) {
    if (absl::Now() > give_up) return false;
    absl::SleepFor(absl::Milliseconds(10));
  }
  return true;
}

TEST(DeliveryQueueTest, FullQueueDropsTheOldestAndCountsIt) {
  std::atomic<int> drops{0};
  absl::Mutex mu;
  std::vector<int> ran;
  absl::Notification started, release;
  {
    DeliveryQueue queue(3, [&] { ++drops; });
    queue.Push([&](const std::function<bool()>&) {
      started.Notify();
      release.WaitForNotification();
    });
    ASSERT_TRUE(started.WaitForNotificationWithTimeout(kGuard));
    for (int i = 1; i <= 5; ++i) {
      queue.Push([&, i](const std::function<bool()>&) {
        absl::MutexLock lock(&mu);
        ran.push_back(i);
      });
    }
    EXPECT_EQ(drops, 2);
    EXPECT_EQ(queue.pending(), 3u);
    release.Notify();
    ASSERT_TRUE(WaitUntil([&] {
      absl::MutexLock lock(&mu);
      return ran.size() == 3;
    }));
  }
  EXPECT_EQ(ran, (std::vector<int>{3, 4, 5}));
  EXPECT_EQ(drops, 2);
}

TEST(DeliveryQueueTest, StoppingEndsTheWaitUnderWayAndDropsTheRest) {
  std::atomic<int> drops{0};
  absl::Notification started;
  std::atomic<bool> saw_stop{false};
  DeliveryQueue queue(10, [&] { ++drops; });
  queue.Push([&](const std::function<bool()>& stopping) {
    started.Notify();
    while (!stopping()) absl::SleepFor(absl::Milliseconds(5));
    saw_stop = true;
  });
  ASSERT_TRUE(started.WaitForNotificationWithTimeout(kGuard));
  queue.Push([](const std::function<bool()>&) { FAIL() << "ran after Stop"; });
  queue.Push([](const std::function<bool()>&) { FAIL() << "ran after Stop"; });
  queue.Stop();
  EXPECT_TRUE(saw_stop);
  EXPECT_EQ(drops, 2);
  queue.Push([](const std::function<bool()>&) { FAIL() << "ran after Stop"; });
  EXPECT_EQ(drops, 3);
}

CanaryRollout Rollout() {
  CanaryRollout r;
  r.namespace_name = "shop";
  r.name = "checkout";
  r.uid = "uid-1";
  r.resource_version = "9";
  r.status.phase = Phase::kDegraded;
  r.status.canary_weight = 0;
  return r;
}

RolloutStatus Progressing() {
  RolloutStatus before;
  before.phase = Phase::kProgressing;
  before.canary_weight = 50;
  return before;
}

TEST(EventRecorderSinkTest, EveryEventReachesTheRecorderInOrder) {
  FakeEventRecorder recorder;
  Metrics metrics;
  EventRecorderSink sink(recorder, metrics);
  sink.PublishChange(Rollout(), Progressing(),
                     {{"analysis", "step 2 analysis Failed: errors", "Failed"},
                      {"weight", "canary weight 50 → 0 (stable 100)"},
                      {"rolled-back", "rolled back: errors"}});
  ASSERT_TRUE(WaitUntil([&] { return recorder.recorded().size() == 3; }));
  sink.Stop();
  auto recorded = recorder.recorded();
  EXPECT_EQ(recorded[0].reason, "AnalysisFailed");
  EXPECT_EQ(recorded[1].reason, "WeightSet");
  EXPECT_EQ(recorded[2].reason, "RolledBack");
  EXPECT_EQ(recorded[2].type, EventType::kWarning);
  EXPECT_EQ(recorded[2].message, "rolled back: errors");
  EXPECT_EQ(recorded[2].object.kind, "CanaryRollout");
  EXPECT_EQ(recorded[2].object.uid, "uid-1");
  EXPECT_EQ(recorded[2].object.resource_version, "9");
  EXPECT_EQ(metrics.Get("canaryd_notifications_total", "sink=\"kube-events\""),
            3u);
}

TEST(WebhookNotifierTest, AHangingReceiverDelaysNeitherPublishNorOthers) {
  ScriptedHttpServer hanging([](const SeenRequest&) {
    return Reply{"", /*hold_open=*/true};
  });
  ScriptedHttpServer generic(
      [](const SeenRequest&) { return HttpReply(204, ""); });
  ScriptedHttpServer slack(
      [](const SeenRequest&) { return HttpReply(200, "ok"); });
  Metrics metrics;
  WebhookOptions options;
  options.queue_limit = 2;
  options.timeout = absl::Hours(1);  // it hangs until canaryd stops
  {
    WebhookNotifier notifier(
        {{hanging.url() + "/hook", WebhookFormat::kGeneric},
         {generic.url() + "/hook", WebhookFormat::kGeneric},
         {slack.url() + "/services/x", WebhookFormat::kSlack}},
        options, metrics);
    notifier.PublishChange(Rollout(), Progressing(),
                           {{"rolled-back", "rolled back: first"}});
    ASSERT_TRUE(WaitUntil([&] { return hanging.requests().size() == 1; }));
    // Four more while the first hangs, each once the other receivers have
    // it (their queues stay short): the hanging one's queue of two keeps the
    // newest.
    size_t sent = 1;
    for (const char* text : {"second", "third", "fourth", "fifth"}) {
      ASSERT_TRUE(WaitUntil([&] {
        return generic.requests().size() == sent &&
               slack.requests().size() == sent;
      }));
      notifier.PublishChange(Rollout(), Progressing(), {{"paused", text}});
      ++sent;
    }
    EXPECT_EQ(metrics.Get("canaryd_notification_failures_total",
                          "sink=\"webhook\",reason=\"dropped\""),
              2u);
    ASSERT_TRUE(WaitUntil([&] {
      return generic.requests().size() == 5 && slack.requests().size() == 5;
    }));
    std::vector<std::string> messages;
    for (const SeenRequest& r : generic.requests()) {
      EXPECT_EQ(r.method, "POST");
      EXPECT_EQ(r.target, "/hook");
      EXPECT_EQ(r.headers.at("content-type"), "application/json");
      messages.push_back(nlohmann::json::parse(r.body)["message"]);
    }
    EXPECT_EQ(messages,
              (std::vector<std::string>{"rolled back: first", "second", "third",
                                        "fourth", "fifth"}));
    nlohmann::json first_slack =
        nlohmann::json::parse(slack.requests()[0].body);
    EXPECT_NE(first_slack["text"].get<std::string>().find(
                  "*shop/checkout* RolledBack: rolled back: first"),
              std::string::npos);
    EXPECT_TRUE(WaitUntil([&] {
      return metrics.Get("canaryd_notifications_total", "sink=\"slack\"") == 5;
    }));
  }
  // Stopping cut the hanging POST short; the two queued behind it are lost.
  EXPECT_EQ(metrics.Get("canaryd_notification_failures_total",
                        "sink=\"webhook\",reason=\"dropped\""),
            4u);
}

TEST(WebhookNotifierTest, FailuresAreRetriedThenCounted) {
  ScriptedHttpServer flaky(testing::InTurn(
      {HttpReply(503, "busy"), HttpReply(500, "oops"), HttpReply(200, "")}));
  ScriptedHttpServer refusing(
      [](const SeenRequest&) { return HttpReply(400, "bad body"); });
  Metrics metrics;
  WebhookOptions options;
  options.retry.initial_backoff = absl::Milliseconds(1);
  {
    WebhookNotifier notifier({{flaky.url(), WebhookFormat::kGeneric},
                              {refusing.url(), WebhookFormat::kSlack}},
                             options, metrics);
    notifier.PublishChange(Rollout(), Progressing(),
                           {{"rolled-back", "rolled back"}});
    ASSERT_TRUE(WaitUntil([&] {
      return metrics.Get("canaryd_notifications_total", "sink=\"webhook\"") ==
                 1 &&
             metrics.Get("canaryd_notification_failures_total",
                         "sink=\"slack\",reason=\"failed\"") == 1;
    }));
  }
  EXPECT_EQ(flaky.requests().size(), 3u);
  EXPECT_EQ(refusing.requests().size(), 1u);  // a 4xx is not repeated
}

}  // namespace
}  // namespace smartcanary::notify

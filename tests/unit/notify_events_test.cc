// Event aggregation, pure and through the API adapter (in-memory server): a
// flapping rollout writes a few Events with counts, not thousands.
#include <gtest/gtest.h>

#include <set>

#include "absl/strings/str_cat.h"
#include "controller/kube/fake_kube.h"
#include "controller/kube/kube_event_recorder.h"
#include "controller/notify/event_aggregator.h"

namespace smartcanary::notify {
namespace {

const ObjectRef kRollout{"smartcanary.dev/v1alpha1",
                         "CanaryRollout",
                         "shop",
                         "checkout",
                         "uid-1",
                         "7"};
const absl::Time kT0 = absl::FromUnixSeconds(1700000000);

TEST(EventAggregatorTest, RepeatsOfOneMessageAreOneEventWithACount) {
  EventAggregator aggregator;
  EventWrite first = aggregator.Observe(kRollout, EventType::kNormal, "Paused",
                                        "paused at step 2", kT0);
  EXPECT_TRUE(first.create);
  EXPECT_EQ(first.count, 1);
  EXPECT_EQ(first.event_name.rfind("checkout.", 0), 0u) << first.event_name;
  for (int i = 1; i <= 1000; ++i) {
    EventWrite again =
        aggregator.Observe(kRollout, EventType::kNormal, "Paused",
                           "paused at step 2", kT0 + absl::Seconds(i));
    ASSERT_FALSE(again.create);
    ASSERT_EQ(again.event_name, first.event_name);
    ASSERT_EQ(again.count, i + 1);
    ASSERT_EQ(again.first, kT0);
    ASSERT_EQ(again.last, kT0 + absl::Seconds(i));
  }
}

TEST(EventAggregatorTest, DifferentReasonTypeMessageOrObjectAreOtherEvents) {
  EventAggregator aggregator;
  std::set<std::string> names;
  ObjectRef other = kRollout;
  other.uid = "uid-2";  // recreated under the same name
  names.insert(
      aggregator.Observe(kRollout, EventType::kNormal, "Paused", "a", kT0)
          .event_name);
  names.insert(
      aggregator.Observe(kRollout, EventType::kNormal, "Paused", "b", kT0)
          .event_name);
  names.insert(
      aggregator.Observe(kRollout, EventType::kNormal, "Resumed", "a", kT0)
          .event_name);
  names.insert(
      aggregator.Observe(kRollout, EventType::kWarning, "Paused", "a", kT0)
          .event_name);
  names.insert(aggregator.Observe(other, EventType::kNormal, "Paused", "a", kT0)
                   .event_name);
  EXPECT_EQ(names.size(), 5u);
}

TEST(EventAggregatorTest, ManyDistinctMessagesOfOneReasonAreCombined) {
  EventAggregator aggregator({.max_similar = 10});
  std::set<std::string> names;
  EventWrite last;
  for (int i = 0; i < 500; ++i) {
    last = aggregator.Observe(
        kRollout, EventType::kWarning, "AnalysisMeasurement",
        absl::StrCat("errors ", i, "%"), kT0 + absl::Seconds(i));
    names.insert(last.event_name);
  }
  // Ten Events with their own messages, then one that counts the rest.
  EXPECT_EQ(names.size(), 11u);
  EXPECT_FALSE(last.create);
  EXPECT_EQ(last.message, std::string(kCombinedPrefix) + "errors 499%");
  EXPECT_EQ(last.count, 490);
  // A message seen before the cap still counts on its own Event.
  EventWrite early =
      aggregator.Observe(kRollout, EventType::kWarning, "AnalysisMeasurement",
                         "errors 3%", kT0 + absl::Seconds(500));
  EXPECT_EQ(early.message, "errors 3%");
  EXPECT_EQ(early.count, 2);
}

TEST(EventAggregatorTest, AnEventUnseenForTheTtlIsWrittenAnew) {
  EventAggregator aggregator({.ttl = absl::Minutes(50)});
  aggregator.Observe(kRollout, EventType::kNormal, "Paused", "a", kT0);
  EventWrite later = aggregator.Observe(kRollout, EventType::kNormal, "Paused",
                                        "a", kT0 + absl::Hours(2));
  EXPECT_TRUE(later.create);
  EXPECT_EQ(later.count, 1);
}

TEST(EventAggregatorTest, MemoryIsBounded) {
  EventAggregator aggregator({.max_similar = 1000000, .max_entries = 100});
  for (int i = 0; i < 1000; ++i) {
    aggregator.Observe(kRollout, EventType::kNormal, "WeightSet",
                       absl::StrCat(i), kT0 + absl::Milliseconds(i));
  }
  // The oldest were forgotten: writing it again creates (and the adapter
  // continues the count it finds on the server).
  EXPECT_TRUE(aggregator
                  .Observe(kRollout, EventType::kNormal, "WeightSet", "0",
                           kT0 + absl::Seconds(2))
                  .create);
}

nlohmann::json EventAt(const kube::FakeKube& kube, const std::string& name) {
  auto event = kube.Peek("/api/v1/namespaces/shop/events/" + name);
  EXPECT_TRUE(event.ok()) << event.status();
  return event.ok() ? *event : nlohmann::json();
}

TEST(KubeEventRecorderTest, CreatesThenCountsOnTheSameEvent) {
  kube::FakeKube kube;
  kube::KubeEventRecorder recorder(kube, "canaryd", "canaryd-0");
  ASSERT_TRUE(recorder
                  .Record(kRollout, EventType::kWarning, "RolledBack",
                          "rolled back: errors", kT0)
                  .ok());
  ASSERT_TRUE(recorder
                  .Record(kRollout, EventType::kWarning, "RolledBack",
                          "rolled back: errors", kT0 + absl::Seconds(30))
                  .ok());
  auto list = kube.List("/api/v1/namespaces/shop/events");
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->items.size(), 1u);
  const nlohmann::json& event = list->items[0];
  EXPECT_EQ(event["involvedObject"],
            nlohmann::json({{"apiVersion", "smartcanary.dev/v1alpha1"},
                            {"kind", "CanaryRollout"},
                            {"namespace", "shop"},
                            {"name", "checkout"},
                            {"uid", "uid-1"},
                            {"resourceVersion", "7"}}));
  EXPECT_EQ(event["reason"], "RolledBack");
  EXPECT_EQ(event["type"], "Warning");
  EXPECT_EQ(event["message"], "rolled back: errors");
  EXPECT_EQ(event["count"], 2);
  EXPECT_EQ(event["firstTimestamp"], "2023-11-14T22:13:20Z");
  EXPECT_EQ(event["lastTimestamp"], "2023-11-14T22:13:50Z");
  EXPECT_EQ(event["source"]["component"], "canaryd");
  EXPECT_EQ(event["reportingInstance"], "canaryd-0");
}

TEST(KubeEventRecorderTest, ARestartedCanarydContinuesTheCount) {
  kube::FakeKube kube;
  std::string name;
  {
    kube::KubeEventRecorder first(kube, "canaryd", "");
    ASSERT_TRUE(
        first.Record(kRollout, EventType::kNormal, "Paused", "held", kT0).ok());
    ASSERT_TRUE(first
                    .Record(kRollout, EventType::kNormal, "Paused", "held",
                            kT0 + absl::Seconds(1))
                    .ok());
  }
  kube::KubeEventRecorder second(kube, "canaryd", "");
  ASSERT_TRUE(second
                  .Record(kRollout, EventType::kNormal, "Paused", "held",
                          kT0 + absl::Seconds(2))
                  .ok());
  auto list = kube.List("/api/v1/namespaces/shop/events");
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->items.size(), 1u);
  EXPECT_EQ(list->items[0]["count"], 3);
  EXPECT_EQ(list->items[0]["firstTimestamp"], "2023-11-14T22:13:20Z");
  EXPECT_EQ(list->items[0]["lastTimestamp"], "2023-11-14T22:13:22Z");
}

TEST(KubeEventRecorderTest, AnEventDeletedMeanwhileIsCreatedAgain) {
  kube::FakeKube kube;
  kube::KubeEventRecorder recorder(kube, "canaryd", "");
  ASSERT_TRUE(
      recorder.Record(kRollout, EventType::kNormal, "Paused", "held", kT0)
          .ok());
  auto list = kube.List("/api/v1/namespaces/shop/events");
  ASSERT_TRUE(list.ok());
  const std::string name = list->items[0]["metadata"]["name"];
  ASSERT_TRUE(kube.Delete("/api/v1/namespaces/shop/events/" + name).ok());
  ASSERT_TRUE(recorder
                  .Record(kRollout, EventType::kNormal, "Paused", "held",
                          kT0 + absl::Seconds(5))
                  .ok());
  nlohmann::json event = EventAt(kube, name);
  EXPECT_EQ(event["count"], 1);
  EXPECT_EQ(event["firstTimestamp"], "2023-11-14T22:13:25Z");
}

TEST(KubeEventRecorderTest, LongMessagesAreCutToWhatTheServerTakes) {
  kube::FakeKube kube;
  kube::KubeEventRecorder recorder(kube, "canaryd", "");
  ASSERT_TRUE(recorder
                  .Record(kRollout, EventType::kWarning, "AnalysisFailed",
                          std::string(5000, 'x'), kT0)
                  .ok());
  auto list = kube.List("/api/v1/namespaces/shop/events");
  ASSERT_TRUE(list.ok());
  EXPECT_LE(list->items[0]["message"].get<std::string>().size(), 1024u);
}

}  // namespace
}  // namespace smartcanary::notify

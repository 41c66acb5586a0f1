#include "controller/work_queue.h"

#include <gtest/gtest.h>

#include <thread>

namespace smartcanary {
namespace {

TEST(WorkQueueTest, RepeatedAddsOfAKeyBecomeOneItem) {
  WorkQueue queue;
  queue.Add("default/a");
  queue.Add("default/a");
  queue.Add("default/b");
  std::set<std::string> got = {*queue.Next(), *queue.Next()};
  EXPECT_EQ(got, (std::set<std::string>{"default/a", "default/b"}));
  queue.Add("default/c", absl::Hours(1));
  queue.ShutDown();
  EXPECT_FALSE(queue.Next().has_value());
}

TEST(WorkQueueTest, AnEarlierDueTimeWinsAndDueKeysComeFirst) {
  WorkQueue queue;
  queue.Add("later", absl::Hours(1));
  queue.Add("now");
  queue.Add("later");  // moved up to now
  std::set<std::string> got = {*queue.Next(), *queue.Next()};
  EXPECT_EQ(got, (std::set<std::string>{"now", "later"}));
}

TEST(WorkQueueTest, InfiniteDelayQueuesNothingAndAddWakesAWaiter) {
  WorkQueue queue;
  queue.Add("never", absl::InfiniteDuration());
  std::thread adder([&] {
    absl::SleepFor(absl::Milliseconds(50));
    queue.Add("woken");
  });
  EXPECT_EQ(*queue.Next(), "woken");
  adder.join();
}

}  // namespace
}  // namespace smartcanary

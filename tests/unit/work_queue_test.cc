#include "controller/work_queue.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

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

TEST(WorkQueueTest, AKeyHeldByAWorkerIsNotHandedToAnother) {
  WorkQueue queue;
  queue.Add("a");
  ASSERT_EQ(*queue.Next(), "a");
  queue.Add("a");  // an event while a worker reconciles "a"
  queue.Add("b");
  EXPECT_EQ(*queue.Next(), "b");  // not "a": it is still held
  EXPECT_EQ(queue.Length(), 1u);
  queue.Done("b");
  queue.Done("a");  // now "a" comes back, once
  EXPECT_EQ(*queue.Next(), "a");
  queue.Done("a");
  EXPECT_EQ(queue.Length(), 0u);
}

TEST(WorkQueueTest, ManyWorkersNeverHoldOneKeyTwice) {
  WorkQueue queue;
  std::atomic<int> held[4] = {};
  std::atomic<bool> overlap{false};
  std::atomic<int> handled{0};
  std::vector<std::thread> workers;
  for (int w = 0; w < 4; ++w) {
    workers.emplace_back([&] {
      while (auto key = queue.Next()) {
        const int k = (*key)[0] - 'a';
        if (held[k].fetch_add(1) != 0) overlap = true;
        absl::SleepFor(absl::Microseconds(200));
        held[k].fetch_sub(1);
        ++handled;
        queue.Done(*key);
      }
    });
  }
  for (int i = 0; i < 400; ++i) queue.Add(std::string(1, 'a' + i % 4));
  // Every key is eventually handled after its last Add.
  while (queue.Length() > 0) absl::SleepFor(absl::Milliseconds(5));
  queue.ShutDown();
  for (auto& worker : workers) worker.join();
  EXPECT_FALSE(overlap);
  EXPECT_GE(handled.load(), 4);
}

}  // namespace
}  // namespace smartcanary

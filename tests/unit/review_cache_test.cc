#include "controller/auth/review_cache.h"

#include <gtest/gtest.h>

namespace smartcanary::auth {
namespace {

const absl::Time kStart = absl::FromUnixSeconds(1'000'000);

TEST(ReviewCacheTest, AnswersUntilExpiry) {
  ReviewCache<int> cache(8);
  cache.Put("k", 1, kStart + absl::Seconds(60), kStart);
  EXPECT_EQ(cache.Find("k", kStart), 1);
  EXPECT_EQ(cache.Find("k", kStart + absl::Seconds(59)), 1);
  EXPECT_EQ(cache.Find("k", kStart + absl::Seconds(60)), std::nullopt);
  EXPECT_EQ(cache.Find("other", kStart), std::nullopt);
}

TEST(ReviewCacheTest, ReplacesAnEntry) {
  ReviewCache<int> cache(8);
  cache.Put("k", 1, kStart + absl::Seconds(60), kStart);
  cache.Put("k", 2, kStart + absl::Seconds(10), kStart);
  EXPECT_EQ(cache.Find("k", kStart), 2);
  EXPECT_EQ(cache.Find("k", kStart + absl::Seconds(30)), std::nullopt);
  EXPECT_EQ(cache.size(), 1u);
}

TEST(ReviewCacheTest, StaysWithinItsBoundDroppingExpiredThenSoonest) {
  ReviewCache<int> cache(3);
  cache.Put("expired", 0, kStart + absl::Seconds(1), kStart);
  cache.Put("soon", 1, kStart + absl::Seconds(20), kStart);
  cache.Put("late", 2, kStart + absl::Seconds(90), kStart);
  const absl::Time later = kStart + absl::Seconds(5);
  cache.Put("new1", 3, later + absl::Seconds(60), later);  // drops "expired"
  EXPECT_EQ(cache.size(), 3u);
  EXPECT_EQ(cache.Find("soon", later), 1);
  cache.Put("new2", 4, later + absl::Seconds(60), later);  // drops "soon"
  EXPECT_EQ(cache.size(), 3u);
  EXPECT_EQ(cache.Find("soon", later), std::nullopt);
  EXPECT_EQ(cache.Find("late", later), 2);
  EXPECT_EQ(cache.Find("new1", later), 3);
  EXPECT_EQ(cache.Find("new2", later), 4);
}

TEST(ReviewCacheTest, KeepsNothingAlreadyExpiredOrWithoutRoom) {
  ReviewCache<int> none(0);
  none.Put("k", 1, kStart + absl::Seconds(60), kStart);
  EXPECT_EQ(none.Find("k", kStart), std::nullopt);
  ReviewCache<int> cache(4);
  cache.Put("k", 1, kStart, kStart);
  EXPECT_EQ(cache.size(), 0u);
}

}  // namespace
}  // namespace smartcanary::auth

#include "analysis/history_tiers.h"

#include <gtest/gtest.h>

#include <cmath>

namespace smartcanary::analysis {
namespace {

const absl::Time kStart = absl::FromUnixSeconds(1'700'000'000);
const absl::Duration k5s = absl::Seconds(5);

TEST(HistoryTiersTest, NothingUntilTheFirstIntervalCloses) {
  EXPECT_TRUE(HistoryTiers(kStart, kStart, k5s).empty());
  EXPECT_TRUE(HistoryTiers(kStart, kStart + absl::Seconds(4), k5s).empty());
  EXPECT_TRUE(HistoryTiers(kStart, kStart - absl::Hours(1), k5s).empty());
  auto one = HistoryTiers(kStart, kStart + k5s, k5s);
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0].intervals, 1);
}

TEST(HistoryTiersTest, AShortRolloutIsOneTierAtTheBaseStep) {
  auto tiers =
      HistoryTiers(kStart, kStart + absl::Minutes(30) + absl::Seconds(3), k5s);
  ASSERT_EQ(tiers.size(), 1u);
  EXPECT_EQ(tiers[0].start, kStart);
  EXPECT_EQ(tiers[0].step, k5s);
  EXPECT_EQ(tiers[0].intervals, 360);  // the open interval is left out
}

TEST(HistoryTiersTest, ThirtyHoursAreThreeTiersOfDoublingSteps) {
  const absl::Time now = kStart + absl::Hours(30);
  auto tiers = HistoryTiers(kStart, now, k5s);
  ASSERT_EQ(tiers.size(), 3u);
  EXPECT_EQ(tiers[0].step, absl::Seconds(5));
  EXPECT_EQ(tiers[0].end(), kStart + absl::Hours(6));
  EXPECT_EQ(tiers[1].start, tiers[0].end());
  EXPECT_EQ(tiers[1].step, absl::Seconds(10));
  EXPECT_EQ(tiers[1].end(), kStart + absl::Hours(18));
  EXPECT_EQ(tiers[2].step, absl::Seconds(20));
  EXPECT_EQ(tiers[2].intervals, 12 * 3600 / 20);
  EXPECT_EQ(tiers[2].end(), now);
}

TEST(HistoryTiersTest, EveryQueryStaysUnderPrometheusLimitForAMonth) {
  for (absl::Duration age :
       {absl::Hours(15), absl::Hours(24 * 7), absl::Hours(24 * 30)}) {
    for (absl::Duration base : {absl::Seconds(1), k5s, absl::Seconds(60)}) {
      auto tiers = HistoryTiers(kStart, kStart + age, base);
      ASSERT_FALSE(tiers.empty());
      int total = 0;
      for (size_t i = 0; i < tiers.size(); ++i) {
        EXPECT_LE(tiers[i].intervals + 1, 11'000);  // points of one query
        EXPECT_EQ(tiers[i].start, i == 0 ? kStart : tiers[i - 1].end());
        total += tiers[i].intervals;
      }
      // The window is covered to within one interval of now.
      EXPECT_GT(tiers.back().end() + tiers.back().step, kStart + age);
      EXPECT_LE(tiers.back().end(), kStart + age);
      // Cost grows with the log of the age, not the age.
      const double doublings = std::log2(1 + age / (kIntervalsPerTier * base));
      EXPECT_LE(tiers.size(), 1 + doublings) << age << " at " << base;
      EXPECT_LE(total, kIntervalsPerTier * static_cast<int>(tiers.size()));
    }
  }
}

TEST(HistoryTiersTest, ClosedIntervalsNeverMoveAsTimePasses) {
  // The sequential test needs the same intervals at every look.
  auto earlier = HistoryTiers(kStart, kStart + absl::Hours(20), k5s);
  auto later = HistoryTiers(kStart, kStart + absl::Hours(50), k5s);
  ASSERT_LE(earlier.size(), later.size());
  for (size_t i = 0; i < earlier.size(); ++i) {
    EXPECT_EQ(earlier[i].start, later[i].start);
    EXPECT_EQ(earlier[i].step, later[i].step);
    EXPECT_LE(earlier[i].intervals, later[i].intervals);
  }
}

}  // namespace
}  // namespace smartcanary::analysis

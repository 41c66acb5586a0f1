// canaryctl backtest's input: CSV errors name the line and the column, and
// the flags become the request or an error naming the flag.
#include "cli/backtest_csv.h"

#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "cli/backtest_request.h"

namespace smartcanary::cli {
namespace {

TEST(BacktestCsv, ReadsLinesSkippingHeaderCommentsAndBlanks) {
  auto counts = ParseBacktestCsv(
      "interval_end_seconds,canary_events,canary_requests,baseline_events,"
      "baseline_requests,configured_canary_share\n"
      "# a comment\n"
      "5,1,100,3,400,0.2\n"
      "\n"
      " 10 , 0 , 90 , 2 , 410 , 0.2 \n");
  ASSERT_TRUE(counts.ok()) << counts.status();
  ASSERT_EQ(counts->intervals_size(), 2);
  EXPECT_EQ(counts->intervals(1).end_seconds(), 10);
  EXPECT_EQ(counts->intervals(1).canary_requests(), 90);
  EXPECT_EQ(counts->intervals(1).baseline_events(), 2);
  EXPECT_EQ(counts->intervals(1).configured_canary_share(), 0.2);
}

TEST(BacktestCsv, ErrorsNameLineAndColumn) {
  const std::pair<const char*, const char*> cases[] = {
      {"5,1,100,3,400,0.2\n10,x,100,3,400,0.2\n",
       "line 2, column 2 (canary_events): \"x\" is not a finite number"},
      {"5,1,100,3,400\n", "line 1: 5 columns, want 6"},
      {"5,1,100,3,400,0.2\n5,1,100,3,400,0.2\n",
       "line 2, column 1 (interval_end_seconds): must be later than the "
       "previous line's end"},
      {"5,101,100,3,400,0.2\n",
       "line 1, column 2 (canary_events): exceeds canary_requests (column 3)"},
      {"5,1,100,3,-400,0.2\n",
       "line 1, column 5 (baseline_requests): must be >= 0"},
      {"5,1,100,3,400,1.2\n",
       "line 1, column 6 (configured_canary_share): must be a fraction in [0, "
       "1]"},
      {"5.5,1,100,3,400,0.2\n",
       "line 1, column 1 (interval_end_seconds): must be whole seconds"},
      {"5,nan,100,3,400,0.2\n",
       "line 1, column 2 (canary_events): \"nan\" is not a finite number"},
      {"", "standard input: no intervals"},
  };
  for (const auto& [text, want] : cases) {
    auto counts = ParseBacktestCsv(text);
    ASSERT_FALSE(counts.ok()) << text;
    EXPECT_TRUE(absl::StartsWith(counts.status().message(), want))
        << counts.status().message();
  }
}

Args BacktestArgs(std::map<std::string, std::string> flags, bool csv) {
  Args args;
  args.command = "backtest";
  args.backtest = std::move(flags);
  args.csv = csv;
  return args;
}

TEST(BacktestRequest, CsvWithJudgeParameters) {
  auto request = BuildBacktestRequest(
      BacktestArgs(
          {{"--alpha", "0.05"}, {"--margin", "0"}, {"--judge-every", "6"}},
          true),
      "5,1,100,3,400,0.2\n", absl::Now());
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->alpha(), 0.05);
  EXPECT_TRUE(request->has_margin());
  EXPECT_EQ(request->margin(), 0);
  EXPECT_FALSE(request->has_max_burst());
  EXPECT_EQ(request->judge_every(), 6);
  EXPECT_EQ(request->counts().intervals_size(), 1);
}

TEST(BacktestRequest, PrometheusRangeWithIstioPreset) {
  auto request =
      BuildBacktestRequest(BacktestArgs({{"--prometheus", "http://prom:9090"},
                                         {"--service", "checkout"},
                                         {"--canary", "version=v2"},
                                         {"--baseline", "version=v1"},
                                         {"--start", "2026-11-27T10:00:00Z"},
                                         {"--end", "1795779000"},
                                         {"--weights",
                                          "2026-11-27T10:00:00Z=20,"
                                          "2026-11-27T10:05:00Z=50"},
                                         {"--step", "10s"}},
                                        false),
                           "", absl::Now());
  ASSERT_TRUE(request.ok()) << request.status();
  const v1::BacktestRange& range = request->range();
  EXPECT_EQ(range.provider().prometheus().address(), "http://prom:9090");
  EXPECT_EQ(range.provider().istio().canary().at("version"), "v2");
  EXPECT_EQ(range.provider().istio().event(), "grpc-errors");
  EXPECT_EQ(range.provider().resolution_seconds(), 10);
  EXPECT_EQ(range.start().seconds(), 1795773600);
  EXPECT_EQ(range.end().seconds(), 1795779000);
  ASSERT_EQ(range.weight_timeline_size(), 2);
  EXPECT_EQ(range.weight_timeline(1).canary_weight(), 50);
}

TEST(BacktestRequest, BadFlagsNameTheFlag) {
  const std::pair<std::map<std::string, std::string>, const char*> cases[] = {
      {{}, "--prometheus: is required"},
      {{{"--prometheus", "http://p"}}, "--start: is required"},
      {{{"--prometheus", "http://p"}, {"--start", "yesterday"}},
       "--start: \"yesterday\" is neither RFC 3339"},
      {{{"--prometheus", "http://p"}, {"--start", "100"}, {"--end", "50"}},
       "--end: must be after --start"},
      {{{"--prometheus", "http://p"}, {"--start", "100"}, {"--end", "200"}},
       "--weights: is required"},
      {{{"--prometheus", "http://p"},
        {"--start", "100"},
        {"--end", "200"},
        {"--weights", "120"}},
       "--weights: \"120\" is not a weight in 0..100"},
      {{{"--prometheus", "http://p"},
        {"--start", "100"},
        {"--end", "200"},
        {"--weights", "20"},
        {"--canary-events", "sum(x)"}},
       "--canary-events: give all four counter queries"},
      {{{"--prometheus", "http://p"},
        {"--start", "100"},
        {"--end", "200"},
        {"--weights", "20"},
        {"--service", "s"},
        {"--canary", "v2"}},
       "--canary: \"v2\" is not LABEL=VALUE"},
      {{{"--alpha", "lots"}}, "--alpha: \"lots\" is not a number"},
      {{{"--judge-every", "0"}}, "--judge-every: must be a whole number >= 1"},
  };
  for (const auto& [flags, want] : cases) {
    auto request = BuildBacktestRequest(BacktestArgs(flags, false), "",
                                        absl::FromUnixSeconds(1000));
    ASSERT_FALSE(request.ok()) << want;
    EXPECT_TRUE(absl::StartsWith(request.status().message(), want))
        << request.status().message();
  }
}

}  // namespace
}  // namespace smartcanary::cli

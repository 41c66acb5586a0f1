#include "analysis/prometheus_response.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

namespace smartcanary::analysis {
namespace {

std::string Vector(const std::string& items) {
  return R"({"status":"success","data":{"resultType":"vector","result":[)" +
         items + "]}}";
}

std::string Matrix(const std::string& items) {
  return R"({"status":"success","data":{"resultType":"matrix","result":[)" +
         items + "]}}";
}

// The error message of a query answer that must be refused.
std::string QueryError(const std::string& body) {
  auto samples = ParseQueryResponse(body);
  EXPECT_FALSE(samples.ok()) << body;
  return std::string(samples.status().message());
}

std::string RangeError(const std::string& body) {
  auto series = ParseRangeResponse(body);
  EXPECT_FALSE(series.ok()) << body;
  return std::string(series.status().message());
}

TEST(ParseQueryResponse, ReadsVectorsAndScalars) {
  auto samples = ParseQueryResponse(
      Vector(R"({"metric":{"pod":"a"},"value":[1700000000.5,"0.25"]},)"
             R"({"metric":{},"value":[1700000000.5,"NaN"]},)"
             R"({"value":[1700000000.5,"+Inf"]})"));
  ASSERT_TRUE(samples.ok()) << samples.status();
  ASSERT_EQ(samples->size(), 3u);
  EXPECT_EQ((*samples)[0].labels.at("pod"), "a");
  EXPECT_DOUBLE_EQ((*samples)[0].value, 0.25);
  EXPECT_TRUE(std::isnan((*samples)[1].value));
  EXPECT_TRUE(std::isinf((*samples)[2].value));
  auto scalar = ParseQueryResponse(
      R"({"status":"success","data":{"resultType":"scalar","result":[1,"3"]}})");
  ASSERT_TRUE(scalar.ok()) << scalar.status();
  ASSERT_EQ(scalar->size(), 1u);
  EXPECT_DOUBLE_EQ((*scalar)[0].value, 3);
  auto empty = ParseQueryResponse(Vector(""));
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
}

TEST(ParseQueryResponse, MalformedAnswersAreErrorsNamingThePath) {
  EXPECT_NE(QueryError(Vector(R"({"metric":{}})"))
                .find("data.result[0].value: is missing"),
            std::string::npos);
  EXPECT_NE(QueryError(Vector(R"({"metric":{},"value":[]})"))
                .find("data.result[0].value"),
            std::string::npos);
  EXPECT_NE(QueryError(Vector(R"({"value":[1,"abc"]})")).find("not a number"),
            std::string::npos);
  EXPECT_NE(QueryError(Vector(R"({"value":[1,0.5]})")).find("[1]"),
            std::string::npos);
  EXPECT_NE(QueryError(Vector(R"({"value":["1","0.5"]})")).find("[0]"),
            std::string::npos);
  EXPECT_NE(QueryError(Vector(R"({"value":[1e300,"1"]})")).find("unix time"),
            std::string::npos);
  EXPECT_NE(QueryError(Vector(R"({"metric":{"a":1},"value":[1,"1"]})"))
                .find("data.result[0].metric.a"),
            std::string::npos);
  EXPECT_NE(QueryError(Vector("7")).find("data.result[0]"), std::string::npos);
  EXPECT_NE(QueryError(R"({"data":{"resultType":"vector","result":{}}})")
                .find("data.result"),
            std::string::npos);
  EXPECT_NE(QueryError(R"({"data":{"resultType":5}})").find("resultType"),
            std::string::npos);
  EXPECT_NE(QueryError(R"({"data":[]})").find("data"), std::string::npos);
  EXPECT_NE(QueryError("[]").find("not an object"), std::string::npos);
  EXPECT_NE(QueryError(Matrix("")).find("gives a matrix"), std::string::npos);
  EXPECT_NE(QueryError(R"({"data":{"resultType":"scalar","result":[1]}})")
                .find("data.result"),
            std::string::npos);
}

TEST(ParseQueryResponse, NotJsonIsQuotedSanitized) {
  const std::string message = QueryError(std::string("\x1b[2J\0\xff{oops", 10));
  EXPECT_NE(message.find("is not JSON"), std::string::npos);
  for (char c : message) {
    EXPECT_TRUE(c >= 0x20 && c < 0x7f) << static_cast<int>(c);
  }
}

TEST(ParseQueryResponse, DeepNestingIsRefusedWithoutRecursion) {
  const std::string deep(200000, '[');
  EXPECT_NE(QueryError(deep).find("nests deeper"), std::string::npos);
  const std::string objects =
      Vector(R"({"metric":{},"value":[1,"1"],"x":)" + std::string(40, '[') +
             std::string(40, ']') + "}");
  EXPECT_NE(QueryError(objects).find("nests deeper"), std::string::npos);
  // Brackets inside strings are not nesting.
  auto fine =
      ParseQueryResponse(Vector(R"({"metric":{"q":")" + std::string(100, '[') +
                                R"(\"]"},"value":[1,"2"]})"));
  ASSERT_TRUE(fine.ok()) << fine.status();
  EXPECT_DOUBLE_EQ((*fine)[0].value, 2);
}

TEST(ParseRangeResponse, ReadsSeries) {
  auto series = ParseRangeResponse(Matrix(
      R"({"metric":{"arm":"canary"},"values":[[100,"1"],[105.5,"2"]]})"));
  ASSERT_TRUE(series.ok()) << series.status();
  ASSERT_EQ(series->size(), 1u);
  ASSERT_EQ((*series)[0].points.size(), 2u);
  EXPECT_EQ((*series)[0].points[1].first, absl::FromUnixMillis(105500));
  EXPECT_DOUBLE_EQ((*series)[0].points[1].second, 2);
}

TEST(ParseRangeResponse, MalformedAnswersAreErrors) {
  EXPECT_NE(RangeError(Matrix(R"({"metric":{},"values":[[]]})"))
                .find("data.result[0].values[0]"),
            std::string::npos);
  EXPECT_NE(RangeError(Matrix(R"({"metric":{}})")).find("values"),
            std::string::npos);
  EXPECT_NE(RangeError(Matrix(R"({"values":{"a":1}})")).find("values"),
            std::string::npos);
  EXPECT_NE(RangeError(Matrix(R"({"values":[[1,"x"]]})")).find("not a number"),
            std::string::npos);
  EXPECT_NE(RangeError(Vector("")).find("matrix"), std::string::npos);
}

TEST(ErrorAnswerStatus, PrometheusErrorsKeepTheirMessage) {
  absl::Status bad = ErrorAnswerStatus(
      400, R"({"status":"error","errorType":"bad_data","error":"parse error"})",
      "Prometheus at http://p");
  EXPECT_EQ(bad.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(bad.message(), "Prometheus: bad_data: parse error");
  absl::Status busy = ErrorAnswerStatus(
      503, R"({"status":"error","errorType":"unavailable","error":"x"})", "P");
  EXPECT_EQ(busy.code(), absl::StatusCode::kUnavailable);
}

TEST(ErrorAnswerStatus, OtherAnswersGiveCodeAndShortSanitizedSnippet) {
  std::string binary(100000, '\0');
  for (size_t i = 0; i < binary.size(); ++i)
    binary[i] = static_cast<char>(i * 7);
  absl::Status s = ErrorAnswerStatus(500, binary, "Prometheus at http://p");
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  const std::string message(s.message());
  EXPECT_NE(message.find("answered HTTP 500"), std::string::npos);
  EXPECT_LT(message.size(), 300u);
  for (char c : message) EXPECT_TRUE(c >= 0x20 && c < 0x7f);
}

TEST(Snippet, KeepsPrintableAsciiOnly) {
  EXPECT_EQ(Snippet("ok\n\x1b]0;x\a\xc3\xa9"), "ok??]0;x???");
  EXPECT_EQ(Snippet(std::string(300, 'a')).size(), kMaxSnippetBytes + 3);
}

}  // namespace
}  // namespace smartcanary::analysis

#include "analysis/condition.h"

#include <gtest/gtest.h>

#include <cmath>

#include "analysis/measurement.h"
#include "common/utf8.h"

namespace smartcanary::analysis {
namespace {

bool Eval(const std::string& text, const std::vector<double>& result) {
  auto condition = Condition::Parse(text);
  EXPECT_TRUE(condition.ok()) << condition.status();
  auto value = condition->Evaluate(result);
  EXPECT_TRUE(value.ok()) << text << ": " << value.status();
  return value.value_or(false);
}

TEST(ConditionTest, ArgoExpressionsPeopleWrite) {
  EXPECT_TRUE(Eval("result[0] >= 0.95", {0.99}));
  EXPECT_FALSE(Eval("result[0] >= 0.95", {0.91}));
  EXPECT_TRUE(Eval("result >= 0.95", {0.97}))
      << "a one-value result works as a number";
  EXPECT_TRUE(Eval("len(result) == 0 || isNaN(result[0])", {}));
  EXPECT_TRUE(Eval("result[0] < 0.01 && result[1] < 500", {0.001, 300}));
  EXPECT_FALSE(Eval("!(result[0] > 1)", {2}));
  EXPECT_TRUE(Eval("(result[0] + result[1]) / 2 == 3", {2, 4}));
  EXPECT_TRUE(Eval("-result[0] < -1", {2}));
  EXPECT_TRUE(Eval("isInf(result[0])", {INFINITY}));
  EXPECT_TRUE(Eval("default(result[0], 0) == 0", {}));
  EXPECT_TRUE(Eval("default(result[0], 0) == 0", {std::nan("")}));
  EXPECT_TRUE(Eval("result[0] != 1", {2}));
  EXPECT_TRUE(Eval("true", {}));
}

TEST(ConditionTest, ComparisonsWithNaNAreFalse) {
  EXPECT_FALSE(Eval("result[0] >= 0.95", {std::nan("")}));
  EXPECT_FALSE(Eval("result[0] < 0.95", {std::nan("")}));
  EXPECT_TRUE(Eval("isNaN(result[0])", {std::nan("")}));
}

TEST(ConditionTest, ParseErrorsSayWhereAndWhat) {
  EXPECT_EQ(Condition::Parse("result[0] >= ").status().message(),
            "expected a value at position 14 of \"result[0] >= \"");
  EXPECT_NE(Condition::Parse("reslt[0] > 1")
                .status()
                .message()
                .find("unknown name \"reslt\""),
            absl::string_view::npos);
  EXPECT_NE(Condition::Parse("(result[0] > 1")
                .status()
                .message()
                .find("expected ')'"),
            absl::string_view::npos);
  EXPECT_NE(Condition::Parse("result[0] > 1 1")
                .status()
                .message()
                .find("unexpected text"),
            absl::string_view::npos);
  EXPECT_NE(Condition::Parse("result[0] + 1")
                .status()
                .message()
                .find("not true/false"),
            absl::string_view::npos);
  EXPECT_FALSE(Condition::Parse("").ok());
  EXPECT_FALSE(Condition::Parse("isNaN(result[0], 1)").ok());
}

TEST(ConditionTest, EvaluationErrorsNameTheProblem) {
  auto condition = *Condition::Parse("result[2] > 1");
  EXPECT_EQ(condition.Evaluate({1, 2}).status().message(),
            "result[2]: result has 2 values");
  auto plain = *Condition::Parse("result > 1");
  EXPECT_NE(
      plain.Evaluate({1, 2}).status().message().find("pick one with result[i]"),
      absl::string_view::npos);
}

TEST(SubstituteArgsTest, ReplacesArgsAndNamesMissingOnes) {
  EXPECT_EQ(
      *SubstituteArgs(
          "rate(x{service=\"{{args.service-name}}\"}[1m]) > {{ args.limit }}",
          {{"service-name", "rpc"}, {"limit", "5"}}),
      "rate(x{service=\"rpc\"}[1m]) > 5");
  EXPECT_EQ(SubstituteArgs("{{args.nope}}", {}).status().message(),
            "{{args.nope}}: no argument named \"nope\" was given");
  EXPECT_FALSE(SubstituteArgs("{{secrets.x}}", {}).ok());
}

std::optional<Condition> C(const std::string& text) {
  return *Condition::Parse(text);
}

TEST(JudgeTest, ArgoRulesExceptNoDataIsInconclusive) {
  using P = MeasurementPhase;
  EXPECT_EQ(
      Judge(C("result[0] >= 0.95"), std::nullopt, std::vector<double>{0.99})
          .phase,
      P::kSuccessful);
  Verdict failed =
      Judge(C("result[0] >= 0.95"), std::nullopt, std::vector<double>{0.9});
  EXPECT_EQ(failed.phase, P::kFailed);
  EXPECT_EQ(failed.message,
            "successCondition `result[0] >= 0.95` is false for result=[0.9]");
  EXPECT_EQ(Judge(std::nullopt, C("result[0] > 0.05"), std::vector<double>{0.1})
                .phase,
            P::kFailed);
  EXPECT_EQ(
      Judge(std::nullopt, C("result[0] > 0.05"), std::vector<double>{0.01})
          .phase,
      P::kSuccessful);
  EXPECT_EQ(Judge(C("result[0] > 0.99"), C("result[0] < 0.9"),
                  std::vector<double>{0.95})
                .phase,
            P::kInconclusive);
  // No data never passes, even with a condition that would.
  Verdict empty = Judge(C("len(result) == 0 || result[0] >= 0.95"),
                        std::nullopt, std::vector<double>{});
  EXPECT_EQ(empty.phase, P::kInconclusive);
  EXPECT_NE(empty.message.find("no data"), std::string::npos);
  EXPECT_EQ(Judge(C("result[0] >= 0.95"), std::nullopt,
                  std::vector<double>{std::nan("")})
                .phase,
            P::kInconclusive);
  Verdict error =
      Judge(C("result[0] >= 0.95"), std::nullopt,
            absl::UnavailableError("Prometheus at http://x unreachable"));
  EXPECT_EQ(error.phase, P::kError);
  EXPECT_EQ(error.message, "Prometheus at http://x unreachable");
  EXPECT_EQ(
      Judge(C("result[3] >= 0.95"), std::nullopt, std::vector<double>{1}).phase,
      P::kError);
}

std::string ParseError(const std::string& text) {
  auto condition = Condition::Parse(text);
  EXPECT_TRUE(absl::IsInvalidArgument(condition.status()))
      << condition.status();
  const std::string message(condition.status().message());
  EXPECT_TRUE(IsValidUtf8(message)) << message;
  return message;
}

TEST(ConditionLimitsTest, DeepNestingIsAnErrorNotAStackOverflow) {
  const std::string parens =
      std::string(5000, '(') + "result[0] > 0" + std::string(5000, ')');
  EXPECT_NE(ParseError(parens).find("the condition is 10013 bytes long; at "
                                    "most 4096 are allowed"),
            std::string::npos);
  // Within the length limit, the nesting limit still holds.
  const std::string nested =
      std::string(2000, '(') + "result[0] > 0" + std::string(2000, ')');
  EXPECT_NE(ParseError(nested).find("nested more than 64 levels deep"),
            std::string::npos);
  EXPECT_NE(ParseError(std::string(4000, '!') + "true")
                .find("nested more than 64 levels deep"),
            std::string::npos);
  EXPECT_NE(ParseError(std::string(20000, '!') + "true").find("at most 4096"),
            std::string::npos);
  EXPECT_NE(ParseError(std::string(1000, '-') + "1 > 0").find("nested"),
            std::string::npos);
  std::string calls = "result[0] > 0";
  for (int i = 0; i < 100; ++i) calls = "isNaN(" + calls + ") == false";
  EXPECT_NE(ParseError(calls).find("deep"), std::string::npos);
  std::string chain = "result[0]";
  for (int i = 0; i < 1000; ++i) chain += " + 1";
  EXPECT_NE(ParseError(chain + " > 0").find("operations deep"),
            std::string::npos);
  // What people write stays well inside the limits.
  EXPECT_TRUE(
      Eval(std::string(60, '(') + "result[0] > 0" + std::string(60, ')'), {1}));
  EXPECT_TRUE(Eval("!!!!!!!!!(result[0] > 0)", {0}));
}

TEST(ConditionLimitsTest, NonAsciiIsReportedWholeAndMessagesStayUtf8) {
  // A Unicode minus (U+2212) pasted from a document.
  const std::string message = ParseError(
      "result[0] >= \xE2\x88\x92"
      "0.5");
  EXPECT_NE(message.find("unexpected '\xE2\x88\x92' (U+2212; write the ASCII "
                         "'-') at position 14"),
            std::string::npos)
      << message;
  EXPECT_NE(ParseError("result[0] >= \xE2\x88").find("unexpected byte 0xe2"),
            std::string::npos);
  EXPECT_NE(ParseError("result[0] > 0 \xC3\xA9").find("(U+00E9)"),
            std::string::npos);
  EXPECT_NE(ParseError("result[0] > 0 \x01").find("from '\\x01'"),
            std::string::npos);
}

}  // namespace
}  // namespace smartcanary::analysis

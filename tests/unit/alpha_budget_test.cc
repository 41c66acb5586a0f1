#include "controller/analysis/alpha_budget.h"

#include <gtest/gtest.h>

namespace smartcanary {
namespace {

MetricSpec Comparative(const std::string& name, const std::string& service,
                       double margin) {
  MetricSpec m;
  m.name = name;
  auto* c = m.query.mutable_comparative();
  c->mutable_istio()->set_service(service);
  c->set_alpha(0.01);
  c->set_margin(margin);
  return m;
}

TEST(AlphaBudgetTest, OneDefinitionJudgedByManyAnalysesIsOneTest) {
  // The background analysis and two steps judge the same errors metric:
  // one e-process looked at more often, so it keeps the whole alpha.
  ResolvedAnalysis background{{Comparative("errors", "{{args.svc}}", 0.25)},
                              {{"svc", "rpc"}}};
  ResolvedAnalysis step{{Comparative("errors", "rpc", 0.25)}, {}};
  EXPECT_EQ(DistinctComparativeMetrics({background, step, step}), 1);
}

TEST(AlphaBudgetTest, DistinctDefinitionsSplitTheRolloutsAlpha) {
  MetricSpec plain;
  plain.name = "cpu";  // not comparative: spends nothing
  ResolvedAnalysis background{{Comparative("errors", "rpc", 0.25),
                               Comparative("slow", "rpc", 0.1), plain},
                              {}};
  // The same name with another margin is another test.
  ResolvedAnalysis step{{Comparative("errors", "rpc", 0.5)}, {}};
  const int distinct = DistinctComparativeMetrics({background, step});
  EXPECT_EQ(distinct, 3);
  ShareAlpha(background.metrics, distinct);
  EXPECT_EQ(background.metrics[0].query.comparative().budget_share(), 3);
  EXPECT_FALSE(background.metrics[2].query.has_comparative());
  EXPECT_EQ(DistinctComparativeMetrics({}), 1);
}

}  // namespace
}  // namespace smartcanary

// The Grafana dashboard in manifests/grafana against the real canaryd and
// Debian's Prometheus scraping it: every panel's query is valid PromQL, names
// only metrics canaryd (or the analyzer) exports, and the panels that need no
// rollout show data.
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include "absl/strings/str_replace.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/integration/cluster_fixture.h"

namespace smartcanary::testing {
namespace {

using nlohmann::json;

json ReadDashboard() {
  std::ifstream in(RunfilePath("manifests/grafana/smartcanary-dashboard.json"));
  std::stringstream text;
  text << in.rdbuf();
  return json::parse(text.str(), nullptr, false);
}

// Grafana's template variables, as "All" selects them.
std::string WithAllSelected(const std::string& expr) {
  return absl::StrReplaceAll(
      expr,
      {{"$canaryd_job", ".*"}, {"$analyzer_job", ".*"}, {"$namespace", ".*"}});
}

std::set<std::string> MetricNames(const std::string& text) {
  static const std::regex kName("\\b(canaryd_[a-z_]+|canary_analyzer_[a-z_]+)");
  std::set<std::string> names;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), kName);
       it != std::sregex_iterator(); ++it) {
    names.insert((*it)[1]);
  }
  return names;
}

TEST(DashboardTest, EveryPanelQueriesMetricsCanarydExportsAndParses) {
  const json dashboard = ReadDashboard();
  ASSERT_FALSE(dashboard.is_discarded()) << "the dashboard is not JSON";
  ASSERT_TRUE(dashboard.contains("panels") && dashboard["panels"].is_array());

  TestNamespace ns;
  CanarydProcess canaryd(ns.name());
  canaryd.Start();
  const std::string exported = HttpGet(canaryd.metrics_url());
  ASSERT_NE(exported.find("canaryd_reconciles_total"), std::string::npos);
  const std::string target = canaryd.metrics_url().substr(
      std::string("http://").size(),
      canaryd.metrics_url().find("/metrics") - std::string("http://").size());
  PrometheusProcess prometheus({target});
  ASSERT_TRUE(prometheus.WaitForData("canaryd_reconciles_total"));

  std::set<int> ids;
  int checked = 0;
  for (const json& panel : dashboard["panels"]) {
    const std::string title = panel.value("title", "");
    EXPECT_TRUE(ids.insert(panel.value("id", -1)).second)
        << title << ": panel ids must be unique";
    const json& grid = panel["gridPos"];
    EXPECT_LE(grid.value("x", 0) + grid.value("w", 0), 24) << title;
    for (const json& query : panel["targets"]) {
      const std::string expr = WithAllSelected(query.value("expr", ""));
      for (const std::string& name : MetricNames(expr)) {
        if (name.rfind("canaryd_", 0) != 0) continue;  // the analyzer's
        EXPECT_NE(exported.find("# HELP " + name + " "), std::string::npos)
            << title << ": canaryd does not export " << name;
      }
      const json answer = json::parse(
          HttpGet(prometheus.url() + "/api/v1/query?query=" + UrlEncode(expr)),
          nullptr, false);
      ASSERT_FALSE(answer.is_discarded()) << title;
      EXPECT_EQ(answer.value("status", ""), "success")
          << title << ": " << expr << " -> " << answer.dump();
      ++checked;
    }
  }
  EXPECT_GE(checked, 8);
  // Panels that need no rollout: data as soon as canaryd is scraped.
  for (const std::string phase : {"Progressing", "Paused", "Healthy"}) {
    EXPECT_TRUE(prometheus.WaitForData("sum(canaryd_rollouts{phase=\"" + phase +
                                       "\"})"))
        << phase;
  }
  EXPECT_TRUE(
      prometheus.WaitForData("sum(rate(canaryd_reconciles_total[5m]))"));
}

}  // namespace
}  // namespace smartcanary::testing

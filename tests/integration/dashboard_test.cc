// The Grafana dashboard in manifests/grafana against the real canaryd and
// analyzer and Debian's Prometheus scraping both: every panel's query is
// valid PromQL, names only metrics they export, and the panels that need no
// rollout show data.
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
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

TEST(DashboardTest, EveryPanelQueriesMetricsTheProgramsExportAndParses) {
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
  // The analyzer's /metrics alone, as the install runs it.
  const int analyzer_metrics_port = FreePort();
  ChildProcess analyzer(
      "canary-analyzer",
      LocalAnalyzerArgv(FreePort(), {absl::StrCat("--metrics-listen=127.0.0.1:",
                                                  analyzer_metrics_port)}));
  analyzer.Start();
  const std::string analyzer_target =
      absl::StrCat("127.0.0.1:", analyzer_metrics_port);
  std::string analyzer_exported;
  ASSERT_TRUE(WaitFor([&] {
    analyzer_exported = HttpGet("http://" + analyzer_target + "/metrics");
    return !analyzer_exported.empty();
  })) << "the analyzer's --metrics-listen does not answer";
  EXPECT_EQ(HttpPost("http://" + analyzer_target + "/v1/judge", "{}").status,
            404)
      << "the judge API must not be on the metrics listener";
  PrometheusProcess prometheus({target, analyzer_target});
  ASSERT_TRUE(prometheus.WaitForData("canaryd_reconciles_total"));
  ASSERT_TRUE(prometheus.WaitForData("count(up == 1) >= 2"))
      << "Prometheus does not scrape both";

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
      for (std::string name : MetricNames(expr)) {
        const bool ours = name.rfind("canaryd_", 0) == 0;
        // A histogram's series are NAME_bucket/_sum/_count of one HELP.
        for (const char* suffix : {"_bucket", "_sum", "_count"}) {
          if (absl::EndsWith(name, suffix)) {
            name.resize(name.size() - std::string(suffix).size());
          }
        }
        EXPECT_NE(
            (ours ? exported : analyzer_exported).find("# HELP " + name + " "),
            std::string::npos)
            << title << ": not exported: " << name;
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

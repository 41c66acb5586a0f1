#include "common/metrics_registry.h"

#include <gtest/gtest.h>

namespace smartcanary {
namespace {

TEST(MetricsRegistryTest, RendersCountersAndHistograms) {
  MetricsRegistry registry;
  registry.DescribeCounter("requests_total", "Requests.");
  registry.DescribeHistogram("latency_seconds", "Latency.", {0.1, 1});
  registry.DescribeCounter("idle_total", "Never counted.");
  registry.Count("requests_total", MetricLabels({{"code", "200"}}));
  registry.Count("requests_total", MetricLabels({{"code", "200"}}), 2);
  registry.Observe("latency_seconds", MetricLabels({{"path", "/q"}}), 0.05);
  registry.Observe("latency_seconds", MetricLabels({{"path", "/q"}}), 0.5);
  registry.Observe("latency_seconds", MetricLabels({{"path", "/q"}}), 7);
  EXPECT_EQ(registry.Get("requests_total", "code=\"200\""), 3u);
  EXPECT_EQ(registry.Render(),
            "# HELP requests_total Requests.\n"
            "# TYPE requests_total counter\n"
            "requests_total{code=\"200\"} 3\n"
            "# HELP latency_seconds Latency.\n"
            "# TYPE latency_seconds histogram\n"
            "latency_seconds_bucket{path=\"/q\",le=\"0.1\"} 1\n"
            "latency_seconds_bucket{path=\"/q\",le=\"1\"} 2\n"
            "latency_seconds_bucket{path=\"/q\",le=\"+Inf\"} 3\n"
            "latency_seconds_sum{path=\"/q\"} 7.55\n"
            "latency_seconds_count{path=\"/q\"} 3\n"
            "# HELP idle_total Never counted.\n"
            "# TYPE idle_total counter\n"
            "idle_total 0\n");
}

TEST(MetricsRegistryTest, LabelValuesCannotAddLabels) {
  EXPECT_EQ(MetricLabels({{"path", "a\"} evil{x=\"\\\n"}}),
            "path=\"a\\\"} evil{x=\\\"\\\\\\n\"");
}

}  // namespace
}  // namespace smartcanary

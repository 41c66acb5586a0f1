// canaryd's watch cache on the real API server: while a rollout runs its
// plan, canaryd reads the CanaryRollout from memory fed by its watch instead
// of the API server. Counted by the API server itself
// (apiserver_request_total), so this test runs alone (tag exclusive).
#include <gtest/gtest.h>

#include <cstdlib>
#include <iostream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "bench/apiserver_requests.h"
#include "controller/kube/kube_config.h"
#include "controller/kube/resources.h"
#include "tests/integration/cluster_fixture.h"

namespace smartcanary::testing {
namespace {

bench::RequestCounts ApiserverRequests() {
  auto config = kube::LoadKubeconfig(std::getenv("KUBECONFIG"));
  EXPECT_TRUE(config.ok()) << config.status();
  if (!config.ok()) return {};
  auto counts = bench::ReadApiserverRequests(*config);
  EXPECT_TRUE(counts.ok()) << counts.status();
  return counts.ok() ? *counts : bench::RequestCounts{};
}

double Count(const bench::RequestCounts& counts, const std::string& request) {
  auto it = counts.by_request.find(request);
  return it == counts.by_request.end() ? 0 : it->second;
}

// canaryd's reconcile passes so far (canaryd_reconciles_total); -1 if
// /metrics does not say.
double Reconciles(const CanarydProcess& canaryd) {
  const std::string text = HttpGet(canaryd.metrics_url());
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    double value = 0;
    if (absl::ConsumePrefix(&line, "canaryd_reconciles_total ") &&
        absl::SimpleAtod(line, &value)) {
      return value;
    }
  }
  return -1;
}

// The old canaryd read the rollout at the start of every reconcile pass
// (a pass may write several statuses; its own writes' watch events start
// passes too); now a pass reads memory, and the GETs that remain are reads
// after a conflict or of an object the watch had not delivered yet.
TEST(WatchCacheTest, ARolloutsPlanReadsTheRolloutFromMemory) {
  ASSERT_NE(std::getenv("KUBECONFIG"), nullptr);
  TestNamespace ns;
  ns.Apply(SubsetMeshYaml("web"));
  CanarydProcess canaryd(ns.name());
  canaryd.Start();
  // Listed once: from now on its reads of rollouts are served from memory.
  std::string readyz = canaryd.metrics_url();
  readyz.replace(readyz.rfind("/metrics"), 8, "/readyz");
  ASSERT_TRUE(WaitFor([&] { return HttpGet(readyz) == "ok\n"; }));
  auto stub = canaryd.Stub();
  {
    grpc::ClientContext context;
    v1::Rollout started;
    grpc::Status status = stub->StartRollout(
        &context,
        SubsetRolloutRequest(
            ns.name(), "web",
            {SetWeightStep(10), PauseStep(1), SetWeightStep(20), PauseStep(1),
             SetWeightStep(40), PauseStep(1), SetWeightStep(60), PauseStep(1),
             SetWeightStep(100)}),
        &started);
    ASSERT_TRUE(status.ok()) << status.error_message();
  }
  const bench::RequestCounts before = ApiserverRequests();
  const double reconciles_before = Reconciles(canaryd);
  // Polled with LIST, which the API server counts apart from GET.
  const std::string collection = kube::kCanaryRollouts.Collection(ns.name());
  ASSERT_TRUE(WaitFor(
      [&] {
        auto list = Kube().List(collection);
        if (!list.ok() || list->items.size() != 1) return false;
        const nlohmann::json& rollout = list->items[0];
        return rollout.contains("status") && rollout["status"].is_object() &&
               rollout["status"].value("phase", "") == "Healthy";
      },
      absl::Minutes(2)))
      << "the plan did not complete";
  const bench::RequestCounts after = ApiserverRequests();
  const double reconciles = Reconciles(canaryd) - reconciles_before;
  const double gets =
      Count(after, "GET canaryrollouts") - Count(before, "GET canaryrollouts");
  const double patches = Count(after, "PATCH canaryrollouts/status") -
                         Count(before, "PATCH canaryrollouts/status");
  std::cout << "during the plan: " << gets << " GETs of canaryrollouts, "
            << patches << " status PATCHes, " << reconciles
            << " reconcile passes\n";
  EXPECT_GE(patches, 5) << "every step writes its status";
  EXPECT_LT(gets, patches);
  // The old canaryd made one per pass (give or take a pass in flight at
  // either count): this bound leaves room for that and for conflicts.
  EXPECT_LT(2 * gets, reconciles);
}

}  // namespace
}  // namespace smartcanary::testing

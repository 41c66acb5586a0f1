#include "bench/control_burst.h"

#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"

namespace smartcanary::bench {

using nlohmann::json;

absl::StatusOr<std::vector<double>> ControlBurst(const kube::KubeClient& kube,
                                                 const std::string& ns,
                                                 int count) {
  const std::string collection =
      absl::StrCat("/api/v1/namespaces/", ns, "/configmaps");
  for (int k = 0; k < count; ++k) {
    json data = {{"round", "0"}};
    json metadata = {{"name", absl::StrCat("control-", k)}};
    auto created = kube.Post(collection, {{"apiVersion", "v1"},
                                          {"kind", "ConfigMap"},
                                          {"metadata", std::move(metadata)},
                                          {"data", std::move(data)}});
    if (!created.ok()) return created.status();
  }
  std::vector<double> seconds(count, -1);
  absl::Notification go;
  std::vector<std::thread> threads;
  for (int k = 0; k < count; ++k) {
    threads.emplace_back([&, k] {
      const std::string item = absl::StrCat(collection, "/control-", k);
      go.WaitForNotification();
      const absl::Time start = absl::Now();
      for (int round = 1; round <= 2; ++round) {
        if (!kube.Get(item).ok()) return;
        json ops = json::array({{{"op", "replace"},
                                 {"path", "/data/round"},
                                 {"value", absl::StrCat(round)}}});
        if (!kube.JsonPatch(item, ops).ok()) return;
      }
      seconds[k] = absl::ToDoubleSeconds(absl::Now() - start);
    });
  }
  go.Notify();
  for (std::thread& thread : threads) thread.join();
  for (double s : seconds) {
    if (s < 0) return absl::UnavailableError("a control request failed");
  }
  return seconds;
}

}  // namespace smartcanary::bench

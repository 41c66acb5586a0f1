// The pod-readiness stand-in: no kubelet runs on the benchmark's machine, so
// this marks every pod of one namespace Running and Ready as soon as the
// ReplicaSet controller creates it (see docs/PERFORMANCE.md). It watches the
// namespace's pods and patches their status subresource; it runs until
// killed.
#include <curl/curl.h>

#include <cstdio>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "bench/argo/pod_readiness.h"
#include "controller/kube/kube_client.h"
#include "controller/kube/kube_config.h"

ABSL_FLAG(std::string, kubeconfig, "", "kubeconfig of the API server");
ABSL_FLAG(std::string, namespace, "", "the namespace whose pods to mark ready");

namespace {

using nlohmann::json;
namespace kube = smartcanary::kube;

void MarkReady(const kube::KubeClient& client, const std::string& ns,
               const json& pod) {
  auto patch = smartcanary::bench::argo::ReadyPatch(pod, absl::Now());
  if (!patch) return;
  const std::string name =
      pod["metadata"].is_object() ? pod["metadata"].value("name", "") : "";
  if (name.empty()) return;
  auto patched = client.MergePatch(
      absl::StrCat("/api/v1/namespaces/", ns, "/pods/", name, "/status"),
      *patch);
  // A pod deleted meanwhile is not an error worth stopping for.
  if (!patched.ok())
    std::fprintf(stderr, "pod %s: %s\n", name.c_str(),
                 patched.status().ToString().c_str());
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const std::string ns = absl::GetFlag(FLAGS_namespace);
  if (ns.empty() || absl::GetFlag(FLAGS_kubeconfig).empty()) {
    std::fprintf(stderr, "--kubeconfig and --namespace are required\n");
    return 2;
  }
  curl_global_init(CURL_GLOBAL_DEFAULT);
  auto config = kube::LoadKubeconfig(absl::GetFlag(FLAGS_kubeconfig));
  if (!config.ok()) {
    std::fprintf(stderr, "--kubeconfig: %s\n",
                 config.status().ToString().c_str());
    return 2;
  }
  kube::KubeClient client(*config);
  const std::string pods = absl::StrCat("/api/v1/namespaces/", ns, "/pods");
  // List, then watch from the list's version; start over when the watch
  // ends (a timeout, an expired version).
  while (true) {
    auto listed = client.List(pods);
    if (!listed.ok()) {
      std::fprintf(stderr, "list pods: %s\n",
                   listed.status().ToString().c_str());
      absl::SleepFor(absl::Seconds(1));
      continue;
    }
    for (const json& pod : listed->items) MarkReady(client, ns, pod);
    absl::Status watched = client.Watch(
        absl::StrCat(pods,
                     "?watch=1&resourceVersion=", listed->resource_version),
        [&](const json& event) {
          const std::string type = event.value("type", "");
          if (type == "ERROR") return false;
          if (type == "ADDED" || type == "MODIFIED")
            MarkReady(client, ns, event.value("object", json::object()));
          return true;
        },
        [] { return false; });
    if (!watched.ok())
      std::fprintf(stderr, "watch pods: %s\n", watched.ToString().c_str());
  }
}

#ifndef SMARTCANARY_CONTROLLER_KUBE_RESOURCES_H_
#define SMARTCANARY_CONTROLLER_KUBE_RESOURCES_H_

#include <string>

#include "absl/strings/str_cat.h"
#include "common/k8s_names.h"

// REST paths of the kinds canaryd reads and writes. Namespace and name are
// percent-escaped as path segments: parsers already refuse names that are
// not Kubernetes names, and escaping makes sure no other caller can turn a
// name into `../other-namespace/...` either.
namespace smartcanary::kube {

struct Resource {
  const char* group_version_path;  // "/apis/<group>/<version>" or "/api/v1"
  const char* plural;
  // A cluster-scoped kind has no namespace: pass "" to Collection and Item;
  // its watch covers every object whatever namespace canaryd serves.
  bool cluster_scoped = false;

  std::string Collection(const std::string& ns) const {
    if (ns.empty()) return absl::StrCat(group_version_path, "/", plural);
    return absl::StrCat(group_version_path, "/namespaces/",
                        EscapePathSegment(ns), "/", plural);
  }
  std::string Item(const std::string& ns, const std::string& name) const {
    return absl::StrCat(Collection(ns), "/", EscapePathSegment(name));
  }
};

inline constexpr Resource kCanaryRollouts{"/apis/smartcanary.dev/v1alpha1",
                                          "canaryrollouts"};
inline constexpr Resource kAnalysisTemplates{"/apis/smartcanary.dev/v1alpha1",
                                             "canaryanalysistemplates"};
// Cluster-scoped: use Item("", name).
inline constexpr Resource kClusterAnalysisTemplates{
    "/apis/smartcanary.dev/v1alpha1", "clustercanaryanalysistemplates", true};
inline constexpr Resource kVirtualServices{"/apis/networking.istio.io/v1",
                                           "virtualservices"};
inline constexpr Resource kDestinationRules{"/apis/networking.istio.io/v1",
                                            "destinationrules"};
inline constexpr Resource kServices{"/api/v1", "services"};

inline constexpr char kCanaryRolloutApiVersion[] = "smartcanary.dev/v1alpha1";

}  // namespace smartcanary::kube

#endif  // SMARTCANARY_CONTROLLER_KUBE_RESOURCES_H_

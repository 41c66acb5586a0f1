#include "controller/istio/istio_router.h"

#include <optional>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "controller/istio/route_patch.h"
#include "controller/kube/resources.h"

namespace smartcanary::istio {
namespace {

constexpr int kConflictRetries = 5;

absl::Status StatusOnly(const absl::StatusOr<bool>& result) {
  return result.status();
}

}  // namespace

IstioRouter::IstioRouter(const kube::KubeApi& client, std::string ns,
                         TrafficRouting routing)
    : client_(client),
      namespace_(std::move(ns)),
      routing_(std::move(routing)) {}

absl::StatusOr<bool> IstioRouter::PatchWithRetry(const std::string& path,
                                                 const PatchBuilder& build) {
  absl::Status last;
  for (int attempt = 0; attempt < kConflictRetries; ++attempt) {
    auto object = client_.Get(path);
    if (!object.ok()) return object.status();
    auto ops = build(*object);
    if (!ops.ok()) return ops.status();
    if (ops->empty()) return false;
    auto patched = client_.JsonPatch(path, *ops);
    if (patched.ok()) return true;
    last = patched.status();
    // 409: the resourceVersion guard; 422: a failed `test` op (the API
    // server does not tell it apart from other invalid patches, so a patch
    // that stays invalid ends as UNAVAILABLE below and is retried later).
    if (!absl::IsAborted(last) && !absl::IsInvalidArgument(last)) return last;
  }
  return absl::UnavailableError(
      absl::StrCat("gave up after ", kConflictRetries,
                   " conflicting writes: ", last.message()));
}

absl::Status IstioRouter::SetSelectorLabels(
    bool canary, const std::map<std::string, std::string>& labels) {
  if (labels.empty()) return absl::OkStatus();
  if (routing_.subset_level()) {
    const std::string subset =
        canary ? routing_.canary_subset : routing_.stable_subset;
    return StatusOnly(PatchWithRetry(
        kube::kDestinationRules.Item(namespace_, routing_.destination_rule),
        [&](const nlohmann::json& dr) {
          return SubsetLabelsPatch(dr, subset, labels);
        }));
  }
  const std::string& service =
      canary ? routing_.canary_service : routing_.stable_service;
  return StatusOnly(PatchWithRetry(kube::kServices.Item(namespace_, service),
                                   [&](const nlohmann::json& svc) {
                                     return ServiceSelectorPatch(svc, labels);
                                   }));
}

std::string IstioRouter::VirtualServicePath(const VirtualServiceRef& vs) const {
  return kube::kVirtualServices.Item(namespace_, vs.name);
}

TrafficRouting IstioRouter::RoutingFor(const VirtualServiceRef& vs) const {
  TrafficRouting one = routing_;
  one.virtual_services.clear();
  one.virtual_service = vs.name;
  one.routes = vs.routes;
  return one;
}

absl::Status IstioRouter::Verify() {
  // Each VirtualService on its own: their weights may still disagree (the
  // first SetCanaryWeight aligns them), but each must have the routes.
  for (const VirtualServiceRef& vs : routing_.AllVirtualServices()) {
    auto object = client_.Get(VirtualServicePath(vs));
    if (!object.ok()) return object.status();
    if (auto weight = VirtualServiceCanaryWeight(*object, RoutingFor(vs));
        !weight.ok()) {
      return weight.status();
    }
  }
  if (routing_.subset_level()) {
    auto dr = client_.Get(
        kube::kDestinationRules.Item(namespace_, routing_.destination_rule));
    if (!dr.ok()) return dr.status();
    for (const std::string& subset :
         {routing_.stable_subset, routing_.canary_subset}) {
      // An empty label set builds no patch but still checks the subset exists.
      if (auto patch = SubsetLabelsPatch(*dr, subset, {}); !patch.ok())
        return patch.status();
    }
    return absl::OkStatus();
  }
  for (const std::string& service :
       {routing_.stable_service, routing_.canary_service}) {
    if (auto svc = client_.Get(kube::kServices.Item(namespace_, service));
        !svc.ok()) {
      return svc.status();
    }
  }
  return absl::OkStatus();
}

absl::Status IstioRouter::SelectCanary(
    const std::map<std::string, std::string>& labels) {
  return SetSelectorLabels(true, labels);
}

absl::Status IstioRouter::PromoteStable(
    const std::map<std::string, std::string>& labels) {
  if (routing_.subset_level()) return SetSelectorLabels(false, labels);
  // Host-level. Called at completion before the weights return to stable
  // 100, while the canary Service carries the last step's share and its
  // pods are ready. The stable Service's selector changes in one write, and
  // the endpoints controller replaces its endpoint set in one update, so
  // stable goes from the old pods straight to the canary's pods; the check
  // in PromotedSelectorPatch makes sure the new selector matches every pod
  // the canary Service selects, so that set is never empty. The canary
  // Service is not touched, so canary keeps its endpoints too. Only after
  // this does the caller move the weights: doing it the other way round
  // would send 100% to the old version first.
  auto canary =
      client_.Get(kube::kServices.Item(namespace_, routing_.canary_service));
  if (!canary.ok()) return canary.status();
  return StatusOnly(
      PatchWithRetry(kube::kServices.Item(namespace_, routing_.stable_service),
                     [&](const nlohmann::json& stable) {
                       return PromotedSelectorPatch(stable, *canary, labels);
                     }));
}

absl::StatusOr<bool> IstioRouter::SetCanaryWeight(int canary_weight) {
  const std::vector<VirtualServiceRef> all = routing_.AllVirtualServices();
  bool changed = false;
  for (size_t i = 0; i < all.size(); ++i) {
    auto patched = PatchWithRetry(VirtualServicePath(all[i]),
                                  [&](const nlohmann::json& vs) {
                                    return VirtualServiceWeightPatch(
                                        vs, RoutingFor(all[i]), canary_weight);
                                  });
    if (patched.ok()) {
      changed = changed || *patched;
      continue;
    }
    // Traffic is never left half-moved: the VirtualServices already
    // written go back to stable, the safe state (the next reconcile moves
    // them all again, or the rollout rolls back).
    absl::Status undo = absl::OkStatus();
    for (size_t j = 0; j < i && canary_weight != 0; ++j) {
      auto back = PatchWithRetry(
          VirtualServicePath(all[j]), [&](const nlohmann::json& vs) {
            return VirtualServiceWeightPatch(vs, RoutingFor(all[j]), 0);
          });
      if (!back.ok() && undo.ok()) undo = back.status();
    }
    if (undo.ok()) return patched.status();
    return absl::UnavailableError(absl::StrCat(
        "VirtualService ", all[i].name, ": ", patched.status().message(),
        "; and putting the others back on stable failed: ", undo.message()));
  }
  return changed;
}

absl::StatusOr<int> IstioRouter::GetCanaryWeight() {
  std::optional<int> first;
  for (const VirtualServiceRef& vs : routing_.AllVirtualServices()) {
    auto object = client_.Get(VirtualServicePath(vs));
    if (!object.ok()) return object.status();
    auto weight = VirtualServiceCanaryWeight(*object, RoutingFor(vs));
    if (!weight.ok()) return weight.status();
    if (!first) {
      first = *weight;
    } else if (*weight != *first) {
      // Moved together or not at all: a disagreement is a write still in
      // progress or another writer, retried.
      return absl::UnavailableError(absl::StrCat(
          "VirtualServices disagree: ", routing_.AllVirtualServices()[0].name,
          " has canary weight ", *first, ", ", vs.name, " has ", *weight));
    }
  }
  return first.value_or(0);
}

}  // namespace smartcanary::istio

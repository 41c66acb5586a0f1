#include "controller/istio/istio_router.h"

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

IstioRouter::IstioRouter(const kube::KubeClient& client, std::string ns,
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

absl::Status IstioRouter::Verify() {
  if (auto weight = GetCanaryWeight(); !weight.ok()) return weight.status();
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
  return SetSelectorLabels(false, labels);
}

absl::StatusOr<bool> IstioRouter::SetCanaryWeight(int canary_weight) {
  return PatchWithRetry(
      kube::kVirtualServices.Item(namespace_, routing_.virtual_service),
      [&](const nlohmann::json& vs) {
        return VirtualServiceWeightPatch(vs, routing_, canary_weight);
      });
}

absl::StatusOr<int> IstioRouter::GetCanaryWeight() {
  auto vs = client_.Get(
      kube::kVirtualServices.Item(namespace_, routing_.virtual_service));
  if (!vs.ok()) return vs.status();
  return VirtualServiceCanaryWeight(*vs, routing_);
}

}  // namespace smartcanary::istio

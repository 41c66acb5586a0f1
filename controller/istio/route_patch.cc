#include "controller/istio/route_patch.h"

#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace smartcanary::istio {
namespace {

using nlohmann::json;

std::string ObjectName(const json& object) {
  const json& meta = object.value("metadata", json::object());
  return absl::StrCat(object.value("kind", "object"), " ",
                      meta.value("namespace", ""), "/", meta.value("name", ""));
}

// Setting resourceVersion in a patch makes it a precondition on the whole
// object: any edit anywhere since it was read gives 409 Conflict. Used only
// where there is nothing narrower to test (a field that does not exist yet).
json ResourceVersionGuard(const json& object) {
  return {{"op", "replace"},
          {"path", "/metadata/resourceVersion"},
          {"value", object["metadata"].value("resourceVersion", "")}};
}

// A JSON-Patch `test`: the patch applies only if `path` still holds `value`.
// The API server refuses a failed test with 422, which PatchWithRetry treats
// as a conflict (re-read and rebuild).
json TestOp(const std::string& path, const json& value) {
  return {{"op", "test"}, {"path", path}, {"value", value}};
}

// RFC 6901: '~' and '/' inside a key must be escaped in a patch path.
std::string EscapePointer(const std::string& key) {
  std::string out;
  for (char c : key) {
    if (c == '~')
      out += "~0";
    else if (c == '/')
      out += "~1";
    else
      out += c;
  }
  return out;
}

struct OwnedRoute {
  size_t http_index;
  size_t stable_index;
  size_t canary_index;
  std::string name;
};

bool IsDestination(const json& destination, const TrafficRouting& routing,
                   bool canary) {
  if (routing.subset_level()) {
    return destination.value("subset", "") ==
           (canary ? routing.canary_subset : routing.stable_subset);
  }
  const std::string& service =
      canary ? routing.canary_service : routing.stable_service;
  const std::string host = destination.value("host", "");
  return host == service || absl::StartsWith(host, service + ".");
}

std::string DestinationName(const TrafficRouting& routing, bool canary) {
  if (routing.subset_level()) {
    return absl::StrCat("subset \"",
                        canary ? routing.canary_subset : routing.stable_subset,
                        "\"");
  }
  return absl::StrCat("host \"",
                      canary ? routing.canary_service : routing.stable_service,
                      "\"");
}

absl::StatusOr<std::vector<OwnedRoute>> FindOwnedRoutes(
    const json& vs, const TrafficRouting& routing) {
  const std::string name = ObjectName(vs);
  const json& http =
      vs.value("spec", json::object()).value("http", json::array());
  if (!http.is_array() || http.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat(name, " has no spec.http routes"));
  }
  std::vector<size_t> indexes;
  if (routing.routes.empty()) {
    if (http.size() != 1) {
      return absl::FailedPreconditionError(
          absl::StrCat(name, " has ", http.size(),
                       " http routes; name the ones this rollout manages in "
                       "spec.trafficRouting.istio.virtualService.routes"));
    }
    indexes.push_back(0);
  } else {
    for (const std::string& route : routing.routes) {
      size_t i = 0;
      while (i < http.size() && http[i].value("name", "") != route) ++i;
      if (i == http.size()) {
        return absl::FailedPreconditionError(
            absl::StrCat(name, " has no http route named \"", route, "\""));
      }
      indexes.push_back(i);
    }
  }
  std::vector<OwnedRoute> owned;
  for (size_t i : indexes) {
    const json& destinations = http[i].value("route", json::array());
    OwnedRoute route{i, destinations.size(), destinations.size(),
                     http[i].value("name", absl::StrCat("#", i))};
    for (size_t j = 0; j < destinations.size(); ++j) {
      const json& destination =
          destinations[j].value("destination", json::object());
      if (IsDestination(destination, routing, false)) route.stable_index = j;
      if (IsDestination(destination, routing, true)) route.canary_index = j;
    }
    for (bool canary : {false, true}) {
      if ((canary ? route.canary_index : route.stable_index) ==
          destinations.size()) {
        return absl::FailedPreconditionError(absl::StrCat(
            name, " http route \"", route.name, "\" has no destination with ",
            DestinationName(routing, canary)));
      }
    }
    owned.push_back(route);
  }
  return owned;
}

absl::StatusOr<json> LabelsPatch(
    const json& object, const std::string& path, const json& current,
    const std::map<std::string, std::string>& labels) {
  json ops = json::array();
  if (!current.is_object()) {
    ops.push_back({{"op", "add"}, {"path", path}, {"value", labels}});
    ops.insert(ops.begin(), ResourceVersionGuard(object));
    return ops;
  }
  for (const auto& [key, value] : labels) {
    if (current.is_object() && current.contains(key) && current[key] == value)
      continue;
    ops.push_back({{"op", current.contains(key) ? "replace" : "add"},
                   {"path", absl::StrCat(path, "/", EscapePointer(key))},
                   {"value", value}});
  }
  // Guard only the labels this patch rewrites: edits elsewhere in the
  // object never make it fail.
  if (!ops.empty()) ops.insert(ops.begin(), TestOp(path, current));
  return ops;
}

}  // namespace

absl::StatusOr<json> VirtualServiceWeightPatch(const json& vs,
                                               const TrafficRouting& routing,
                                               int canary_weight) {
  auto owned = FindOwnedRoutes(vs, routing);
  if (!owned.ok()) return owned.status();
  json ops = json::array();
  const json& http = vs["spec"]["http"];
  for (const OwnedRoute& route : *owned) {
    const json& destinations = http[route.http_index]["route"];
    const size_t before = ops.size();
    for (auto [index, weight] :
         {std::pair{route.stable_index, 100 - canary_weight},
          std::pair{route.canary_index, canary_weight}}) {
      const json& destination = destinations[index];
      if (destination.contains("weight") && destination["weight"] == weight)
        continue;
      ops.push_back({{"op", destination.contains("weight") ? "replace" : "add"},
                     {"path", absl::StrCat("/spec/http/", route.http_index,
                                           "/route/", index, "/weight")},
                     {"value", weight}});
    }
    // Guard exactly the destinations this rollout owns: another team's edit
    // of another route, or of this route's match or retries, never conflicts.
    if (ops.size() > before) {
      ops.insert(ops.begin() + static_cast<std::ptrdiff_t>(before),
                 TestOp(absl::StrCat("/spec/http/", route.http_index, "/route"),
                        destinations));
    }
  }
  return ops;
}

absl::StatusOr<int> VirtualServiceCanaryWeight(const json& vs,
                                               const TrafficRouting& routing) {
  auto owned = FindOwnedRoutes(vs, routing);
  if (!owned.ok()) return owned.status();
  const OwnedRoute& first = owned->front();
  return vs["spec"]["http"][first.http_index]["route"][first.canary_index]
      .value("weight", 0);
}

absl::StatusOr<json> SubsetLabelsPatch(
    const json& dr, const std::string& subset,
    const std::map<std::string, std::string>& labels) {
  const json& subsets =
      dr.value("spec", json::object()).value("subsets", json::array());
  for (size_t i = 0; i < subsets.size(); ++i) {
    if (subsets[i].value("name", "") != subset) continue;
    return LabelsPatch(dr, absl::StrCat("/spec/subsets/", i, "/labels"),
                       subsets[i].value("labels", json()), labels);
  }
  return absl::FailedPreconditionError(
      absl::StrCat(ObjectName(dr), " has no subset named \"", subset, "\""));
}

absl::StatusOr<json> ServiceSelectorPatch(
    const json& service, const std::map<std::string, std::string>& labels) {
  const json& spec = service.value("spec", json::object());
  return LabelsPatch(service, "/spec/selector", spec.value("selector", json()),
                     labels);
}

absl::StatusOr<json> PromotedSelectorPatch(
    const json& stable_service, const json& canary_service,
    const std::map<std::string, std::string>& labels) {
  auto selector_of = [](const json& service)
      -> absl::StatusOr<std::map<std::string, std::string>> {
    std::map<std::string, std::string> out;
    const json& spec = service.value("spec", json::object());
    const json& selector = spec.is_object()
                               ? spec.value("selector", json::object())
                               : json::object();
    if (!selector.is_object()) return out;
    for (const auto& [key, value] : selector.items()) {
      if (!value.is_string()) {
        return absl::FailedPreconditionError(
            absl::StrCat(ObjectName(service), " has a selector value for \"",
                         key, "\" that is not a string"));
      }
      out[key] = value.get<std::string>();
    }
    return out;
  };
  auto canary = selector_of(canary_service);
  if (!canary.ok()) return canary.status();
  auto merged = selector_of(stable_service);
  if (!merged.ok()) return merged.status();
  if (canary->empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat(ObjectName(canary_service), " has no selector"));
  }
  const std::map<std::string, std::string>& take =
      labels.empty() ? *canary : labels;
  for (const auto& [key, value] : take) (*merged)[key] = value;
  for (const auto& [key, value] : *merged) {
    auto found = canary->find(key);
    if (found == canary->end() || found->second != value) {
      return absl::FailedPreconditionError(absl::StrCat(
          ObjectName(stable_service), "'s selector would need ", key, "=",
          value, " after promotion, which ", ObjectName(canary_service),
          "'s selector does not require: the stable Service could lose its "
          "endpoints; make the canary Service's selector include it"));
    }
  }
  return ServiceSelectorPatch(stable_service, take);
}

}  // namespace smartcanary::istio

#include "controller/rollout_finalizer.h"

namespace smartcanary {
namespace {

using nlohmann::json;

json Finalizers(const json& object) {
  const json& meta = object.value("metadata", json::object());
  json finalizers = meta.value("finalizers", json::array());
  return finalizers.is_array() ? finalizers : json::array();
}

json GuardedReplace(const json& object, const json& finalizers) {
  const json& meta = object.value("metadata", json::object());
  return json::array({{{"op", "replace"},
                       {"path", "/metadata/resourceVersion"},
                       {"value", meta.value("resourceVersion", "")}},
                      {{"op", "add"},
                       {"path", "/metadata/finalizers"},
                       {"value", finalizers}}});
}

}  // namespace

bool HasTrafficFinalizer(const json& object) {
  for (const json& f : Finalizers(object)) {
    if (f.is_string() && f.get<std::string>() == kTrafficFinalizer) return true;
  }
  return false;
}

bool BeingDeleted(const json& object) {
  const json& meta = object.value("metadata", json::object());
  return meta.contains("deletionTimestamp") &&
         !meta["deletionTimestamp"].is_null();
}

json AddTrafficFinalizerPatch(const json& object) {
  if (HasTrafficFinalizer(object)) return json::array();
  json finalizers = Finalizers(object);
  finalizers.push_back(kTrafficFinalizer);
  return GuardedReplace(object, finalizers);
}

json RemoveTrafficFinalizerPatch(const json& object) {
  if (!HasTrafficFinalizer(object)) return json::array();
  json kept = json::array();
  for (const json& f : Finalizers(object)) {
    if (!(f.is_string() && f.get<std::string>() == kTrafficFinalizer))
      kept.push_back(f);
  }
  return GuardedReplace(object, kept);
}

}  // namespace smartcanary

#include "controller/kube/kube_event_recorder.h"

#include "absl/strings/str_cat.h"
#include "common/utf8.h"
#include "controller/kube/resources.h"

namespace smartcanary::kube {
namespace {

using nlohmann::json;

constexpr Resource kEvents{"/api/v1", "events"};
// The API server refuses longer Event messages (events.k8s.io's note
// limit, which core/v1 Events share once written through either API).
constexpr size_t kMaxMessageBytes = 1024;

std::string Rfc3339(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
}

}  // namespace

KubeEventRecorder::KubeEventRecorder(const KubeApi& client,
                                     std::string component,
                                     std::string instance,
                                     notify::AggregatorOptions options)
    : client_(client),
      component_(std::move(component)),
      instance_(std::move(instance)),
      aggregator_(options) {}

json KubeEventRecorder::EventJson(const notify::ObjectRef& object,
                                  notify::EventType type,
                                  const std::string& reason,
                                  const notify::EventWrite& write,
                                  const std::string& component,
                                  const std::string& instance) {
  json involved = {{"apiVersion", object.api_version},
                   {"kind", object.kind},
                   {"namespace", object.ns},
                   {"name", object.name}};
  if (!object.uid.empty()) involved["uid"] = object.uid;
  if (!object.resource_version.empty())
    involved["resourceVersion"] = object.resource_version;
  json event = {
      {"apiVersion", "v1"},
      {"kind", "Event"},
      {"metadata", {{"name", write.event_name}, {"namespace", object.ns}}},
      {"involvedObject", involved},
      {"reason", reason},
      {"message", SanitizeAndCap(write.message, kMaxMessageBytes)},
      {"type", notify::EventTypeName(type)},
      {"count", write.count},
      {"firstTimestamp", Rfc3339(write.first)},
      {"lastTimestamp", Rfc3339(write.last)},
      {"source", {{"component", component}}},
      {"reportingComponent", component}};
  if (!instance.empty()) event["reportingInstance"] = instance;
  return event;
}

absl::Status KubeEventRecorder::Record(const notify::ObjectRef& object,
                                       notify::EventType type,
                                       const std::string& reason,
                                       const std::string& message,
                                       absl::Time at) {
  notify::EventWrite write;
  {
    absl::MutexLock lock(&mu_);
    write = aggregator_.Observe(object, type, reason, message, at);
  }
  if (write.create) return Create(object, type, reason, write);
  absl::Status repeated = Repeat(object, write);
  if (absl::IsNotFound(repeated)) {
    // Expired (Events live an hour) or deleted: start it again.
    write.count = 1;
    write.first = write.last;
    {
      absl::MutexLock lock(&mu_);
      aggregator_.Adopt(write, 1, write.first);
    }
    return Create(object, type, reason, write);
  }
  return repeated;
}

absl::Status KubeEventRecorder::Create(const notify::ObjectRef& object,
                                       notify::EventType type,
                                       const std::string& reason,
                                       notify::EventWrite write) {
  auto created = client_.Post(
      kEvents.Collection(object.ns),
      EventJson(object, type, reason, write, component_, instance_));
  if (created.ok()) return absl::OkStatus();
  if (!absl::IsAlreadyExists(created.status())) {
    absl::MutexLock lock(&mu_);
    aggregator_.Forget(write);
    return created.status();
  }
  // Written by an earlier canaryd (the name is a hash of what it
  // aggregates): continue its count.
  auto existing = client_.Get(kEvents.Item(object.ns, write.event_name));
  if (!existing.ok()) return existing.status();
  const json& count = (*existing)["count"];
  write.count = (count.is_number_integer() ? count.get<int64_t>() : 0) + 1;
  absl::Time first = write.first;
  const json& stamp = (*existing)["firstTimestamp"];
  std::string err;
  if (stamp.is_string())
    absl::ParseTime(absl::RFC3339_full, stamp.get<std::string>(), &first, &err);
  write.first = first;
  {
    absl::MutexLock lock(&mu_);
    aggregator_.Adopt(write, write.count, write.first);
  }
  return Repeat(object, write);
}

absl::Status KubeEventRecorder::Repeat(const notify::ObjectRef& object,
                                       const notify::EventWrite& write) {
  json patch = {{"count", write.count},
                {"lastTimestamp", Rfc3339(write.last)},
                {"message", SanitizeAndCap(write.message, kMaxMessageBytes)}};
  return client_.MergePatch(kEvents.Item(object.ns, write.event_name), patch)
      .status();
}

}  // namespace smartcanary::kube

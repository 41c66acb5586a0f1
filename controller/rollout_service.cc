#include "controller/rollout_service.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "controller/analysis/submit_warnings.h"
#include "controller/kube/resources.h"
#include "controller/rollout_proto.h"
#include "spdlog/spdlog.h"

namespace smartcanary {
namespace {

using nlohmann::json;

constexpr int kConflictRetries = 5;

grpc::Status ToGrpc(const absl::Status& status) {
  // absl and gRPC share the canonical code numbering.
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()),
                      std::string(status.message()));
}

absl::Status CheckName(const std::string& name) {
  if (name.empty())
    return absl::InvalidArgumentError("metadata.name: is required");
  return absl::OkStatus();
}

}  // namespace

RolloutServiceImpl::RolloutServiceImpl(const kube::KubeApi& client,
                                       Reconciler& reconciler, Trigger trigger,
                                       std::string default_namespace,
                                       LeaderForwarder* forwarder)
    : client_(client),
      reconciler_(reconciler),
      trigger_(std::move(trigger)),
      default_namespace_(std::move(default_namespace)),
      forwarder_(forwarder) {}

std::string RolloutServiceImpl::NamespaceOf(
    const std::string& requested) const {
  return requested.empty() ? default_namespace_ : requested;
}

void RolloutServiceImpl::AddSubmitWarnings(const std::string& ns,
                                           const RolloutSpec& spec,
                                           v1::Rollout* out) const {
  out->clear_warnings();
  for (const std::string& warning : SubmitWarnings(
           spec,
           [&](const AnalysisRef&ref, const std::string&where)
               -> absl::StatusOr<std::vector<MetricSpec>> {
             auto resolved = reconciler_.templates().Resolve(ns, ref, where);
             if (!resolved.ok()) return resolved.status();
             return resolved->metrics;
           })) {
    out->add_warnings(warning);
  }
}

grpc::Status RolloutServiceImpl::StartRollout(
    grpc::ServerContext* context, const v1::StartRolloutRequest* request,
    v1::Rollout* out) {
  if (forwarder_ != nullptr) {
    if (auto forwarded = forwarder_->Forward(
            context, *request, out, &v1::RolloutService::Stub::StartRollout))
      return *forwarded;
  }
  if (auto status = CheckName(request->name()); !status.ok())
    return ToGrpc(status);
  auto spec = SpecFromProto(request->spec());
  if (!spec.ok()) return ToGrpc(spec.status());
  const std::string ns = NamespaceOf(request->namespace_());
  // Templates are checked now, so a typo in a condition is refused here
  // instead of being discovered mid-rollout.
  if (auto valid = reconciler_.templates().ValidateSpec(ns, *spec);
      !valid.ok()) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        std::string(valid.message()));
  }
  const std::string path = kube::kCanaryRollouts.Item(ns, request->name());
  for (int attempt = 0; attempt < kConflictRetries; ++attempt) {
    auto existing = client_.Get(path);
    absl::StatusOr<json> written;
    if (absl::IsNotFound(existing.status())) {
      written = client_.Post(kube::kCanaryRollouts.Collection(ns),
                             NewCanaryRolloutJson(ns, request->name(), *spec));
    } else if (!existing.ok()) {
      return ToGrpc(existing.status());
    } else {
      auto current = CanaryRolloutFromJson(*existing);
      if (current.ok() && current->spec == *spec) {
        *out = RolloutToProto(*current);  // identical spec: nothing to do
        AddSubmitWarnings(ns, *spec, out);
        return grpc::Status::OK;
      }
      json updated = *existing;
      updated["spec"] = RolloutSpecToJson(*spec);
      written = client_.Put(path, updated);  // carries resourceVersion: guarded
    }
    if (absl::IsAborted(written.status()) ||
        absl::IsAlreadyExists(written.status()))
      continue;
    if (!written.ok()) return ToGrpc(written.status());
    auto rollout = CanaryRolloutFromJson(*written);
    if (!rollout.ok()) return ToGrpc(rollout.status());
    spdlog::info("{}/{}: spec accepted (generation {})", ns, request->name(),
                 rollout->generation);
    trigger_(ns, request->name(), absl::ZeroDuration());
    *out = RolloutToProto(*rollout);
    AddSubmitWarnings(ns, *spec, out);
    return grpc::Status::OK;
  }
  return grpc::Status(grpc::StatusCode::ABORTED,
                      "too many concurrent writes; try again");
}

grpc::Status RolloutServiceImpl::GetRollout(grpc::ServerContext*,
                                            const v1::RolloutRef* ref,
                                            v1::Rollout* out) {
  if (auto status = CheckName(ref->name()); !status.ok()) return ToGrpc(status);
  auto object = client_.Get(
      kube::kCanaryRollouts.Item(NamespaceOf(ref->namespace_()), ref->name()));
  if (absl::IsNotFound(object.status())) {
    return grpc::Status(
        grpc::StatusCode::NOT_FOUND,
        absl::StrCat("CanaryRollout ", NamespaceOf(ref->namespace_()), "/",
                     ref->name(), " not found"));
  }
  if (!object.ok()) return ToGrpc(object.status());
  auto rollout = CanaryRolloutFromJson(*object);
  if (!rollout.ok()) return ToGrpc(rollout.status());
  *out = RolloutToProto(*rollout);
  return grpc::Status::OK;
}

grpc::Status RolloutServiceImpl::ListRollouts(
    grpc::ServerContext*, const v1::ListRolloutsRequest* request,
    v1::ListRolloutsResponse* out) {
  auto list =
      client_.List(kube::kCanaryRollouts.Collection(request->namespace_()));
  if (!list.ok()) return ToGrpc(list.status());
  for (const json& item : list->items) {
    auto rollout = CanaryRolloutFromJson(item);
    if (!rollout.ok()) {
      spdlog::warn("list: skipping unreadable rollout: {}",
                   rollout.status().ToString());
      continue;
    }
    *out->add_rollouts() = RolloutToProto(*rollout);
  }
  return grpc::Status::OK;
}

grpc::Status RolloutServiceImpl::WatchRollout(
    grpc::ServerContext* context, const v1::RolloutRef* ref,
    grpc::ServerWriter<v1::RolloutEvent>* writer) {
  v1::RolloutEvent first;
  first.set_type("ADDED");
  if (auto status = GetRollout(context, ref, first.mutable_rollout());
      !status.ok())
    return status;
  if (!writer->Write(first)) return grpc::Status::OK;
  const std::string ns = NamespaceOf(ref->namespace_());
  std::string resource_version;
  {
    auto object = client_.Get(kube::kCanaryRollouts.Item(ns, ref->name()));
    if (!object.ok()) return ToGrpc(object.status());
    resource_version = (*object)["metadata"].value("resourceVersion", "");
  }
  bool deleted = false;
  while (!context->IsCancelled() && !deleted) {
    bool expired = false;
    const std::string path = absl::StrCat(
        kube::kCanaryRollouts.Collection(ns),
        "?watch=1&fieldSelector=metadata.name%3D", ref->name(),
        "&resourceVersion=", resource_version, "&timeoutSeconds=300");
    absl::Status watched = client_.Watch(
        path,
        [&](const json& event) {
          const std::string type = event.value("type", "");
          if (type == "ERROR") {
            expired = event["object"].value("code", 0) == 410;
            return false;
          }
          if (type == "BOOKMARK") return true;
          const json& object = event["object"];
          resource_version =
              object["metadata"].value("resourceVersion", resource_version);
          auto rollout = CanaryRolloutFromJson(object);
          if (!rollout.ok()) return true;
          v1::RolloutEvent out;
          out.set_type(type);
          *out.mutable_rollout() = RolloutToProto(*rollout);
          deleted = type == "DELETED";
          return writer->Write(out) && !deleted;
        },
        [context] { return context->IsCancelled(); });
    if (expired) watched = absl::OutOfRangeError("resourceVersion expired");
    if (absl::IsOutOfRange(watched) && !context->IsCancelled()) {
      // The resourceVersion expired (410): start again from the object as
      // it is now, after a pause so a flapping API server is not hammered.
      absl::SleepFor(absl::Seconds(1));
      auto object = client_.Get(kube::kCanaryRollouts.Item(ns, ref->name()));
      if (!object.ok()) return ToGrpc(object.status());
      resource_version = (*object)["metadata"].value("resourceVersion", "");
      continue;
    }
    if (!watched.ok() && !context->IsCancelled()) {
      return ToGrpc(watched);
    }
  }
  return grpc::Status::OK;
}

grpc::Status RolloutServiceImpl::RunCommand(const v1::RolloutRef& ref,
                                            Command command, v1::Rollout* out) {
  if (auto status = CheckName(ref.name()); !status.ok()) return ToGrpc(status);
  const std::string ns = NamespaceOf(ref.namespace_());
  auto result = reconciler_.RunCommand(ns, ref.name(), command, absl::Now());
  if (!result.ok()) return ToGrpc(result.status());
  trigger_(ns, ref.name(), result->requeue_after);
  *out = RolloutToProto(result->rollout);
  return grpc::Status::OK;
}

grpc::Status RolloutServiceImpl::Promote(grpc::ServerContext* context,
                                         const v1::PromoteRequest* request,
                                         v1::Rollout* out) {
  if (forwarder_ != nullptr) {
    if (auto forwarded = forwarder_->Forward(
            context, *request, out, &v1::RolloutService::Stub::Promote))
      return *forwarded;
  }
  return RunCommand(request->rollout(),
                    request->full() ? Command::kPromoteFull : Command::kPromote,
                    out);
}

grpc::Status RolloutServiceImpl::Abort(grpc::ServerContext* context,
                                       const v1::RolloutRef* ref,
                                       v1::Rollout* out) {
  if (forwarder_ != nullptr) {
    if (auto forwarded = forwarder_->Forward(context, *ref, out,
                                             &v1::RolloutService::Stub::Abort))
      return *forwarded;
  }
  return RunCommand(*ref, Command::kAbort, out);
}

grpc::Status RolloutServiceImpl::Retry(grpc::ServerContext* context,
                                       const v1::RolloutRef* ref,
                                       v1::Rollout* out) {
  if (forwarder_ != nullptr) {
    if (auto forwarded = forwarder_->Forward(context, *ref, out,
                                             &v1::RolloutService::Stub::Retry))
      return *forwarded;
  }
  return RunCommand(*ref, Command::kRetry, out);
}

grpc::Status RolloutServiceImpl::Pause(grpc::ServerContext* context,
                                       const v1::RolloutRef* ref,
                                       v1::Rollout* out) {
  if (forwarder_ != nullptr) {
    if (auto forwarded = forwarder_->Forward(context, *ref, out,
                                             &v1::RolloutService::Stub::Pause))
      return *forwarded;
  }
  return RunCommand(*ref, Command::kPause, out);
}

grpc::Status RolloutServiceImpl::Resume(grpc::ServerContext* context,
                                        const v1::RolloutRef* ref,
                                        v1::Rollout* out) {
  if (forwarder_ != nullptr) {
    if (auto forwarded = forwarder_->Forward(context, *ref, out,
                                             &v1::RolloutService::Stub::Resume))
      return *forwarded;
  }
  return RunCommand(*ref, Command::kResume, out);
}

}  // namespace smartcanary

#include "controller/rollout_service.h"

#include <exception>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "controller/analysis/submit_warnings.h"
#include "controller/kube/resources.h"
#include "controller/rollout_proto.h"
#include "spdlog/spdlog.h"

namespace smartcanary {
namespace {

using auth::RolloutRpc;
using nlohmann::json;

constexpr int kConflictRetries = 5;

grpc::Status ToGrpc(const absl::Status& status) {
  // absl and gRPC share the canonical code numbering.
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()),
                      std::string(status.message()));
}

// DNS-1123: lower-case alphanumerics and '-', starting and ending
// alphanumeric; a subdomain also allows '.' between such labels. Checked
// before a name goes into an API path or an authorization question.
bool IsDns1123(const std::string& name, size_t max_length, bool dots) {
  if (name.empty() || name.size() > max_length) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool alnum = absl::ascii_islower(c) || absl::ascii_isdigit(c);
    const bool edge = i == 0 || i + 1 == name.size();
    if (alnum) continue;
    if (edge || (c != '-' && !(dots && c == '.'))) return false;
    if (c == '.' && (name[i - 1] == '.' || name[i + 1] == '.' ||
                     name[i - 1] == '-' || name[i + 1] == '-'))
      return false;
  }
  return true;
}

absl::Status CheckName(const std::string& name) {
  if (name.empty())
    return absl::InvalidArgumentError("metadata.name: is required");
  if (!IsDns1123(name, 253, /*dots=*/true)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "metadata.name: \"", absl::CEscape(name),
        "\" is not a Kubernetes name (lower-case letters, digits, '-' and "
        "'.', at most 253 characters, starting and ending alphanumeric)"));
  }
  return absl::OkStatus();
}

// Runs a handler so that nothing it throws reaches gRPC's thread (which
// would end the process): an exception is INTERNAL with its message.
template <typename Body>
grpc::Status Guarded(const char* method, Body body) {
  try {
    return body();
  } catch (const std::exception& e) {
    spdlog::error("{}: internal error: {}", method, e.what());
    return grpc::Status(grpc::StatusCode::INTERNAL,
                        absl::StrCat(method, ": internal error: ", e.what()));
  } catch (...) {
    spdlog::error("{}: internal error", method);
    return grpc::Status(grpc::StatusCode::INTERNAL,
                        absl::StrCat(method, ": internal error"));
  }
}

}  // namespace

RolloutServiceImpl::RolloutServiceImpl(const kube::KubeApi& client,
                                       Reconciler& reconciler, Trigger trigger,
                                       auth::RpcGate& gate,
                                       RolloutServiceOptions options)
    : client_(client),
      reconciler_(reconciler),
      trigger_(std::move(trigger)),
      gate_(gate),
      options_(std::move(options)) {}

absl::StatusOr<std::string> RolloutServiceImpl::NamespaceOf(
    const std::string& requested) const {
  const std::string ns =
      requested.empty() ? options_.default_namespace : requested;
  if (!IsDns1123(ns, 63, /*dots=*/false)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "metadata.namespace: \"", absl::CEscape(ns),
        "\" is not a namespace name (lower-case letters, digits and '-', at "
        "most 63 characters, starting and ending alphanumeric)"));
  }
  if (!options_.served_namespace.empty() && ns != options_.served_namespace) {
    return absl::PermissionDeniedError(
        absl::StrCat("this canaryd serves only namespace \"",
                     options_.served_namespace, "\", not \"", ns, "\""));
  }
  return ns;
}

absl::StatusOr<std::string> RolloutServiceImpl::Admit(
    grpc::ServerContext* context, const v1::RolloutRef& ref, RolloutRpc rpc) {
  // Who asks comes first: an anonymous caller learns nothing, not even
  // whether a name is valid.
  auto caller = gate_.Authenticate(*context);
  if (!caller.ok()) return caller.status();
  auto ns = NamespaceOf(ref.namespace_());
  if (!ns.ok()) return ns.status();
  if (auto status = CheckName(ref.name()); !status.ok()) return status;
  if (auto status =
          gate_.Authorize(*caller, auth::AccessFor(rpc, *ns, ref.name()));
      !status.ok())
    return status;
  return *ns;
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
  return Guarded("StartRollout",
                 [&] { return StartChecked(context, *request, out); });
}

grpc::Status RolloutServiceImpl::StartChecked(
    grpc::ServerContext* context, const v1::StartRolloutRequest& request,
    v1::Rollout* out) {
  auto caller = gate_.Authenticate(*context);
  if (!caller.ok()) return ToGrpc(caller.status());
  auto served = NamespaceOf(request.namespace_());
  if (!served.ok()) return ToGrpc(served.status());
  const std::string ns = *served;
  if (auto status = CheckName(request.name()); !status.ok())
    return ToGrpc(status);
  const std::string path = kube::kCanaryRollouts.Item(ns, request.name());
  // Creating needs `create`, changing a spec `update`: which one depends on
  // whether the rollout exists, asked again whenever that changes below.
  std::string authorized_verb;
  auto authorize = [&](bool exists) {
    const auth::Access access =
        auth::AccessFor(RolloutRpc::kStart, ns, request.name(), exists);
    if (access.verb == authorized_verb) return absl::OkStatus();
    absl::Status status = gate_.Authorize(*caller, access);
    if (status.ok()) authorized_verb = access.verb;
    return status;
  };
  {
    auto existing = client_.Get(path);
    if (!existing.ok() && !absl::IsNotFound(existing.status()))
      return ToGrpc(existing.status());
    if (auto status = authorize(existing.ok()); !status.ok())
      return ToGrpc(status);
  }
  if (options_.forwarder != nullptr) {
    if (auto forwarded = options_.forwarder->Forward(
            context, request, out, &v1::RolloutService::Stub::StartRollout))
      return *forwarded;
  }
  auto spec = SpecFromProto(request.spec());
  if (!spec.ok()) return ToGrpc(spec.status());
  // Templates are checked now, so a typo in a condition is refused here
  // instead of being discovered mid-rollout.
  if (auto valid = reconciler_.templates().ValidateSpec(ns, *spec);
      !valid.ok()) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        std::string(valid.message()));
  }
  for (int attempt = 0; attempt < kConflictRetries; ++attempt) {
    auto existing = client_.Get(path);
    absl::StatusOr<json> written;
    if (absl::IsNotFound(existing.status())) {
      if (auto status = authorize(false); !status.ok()) return ToGrpc(status);
      written = client_.Post(kube::kCanaryRollouts.Collection(ns),
                             NewCanaryRolloutJson(ns, request.name(), *spec));
    } else if (!existing.ok()) {
      return ToGrpc(existing.status());
    } else {
      if (auto status = authorize(true); !status.ok()) return ToGrpc(status);
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
    spdlog::info("{}/{}: spec accepted (generation {}) from {}", ns,
                 request.name(), rollout->generation, caller->user);
    trigger_(ns, request.name(), absl::ZeroDuration());
    *out = RolloutToProto(*rollout);
    AddSubmitWarnings(ns, *spec, out);
    return grpc::Status::OK;
  }
  return grpc::Status(grpc::StatusCode::ABORTED,
                      "too many concurrent writes; try again");
}

grpc::Status RolloutServiceImpl::GetRollout(grpc::ServerContext* context,
                                            const v1::RolloutRef* ref,
                                            v1::Rollout* out) {
  return Guarded("GetRollout", [&] {
    auto ns = Admit(context, *ref, RolloutRpc::kGet);
    if (!ns.ok()) return ToGrpc(ns.status());
    return GetChecked(*ns, ref->name(), out);
  });
}

grpc::Status RolloutServiceImpl::GetChecked(const std::string& ns,
                                            const std::string& name,
                                            v1::Rollout* out) {
  auto object = client_.Get(kube::kCanaryRollouts.Item(ns, name));
  if (absl::IsNotFound(object.status())) {
    return grpc::Status(
        grpc::StatusCode::NOT_FOUND,
        absl::StrCat("CanaryRollout ", ns, "/", name, " not found"));
  }
  if (!object.ok()) return ToGrpc(object.status());
  auto rollout = CanaryRolloutFromJson(*object);
  if (!rollout.ok()) return ToGrpc(rollout.status());
  *out = RolloutToProto(*rollout);
  return grpc::Status::OK;
}

grpc::Status RolloutServiceImpl::ListRollouts(
    grpc::ServerContext* context, const v1::ListRolloutsRequest* request,
    v1::ListRolloutsResponse* out) {
  return Guarded("ListRollouts", [&] {
    auto caller = gate_.Authenticate(*context);
    if (!caller.ok()) return ToGrpc(caller.status());
    // No namespace: every namespace this canaryd serves, which is its own
    // alone when it is bound to one.
    std::string ns = options_.served_namespace;
    if (!request->namespace_().empty()) {
      auto named = NamespaceOf(request->namespace_());
      if (!named.ok()) return ToGrpc(named.status());
      ns = *named;
    }
    if (auto status = gate_.Authorize(
            *caller, auth::AccessFor(RolloutRpc::kList, ns, ""));
        !status.ok())
      return ToGrpc(status);
    auto list = client_.List(kube::kCanaryRollouts.Collection(ns));
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
  });
}

grpc::Status RolloutServiceImpl::WatchRollout(
    grpc::ServerContext* context, const v1::RolloutRef* ref,
    grpc::ServerWriter<v1::RolloutEvent>* writer) {
  return Guarded("WatchRollout", [&] {
    auto ns = Admit(context, *ref, RolloutRpc::kWatch);
    if (!ns.ok()) return ToGrpc(ns.status());
    return WatchChecked(context, *ns, ref->name(), writer);
  });
}

grpc::Status RolloutServiceImpl::WatchChecked(
    grpc::ServerContext* context, const std::string& ns,
    const std::string& name, grpc::ServerWriter<v1::RolloutEvent>* writer) {
  v1::RolloutEvent first;
  first.set_type("ADDED");
  if (auto status = GetChecked(ns, name, first.mutable_rollout()); !status.ok())
    return status;
  if (!writer->Write(first)) return grpc::Status::OK;
  std::string resource_version;
  {
    auto object = client_.Get(kube::kCanaryRollouts.Item(ns, name));
    if (!object.ok()) return ToGrpc(object.status());
    resource_version = (*object)["metadata"].value("resourceVersion", "");
  }
  bool deleted = false;
  while (!context->IsCancelled() && !deleted) {
    bool expired = false;
    const std::string path = absl::StrCat(
        kube::kCanaryRollouts.Collection(ns),
        "?watch=1&fieldSelector=metadata.name%3D", name,
        "&resourceVersion=", resource_version, "&timeoutSeconds=300");
    absl::Status watched = client_.Watch(
        path,
        [&](const json& event) {
          // Runs inside the HTTP client's callback, where an exception must
          // not go: a malformed event ends this watch instead.
          try {
            const std::string type = event.value("type", "");
            if (!event.contains("object") || !event["object"].is_object())
              return false;
            const json& object = event["object"];
            if (type == "ERROR") {
              expired = object.value("code", 0) == 410;
              return false;
            }
            if (type == "BOOKMARK") return true;
            if (object.contains("metadata")) {
              resource_version =
                  object["metadata"].value("resourceVersion", resource_version);
            }
            auto rollout = CanaryRolloutFromJson(object);
            if (!rollout.ok()) return true;
            v1::RolloutEvent out;
            out.set_type(type);
            *out.mutable_rollout() = RolloutToProto(*rollout);
            deleted = type == "DELETED";
            return writer->Write(out) && !deleted;
          } catch (const std::exception& e) {
            spdlog::warn("{}/{}: watch: malformed event: {}", ns, name,
                         e.what());
            return false;
          }
        },
        [context] { return context->IsCancelled(); });
    if (expired) watched = absl::OutOfRangeError("resourceVersion expired");
    if (absl::IsOutOfRange(watched) && !context->IsCancelled()) {
      // The resourceVersion expired (410): start again from the object as
      // it is now, after a pause so a flapping API server is not hammered.
      absl::SleepFor(absl::Seconds(1));
      auto object = client_.Get(kube::kCanaryRollouts.Item(ns, name));
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

template <typename Request>
grpc::Status RolloutServiceImpl::RunCommand(
    grpc::ServerContext* context, const Request& request,
    const v1::RolloutRef& ref, RolloutRpc rpc, Command command,
    v1::Rollout* out,
    grpc::Status (v1::RolloutService::Stub::*method)(grpc::ClientContext*,
                                                     const Request&,
                                                     v1::Rollout*)) {
  auto ns = Admit(context, ref, rpc);
  if (!ns.ok()) return ToGrpc(ns.status());
  if (options_.forwarder != nullptr) {
    if (auto forwarded =
            options_.forwarder->Forward(context, request, out, method))
      return *forwarded;
  }
  auto result = reconciler_.RunCommand(*ns, ref.name(), command, absl::Now());
  if (!result.ok()) return ToGrpc(result.status());
  trigger_(*ns, ref.name(), result->requeue_after);
  *out = RolloutToProto(result->rollout);
  return grpc::Status::OK;
}

grpc::Status RolloutServiceImpl::Promote(grpc::ServerContext* context,
                                         const v1::PromoteRequest* request,
                                         v1::Rollout* out) {
  return Guarded("Promote", [&] {
    return RunCommand(
        context, *request, request->rollout(), RolloutRpc::kPromote,
        request->full() ? Command::kPromoteFull : Command::kPromote, out,
        &v1::RolloutService::Stub::Promote);
  });
}

grpc::Status RolloutServiceImpl::Abort(grpc::ServerContext* context,
                                       const v1::RolloutRef* ref,
                                       v1::Rollout* out) {
  return Guarded("Abort", [&] {
    return RunCommand(context, *ref, *ref, RolloutRpc::kAbort, Command::kAbort,
                      out, &v1::RolloutService::Stub::Abort);
  });
}

grpc::Status RolloutServiceImpl::Retry(grpc::ServerContext* context,
                                       const v1::RolloutRef* ref,
                                       v1::Rollout* out) {
  return Guarded("Retry", [&] {
    return RunCommand(context, *ref, *ref, RolloutRpc::kRetry, Command::kRetry,
                      out, &v1::RolloutService::Stub::Retry);
  });
}

grpc::Status RolloutServiceImpl::Pause(grpc::ServerContext* context,
                                       const v1::RolloutRef* ref,
                                       v1::Rollout* out) {
  return Guarded("Pause", [&] {
    return RunCommand(context, *ref, *ref, RolloutRpc::kPause, Command::kPause,
                      out, &v1::RolloutService::Stub::Pause);
  });
}

grpc::Status RolloutServiceImpl::Resume(grpc::ServerContext* context,
                                        const v1::RolloutRef* ref,
                                        v1::Rollout* out) {
  return Guarded("Resume", [&] {
    return RunCommand(context, *ref, *ref, RolloutRpc::kResume,
                      Command::kResume, out, &v1::RolloutService::Stub::Resume);
  });
}

}  // namespace smartcanary

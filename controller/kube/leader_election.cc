#include "controller/kube/leader_election.h"

#include <unistd.h>

#include <chrono>
#include <random>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "controller/kube/kube_client.h"
#include "controller/kube/resources.h"
#include "spdlog/spdlog.h"

namespace smartcanary::kube {
namespace {

using nlohmann::json;

constexpr Resource kLeases{"/apis/coordination.k8s.io/v1", "leases"};
// Acquire attempts pause retry_period x [1, 1.2) so standbys drift apart.
constexpr double kJitter = 0.2;

// Decisions run on a clock that wall-clock steps cannot move.
absl::Time Monotonic() {
  return absl::UnixEpoch() +
         absl::FromChrono(std::chrono::steady_clock::now().time_since_epoch());
}

std::string StringField(const json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : "";
}

// The Lease's record and resourceVersion from an API answer.
absl::StatusOr<std::pair<LeaseRecord, std::string>> ReadLease(
    const json& lease) {
  if (!lease.is_object())
    return absl::InternalError("Lease: answer is not an object");
  auto spec = lease.find("spec");
  auto record = LeaseRecordFromSpec(spec == lease.end() ? json() : *spec);
  if (!record.ok()) return record.status();
  auto metadata = lease.find("metadata");
  std::string version = metadata != lease.end() && metadata->is_object()
                            ? StringField(*metadata, "resourceVersion")
                            : "";
  return std::pair{*record, version};
}

}  // namespace

std::string DefaultLeaderIdentity() {
  char host[256] = {};
  if (gethostname(host, sizeof(host) - 1) != 0 || host[0] == '\0')
    std::snprintf(host, sizeof(host), "canaryd");
  std::random_device random;
  return absl::StrFormat("%s_%08x%08x", host, random(), random());
}

absl::StatusOr<std::unique_ptr<LeaderElector>> LeaderElector::Create(
    KubeConfig kube, LeaderElectionConfig config, LeaderCallbacks callbacks) {
  if (config.lease_namespace.empty() || config.lease_name.empty())
    return absl::InvalidArgumentError(
        "leader election needs the Lease's namespace and name");
  if (config.identity.empty())
    return absl::InvalidArgumentError("leader election needs an identity");
  if (absl::Status timing = ValidateTiming(config.timing); !timing.ok())
    return timing;
  return std::unique_ptr<LeaderElector>(new LeaderElector(
      std::move(kube), std::move(config), std::move(callbacks)));
}

LeaderElector::LeaderElector(KubeConfig kube, LeaderElectionConfig config,
                             LeaderCallbacks callbacks)
    : kube_(std::move(kube)),
      config_(std::move(config)),
      callbacks_(std::move(callbacks)) {}

LeaderElector::~LeaderElector() { Stop(/*release=*/true); }

void LeaderElector::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (thread_.joinable() || stopping_) return;
  thread_ = std::thread([this] { Run(); });
}

void LeaderElector::Stop(bool release) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  bool was_leading, may_release;
  {
    std::lock_guard<std::mutex> lock(mu_);
    was_leading = leading_;
    may_release =
        leading_ && StillLeading(last_renew_, Monotonic(), config_.timing);
    leading_ = false;
  }
  // Stop acting first: a standby may lead as soon as the release lands.
  if (was_leading && callbacks_.on_stopped_leading)
    callbacks_.on_stopped_leading();
  if (release && may_release) Release();
}

bool LeaderElector::IsLeader() const {
  std::lock_guard<std::mutex> lock(mu_);
  return leading_ && StillLeading(last_renew_, Monotonic(), config_.timing);
}

std::string LeaderElector::LeaderIdentity() const {
  std::lock_guard<std::mutex> lock(mu_);
  return leader_;
}

std::string LeaderElector::Path() const {
  return kLeases.Item(config_.lease_namespace, config_.lease_name);
}

absl::Duration LeaderElector::RequestTimeout() const {
  // A leader's request may not outlive its deadline: the loop must get to
  // report the loss. Otherwise a request may take a whole renew deadline.
  std::lock_guard<std::mutex> lock(mu_);
  absl::Duration timeout = config_.timing.renew_deadline;
  if (leading_) {
    timeout = std::min(
        timeout, last_renew_ + config_.timing.renew_deadline - Monotonic());
  }
  return std::max(timeout, absl::Milliseconds(100));
}

void LeaderElector::SetLeaderLocked(const std::string& holder,
                                    std::optional<std::string>* changed) {
  if (holder == leader_) return;
  leader_ = holder;
  *changed = holder;
}

void LeaderElector::Run() {
  std::mt19937 random(std::random_device{}());
  std::uniform_real_distribution<double> jitter(1, 1 + kJitter);
  while (true) {
    TryAcquireOrRenew();
    CheckDeadline();
    std::unique_lock<std::mutex> lock(mu_);
    absl::Duration pause = config_.timing.retry_period;
    if (leading_) {
      // Wake at the deadline at the latest, to report the loss on time.
      pause = std::min(
          pause, last_renew_ + config_.timing.renew_deadline - Monotonic());
    } else {
      pause *= jitter(random);
    }
    pause = std::max(pause, absl::ZeroDuration());
    if (wake_.wait_for(lock, absl::ToChronoNanoseconds(pause),
                       [this] { return stopping_; }))
      return;
  }
}

bool LeaderElector::TryAcquireOrRenew() {
  // Taken before the read: the earliest the renew can count from, so the
  // fence errs early.
  const absl::Time started = Monotonic();
  std::optional<LeaseRecord> current;
  std::string version;
  auto got = KubeClient(kube_, RequestTimeout()).Get(Path());
  if (got.ok()) {
    auto lease = ReadLease(*got);
    if (!lease.ok()) {
      spdlog::warn("leader election: {}", lease.status().ToString());
      return false;
    }
    current = lease->first;
    version = lease->second;
  } else if (got.status().code() != absl::StatusCode::kNotFound) {
    spdlog::log(IsLeader() ? spdlog::level::warn : spdlog::level::debug,
                "leader election: reading the Lease: {}",
                got.status().ToString());
    return false;
  }

  LeaseAction action;
  bool lost = false;
  std::optional<std::string> new_leader;
  {
    std::lock_guard<std::mutex> lock(mu_);
    observed_ = Observe(observed_, current, Monotonic());
    resource_version_ = version;
    SetLeaderLocked(current ? current->holder_identity : "", &new_leader);
    action = DecideLease(observed_, Monotonic(), config_.identity,
                         config_.timing.lease_duration);
    if (action == LeaseAction::kWait && leading_) {
      leading_ = false;  // another holder took it: stop at once
      lost = true;
    }
  }
  if (new_leader && callbacks_.on_new_leader)
    callbacks_.on_new_leader(*new_leader);
  if (lost) {
    spdlog::warn("leader election: lost Lease {}/{} to {}",
                 config_.lease_namespace, config_.lease_name,
                 current->holder_identity);
    if (callbacks_.on_stopped_leading) callbacks_.on_stopped_leading();
  }
  if (action == LeaseAction::kWait) return false;

  const LeaseRecord next =
      NextRecord(action, current, config_.identity, absl::Now(),
                 config_.timing.lease_duration);
  json body = {
      {"apiVersion", "coordination.k8s.io/v1"},
      {"kind", "Lease"},
      {"metadata",
       {{"name", config_.lease_name}, {"namespace", config_.lease_namespace}}},
      {"spec", LeaseRecordToSpec(next)}};
  // The read's resourceVersion makes the write conditional: 409 when
  // another candidate wrote in between.
  if (action != LeaseAction::kCreate)
    body["metadata"]["resourceVersion"] = version;
  KubeClient client(kube_, RequestTimeout());
  auto written =
      action == LeaseAction::kCreate
          ? client.Post(kLeases.Collection(config_.lease_namespace), body)
          : client.Put(Path(), body);
  if (!written.ok()) {
    spdlog::log(IsLeader() ? spdlog::level::warn : spdlog::level::debug,
                "leader election: writing the Lease: {}",
                written.status().ToString());
    return false;
  }
  auto lease = ReadLease(*written);
  bool started_leading = false, lapsed = false;
  new_leader.reset();
  {
    std::lock_guard<std::mutex> lock(mu_);
    observed_ = {lease.ok() ? lease->first : next, Monotonic()};
    resource_version_ = lease.ok() ? lease->second : "";
    SetLeaderLocked(config_.identity, &new_leader);
    // A renew landing after the deadline passed: leadership lapsed in
    // between, which the callbacks must show.
    lapsed =
        leading_ && !StillLeading(last_renew_, Monotonic(), config_.timing);
    started_leading = !leading_ || lapsed;
    leading_ = true;
    last_renew_ = started;
  }
  if (new_leader && callbacks_.on_new_leader)
    callbacks_.on_new_leader(*new_leader);
  if (lapsed && callbacks_.on_stopped_leading) callbacks_.on_stopped_leading();
  if (started_leading) {
    spdlog::info("leader election: {} leads Lease {}/{}", config_.identity,
                 config_.lease_namespace, config_.lease_name);
    if (callbacks_.on_started_leading) callbacks_.on_started_leading();
  }
  return true;
}

void LeaderElector::CheckDeadline() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!leading_ || StillLeading(last_renew_, Monotonic(), config_.timing))
      return;
    leading_ = false;
  }
  spdlog::warn(
      "leader election: no renew of Lease {}/{} within {}; stepping "
      "down",
      config_.lease_namespace, config_.lease_name,
      absl::FormatDuration(config_.timing.renew_deadline));
  if (callbacks_.on_stopped_leading) callbacks_.on_stopped_leading();
}

void LeaderElector::Release() {
  LeaseRecord current;
  std::string version;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!observed_.record ||
        observed_.record->holder_identity != config_.identity)
      return;
    current = *observed_.record;
    version = resource_version_;
  }
  json body = {
      {"apiVersion", "coordination.k8s.io/v1"},
      {"kind", "Lease"},
      {"metadata",
       {{"name", config_.lease_name},
        {"namespace", config_.lease_namespace},
        {"resourceVersion", version}}},
      {"spec", LeaseRecordToSpec(ReleasedRecord(current, absl::Now()))}};
  // A conflict means someone else wrote since: nothing of ours to release.
  auto written =
      KubeClient(kube_, config_.timing.renew_deadline).Put(Path(), body);
  if (!written.ok()) {
    spdlog::warn("leader election: releasing the Lease: {}",
                 written.status().ToString());
  }
}

}  // namespace smartcanary::kube

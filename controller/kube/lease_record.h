#ifndef SMARTCANARY_CONTROLLER_KUBE_LEASE_RECORD_H_
#define SMARTCANARY_CONTROLLER_KUBE_LEASE_RECORD_H_

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"

// The leader-election record kept in a coordination.k8s.io/v1 Lease's spec,
// and its wire form. Pure: no I/O.
namespace smartcanary::kube {

struct LeaseRecord {
  std::string holder_identity;  // empty: nobody holds it (released)
  int lease_duration_seconds = 0;
  // Wall-clock times the holder wrote. Informational only: no decision ever
  // compares them with this host's clock (see lease_decision.h).
  std::optional<absl::Time> acquire_time;
  std::optional<absl::Time> renew_time;
  int lease_transitions = 0;

  bool operator==(const LeaseRecord&) const = default;
};

// MicroTime: RFC 3339 in UTC with exactly six fractional digits, as the API
// server writes it ("2026-01-02T03:04:05.000006Z").
std::string FormatMicroTime(absl::Time t);
absl::StatusOr<absl::Time> ParseMicroTime(const std::string& text);

// A Lease's `spec`. Absent fields take their zero values; a field of the
// wrong type is INVALID_ARGUMENT naming it.
absl::StatusOr<LeaseRecord> LeaseRecordFromSpec(const nlohmann::json& spec);
nlohmann::json LeaseRecordToSpec(const LeaseRecord& record);

}  // namespace smartcanary::kube

#endif  // SMARTCANARY_CONTROLLER_KUBE_LEASE_RECORD_H_

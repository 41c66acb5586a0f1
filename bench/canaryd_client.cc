#include "bench/canaryd_client.h"

#include <grpcpp/grpcpp.h>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace smartcanary::bench {
namespace {

double Seconds(absl::Duration d) { return absl::ToDoubleSeconds(d); }

using Command = grpc::Status (v1::RolloutService::Stub::*)(
    grpc::ClientContext*, const v1::RolloutRef&, v1::Rollout*);

// Sends a command about one rollout; `sent` is when.
grpc::Status Send(v1::RolloutService::Stub& stub, Command command,
                  const std::string& ns, const std::string& name,
                  absl::Time& sent) {
  v1::RolloutRef ref;
  ref.set_namespace_(ns);
  ref.set_name(name);
  v1::Rollout out;
  grpc::ClientContext context;
  sent = absl::Now();
  context.set_deadline(absl::ToChronoTime(sent + kCommandWait));
  return (stub.*command)(&context, ref, &out);
}

}  // namespace

AbortTiming AbortOne(v1::RolloutService::Stub& stub, WeightTimeline& timeline,
                     const std::string& ns, const std::string& name) {
  AbortTiming timing;
  absl::Time sent;
  const grpc::Status status =
      Send(stub, &v1::RolloutService::Stub::Abort, ns, name, sent);
  timing.reply = Seconds(absl::Now() - sent);
  if (!status.ok()) {
    timing.error = absl::StrCat(name, ": ", status.error_message());
    return timing;
  }
  auto seen = timeline.WaitFor(name, 100, 0, sent, sent + kCommandWait);
  if (!seen) {
    timing.error = absl::StrCat(name, ": the watch never saw 100/0");
    return timing;
  }
  timing.to_watch = Seconds(*seen - sent);
  return timing;
}

absl::Status RetryToTwenty(v1::RolloutService::Stub& stub,
                           WeightTimeline& timeline, const std::string& ns,
                           const std::string& name) {
  absl::Time sent;
  const grpc::Status status =
      Send(stub, &v1::RolloutService::Stub::Retry, ns, name, sent);
  if (!status.ok()) {
    return absl::UnavailableError(
        absl::StrCat("retry ", name, ": ", status.error_message()));
  }
  if (!timeline.WaitFor(name, 80, 20, sent, sent + kCommandWait)) {
    return absl::DeadlineExceededError(
        absl::StrCat("retry ", name, ": never back at 20%"));
  }
  return absl::OkStatus();
}

double MetricValue(const std::string& text, absl::string_view name) {
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (!absl::ConsumePrefix(&line, name) || !absl::ConsumePrefix(&line, " "))
      continue;
    double value = 0;
    if (absl::SimpleAtod(line, &value)) return value;
  }
  return 0;
}

int SeriesCount(const std::string& text, absl::string_view name) {
  int count = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (absl::ConsumePrefix(&line, name) &&
        (absl::StartsWith(line, "{") || absl::StartsWith(line, " "))) {
      ++count;
    }
  }
  return count;
}

}  // namespace smartcanary::bench

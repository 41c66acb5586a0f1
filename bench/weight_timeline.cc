#include "bench/weight_timeline.h"

#include "absl/strings/str_cat.h"
#include "controller/kube/resources.h"

namespace smartcanary::bench {

using nlohmann::json;

namespace {

// A destination's weight, or -1 when the object does not have that shape.
int WeightOf(const json& object, int destination) {
  const json& spec = object.value("spec", json::object());
  const json& http = spec.value("http", json::array());
  if (!http.is_array() || http.empty() || !http[0].is_object()) return -1;
  const json& route = http[0].value("route", json::array());
  if (!route.is_array() || static_cast<int>(route.size()) <= destination ||
      !route[destination].is_object()) {
    return -1;
  }
  const json& weight = route[destination].value("weight", json(0));
  return weight.is_number_integer() ? weight.get<int>() : -1;
}

}  // namespace

WeightTimeline::WeightTimeline(const kube::KubeClient& kube, std::string ns)
    : kube_(kube), namespace_(std::move(ns)) {
  thread_ = std::thread([this] { Run(); });
}

WeightTimeline::~WeightTimeline() { Stop(); }

void WeightTimeline::Stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

void WeightTimeline::Record(const json& object, absl::Time at) {
  const std::string name =
      object.value("metadata", json::object()).value("name", "");
  const int stable = WeightOf(object, 0), canary = WeightOf(object, 1);
  absl::MutexLock lock(&mu_);
  std::vector<Seen>& seen = seen_[name];
  if (!seen.empty() && seen.back().stable == stable &&
      seen.back().canary == canary) {
    return;
  }
  seen.push_back({at, stable, canary});
}

void WeightTimeline::Run() {
  const std::string collection = kube::kVirtualServices.Collection(namespace_);
  std::string version;
  while (!stop_) {
    if (version.empty()) {
      ++lists_;
      auto list = kube_.List(collection);
      if (!list.ok()) {
        absl::SleepFor(absl::Milliseconds(500));
        continue;
      }
      for (const json& item : list->items) Record(item, absl::Now());
      version = list->resource_version;
    }
    ++watches_;
    bool expired = false;
    absl::Status watched = kube_.Watch(
        absl::StrCat(collection, "?watch=1&resourceVersion=", version),
        [&](const json& event) {
          const absl::Time at = absl::Now();
          const std::string type = event.value("type", "");
          const json& object = event.value("object", json::object());
          if (!object.is_object()) return true;
          if (type == "ERROR") {
            expired = object.value("code", 0) == 410;
            return false;
          }
          version = object.value("metadata", json::object())
                        .value("resourceVersion", version);
          if (type == "ADDED" || type == "MODIFIED") Record(object, at);
          return true;
        },
        [this] { return stop_.load(); });
    if (expired || absl::IsOutOfRange(watched)) version.clear();
    if (!watched.ok() && !stop_) absl::SleepFor(absl::Milliseconds(200));
  }
}

std::optional<absl::Time> WeightTimeline::Find(const std::string& name,
                                               int stable, int canary,
                                               absl::Time after) const {
  auto it = seen_.find(name);
  if (it == seen_.end()) return std::nullopt;
  for (const Seen& seen : it->second) {
    if (seen.at >= after && seen.stable == stable && seen.canary == canary)
      return seen.at;
  }
  return std::nullopt;
}

std::optional<absl::Time> WeightTimeline::WaitFor(const std::string& name,
                                                  int stable, int canary,
                                                  absl::Time after,
                                                  absl::Time deadline) {
  struct Query {
    const WeightTimeline* timeline;
    const std::string* name;
    int stable, canary;
    absl::Time after;
  } query{this, &name, stable, canary, after};
  absl::MutexLock lock(&mu_);
  mu_.AwaitWithDeadline(
      absl::Condition(
          +[](Query* q) ABSL_NO_THREAD_SAFETY_ANALYSIS {
            return q->timeline->Find(*q->name, q->stable, q->canary, q->after)
                .has_value();
          },
          &query),
      deadline);
  return Find(name, stable, canary, after);
}

}  // namespace smartcanary::bench

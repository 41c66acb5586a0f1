#include "controller/grafana/annotator.h"

#include "absl/strings/str_cat.h"
#include "common/files.h"
#include "spdlog/spdlog.h"

namespace smartcanary::grafana {
namespace {

std::string ReadToken(const std::string& path) {
  return path.empty() ? "" : ReadSecretFile(path).value_or("");
}

}  // namespace

Annotator::Annotator(AnnotatorOptions options, Metrics& metrics)
    : options_(std::move(options)),
      metrics_(metrics),
      transport_(
          HttpTransportOptions{{}, UserAgent("canaryd"), absl::Seconds(5)}),
      worker_([this] { Run(); }) {}

Annotator::~Annotator() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  worker_.join();
}

nlohmann::json Annotator::AnnotationJson(const CanaryRollout& rollout,
                                         const RolloutEvent& event,
                                         absl::Time at,
                                         const std::string& dashboard_uid) {
  nlohmann::json body = {
      {"time", absl::ToUnixMillis(at)},
      {"tags",
       {"smartcanary", rollout.name, rollout.namespace_name, event.kind}},
      {"text", absl::StrCat(rollout.namespace_name, "/", rollout.name, " ",
                            event.kind, ": ", event.text)}};
  if (!dashboard_uid.empty()) body["dashboardUID"] = dashboard_uid;
  return body;
}

void Annotator::Publish(const CanaryRollout& rollout,
                        const std::vector<RolloutEvent>& events) {
  const absl::Time now = absl::Now();
  absl::MutexLock lock(&mu_);
  for (const RolloutEvent& event : events) {
    if (queue_.size() >= options_.queue_limit) {
      queue_.pop_front();
      metrics_.Count("canaryd_annotation_failures_total", "reason=\"dropped\"");
    }
    queue_.push_back(
        AnnotationJson(rollout, event, now, options_.dashboard_uid).dump());
  }
}

bool Annotator::stopping() const {
  absl::MutexLock lock(&mu_);
  return stopping_;
}

absl::Status Annotator::Post(const std::string& body,
                             const std::string& token) {
  HttpRequest request;
  request.method = "POST";
  request.url = options_.url;
  while (!request.url.empty() && request.url.back() == '/')
    request.url.pop_back();
  request.url += "/api/annotations";
  request.headers = {"Content-Type: application/json",
                     "Accept: application/json"};
  if (!token.empty())
    request.headers.push_back("Authorization: Bearer " + token);
  request.body = body;
  request.timeout = options_.timeout;
  request.max_response_bytes = size_t{1} << 20;
  // A rare duplicate annotation costs less than a lost one.
  request.idempotent = true;
  RetryPolicy policy;
  policy.max_attempts = options_.retries + 1;
  policy.initial_backoff = absl::Milliseconds(500);
  policy.max_total = absl::Minutes(1);
  // Shutting down cuts the waits short, not the queue.
  auto response = transport_.Send(
      request, policy, RetryClock::Real([this] { return stopping(); }));
  if (!response.ok()) return response.status();
  if (response->status < 200 || response->status >= 300) {
    return absl::UnavailableError(absl::StrCat("POST ", request.url, ": HTTP ",
                                               response->status, ": ",
                                               response->body.substr(0, 200)));
  }
  return absl::OkStatus();
}

void Annotator::Run() {
  while (true) {
    std::string body;
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return stopping_ || !queue_.empty();
      };
      mu_.Await(absl::Condition(&ready));
      if (queue_.empty()) return;  // stopping, nothing left
      body = std::move(queue_.front());
      queue_.pop_front();
    }
    const std::string token =
        ReadToken(options_.token_file);  // rotated tokens are picked up
    if (absl::Status posted = Post(body, token); posted.ok()) {
      metrics_.Count("canaryd_annotations_total");
    } else {
      metrics_.Count("canaryd_annotation_failures_total", "reason=\"post\"");
      spdlog::warn("grafana: annotation dropped: {}", posted.ToString());
    }
  }
}

}  // namespace smartcanary::grafana

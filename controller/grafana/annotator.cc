#include "controller/grafana/annotator.h"

#include <curl/curl.h>

#include <memory>

#include "absl/strings/str_cat.h"
#include "common/files.h"
#include "spdlog/spdlog.h"

namespace smartcanary::grafana {
namespace {

size_t Discard(char*, size_t size, size_t count, void*) { return size * count; }

std::string ReadToken(const std::string& path) {
  return path.empty() ? "" : ReadSecretFile(path).value_or("");
}

}  // namespace

Annotator::Annotator(AnnotatorOptions options, Metrics& metrics)
    : options_(std::move(options)),
      metrics_(metrics),
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

bool Annotator::Post(const std::string& body, const std::string& token) {
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(),
                                                           curl_easy_cleanup);
  curl_slist* headers =
      curl_slist_append(nullptr, "Content-Type: application/json");
  headers = curl_slist_append(headers, "Accept: application/json");
  if (!token.empty())
    headers =
        curl_slist_append(headers, ("Authorization: Bearer " + token).c_str());
  std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> list(
      headers, curl_slist_free_all);
  std::string url = options_.url;
  while (!url.empty() && url.back() == '/') url.pop_back();
  url += "/api/annotations";
  curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl.get(), CURLOPT_HTTPHEADER, list.get());
  curl_easy_setopt(curl.get(), CURLOPT_POSTFIELDS, body.c_str());
  curl_easy_setopt(curl.get(), CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl.get(), CURLOPT_TIMEOUT_MS, 5000L);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, Discard);
  if (curl_easy_perform(curl.get()) != CURLE_OK) return false;
  long code = 0;
  curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &code);
  return code >= 200 && code < 300;
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
    bool posted = false;
    for (int attempt = 0; attempt <= options_.retries && !posted; ++attempt) {
      if (attempt > 0) absl::SleepFor(absl::Milliseconds(250) * (1 << attempt));
      posted = Post(body, token);
    }
    if (posted) {
      metrics_.Count("canaryd_annotations_total");
    } else {
      metrics_.Count("canaryd_annotation_failures_total", "reason=\"post\"");
      spdlog::warn("grafana: annotation dropped after {} retries",
                   options_.retries);
    }
  }
}

}  // namespace smartcanary::grafana

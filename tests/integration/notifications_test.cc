// Events and webhook notifications from the real canaryd against the real
// API server: one rollout promoted to the end, one aborted back to stable.
// kubectl shows the Events; local receivers (generic JSON and Slack) see
// every transition in order; a receiver that never answers slows nothing.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <map>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "tests/integration/cluster_fixture.h"
#include "tests/unit/scripted_http_server.h"

namespace smartcanary::testing {
namespace {

using nlohmann::json;

// Whether `seen` holds `expected` in this order (others may come between:
// a busy machine may split a change over more status writes).
bool InOrder(const std::vector<std::string>& seen,
             const std::vector<std::string>& expected) {
  size_t next = 0;
  for (const std::string& s : seen) {
    if (next < expected.size() && s == expected[next]) ++next;
  }
  return next == expected.size();
}

std::string Joined(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& s : items) absl::StrAppend(&out, s, " ");
  return out;
}

class NotificationsTest : public ::testing::Test {
 protected:
  NotificationsTest() {
    ns_.Apply(SubsetMeshYaml("promoted"));
    ns_.Apply(SubsetMeshYaml("aborted"));
  }

  v1::Rollout Get(const std::string& name) {
    return GetRollout(*stub_, ns_.name(), name);
  }

  bool WaitForPhase(const std::string& name, v1::Phase phase) {
    const bool reached = WaitFor([&] {
      v1::Rollout r = Get(name);
      return r.phase() == phase && r.observed_generation() == r.generation();
    });
    if (!reached) ADD_FAILURE() << name << " is at " << Get(name).DebugString();
    return reached;
  }

  // The reasons a receiver got for one rollout, in arrival order.
  static std::vector<std::string> Reasons(const ScriptedHttpServer& receiver,
                                          const std::string& rollout) {
    std::vector<std::string> reasons;
    for (const SeenRequest& r : receiver.requests()) {
      json body = json::parse(r.body, nullptr, /*allow_exceptions=*/false);
      if (body.is_object() && body.value("rollout", "") == rollout)
        reasons.push_back(body.value("reason", ""));
    }
    return reasons;
  }

  // The same from Slack messages, whose text reads "*ns/name* Reason: ...".
  std::vector<std::string> SlackReasons(const std::string& rollout) {
    std::vector<std::string> reasons;
    const std::string marker =
        absl::StrCat("*", ns_.name(), "/", rollout, "* ");
    for (const SeenRequest& r : slack_.requests()) {
      json body = json::parse(r.body, nullptr, /*allow_exceptions=*/false);
      if (!body.is_object() || !body["text"].is_string()) continue;
      const std::string text = body["text"];
      const size_t at = text.find(marker);
      if (at == std::string::npos) continue;
      const size_t start = at + marker.size();
      reasons.push_back(text.substr(start, text.find(':', start) - start));
    }
    return reasons;
  }

  // Reasons of the rollout's Events, as kubectl lists them by field selector.
  std::vector<std::string> KubectlEventReasons(const std::string& rollout) {
    const CommandResult listed = RunShell(
        absl::StrCat(kubectl_, " get events -n ", ns_.name(),
                     " --field-selector involvedObject.kind=CanaryRollout,"
                     "involvedObject.name=",
                     rollout, " -o json"));
    EXPECT_EQ(listed.exit_code, 0) << listed.output;
    json list = json::parse(listed.output, nullptr, false);
    std::vector<std::string> reasons;
    if (!list.is_object() || !list["items"].is_array()) return reasons;
    for (const json& item : list["items"]) {
      if (item["reason"].is_string()) reasons.push_back(item["reason"]);
    }
    return reasons;
  }

  const char* kubectl_ = std::getenv("KUBECTL");
  TestNamespace ns_;
  ScriptedHttpServer generic_{
      [](const SeenRequest&) { return HttpReply(204, ""); }};
  ScriptedHttpServer slack_{
      [](const SeenRequest&) { return HttpReply(200, "ok"); }};
  // Never answers: its notifications wait in its own queue, nobody else's.
  ScriptedHttpServer hanging_{[](const SeenRequest&) {
    return Reply{"", /*hold_open=*/true};
  }};
  // The Slack URL comes from a file, as from a mounted Secret.
  static std::string SlackUrlFlag(const std::string& url) {
    const std::string path =
        absl::StrCat(std::getenv("TEST_TMPDIR"), "/slack-url");
    std::ofstream(path) << "# the team channel\n" << url << "\n";
    return "--notify-slack-url-file=" + path;
  }
  CanarydProcess canaryd_{
      ns_.name(),
      {absl::StrCat("--notify-webhook-url=", hanging_.url(), "/hook,",
                    generic_.url(), "/hook"),
       SlackUrlFlag(slack_.url() + "/services/T000/B000/secret"),
       "--notify-timeout=10m"}};
  std::unique_ptr<v1::RolloutService::Stub> stub_ = canaryd_.Stub();
};

TEST_F(NotificationsTest, PromotedAndAbortedRolloutsAreToldToEventsAndHooks) {
  ASSERT_NE(kubectl_, nullptr) << "KUBECTL is set by scripts/test.sh";
  for (const char* name : {"promoted", "aborted"}) {
    grpc::ClientContext context;
    v1::Rollout out;
    grpc::Status started = stub_->StartRollout(
        &context,
        SubsetRolloutRequest(ns_.name(), name,
                             {SetWeightStep(20), PauseStep(), SetWeightStep(60),
                              SetWeightStep(100)}),
        &out);
    ASSERT_TRUE(started.ok()) << started.error_message();
  }
  ASSERT_TRUE(WaitForPhase("promoted", v1::PAUSED));
  ASSERT_TRUE(WaitForPhase("aborted", v1::PAUSED));
  // The hanging receiver has been sent the first transitions by now and
  // holds them; the rollouts go on regardless.
  ASSERT_TRUE(WaitFor([&] { return !hanging_.requests().empty(); }));
  {
    grpc::ClientContext context;
    v1::PromoteRequest request;
    request.mutable_rollout()->set_namespace_(ns_.name());
    request.mutable_rollout()->set_name("promoted");
    v1::Rollout out;
    ASSERT_TRUE(stub_->Promote(&context, request, &out).ok());
  }
  {
    grpc::ClientContext context;
    v1::RolloutRef ref;
    ref.set_namespace_(ns_.name());
    ref.set_name("aborted");
    v1::Rollout out;
    ASSERT_TRUE(stub_->Abort(&context, ref, &out).ok());
  }
  ASSERT_TRUE(WaitForPhase("promoted", v1::HEALTHY));
  ASSERT_TRUE(WaitForPhase("aborted", v1::DEGRADED));

  const std::vector<std::string> promoted = {
      "RolloutStarted", "WeightSet", "Paused",   "Promoted",
      "WeightSet",      "WeightSet", "Completed"};
  const std::vector<std::string> aborted = {"RolloutStarted", "WeightSet",
                                            "Paused", "Aborted", "WeightSet"};

  // Generic JSON, in order, with the phases on either side.
  EXPECT_TRUE(WaitFor([&] {
    return InOrder(Reasons(generic_, "promoted"), promoted) &&
           InOrder(Reasons(generic_, "aborted"), aborted);
  })) << "promoted: "
      << Joined(Reasons(generic_, "promoted"))
      << "\naborted: " << Joined(Reasons(generic_, "aborted"));
  json last_promoted, last_aborted;
  bool reached_full = false;
  for (const SeenRequest& r : generic_.requests()) {
    EXPECT_EQ(r.method, "POST");
    EXPECT_EQ(r.target, "/hook");
    json body = json::parse(r.body);
    EXPECT_EQ(body["namespace"], ns_.name());
    EXPECT_TRUE(body["time"].is_string());
    if (body["rollout"] == "promoted") last_promoted = body;
    if (body["rollout"] == "promoted" && body["reason"] == "WeightSet" &&
        body["weight"] == 100)
      reached_full = true;
    if (body["rollout"] == "aborted" && body["reason"] == "Aborted")
      last_aborted = body;
  }
  EXPECT_EQ(last_promoted["reason"], "Completed");
  EXPECT_EQ(last_promoted["toPhase"], "Healthy");
  // Completion hands the traffic to the stable subset, now the new version.
  EXPECT_EQ(last_promoted["weight"], 0);
  EXPECT_TRUE(reached_full) << "no WeightSet to 100 for promoted";
  EXPECT_EQ(last_aborted["fromPhase"], "Paused");
  EXPECT_EQ(last_aborted["toPhase"], "Degraded");
  EXPECT_EQ(last_aborted["type"], "Warning");
  EXPECT_EQ(last_aborted["weight"], 0);

  // Slack's format, the same transitions.
  EXPECT_TRUE(WaitFor([&] {
    return InOrder(SlackReasons("promoted"), promoted) &&
           InOrder(SlackReasons("aborted"), aborted);
  })) << "promoted: "
      << Joined(SlackReasons("promoted"))
      << "\naborted: " << Joined(SlackReasons("aborted"));
  for (const SeenRequest& r : slack_.requests()) {
    EXPECT_EQ(r.target, "/services/T000/B000/secret");
    json body = json::parse(r.body);
    EXPECT_TRUE(body["blocks"].is_array());
  }

  // Kubernetes Events on each CanaryRollout, found by field selector. Each
  // reason+message is one Event, so the set (not the order) is checked.
  for (const auto& [name, expected] :
       std::map<std::string, std::vector<std::string>>{{"promoted", promoted},
                                                       {"aborted", aborted}}) {
    EXPECT_TRUE(WaitFor([&] {
      std::vector<std::string> reasons = KubectlEventReasons(name);
      for (const std::string& want : expected) {
        if (std::find(reasons.begin(), reasons.end(), want) == reasons.end())
          return false;
      }
      return true;
    })) << name
        << ": " << Joined(KubectlEventReasons(name));
  }
  // And as `kubectl describe` shows them.
  const CommandResult described = RunShell(absl::StrCat(
      kubectl_, " describe canaryrollout aborted -n ", ns_.name()));
  EXPECT_EQ(described.exit_code, 0) << described.output;
  const std::string& text = described.output;
  const size_t events = text.find("Events:");
  ASSERT_NE(events, std::string::npos) << text;
  // A line of the Events table holding all of `words`.
  auto has_row = [&](const std::vector<std::string>& words) {
    for (absl::string_view line : absl::StrSplit(text.substr(events), '\n')) {
      bool all = true;
      for (const std::string& w : words)
        all = all && absl::StrContains(line, w);
      if (all) return true;
    }
    return false;
  };
  EXPECT_TRUE(has_row({"Warning", "Aborted", "canaryd"})) << text;
  EXPECT_TRUE(has_row({"Normal", "RolloutStarted", "canaryd"})) << text;
  EXPECT_TRUE(has_row({"Normal", "Paused"})) << text;

  // The hanging receiver still holds its first POST; the rest of its
  // notifications wait or were dropped (counted), the others were sent.
  const std::string metrics = HttpGet(canaryd_.metrics_url());
  EXPECT_NE(metrics.find("canaryd_notifications_total{sink=\"slack\"}"),
            std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("canaryd_notifications_total{sink=\"kube-events\"}"),
            std::string::npos)
      << metrics;
  EXPECT_EQ(hanging_.requests().size(), 1u);

  // The Slack URL's secret path is never logged.
  const char* outputs = std::getenv("TEST_UNDECLARED_OUTPUTS_DIR");
  std::ifstream log_file(absl::StrCat(outputs != nullptr ? outputs : "/tmp",
                                      "/canaryd-", ns_.name(), ".log"));
  const std::string log((std::istreambuf_iterator<char>(log_file)),
                        std::istreambuf_iterator<char>());
  EXPECT_NE(log.find(absl::StrCat("notifying slack ", slack_.url(), "/…")),
            std::string::npos)
      << log;
  EXPECT_EQ(log.find("B000"), std::string::npos) << log;
}

}  // namespace
}  // namespace smartcanary::testing

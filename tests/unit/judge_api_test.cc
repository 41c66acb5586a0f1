// The analyzer's HTTP JSON API over an in-memory Prometheus (a scripted
// loopback server answering range queries with synthetic counters).
#include "analysis/http/judge_api.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "nlohmann/json.hpp"
#include "tests/unit/scripted_http_server.h"

namespace smartcanary::analysis::http {
namespace {

using json = nlohmann::json;
using smartcanary::testing::HttpReply;
using smartcanary::testing::Reply;
using smartcanary::testing::ScriptedHttpServer;
using smartcanary::testing::SeenRequest;

// Counter rates per second by query name: both arms serve 20 req/s, the
// baseline fails 1%; the canary fails `canary_error_rate`.
std::map<std::string, double> Rates(double canary_error_rate) {
  return {{"canary_requests", 20},
          {"baseline_requests", 20},
          {"canary_errors", 20 * canary_error_rate},
          {"baseline_errors", 0.2}};
}

std::map<std::string, std::string> Form(const std::string& body) {
  std::map<std::string, std::string> out;
  for (absl::string_view part : absl::StrSplit(body, '&')) {
    std::pair<std::string, std::string> kv = absl::StrSplit(part, '=');
    out[kv.first] = kv.second;  // the test's queries need no unescaping
  }
  return out;
}

// /api/v1/query_range: value(t) = rate x (t - origin), sampled at each step.
Reply FakePrometheus(const std::map<std::string, double>& rates,
                     const SeenRequest& request) {
  std::map<std::string, std::string> form = Form(request.body);
  double start = 0, end = 0, step = 0;
  auto rate = rates.find(form["query"]);
  if (request.target != "/api/v1/query_range" || rate == rates.end() ||
      !absl::SimpleAtod(form["start"], &start) ||
      !absl::SimpleAtod(form["end"], &end) ||
      !absl::SimpleAtod(form["step"], &step) || step <= 0) {
    return HttpReply(400, json{{"status", "error"},
                               {"errorType", "bad_data"},
                               {"error", request.target + " " + request.body}}
                              .dump());
  }
  json values = json::array();
  for (double t = start; t <= end; t += step) {
    values.push_back({t, absl::StrFormat("%.3f", rate->second * (t - 1.7e9))});
  }
  json answer = {
      {"status", "success"},
      {"data",
       {{"resultType", "matrix"},
        {"result", {{{"metric", json::object()}, {"values", values}}}}}}};
  return HttpReply(200, answer.dump());
}

json Comparative(const std::string& address) {
  return {{"prometheus", {{"address", address}}},
          {"canaryEvents", "canary_errors"},
          {"canaryRequests", "canary_requests"},
          {"baselineEvents", "baseline_errors"},
          {"baselineRequests", "baseline_requests"},
          {"alpha", 0.05},
          {"margin", 0.25},
          {"resolution", "5s"}};
}

smartcanary::http::Request Post(const std::string& path,
                                const std::string& body) {
  smartcanary::http::Request request;
  request.method = "POST";
  request.path = path;
  request.body = body;
  return request;
}

class JudgeApiTest : public ::testing::Test {
 protected:
  JudgeApi Api(const TokenFile* token = nullptr) {
    AnalyzerConfig config;
    config.address_policy = *AddressPolicy::Parse("127.0.0.0/8");
    config.observe_query = [this](const std::string& path, absl::Duration took,
                                  const absl::Status& outcome) {
      metrics_.Query(path, took, outcome);
    };
    return JudgeApi({config, token, &metrics_, nullptr});
  }
  AnalyzerMetrics metrics_;
};

json BodyOf(const smartcanary::http::Response& response) {
  return json::parse(response.body);
}

TEST_F(JudgeApiTest, GoodCanaryPassesWithItsEvidence) {
  ScriptedHttpServer prometheus(
      [](const SeenRequest& r) { return FakePrometheus(Rates(0.01), r); });
  const auto response = Api().Judge(Post(
      "/v1/judge",
      json{{"comparative", Comparative(prometheus.url())}, {"window", "10m"}}
          .dump()));
  ASSERT_EQ(response.code, 200) << response.body;
  EXPECT_EQ(response.content_type, "application/json");
  const json body = BodyOf(response);
  EXPECT_EQ(body["verdict"], "Pass");
  EXPECT_EQ(body["phase"], "Successful");
  const json& e = body["evidence"];
  ASSERT_TRUE(e.is_object()) << body.dump();
  // 10 minutes at 20 req/s a side, 1% failing on both.
  EXPECT_NEAR(e["canary"]["requests"].get<double>(), 12000, 200);
  EXPECT_NEAR(e["baseline"]["events"].get<double>(), 120, 5);
  EXPECT_NEAR(e["rateRatio"].get<double>(), 1.0, 0.05);
  EXPECT_LT(e["ratioInterval"][0].get<double>(), 1.0);
  EXPECT_GT(e["ratioInterval"][1].get<double>(), 1.0);
  EXPECT_LT(e["eValueWorse"].get<double>(), e["thresholdWorse"].get<double>());
  EXPECT_DOUBLE_EQ(e["thresholdWorse"].get<double>(), 1 / (0.05 * 0.5));
  ASSERT_TRUE(body["assumptions"].is_array());
  EXPECT_NE(body["assumptions"].dump().find("routing not checked"),
            std::string::npos);
  // Four range queries, each observed.
  EXPECT_EQ(prometheus.requests().size(), 4u);
  EXPECT_NE(metrics_.Render().find(
                "canary_analyzer_prometheus_query_seconds_count{path=\"/api/"
                "v1/query_range\"} 4"),
            std::string::npos)
      << metrics_.Render();
}

TEST_F(JudgeApiTest, BadCanaryFailsWithHttp200ForArgo) {
  ScriptedHttpServer prometheus(
      [](const SeenRequest& r) { return FakePrometheus(Rates(0.10), r); });
  const auto response = Api().Judge(Post(
      "/v1/judge",
      json{{"comparative", Comparative(prometheus.url())}, {"window", "10m"}}
          .dump()));
  // Argo's web provider makes any non-2xx an Error measurement: a Fail must
  // reach its failureCondition.
  ASSERT_EQ(response.code, 200) << response.body;
  const json body = BodyOf(response);
  EXPECT_EQ(body["verdict"], "Fail");
  EXPECT_TRUE(body["evidence"]["worse"].get<bool>());
  EXPECT_GT(body["evidence"]["ratioInterval"][0].get<double>(), 1.25);
  EXPECT_GT(body["evidence"]["eValueWorse"].get<double>(),
            body["evidence"]["thresholdWorse"].get<double>());
  EXPECT_EQ(metrics_.Get("canary_analyzer_verdicts_total",
                         "endpoint=\"/v1/judge\",phase=\"Failed\""),
            1u);
}

TEST_F(JudgeApiTest, CanaryWeightTurnsTheRoutingCheckOn) {
  // Both arms get half the requests, but the caller says the canary has 5%.
  ScriptedHttpServer prometheus(
      [](const SeenRequest& r) { return FakePrometheus(Rates(0.01), r); });
  const auto response = Api().Judge(
      Post("/v1/judge", json{{"comparative", Comparative(prometheus.url())},
                             {"window", "10m"},
                             {"canaryWeight", 5}}
                            .dump()));
  // A routing fault says nothing against the canary: Inconclusive (Argo
  // counts it toward inconclusiveLimit), never Fail.
  EXPECT_EQ(response.code, 200) << response.body;
  const json body = BodyOf(response);
  EXPECT_EQ(body["verdict"], "Inconclusive");
  EXPECT_NE(body["message"].get<std::string>().find("routing mismatch"),
            std::string::npos);
}

json FlaggerBody(const std::string& address) {
  return {{"name", "podinfo"},
          {"namespace", "test"},
          {"phase", "Progressing"},
          {"checksum", "85d557f47b"},
          {"metadata",
           {{"prometheus", address},
            {"canaryEvents", "canary_errors"},
            {"canaryRequests", "canary_requests"},
            {"baselineEvents", "baseline_errors"},
            {"baselineRequests", "baseline_requests"},
            {"alpha", "0.05"},
            {"maxBurst", "5"},
            {"resolution", "5s"},
            {"window", "10m"}}}};
}

TEST_F(JudgeApiTest, FlaggerGetsTheVerdictInTheStatus) {
  ScriptedHttpServer good(
      [](const SeenRequest& r) { return FakePrometheus(Rates(0.01), r); });
  ScriptedHttpServer bad(
      [](const SeenRequest& r) { return FakePrometheus(Rates(0.10), r); });
  const JudgeApi api = Api();
  const auto pass =
      api.Flagger(Post("/v1/flagger", FlaggerBody(good.url()).dump()));
  EXPECT_EQ(pass.code, 200) << pass.body;
  EXPECT_EQ(BodyOf(pass)["verdict"], "Pass");
  const auto fail =
      api.Flagger(Post("/v1/flagger", FlaggerBody(bad.url()).dump()));
  EXPECT_EQ(fail.code, 412) << fail.body;
  EXPECT_EQ(BodyOf(fail)["verdict"], "Fail");
}

TEST_F(JudgeApiTest, NoDataIsInconclusiveNotAPass) {
  ScriptedHttpServer prometheus([](const SeenRequest& r) {
    return FakePrometheus({{"canary_requests", 0},
                           {"baseline_requests", 20},
                           {"canary_errors", 0},
                           {"baseline_errors", 0.2}},
                          r);
  });
  const JudgeApi api = Api();
  const auto flagger =
      api.Flagger(Post("/v1/flagger", FlaggerBody(prometheus.url()).dump()));
  EXPECT_EQ(flagger.code, 503) << flagger.body;
  EXPECT_EQ(BodyOf(flagger)["verdict"], "Inconclusive");
  EXPECT_TRUE(BodyOf(flagger)["noData"].get<bool>());
}

struct BadInput {
  std::string body;
  int code;
  std::string names;  // the error must name this
};

TEST_F(JudgeApiTest, BadInputGetsAnErrorNamingTheField) {
  const json good = {{"comparative", Comparative("http://127.0.0.1:9")},
                     {"window", "10m"}};
  auto with = [&](const std::string& pointer, const json& value) {
    json body = good;
    body[json::json_pointer(pointer)] = value;
    return body.dump();
  };
  json without_window = good;
  without_window.erase("window");
  const std::vector<BadInput> cases = {
      {"", 400, "body: is not JSON"},
      {"{", 400, "body: is not JSON"},
      {"[1]", 400, "body: must be a JSON object"},
      {"{}", 400, "comparative: is required"},
      {without_window.dump(), 400, "window: is required"},
      {with("/window", "-5m"), 400, "window"},
      {with("/window", "400h"), 400, "window: must be at most"},
      {with("/window", true), 400, "window"},
      {with("/canaryWeight", 101), 400, "canaryWeight"},
      {with("/canaryWeight", "x"), 400, "canaryWeight"},
      {with("/extra", 1), 400, "body.extra: unknown field"},
      {with("/comparative/alpha", 2), 400, "comparative.alpha"},
      {with("/comparative/alpha", "x"), 400, "comparative.alpha"},
      {with("/comparative/istio", json{{"service", "x"}}), 400, "comparative"},
      {with("/comparative/prometheus/address", "http://10.0.0.1:9090"), 400,
       "comparative.prometheus.address: address 10.0.0.1 is not allowed"},
      {with("/comparative/prometheus/bearerToken",
            json{{"secretKeyRef", {{"name", "s"}, {"key", "k"}}}}),
       400, "secretKeyRef is not read over HTTP"},
      {"\xff\xfe", 400, "body: is not JSON"},
      // Nesting as deep as the 64 KiB body allows is refused before
      // nlohmann's recursive copies and destructors see it.
      {std::string(32000, '[') + std::string(32000, ']'), 400,
       "body: nests deeper than 32 levels"},
      {std::string(60000, '{'), 400, "body: nests deeper than 32 levels"},
      {"{\"window\": \"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\"}", 400,
       "comparative: is required"},
      {"{\"comparative\":" + std::string(30000, '[') + std::string(30000, ']') +
           ",\"window\":\"1m\"}",
       400, "body: nests deeper than 32 levels"},
  };
  const JudgeApi api = Api();
  for (const BadInput& c : cases) {
    const auto response = api.Judge(Post("/v1/judge", c.body));
    EXPECT_EQ(response.code, c.code) << c.body << " -> " << response.body;
    const json body = json::parse(response.body, nullptr, false);
    ASSERT_TRUE(body.is_object()) << response.body;
    ASSERT_TRUE(body["error"].is_string()) << response.body;
    EXPECT_NE(body["error"].get<std::string>().find(c.names), std::string::npos)
        << c.body << " -> " << response.body;
  }
}

TEST_F(JudgeApiTest, FlaggerMetadataErrorsNameTheKey) {
  auto with = [](const std::string& key, const json& value) {
    json body = FlaggerBody("http://127.0.0.1:9");
    if (value.is_null()) {
      body["metadata"].erase(key);
    } else {
      body["metadata"][key] = value;
    }
    return body.dump();
  };
  json no_name = FlaggerBody("http://127.0.0.1:9");
  no_name.erase("name");
  const std::vector<BadInput> cases = {
      {no_name.dump(), 400, "name: is required"},
      {with("alpha", 0.05), 400, "metadata.alpha: must be a string"},
      {with("alpha", "lots"), 400, "metadata.alpha: must be a number"},
      {with("prometheus", nullptr), 400, "metadata.prometheus: is required"},
      {with("window", nullptr), 400, "metadata.window: is required"},
      {with("canary", "version"), 400, "metadata.canary"},
      {with("colour", "red"), 400, "metadata.colour: unknown field"},
      {with("canaryWeight", "12.5"), 400, "metadata.canaryWeight"},
      {R"({"name":"a","namespace":"b"})", 400, "metadata: is required"},
  };
  const JudgeApi api = Api();
  for (const BadInput& c : cases) {
    const auto response = api.Flagger(Post("/v1/flagger", c.body));
    EXPECT_EQ(response.code, c.code) << c.body << " -> " << response.body;
    EXPECT_NE(response.body.find(c.names), std::string::npos)
        << c.body << " -> " << response.body;
  }
}

TEST_F(JudgeApiTest, TokenIsRequiredWhenConfigured) {
  const std::string path = ::testing::TempDir() + "/http-token";
  {
    FILE* f = fopen(path.c_str(), "w");
    ASSERT_NE(f, nullptr);
    fputs("s3cret\n", f);
    fclose(f);
  }
  auto token = TokenFile::Open(path);
  ASSERT_TRUE(token.ok()) << token.status();
  const JudgeApi api = Api(token->get());
  auto request = Post("/v1/judge", "{}");
  EXPECT_EQ(api.Judge(request).code, 401);
  request.headers["authorization"] = "Bearer wrong";
  EXPECT_EQ(api.Judge(request).code, 401);
  request.headers["authorization"] = "Bearer s3cret";
  // Past the token check: the empty request is refused for its content.
  EXPECT_EQ(api.Judge(request).code, 400);
  auto get = request;
  get.method = "GET";
  EXPECT_EQ(api.Judge(get).code, 405);
  EXPECT_EQ(metrics_.Get("canary_analyzer_requests_total",
                         "api=\"http\",endpoint=\"/v1/judge\",code=\"401\""),
            2u);
}

TEST_F(JudgeApiTest, GrpcCallsAreCountedByMethodCodeAndPhase) {
  ScriptedHttpServer prometheus(
      [](const SeenRequest& r) { return FakePrometheus(Rates(0.01), r); });
  AnalyzerConfig config;
  config.address_policy = *AddressPolicy::Parse("127.0.0.0/8");
  AnalyzerService analyzer(config);
  CountedAnalysisService counted(&analyzer, &metrics_);
  v1::AnalyzeRequest request;
  v1::Metric* metric = request.add_metrics();
  metric->set_name("m");
  metric->mutable_prometheus()->set_address(prometheus.url());
  metric->mutable_prometheus()->set_query("up");  // the fake refuses it
  metric->set_success_condition("result[0] == 1");
  grpc::ServerContext context;
  v1::AnalyzeResponse response;
  EXPECT_TRUE(counted.Analyze(&context, &request, &response).ok());
  v1::ValidateResponse validated;
  request.mutable_metrics(0)->clear_success_condition();
  EXPECT_FALSE(counted.Validate(&context, &request, &validated).ok());
  EXPECT_EQ(metrics_.Get("canary_analyzer_requests_total",
                         "api=\"grpc\",endpoint=\"Analyze\",code=\"OK\""),
            1u);
  EXPECT_EQ(metrics_.Get("canary_analyzer_verdicts_total",
                         "endpoint=\"Analyze\",phase=\"Error\""),
            1u);
  EXPECT_EQ(metrics_.Get(
                "canary_analyzer_requests_total",
                "api=\"grpc\",endpoint=\"Validate\",code=\"INVALID_ARGUMENT\""),
            1u);
}

}  // namespace
}  // namespace smartcanary::analysis::http

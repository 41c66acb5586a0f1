#include "analysis/address_policy.h"

#include <gtest/gtest.h>

namespace smartcanary::analysis {
namespace {

constexpr char kField[] = "provider.prometheus.address";

AddressPolicy Policy(const std::string& list) {
  auto policy = AddressPolicy::Parse(list);
  EXPECT_TRUE(policy.ok()) << policy.status();
  return *policy;
}

HttpUrl Url(const std::string& text) {
  auto url = ParseHttpUrl(text, kField);
  EXPECT_TRUE(url.ok()) << url.status();
  return *url;
}

// The verdict on `url` connecting to `ip` (empty: its own numeric host).
absl::Status Check(const AddressPolicy& policy, const std::string& url,
                   const std::string& ip = "") {
  const HttpUrl parsed = Url(url);
  if (auto s = policy.CheckHost(parsed, kField); !s.ok()) return s;
  if (ip.empty()) return absl::OkStatus();
  return policy.CheckAddress(parsed, *ParseIp(ip), kField);
}

TEST(ParseHttpUrl, RefusesEveryOtherScheme) {
  for (const char* url :
       {"file:///etc/passwd#", "FILE:///etc/passwd", "gopher://a.svc:70/",
        "ftp://a.svc/", "dict://a.svc:11211/", "a.svc:9090", "//a.svc",
        "ldap://a.svc"}) {
    auto parsed = ParseHttpUrl(url, kField);
    ASSERT_FALSE(parsed.ok()) << url;
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(parsed.status().message().find(kField), std::string::npos);
    EXPECT_NE(parsed.status().message().find("http:// or https://"),
              std::string::npos)
        << parsed.status();
  }
}

TEST(ParseHttpUrl, RefusesUserInfoQueriesFragmentsAndOddHosts) {
  for (const char* url :
       {"http://user:pw@prom.svc:9090", "http://prom.svc@169.254.169.254/",
        "http://prom.svc/#", "http://prom.svc/?x=1", "http://prom .svc/",
        "http://prom.svc/\r\nX: y", "http://2130706433/", "http://0x7f.1/",
        "http://[::1/", "http://[1.2.3.4]/", "http://prom.svc:99999/",
        "http://prom.svc:/", "http://:9090/", "http://pr%6fm.svc/",
        "http://::1/"}) {
    EXPECT_FALSE(ParseHttpUrl(url, kField).ok()) << url;
  }
}

TEST(ParseHttpUrl, SplitsHostPortAndPrefix) {
  HttpUrl url = Url("HTTPS://Prom.Monitoring.SVC:9443/prefix");
  EXPECT_EQ(url.scheme, "https");
  EXPECT_EQ(url.host, "prom.monitoring.svc");
  EXPECT_EQ(url.port, 9443);
  EXPECT_EQ(url.path, "/prefix");
  EXPECT_FALSE(url.ip.has_value());
  EXPECT_EQ(Url("http://10.1.2.3").port, 80);
  EXPECT_EQ(Url("https://10.1.2.3").port, 443);
  HttpUrl v6 = Url("http://[fd00::1]:9090");
  ASSERT_TRUE(v6.ip.has_value());
  EXPECT_EQ(v6.host, "fd00::1");
  EXPECT_EQ(v6.port, 9090);
}

TEST(AddressPolicy, DefaultAllowsClusterNamesAndPrivateRanges) {
  const AddressPolicy policy = AddressPolicy::Default();
  EXPECT_TRUE(
      Check(policy, "http://prometheus.monitoring.svc:9090", "10.96.0.12")
          .ok());
  EXPECT_TRUE(Check(policy, "http://prometheus.monitoring.svc.cluster.local",
                    "10.96.0.12")
                  .ok());
  EXPECT_TRUE(Check(policy, "http://10.0.0.5:9090").ok());
  EXPECT_TRUE(Check(policy, "http://172.31.255.1:9090").ok());
  EXPECT_TRUE(Check(policy, "http://192.168.1.1:9090").ok());
  EXPECT_TRUE(Check(policy, "http://[fd12::1]:9090").ok());
  // A listed name may resolve to any ordinary address.
  EXPECT_TRUE(Check(policy, "http://prom.svc", "203.0.113.9").ok());
}

TEST(AddressPolicy, DefaultRefusesPublicLoopbackAndOtherRanges) {
  const AddressPolicy policy = AddressPolicy::Default();
  for (const char* url :
       {"http://8.8.8.8/", "http://172.32.0.1/", "http://127.0.0.1:9090/",
        "http://[::1]:9090/", "http://[2001:db8::1]/", "http://0.0.0.0/",
        "http://[::]/"}) {
    absl::Status s = Check(policy, url);
    EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied) << url;
    EXPECT_NE(s.message().find(kField), std::string::npos) << s;
  }
  // An unlisted name is judged by its addresses: private passes, public not.
  EXPECT_TRUE(Check(policy, "http://prometheus.example", "10.2.3.4").ok());
  EXPECT_FALSE(Check(policy, "http://prometheus.example", "8.8.4.4").ok());
  EXPECT_FALSE(Check(policy, "http://localhost:9090", "127.0.0.1").ok());
}

TEST(AddressPolicy, LinkLocalIsNeverAllowedWhateverIsListed) {
  const AddressPolicy policy =
      Policy("0.0.0.0/0,::/0,metadata.google.internal,*.svc");
  for (const char* url :
       {"http://169.254.169.254/", "http://169.254.0.1:9090/",
        "http://[fe80::1]/", "http://[::ffff:169.254.169.254]/",
        "http://[64:ff9b::a9fe:a9fe]/"}) {
    absl::Status s = Check(policy, url);
    EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied) << url;
    EXPECT_NE(s.message().find("link-local"), std::string::npos) << s;
  }
  // A listed name resolving to the metadata address (DNS rebinding).
  absl::Status s =
      Check(policy, "http://metadata.google.internal/", "169.254.169.254");
  EXPECT_NE(s.message().find("link-local"), std::string::npos) << s;
  EXPECT_FALSE(Check(policy, "http://prom.svc/", "fe80::2").ok());
}

TEST(AddressPolicy, LoopbackOnlyInsideAListedCidr) {
  EXPECT_FALSE(
      Check(Policy("localhost"), "http://localhost:9090", "127.0.0.1").ok());
  const AddressPolicy policy = Policy("127.0.0.0/8,::1");
  EXPECT_TRUE(Check(policy, "http://127.0.0.1:9090").ok());
  EXPECT_TRUE(Check(policy, "http://[::1]:9090").ok());
  EXPECT_TRUE(Check(policy, "http://localhost:9090", "127.0.0.1").ok());
  EXPECT_FALSE(Check(policy, "http://10.0.0.1:9090").ok());
}

TEST(AddressPolicy, WildcardsMatchSubdomainsOnly) {
  const AddressPolicy policy = Policy("*.prom.example,grafana.example");
  EXPECT_TRUE(Check(policy, "http://a.prom.example", "203.0.113.1").ok());
  EXPECT_TRUE(Check(policy, "http://a.b.prom.example.", "203.0.113.1").ok());
  EXPECT_TRUE(Check(policy, "http://grafana.example", "203.0.113.1").ok());
  // No CIDR is listed: an unlisted name fails before it is resolved.
  for (const char* url :
       {"http://prom.example", "http://evilprom.example",
        "http://a.prom.example.evil", "http://x.grafana.example"}) {
    EXPECT_EQ(Check(Policy("*.prom.example,grafana.example"), url).code(),
              absl::StatusCode::kPermissionDenied)
        << url;
  }
}

TEST(AddressPolicy, CidrsOfBothFamilies) {
  const AddressPolicy policy = Policy("10.1.0.0/16, 2001:db8::/32, 192.0.2.7");
  EXPECT_TRUE(Check(policy, "http://10.1.255.255").ok());
  EXPECT_FALSE(Check(policy, "http://10.2.0.1").ok());
  EXPECT_TRUE(Check(policy, "http://[2001:db8:ffff::1]").ok());
  EXPECT_FALSE(Check(policy, "http://[2001:db9::1]").ok());
  EXPECT_TRUE(Check(policy, "http://192.0.2.7").ok());
  EXPECT_FALSE(Check(policy, "http://192.0.2.8").ok());
  // The IPv4-mapped form of an address is that address.
  EXPECT_TRUE(Check(policy, "http://[::ffff:10.1.0.1]").ok());
  EXPECT_FALSE(Check(policy, "http://[::ffff:8.8.8.8]").ok());
}

TEST(AddressPolicy, BadRulesNameTheFlag) {
  for (const char* list : {"10.0.0.0/33", "::/129", "prom.svc/8", "10.0.0.0/x",
                           "*.", "a b", "http://prom.svc"}) {
    auto policy = AddressPolicy::Parse(list);
    ASSERT_FALSE(policy.ok()) << list;
    EXPECT_NE(policy.status().message().find("--allowed-prometheus"),
              std::string::npos);
  }
}

}  // namespace
}  // namespace smartcanary::analysis

#ifndef SMARTCANARY_ANALYSIS_ADDRESS_POLICY_H_
#define SMARTCANARY_ANALYSIS_ADDRESS_POLICY_H_

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

// Where the analyzer may send a query. A template names the Prometheus
// address, and whoever may write a template must not be able to make the
// analyzer read local files, reach the cloud metadata service or probe
// services the operator did not list. Pure: resolving names is the
// caller's, which then checks every address it will connect to.
namespace smartcanary::analysis {

// The operator's default (--allowed-prometheus): in-cluster service names
// and the private ranges; loopback and link-local are not included.
inline constexpr char kDefaultAllowedPrometheus[] =
    "*.svc,*.svc.cluster.local,10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,"
    "fc00::/7";

// An IPv4 address is held as its IPv4-mapped IPv6 form (::ffff:a.b.c.d), so
// one comparison covers both families and a mapped address cannot slip past
// an IPv4 rule.
struct IpAddress {
  std::array<uint8_t, 16> bytes{};
  bool is_v4() const;
  std::string ToString() const;
  bool operator==(const IpAddress&) const = default;
};

// A numeric address (dotted quad or IPv6, without brackets), or nullopt.
std::optional<IpAddress> ParseIp(absl::string_view text);

// An http:// or https:// URL split into what the policy and the connection
// need.
struct HttpUrl {
  std::string scheme;           // "http" or "https"
  std::string host;             // lower case, IPv6 without brackets
  int port = 0;                 // given, or the scheme's default
  std::string path;             // the prefix after the authority, may be empty
  std::optional<IpAddress> ip;  // the host is a numeric address
};

// Refuses anything but http(s), a URL with user info, a query or fragment,
// control characters or an unusable host; errors name `field`.
absl::StatusOr<HttpUrl> ParseHttpUrl(absl::string_view url,
                                     absl::string_view field);

class AddressPolicy {
 public:
  // A comma-separated list of host names, `*.suffix` wildcards (any name
  // ending in .suffix) and CIDRs (a bare address is one host).
  static absl::StatusOr<AddressPolicy> Parse(absl::string_view list);
  static AddressPolicy Default();

  // Whether the URL's host may be contacted before it is resolved: a
  // numeric host is judged as CheckAddress judges it; a name passes if a
  // name rule matches it or if CIDR rules exist that its addresses may fall
  // into. Errors name `field` and the rule.
  absl::Status CheckHost(const HttpUrl& url, absl::string_view field) const;

  // Whether a connection to `ip`, an address of `url`'s host, may be made.
  // Link-local (169.254.0.0/16 with the metadata address, fe80::/10) and
  // unspecified addresses never; loopback only inside a listed CIDR; any
  // other address inside a listed CIDR, or when the host name itself is
  // listed.
  absl::Status CheckAddress(const HttpUrl& url, const IpAddress& ip,
                            absl::string_view field) const;

  const std::string& text() const { return text_; }

 private:
  struct Cidr {
    IpAddress base;
    int prefix = 128;  // in IPv6 bits: IPv4 /8 is stored as /104
  };
  bool NameListed(const std::string& host) const;
  bool InCidr(const IpAddress& ip) const;

  std::string text_;
  std::vector<std::string> names_;     // exact, lower case
  std::vector<std::string> suffixes_;  // ".suffix" of `*.suffix`
  std::vector<Cidr> cidrs_;
};

}  // namespace smartcanary::analysis

#endif  // SMARTCANARY_ANALYSIS_ADDRESS_POLICY_H_

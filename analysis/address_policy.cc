#include "analysis/address_policy.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace smartcanary::analysis {
namespace {

constexpr uint8_t kMappedPrefix[12] = {0, 0, 0, 0, 0,    0,
                                       0, 0, 0, 0, 0xff, 0xff};
// NAT64's well-known prefix: 64:ff9b::a9fe:a9fe reaches 169.254.169.254
// through a NAT64 gateway, so the embedded IPv4 address is what counts.
constexpr uint8_t kNat64Prefix[12] = {0, 0x64, 0xff, 0x9b, 0, 0,
                                      0, 0,    0,    0,    0, 0};

// The IPv4 address an IPv6 one stands for (mapped or NAT64), if any.
std::optional<std::array<uint8_t, 4>> EmbeddedV4(const IpAddress& ip) {
  if (std::memcmp(ip.bytes.data(), kMappedPrefix, 12) != 0 &&
      std::memcmp(ip.bytes.data(), kNat64Prefix, 12) != 0) {
    return std::nullopt;
  }
  return std::array<uint8_t, 4>{ip.bytes[12], ip.bytes[13], ip.bytes[14],
                                ip.bytes[15]};
}

bool IsLinkLocal(const IpAddress& ip) {
  if (auto v4 = EmbeddedV4(ip)) return (*v4)[0] == 169 && (*v4)[1] == 254;
  return ip.bytes[0] == 0xfe && (ip.bytes[1] & 0xc0) == 0x80;
}

// 0.0.0.0/8 and :: reach the local host on Linux.
bool IsUnspecified(const IpAddress& ip) {
  if (auto v4 = EmbeddedV4(ip)) return (*v4)[0] == 0;
  return ip == IpAddress{};
}

bool IsLoopback(const IpAddress& ip) {
  if (auto v4 = EmbeddedV4(ip)) return (*v4)[0] == 127;
  IpAddress one;
  one.bytes[15] = 1;
  return ip == one;
}

bool PrefixMatches(const IpAddress& ip, const IpAddress& base, int prefix) {
  for (int bit = 0; bit < prefix; ++bit) {
    const int byte = bit / 8, mask = 0x80 >> (bit % 8);
    if ((ip.bytes[byte] & mask) != (base.bytes[byte] & mask)) return false;
  }
  return true;
}

absl::Status UrlError(absl::string_view field, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", what));
}

bool IsHostChar(char c) {
  return absl::ascii_isalnum(c) || c == '-' || c == '.' || c == '_';
}

// A name whose last label is numeric ("2130706433", "0x7f.1") is an
// address in a form resolvers accept but people do not read: refused.
bool LooksNumeric(absl::string_view host) {
  host = absl::StripSuffix(host, ".");
  const size_t dot = host.rfind('.');
  const absl::string_view last =
      dot == absl::string_view::npos ? host : host.substr(dot + 1);
  if (absl::StartsWith(last, "0x")) return true;
  for (char c : last)
    if (!absl::ascii_isdigit(c)) return false;
  return true;
}

}  // namespace

bool IpAddress::is_v4() const {
  return std::memcmp(bytes.data(), kMappedPrefix, 12) == 0;
}

std::string IpAddress::ToString() const {
  char text[INET6_ADDRSTRLEN] = "";
  if (is_v4()) {
    inet_ntop(AF_INET, bytes.data() + 12, text, sizeof(text));
  } else {
    inet_ntop(AF_INET6, bytes.data(), text, sizeof(text));
  }
  return text;
}

std::optional<IpAddress> ParseIp(absl::string_view text) {
  const std::string copy(text);
  IpAddress ip;
  if (inet_pton(AF_INET, copy.c_str(), ip.bytes.data() + 12) == 1) {
    std::memcpy(ip.bytes.data(), kMappedPrefix, 12);
    return ip;
  }
  if (inet_pton(AF_INET6, copy.c_str(), ip.bytes.data()) == 1) return ip;
  return std::nullopt;
}

absl::StatusOr<HttpUrl> ParseHttpUrl(absl::string_view url,
                                     absl::string_view field) {
  for (unsigned char c : url) {
    if (c <= 0x20 || c >= 0x7f)
      return UrlError(field, "must not contain spaces or control characters");
  }
  HttpUrl out;
  const size_t colon = url.find("://");
  const std::string scheme = absl::AsciiStrToLower(
      url.substr(0, colon == absl::string_view::npos ? 0 : colon));
  if (scheme != "http" && scheme != "https") {
    return UrlError(field,
                    "must be an http:// or https:// URL (other schemes, "
                    "file:// among them, are refused)");
  }
  out.scheme = scheme;
  absl::string_view rest = url.substr(colon + 3);
  if (rest.find_first_of("?#") != absl::string_view::npos)
    return UrlError(field, "must not contain a query (?) or fragment (#)");
  const size_t slash = rest.find('/');
  absl::string_view authority = rest.substr(0, slash);
  out.path =
      std::string(slash == absl::string_view::npos ? "" : rest.substr(slash));
  if (authority.find('@') != absl::string_view::npos) {
    return UrlError(field,
                    "must not contain user info (user@host); give "
                    "credentials in basicAuth or bearerToken");
  }
  absl::string_view port_text;
  if (absl::StartsWith(authority, "[")) {
    const size_t close = authority.find(']');
    if (close == absl::string_view::npos)
      return UrlError(field, "has an IPv6 address without its closing ]");
    const absl::string_view inside = authority.substr(1, close - 1);
    out.ip = ParseIp(inside);
    if (!out.ip || inside.find(':') == absl::string_view::npos)
      return UrlError(field, "has an invalid IPv6 address in [...]");
    out.host = absl::AsciiStrToLower(inside);
    absl::string_view after = authority.substr(close + 1);
    if (!after.empty() && !absl::ConsumePrefix(&after, ":"))
      return UrlError(field, "has text after the IPv6 address");
    port_text = after;
    if (after.empty() && authority.size() > close + 1)
      return UrlError(field, "has an empty port");
  } else {
    const size_t port_colon = authority.find(':');
    out.host = absl::AsciiStrToLower(authority.substr(0, port_colon));
    if (port_colon != absl::string_view::npos) {
      port_text = authority.substr(port_colon + 1);
      if (port_text.empty()) return UrlError(field, "has an empty port");
    }
    if (out.host.empty()) return UrlError(field, "has no host");
    for (char c : out.host) {
      if (!IsHostChar(c)) {
        return UrlError(field, absl::StrCat("has a character the host name \"",
                                            out.host, "\" may not contain"));
      }
    }
    out.ip = ParseIp(out.host);
    if (!out.ip && LooksNumeric(out.host)) {
      return UrlError(field, absl::StrCat("host \"", out.host,
                                          "\" is neither a DNS name nor a "
                                          "dotted-quad address"));
    }
    if (out.ip && !out.ip->is_v4())
      return UrlError(field, "must write an IPv6 address in brackets");
  }
  out.port = out.scheme == "https" ? 443 : 80;
  if (!port_text.empty()) {
    if (!absl::SimpleAtoi(port_text, &out.port) || out.port < 1 ||
        out.port > 65535) {
      return UrlError(field, "has a port that is not a number in 1-65535");
    }
  }
  return out;
}

absl::StatusOr<AddressPolicy> AddressPolicy::Parse(absl::string_view list) {
  AddressPolicy policy;
  policy.text_ = std::string(list);
  for (absl::string_view raw : absl::StrSplit(list, ',', absl::SkipEmpty())) {
    const std::string rule =
        absl::AsciiStrToLower(absl::StripAsciiWhitespace(raw));
    if (rule.empty()) continue;
    auto bad = [&](absl::string_view why) {
      return absl::InvalidArgumentError(
          absl::StrCat("--allowed-prometheus: \"", rule, "\" ", why));
    };
    absl::string_view address = rule;
    int prefix = -1;
    if (const size_t slash = rule.find('/'); slash != std::string::npos) {
      address = absl::string_view(rule).substr(0, slash);
      if (!absl::SimpleAtoi(absl::string_view(rule).substr(slash + 1), &prefix))
        return bad("has a prefix length that is not a number");
    }
    if (auto ip = ParseIp(address)) {
      const int bits = ip->is_v4() ? 32 : 128;
      if (prefix < 0) prefix = bits;
      if (prefix > bits)
        return bad(absl::StrCat("has a prefix longer than ", bits, " bits"));
      policy.cidrs_.push_back({*ip, prefix + 128 - bits});
      continue;
    }
    if (prefix >= 0) return bad("is not a CIDR (address/prefix)");
    absl::string_view name = rule;
    const bool wildcard = absl::ConsumePrefix(&name, "*.");
    if (name.empty() || !std::all_of(name.begin(), name.end(), IsHostChar))
      return bad("is neither a host name, a *.suffix nor a CIDR");
    if (wildcard) {
      policy.suffixes_.push_back(absl::StrCat(".", name));
    } else {
      policy.names_.emplace_back(name);
    }
  }
  return policy;
}

AddressPolicy AddressPolicy::Default() {
  return *Parse(kDefaultAllowedPrometheus);
}

bool AddressPolicy::NameListed(const std::string& host) const {
  const absl::string_view name = absl::StripSuffix(host, ".");
  for (const std::string& exact : names_)
    if (name == exact) return true;
  for (const std::string& suffix : suffixes_)
    if (name.size() > suffix.size() && absl::EndsWith(name, suffix))
      return true;
  return false;
}

bool AddressPolicy::InCidr(const IpAddress& ip) const {
  for (const Cidr& cidr : cidrs_)
    if (PrefixMatches(ip, cidr.base, cidr.prefix)) return true;
  return false;
}

absl::Status AddressPolicy::CheckHost(const HttpUrl& url,
                                      absl::string_view field) const {
  if (url.ip) return CheckAddress(url, *url.ip, field);
  if (NameListed(url.host) || !cidrs_.empty()) return absl::OkStatus();
  return absl::PermissionDeniedError(
      absl::StrCat(field, ": host \"", url.host,
                   "\" is not allowed by the analyzer's --allowed-prometheus (",
                   text_, ")"));
}

absl::Status AddressPolicy::CheckAddress(const HttpUrl& url,
                                         const IpAddress& ip,
                                         absl::string_view field) const {
  const std::string where =
      url.ip ? absl::StrCat("address ", ip.ToString())
             : absl::StrCat("host \"", url.host, "\" resolves to ",
                            ip.ToString(), ", which");
  auto refuse = [&](absl::string_view why) {
    return absl::PermissionDeniedError(
        absl::StrCat(field, ": ", where, " ", why));
  };
  if (IsLinkLocal(ip)) {
    return refuse("is link-local (cloud metadata lives there): never allowed");
  }
  if (IsUnspecified(ip)) return refuse("is unspecified: never allowed");
  if (IsLoopback(ip)) {
    if (InCidr(ip)) return absl::OkStatus();
    return refuse(absl::StrCat(
        "is loopback: allowed only when a CIDR of --allowed-prometheus (",
        text_, ") contains it"));
  }
  if (InCidr(ip) || (!url.ip && NameListed(url.host))) return absl::OkStatus();
  return refuse(
      absl::StrCat("is not allowed by the analyzer's "
                   "--allowed-prometheus (",
                   text_, ")"));
}

}  // namespace smartcanary::analysis

#include "controller/analysis/secret_refs.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "controller/json_fields.h"

namespace smartcanary {
namespace {

using nlohmann::json;

// Kubernetes' rules: a Secret's name is a DNS-1123 subdomain, a key
// alphanumerics, '-', '_' and '.'.
bool IsSecretName(const std::string& name) {
  if (name.empty() || name.size() > 253) return false;
  if (!absl::ascii_isalnum(name.front()) || !absl::ascii_isalnum(name.back()))
    return false;
  for (char c : name) {
    if (!(absl::ascii_islower(c) || absl::ascii_isdigit(c) || c == '-' ||
          c == '.')) {
      return false;
    }
  }
  return true;
}

bool IsSecretKey(const std::string& key) {
  if (key.empty() || key.size() > 253 || key == "." || key == "..")
    return false;
  for (char c : key) {
    if (!(absl::ascii_isalnum(c) || c == '-' || c == '_' || c == '.'))
      return false;
  }
  return true;
}

// One string field of a secretKeyRef, at `path`.
absl::StatusOr<std::string> RefField(const json& ref, const std::string& path,
                                     bool (*valid)(const std::string&),
                                     const char* rule) {
  const std::string field = path.substr(path.rfind('.') + 1);
  auto it = ref.find(field);
  if (it == ref.end() || !it->is_string())
    return FieldError(path, "is required (a string)");
  std::string text = it->get<std::string>();
  if (!valid(text)) return FieldError(path, rule);
  return text;
}

absl::Status ParseRef(const json& value, const std::string& path,
                      v1::SecretKeyRef* out) {
  if (auto s = RejectUnknownFields(value, path, {"secretKeyRef"}); !s.ok())
    return s;
  const std::string ref_path = path + ".secretKeyRef";
  auto ref = value.find("secretKeyRef");
  if (ref == value.end()) return FieldError(ref_path, "is required");
  if (auto s = RejectUnknownFields(*ref, ref_path, {"name", "key"}); !s.ok())
    return s;
  auto name = RefField(*ref, ref_path + ".name", IsSecretName,
                       "must be a Secret name (lower-case DNS-1123 subdomain)");
  if (!name.ok()) return name.status();
  auto key = RefField(*ref, ref_path + ".key", IsSecretKey,
                      "must be a Secret key (letters, digits, '-', '_', '.')");
  if (!key.ok()) return key.status();
  out->set_name(*name);
  out->set_key(*key);
  return absl::OkStatus();
}

absl::Status FillOne(const std::string& ns, const SecretReader& read,
                     const std::string& path, const v1::SecretKeyRef& ref,
                     std::string* value) {
  if (ref.name().empty()) return absl::OkStatus();
  const std::string where =
      absl::StrCat(path, ": Secret ", ns, "/", ref.name(), " key ", ref.key());
  if (!read) {
    return absl::FailedPreconditionError(
        absl::StrCat(where, ": canaryd reads no Secrets here"));
  }
  auto secret = read(ns, ref.name(), ref.key());
  if (!secret.ok())
    return absl::Status(secret.status().code(),
                        absl::StrCat(where, ": ", secret.status().message()));
  // Secrets made from files often end in a newline.
  *secret = std::string(absl::StripAsciiWhitespace(*secret));
  for (unsigned char c : *secret) {
    if (c < 0x20 || c == 0x7f) {
      return absl::InvalidArgumentError(absl::StrCat(
          where, ": the value contains a line break or control character"));
    }
  }
  *value = std::move(*secret);
  return absl::OkStatus();
}

}  // namespace

absl::Status ParseSecretRefs(const json& prom, const std::string& path,
                             v1::PrometheusProvider* out) {
  if (auto it = prom.find(kBearerTokenField); it != prom.end()) {
    const std::string field = absl::StrCat(path, ".", kBearerTokenField);
    if (prom.contains("bearerTokenFile"))
      return FieldError(field, "give bearerToken or bearerTokenFile, not both");
    if (auto s = ParseRef(*it, field, out->mutable_bearer_token_secret());
        !s.ok())
      return s;
  }
  auto basic = prom.find("basicAuth");
  if (basic == prom.end() || !basic->is_object()) return absl::OkStatus();
  if (auto it = basic->find(kBasicAuthPasswordField); it != basic->end()) {
    const std::string field =
        absl::StrCat(path, ".basicAuth.", kBasicAuthPasswordField);
    if (basic->contains("passwordFile"))
      return FieldError(field, "give password or passwordFile, not both");
    if (auto s =
            ParseRef(*it, field, out->mutable_basic_auth_password_secret());
        !s.ok())
      return s;
  }
  return absl::OkStatus();
}

absl::Status FillSecrets(const std::string& ns, const SecretReader& read,
                         const std::string& path,
                         v1::PrometheusProvider* provider) {
  if (auto s = FillOne(ns, read, path + ".bearerToken",
                       provider->bearer_token_secret(),
                       provider->mutable_bearer_token());
      !s.ok())
    return s;
  if (auto s = FillOne(ns, read, path + ".basicAuth.password",
                       provider->basic_auth_password_secret(),
                       provider->mutable_basic_auth_password());
      !s.ok())
    return s;
  // The analyzer needs the values only.
  provider->clear_bearer_token_secret();
  provider->clear_basic_auth_password_secret();
  return absl::OkStatus();
}

absl::Status FillMetricSecrets(const std::string& ns, const SecretReader& read,
                               v1::Metric* metric) {
  if (metric->has_comparative()) {
    return FillSecrets(ns, read, "provider.comparative.prometheus",
                       metric->mutable_comparative()->mutable_prometheus());
  }
  return FillSecrets(ns, read, "provider.prometheus",
                     metric->mutable_prometheus());
}

}  // namespace smartcanary

#include "controller/auth/client_cert_identity.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"

namespace smartcanary::auth {
namespace {

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  c = absl::ascii_tolower(c);
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// Splits an RFC 2253 name into (type, value) pairs, at unescaped ',' and
// '+', undoing "\c" and "\XX" escapes in values.
std::vector<std::pair<std::string, std::string>> Attributes(
    absl::string_view subject) {
  std::vector<std::pair<std::string, std::string>> out;
  std::string type, value;
  bool in_value = false;
  auto finish = [&] {
    out.emplace_back(std::string(absl::StripAsciiWhitespace(type)), value);
    type.clear();
    value.clear();
    in_value = false;
  };
  for (size_t i = 0; i < subject.size(); ++i) {
    const char c = subject[i];
    if (c == '\\' && i + 1 < subject.size()) {
      const int high = HexDigit(subject[i + 1]);
      const int low = i + 2 < subject.size() ? HexDigit(subject[i + 2]) : -1;
      if (high >= 0 && low >= 0) {
        (in_value ? value : type) += static_cast<char>(high * 16 + low);
        i += 2;
      } else {
        (in_value ? value : type) += subject[++i];
      }
    } else if (c == ',' || c == '+') {
      finish();
    } else if (c == '=' && !in_value) {
      in_value = true;
    } else {
      (in_value ? value : type) += c;
    }
  }
  if (!type.empty() || !value.empty()) finish();
  return out;
}

}  // namespace

absl::StatusOr<Caller> CallerFromX509Subject(absl::string_view subject) {
  Caller caller;
  for (auto& [type, value] : Attributes(subject)) {
    const std::string upper = absl::AsciiStrToUpper(type);
    if (upper == "CN" && caller.user.empty()) {
      caller.user = value;
    } else if (upper == "O" && !value.empty()) {
      caller.groups.push_back(value);
    }
  }
  if (caller.user.empty()) {
    return absl::UnauthenticatedError(
        "the client certificate's subject has no CN (the user name)");
  }
  // As the API server adds it to every authenticated user, so that RBAC
  // bindings to it mean the same here.
  caller.groups.push_back("system:authenticated");
  return caller;
}

}  // namespace smartcanary::auth

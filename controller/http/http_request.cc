#include "controller/http/http_request.h"

#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace smartcanary::http {
namespace {

using State = ParsedRequest::State;

ParsedRequest Rejected(int code, std::string error) {
  ParsedRequest parsed;
  parsed.state = State::kRejected;
  parsed.code = code;
  parsed.error = std::move(error);
  return parsed;
}

// RFC 9110 token characters: method and header names.
bool IsToken(absl::string_view text) {
  if (text.empty()) return false;
  for (const char c : text) {
    const bool ok =
        absl::ascii_isalnum(static_cast<unsigned char>(c)) ||
        absl::string_view("!#$%&'*+-.^_`|~").find(c) != absl::string_view::npos;
    if (!ok) return false;
  }
  return true;
}

// Visible ASCII, bytes >= 0x80 (obs-text), space and tab; no other controls.
bool IsFieldValue(absl::string_view text) {
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if ((byte < 0x20 && byte != '\t') || byte == 0x7f) return false;
  }
  return true;
}

// The request target: origin form only, printable ASCII.
bool IsTarget(absl::string_view text) {
  if (text.empty() || text[0] != '/') return false;
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte <= 0x20 || byte >= 0x7f) return false;
  }
  return true;
}

}  // namespace

ParsedRequest ParseRequest(std::string_view input,
                           const RequestLimits& limits) {
  const absl::string_view raw(input.data(), input.size());
  const size_t head_end = raw.find("\r\n\r\n");
  if (head_end == absl::string_view::npos) {
    if (raw.size() > limits.max_head_bytes) {
      return Rejected(431, "request headers too large");
    }
    return {};
  }
  if (head_end + 4 > limits.max_head_bytes) {
    return Rejected(431, "request headers too large");
  }
  const std::vector<absl::string_view> lines =
      absl::StrSplit(raw.substr(0, head_end), "\r\n");
  const std::vector<absl::string_view> first = absl::StrSplit(lines[0], ' ');
  if (first.size() != 3 || !IsToken(first[0]) || !IsTarget(first[1])) {
    return Rejected(400, "malformed request line");
  }
  if (first[2] != "HTTP/1.1" && first[2] != "HTTP/1.0") {
    return Rejected(505, "only HTTP/1.0 and HTTP/1.1 are served");
  }
  if (lines.size() - 1 > limits.max_headers) {
    return Rejected(431, "too many request headers");
  }
  ParsedRequest parsed;
  Request& request = parsed.request;
  request.method = std::string(first[0]);
  request.path = std::string(first[1].substr(0, first[1].find('?')));
  for (size_t i = 1; i < lines.size(); ++i) {
    const size_t colon = lines[i].find(':');
    // No whitespace before the colon and no folded lines: both let two
    // readers disagree on which header a line is.
    if (colon == absl::string_view::npos ||
        !IsToken(lines[i].substr(0, colon)) ||
        !IsFieldValue(lines[i].substr(colon + 1))) {
      return Rejected(400, absl::StrCat("malformed header line ", i));
    }
    const std::string name = absl::AsciiStrToLower(lines[i].substr(0, colon));
    std::string value(lines[i].substr(colon + 1));
    absl::StripAsciiWhitespace(&value);
    auto [it, added] = request.headers.emplace(name, value);
    if (!added) {
      if (name == "content-length" || name == "host") {
        return Rejected(400, absl::StrCat("repeated header ", name));
      }
      absl::StrAppend(&it->second, ", ", value);
    }
  }
  if (request.headers.contains("transfer-encoding")) {
    return Rejected(501, "transfer-encoding is not supported");
  }
  size_t length = 0;
  if (auto it = request.headers.find("content-length");
      it != request.headers.end()) {
    const std::string& text = it->second;
    if (text.empty() || text.size() > 19 ||
        text.find_first_not_of("0123456789") != std::string::npos ||
        !absl::SimpleAtoi(text, &length)) {
      return Rejected(400, "content-length is not a number");
    }
    if (length > limits.max_body_bytes) {
      return Rejected(413, absl::StrCat("body larger than ",
                                        limits.max_body_bytes, " bytes"));
    }
  }
  const absl::string_view body = raw.substr(head_end + 4);
  if (body.size() < length) return {};
  request.body = std::string(body.substr(0, length));
  parsed.state = State::kComplete;
  return parsed;
}

}  // namespace smartcanary::http

#include "controller/kube/fake_kube_query.h"

#include <optional>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace smartcanary::kube::fake {
namespace {

using nlohmann::json;

// Query strings read '+' as a space; path segments do not.
std::string Unescape(absl::string_view text, bool plus_is_space = true) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    int byte = 0;
    if (text[i] == '%' && i + 2 < text.size() &&
        absl::SimpleHexAtoi(text.substr(i + 1, 2), &byte)) {
      out.push_back(static_cast<char>(byte));
      i += 2;
    } else {
      out.push_back(text[i] == '+' && plus_is_space ? ' ' : text[i]);
    }
  }
  return out;
}

std::optional<std::string> StringAt(const json& object, const char* outer,
                                    const std::string& inner) {
  if (!object.is_object()) return std::nullopt;
  auto level = object.find(outer);
  if (level == object.end() || !level->is_object()) return std::nullopt;
  auto value = level->find(inner);
  if (value == level->end() || !value->is_string()) return std::nullopt;
  return value->get<std::string>();
}

}  // namespace

std::string ObjectPath::ItemKey() const {
  std::string key = group_version;
  if (!ns.empty()) absl::StrAppend(&key, "/namespaces/", ns);
  absl::StrAppend(&key, "/", plural);
  if (!name.empty()) absl::StrAppend(&key, "/", name);
  return key;
}

std::string ObjectPath::Resource() const {
  if (absl::StartsWith(group_version, "/api/")) return plural;
  std::vector<std::string> parts = absl::StrSplit(group_version, '/');
  return parts.size() >= 3 ? absl::StrCat(plural, ".", parts[2]) : plural;
}

bool ObjectPath::Holds(const ObjectPath& other) const {
  return other.group_version == group_version && other.plural == plural &&
         (ns.empty() || other.ns == ns);
}

std::string ObjectPath::Param(const std::string& key) const {
  auto it = query.find(key);
  return it == query.end() ? "" : it->second;
}

absl::StatusOr<ObjectPath> ParseObjectPath(const std::string& path) {
  ObjectPath parsed;
  const size_t question = path.find('?');
  const std::string bare = path.substr(0, question);
  if (question != std::string::npos) {
    for (absl::string_view pair :
         absl::StrSplit(absl::string_view(path).substr(question + 1), '&',
                        absl::SkipEmpty())) {
      const size_t equals = pair.find('=');
      parsed.query[Unescape(pair.substr(0, equals))] =
          equals == absl::string_view::npos ? ""
                                            : Unescape(pair.substr(equals + 1));
    }
  }
  // As the API server: split at '/', then decode each segment, so an
  // escaped "%2F" stays inside its name.
  std::vector<std::string> parts;
  for (absl::string_view part : absl::StrSplit(bare, '/', absl::SkipEmpty()))
    parts.push_back(Unescape(part, /*plus_is_space=*/false));
  size_t rest = 0;
  if (parts.size() >= 2 && parts[0] == "api") {
    parsed.group_version = absl::StrCat("/api/", parts[1]);
    rest = 2;
  } else if (parts.size() >= 3 && parts[0] == "apis") {
    parsed.group_version = absl::StrCat("/apis/", parts[1], "/", parts[2]);
    rest = 3;
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": not an API path FakeKube knows"));
  }
  std::vector<std::string> tail(parts.begin() + rest, parts.end());
  if (tail.size() >= 3 && tail[0] == "namespaces") {
    parsed.ns = tail[1];
    tail.erase(tail.begin(), tail.begin() + 2);
  }
  if (tail.empty() || tail.size() > 3 ||
      (tail.size() == 3 && tail[2] != "status")) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": not an API path FakeKube knows"));
  }
  parsed.plural = tail[0];
  if (tail.size() >= 2) parsed.name = tail[1];
  if (tail.size() == 3) parsed.subresource = tail[2];
  return parsed;
}

absl::StatusOr<Selector> Selector::Parse(const std::string& text, bool fields) {
  Selector selector;
  selector.fields_ = fields;
  for (absl::string_view term :
       absl::StrSplit(text, ',', absl::SkipWhitespace())) {
    Term parsed;
    if (size_t at = term.find("!="); at != absl::string_view::npos) {
      parsed = {std::string(term.substr(0, at)),
                std::string(term.substr(at + 2)), Term::kNotEquals};
    } else if (size_t eq = term.find('='); eq != absl::string_view::npos) {
      absl::string_view value = term.substr(eq + 1);
      absl::ConsumePrefix(&value, "=");
      parsed = {std::string(term.substr(0, eq)), std::string(value),
                Term::kEquals};
    } else if (!fields && absl::ConsumePrefix(&term, "!")) {
      parsed = {std::string(term), "", Term::kNotExists};
    } else if (!fields &&
               term.find_first_of(" ()") == absl::string_view::npos) {
      parsed = {std::string(term), "", Term::kExists};
    } else {
      return absl::InvalidArgumentError(absl::StrCat(
          "selector \"", text, "\": FakeKube does not read \"", term, "\""));
    }
    if (fields && parsed.key != "metadata.name" &&
        parsed.key != "metadata.namespace") {
      return absl::InvalidArgumentError(
          absl::StrCat("field label not supported: ", parsed.key));
    }
    selector.terms_.push_back(std::move(parsed));
  }
  return selector;
}

bool Selector::Matches(const json& object) const {
  for (const Term& term : terms_) {
    std::optional<std::string> value =
        fields_
            ? StringAt(object, "metadata",
                       std::string(absl::StripPrefix(term.key, "metadata.")))
            : std::nullopt;
    if (!fields_ && object.is_object() && object.contains("metadata") &&
        object["metadata"].is_object()) {
      value = StringAt(object["metadata"], "labels", term.key);
    }
    switch (term.op) {
      case Term::kEquals:
        if (value != term.value) return false;
        break;
      case Term::kNotEquals:
        if (value == term.value) return false;
        break;
      case Term::kExists:
        if (!value) return false;
        break;
      case Term::kNotExists:
        if (value) return false;
        break;
    }
  }
  return true;
}

}  // namespace smartcanary::kube::fake

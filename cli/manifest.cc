#include "cli/manifest.h"

#include <set>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/utf8.h"
#include "controller/json_fields.h"
#include "controller/kube/resources.h"
#include "yaml-cpp/yaml.h"

namespace smartcanary::cli {
namespace {

using nlohmann::json;

json ScalarToJson(const YAML::Node& node) {
  const std::string& text = node.Scalar();
  if (node.Tag() == "!") return text;  // quoted: always a string
  if (text == "true" || text == "True" || text == "TRUE") return true;
  if (text == "false" || text == "False" || text == "FALSE") return false;
  if (text.empty() || text == "~" || text == "null" || text == "Null" ||
      text == "NULL") {
    return nullptr;
  }
  int64_t integer;
  if (absl::SimpleAtoi(text, &integer)) return integer;
  double number;
  if (text.find_first_of(".eE") != std::string::npos &&
      absl::SimpleAtod(text, &number)) {
    return number;
  }
  return text;
}

json NodeToJson(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map: {
      json out = json::object();
      for (const auto& item : node)
        out[item.first.as<std::string>()] = NodeToJson(item.second);
      return out;
    }
    case YAML::NodeType::Sequence: {
      json out = json::array();
      for (const auto& item : node) out.push_back(NodeToJson(item));
      return out;
    }
    case YAML::NodeType::Scalar:
      return ScalarToJson(node);
    default:
      return nullptr;
  }
}

}  // namespace

absl::StatusOr<json> YamlToJson(const std::string& yaml_text) {
  try {
    std::vector<YAML::Node> documents = YAML::LoadAll(yaml_text);
    std::vector<YAML::Node> non_empty;
    for (const auto& doc : documents) {
      if (!doc.IsNull()) non_empty.push_back(doc);
    }
    if (non_empty.size() != 1) {
      return absl::InvalidArgumentError(absl::StrCat(
          "expected exactly one YAML document, found ", non_empty.size()));
    }
    return NodeToJson(non_empty.front());
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat("not valid YAML: ", e.what()));
  }
}

absl::StatusOr<Manifest> ParseManifest(const std::string& yaml_text) {
  auto document = YamlToJson(yaml_text);
  if (!document.ok()) return document.status();
  if (!document->is_object())
    return absl::InvalidArgumentError("the document must be a map");
  for (const auto& [key, value] : document->items()) {
    static const std::set<std::string> kKnown = {"apiVersion", "kind",
                                                 "metadata", "spec", "status"};
    if (!kKnown.count(key)) {
      return absl::InvalidArgumentError(absl::StrCat(key, ": unknown field"));
    }
  }
  // value() throws on a field of another type: typed reads only.
  auto api_version = StringField(*document, "apiVersion", "apiVersion");
  if (!api_version.ok()) return api_version.status();
  if (*api_version != kube::kCanaryRolloutApiVersion) {
    return absl::InvalidArgumentError(absl::StrCat(
        "apiVersion: must be ", kube::kCanaryRolloutApiVersion, ", got ",
        document->contains("apiVersion")
            ? absl::StrCat("\"", QuoteForMessage(*api_version, 80), "\"")
            : "nothing"));
  }
  auto kind = StringField(*document, "kind", "kind");
  if (!kind.ok()) return kind.status();
  if (*kind != "CanaryRollout") {
    return absl::InvalidArgumentError("kind: must be CanaryRollout");
  }
  Manifest manifest;
  const json& metadata = document->value("metadata", json::object());
  if (!metadata.is_object() || !metadata.contains("name") ||
      !metadata["name"].is_string() ||
      metadata["name"].get<std::string>().empty()) {
    return absl::InvalidArgumentError("metadata.name: is required");
  }
  manifest.name = metadata["name"];
  auto ns = StringField(metadata, "namespace", "metadata.namespace");
  if (!ns.ok()) return ns.status();
  manifest.namespace_name = *ns;
  auto spec = ParseRolloutSpec(document->value("spec", json()));
  if (!spec.ok()) return spec.status();
  manifest.spec = *spec;
  return manifest;
}

}  // namespace smartcanary::cli

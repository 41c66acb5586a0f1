#ifndef SMARTCANARY_CONTROLLER_KUBE_FAKE_KUBE_QUERY_H_
#define SMARTCANARY_CONTROLLER_KUBE_FAKE_KUBE_QUERY_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

// How FakeKube reads a REST path: which objects it names, and its query.
namespace smartcanary::kube::fake {

struct ObjectPath {
  std::string group_version;  // "/api/v1" or "/apis/G/V"
  std::string ns;             // empty: cluster-scoped, or all namespaces
  std::string plural;
  std::string name;                          // empty: the collection
  std::string subresource;                   // "status" or empty
  std::map<std::string, std::string> query;  // decoded

  // The object's path (no subresource, no query): FakeKube's key.
  std::string ItemKey() const;
  // "canaryrollouts.smartcanary.dev", as the API server names a resource.
  std::string Resource() const;
  // Whether the collection this path names holds `other` (an item's path).
  bool Holds(const ObjectPath& other) const;
  std::string Param(const std::string& key) const;
};

absl::StatusOr<ObjectPath> ParseObjectPath(const std::string& path);

// A label or field selector: key=value, key==value, key!=value, key, !key,
// joined by commas.
class Selector {
 public:
  static absl::StatusOr<Selector> Parse(const std::string& text, bool fields);
  bool Matches(const nlohmann::json& object) const;

 private:
  struct Term {
    std::string key;
    std::string value;
    enum { kEquals, kNotEquals, kExists, kNotExists } op;
  };
  bool fields_ = false;
  std::vector<Term> terms_;
};

}  // namespace smartcanary::kube::fake

#endif  // SMARTCANARY_CONTROLLER_KUBE_FAKE_KUBE_QUERY_H_

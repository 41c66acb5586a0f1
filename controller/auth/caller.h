#ifndef SMARTCANARY_CONTROLLER_AUTH_CALLER_H_
#define SMARTCANARY_CONTROLLER_AUTH_CALLER_H_

#include <map>
#include <string>
#include <vector>

namespace smartcanary::auth {

// Who made an RPC, as Kubernetes names users: what a TokenReview answers or
// a client certificate says (CN=user, O=groups). Authorization asks the API
// server about exactly this identity.
struct Caller {
  std::string user;
  std::string uid;
  std::vector<std::string> groups;
  std::map<std::string, std::vector<std::string>> extra;

  bool operator==(const Caller&) const = default;
};

}  // namespace smartcanary::auth

#endif  // SMARTCANARY_CONTROLLER_AUTH_CALLER_H_

#ifndef SMARTCANARY_TESTS_UNIT_CACHE_FEEDER_H_
#define SMARTCANARY_TESTS_UNIT_CACHE_FEEDER_H_

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "controller/kube/cached_kube_api.h"
#include "controller/kube/fake_kube.h"
#include "controller/kube/resources.h"

namespace smartcanary::testing {

// Feeds a CachedKubeApi from a FakeKube as Controller's watches do: a list
// (Replace), then watch events (Apply), one thread per kind, until
// destroyed.
class CacheFeeder {
 public:
  CacheFeeder(kube::FakeKube& kube, kube::CachedKubeApi& cache,
              std::vector<kube::Resource> kinds, std::string ns);
  ~CacheFeeder();

  // Waits until every watch has delivered the fake's newest version (the
  // fake's bookmarks say how far a watch has got); false after a minute,
  // a guard against a hang, never expected.
  bool CatchUp();

 private:
  void Feed(size_t index);

  kube::FakeKube& kube_;
  kube::CachedKubeApi& cache_;
  std::vector<kube::Resource> kinds_;
  std::string namespace_;
  std::atomic<bool> stopping_{false};
  absl::Mutex mu_;
  std::vector<int64_t> seen_ ABSL_GUARDED_BY(mu_);  // per kind, -1: not listed
  std::vector<std::thread> threads_;
};

}  // namespace smartcanary::testing

#endif  // SMARTCANARY_TESTS_UNIT_CACHE_FEEDER_H_

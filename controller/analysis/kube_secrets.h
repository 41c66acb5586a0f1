#ifndef SMARTCANARY_CONTROLLER_ANALYSIS_KUBE_SECRETS_H_
#define SMARTCANARY_CONTROLLER_ANALYSIS_KUBE_SECRETS_H_

#include "controller/analysis/secret_refs.h"
#include "controller/kube/kube_api.h"

namespace smartcanary {

// Reads a key of a Secret through the API server (canaryd needs `get` on
// secrets, in every namespace it serves). `kube` must outlive the reader.
SecretReader KubeSecretReader(const kube::KubeApi& kube);

}  // namespace smartcanary

#endif  // SMARTCANARY_CONTROLLER_ANALYSIS_KUBE_SECRETS_H_

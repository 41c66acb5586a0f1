// Who may drive rollouts: canaryd's RolloutService over TLS, every call
// authenticated (TokenReview) and authorized (SubjectAccessReview) by the
// real API server, with the ClusterRoles shipped in manifests/install.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "cli/manifest.h"
#include "common/files.h"
#include "controller/kube/resources.h"
#include "tests/integration/cluster_fixture.h"

namespace smartcanary::testing {
namespace {

using nlohmann::json;

constexpr char kRollout[] = "checkout";

// A CA and a server certificate it signed for localhost and 127.0.0.1,
// made with openssl in `dir`.
struct Pki {
  std::string dir;
  std::string ca_file() const { return dir + "/ca.crt"; }
  std::string cert_file() const { return dir + "/server.crt"; }
  std::string key_file() const { return dir + "/server.key"; }
};

void Shell(const std::string& command) {
  ASSERT_EQ(std::system((command + " >/dev/null 2>&1").c_str()), 0) << command;
}

Pki MakePki(const std::string& dir) {
  mkdir(dir.c_str(), 0700);
  Pki pki{dir};
  const std::string ec = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1";
  std::ofstream(dir + "/san.ext")
      << "subjectAltName=DNS:localhost,IP:127.0.0.1\n";
  Shell(absl::StrCat("openssl req -x509 ", ec, " -nodes -days 2 -subj /CN=",
                     "test-ca -keyout ", dir, "/ca.key -out ", pki.ca_file()));
  Shell(absl::StrCat("openssl req ", ec, " -nodes -subj /CN=canaryd -keyout ",
                     dir, "/new.key -out ", dir, "/server.csr"));
  Shell(absl::StrCat("openssl x509 -req -days 2 -in ", dir, "/server.csr -CA ",
                     pki.ca_file(), " -CAkey ", dir,
                     "/ca.key -CAcreateserial -extfile ", dir, "/san.ext -out ",
                     dir, "/new.crt"));
  // Renames: canaryd never reads a half-written file.
  Shell(absl::StrCat("mv ", dir, "/new.key ", pki.key_file(), " && mv ", dir,
                     "/new.crt ", pki.cert_file()));
  return pki;
}

// A client certificate for `subject` signed by `pki`'s CA: files
// <dir>/<name>.crt and .key.
void MakeClientCert(const Pki& pki, const std::string& name,
                    const std::string& subject) {
  const std::string base = absl::StrCat(pki.dir, "/", name);
  Shell(absl::StrCat(
      "openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
      "-subj '",
      subject, "' -keyout ", base, ".key -out ", base, ".csr"));
  Shell(absl::StrCat("openssl x509 -req -days 2 -in ", base, ".csr -CA ",
                     pki.ca_file(), " -CAkey ", pki.dir,
                     "/ca.key -CAcreateserial -out ", base, ".crt"));
}

std::string TmpDir() {
  const char* tmp = std::getenv("TEST_TMPDIR");
  return tmp != nullptr ? tmp : "/tmp";
}

// A TLS channel verifying canaryd with `ca_file`; every call carries
// `token` unless it is empty.
std::unique_ptr<v1::RolloutService::Stub> TlsStub(
    const std::string& address, const std::string& ca_file,
    const std::string& client_cert_file = "",
    const std::string& client_key_file = "") {
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = *ReadFile(ca_file);
  if (!client_cert_file.empty()) {
    ssl.pem_cert_chain = *ReadFile(client_cert_file);
    ssl.pem_private_key = *ReadFile(client_key_file);
  }
  grpc::ChannelArguments args;
  args.SetSslTargetNameOverride("localhost");
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return v1::RolloutService::NewStub(
      grpc::CreateCustomChannel(address, grpc::SslCredentials(ssl), args));
}

void Prepare(grpc::ClientContext& context, const std::string& token) {
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(20));
  if (!token.empty()) context.AddMetadata("authorization", "Bearer " + token);
}

// A refusal with `code` whose message says `text`.
void ExpectRefused(const grpc::Status& status, grpc::StatusCode code,
                   const std::string& text) {
  EXPECT_EQ(status.error_code(), code) << status.error_message();
  EXPECT_NE(status.error_message().find(text), std::string::npos)
      << status.error_message();
}

v1::RolloutRef Ref(const std::string& ns) {
  v1::RolloutRef ref;
  ref.set_namespace_(ns);
  ref.set_name(kRollout);
  return ref;
}

// The shipped user-facing ClusterRoles, created (or brought up to date)
// from manifests/install/rbac.yaml.
void ApplyShippedClusterRoles() {
  auto text = ReadFile(RunfilePath("manifests/install/rbac.yaml"));
  ASSERT_TRUE(text.ok()) << text.status();
  const std::string collection =
      "/apis/rbac.authorization.k8s.io/v1/clusterroles";
  for (absl::string_view document : absl::StrSplit(*text, "\n---\n")) {
    auto object = cli::YamlToJson(std::string(document));
    ASSERT_TRUE(object.ok()) << object.status();
    if (!object->is_object() || object->value("kind", "") != "ClusterRole")
      continue;
    const std::string name = (*object)["metadata"]["name"];
    if (name == "smartcanary-canaryd") continue;
    auto created = Kube().Post(collection, *object);
    if (absl::IsAlreadyExists(created.status())) {
      auto current = Kube().Get(collection + "/" + name);
      ASSERT_TRUE(current.ok()) << current.status();
      (*object)["metadata"]["resourceVersion"] =
          (*current)["metadata"]["resourceVersion"];
      created = Kube().Put(collection + "/" + name, *object);
    }
    ASSERT_TRUE(created.ok()) << name << ": " << created.status();
  }
}

// Binds `subject` (a RoleBinding subject) in `ns` to ClusterRole `role`.
void Bind(const std::string& ns, const std::string& binding_name,
          const json& subject, const std::string& role) {
  auto binding =
      Kube().Post(absl::StrCat("/apis/rbac.authorization.k8s.io/v1/namespaces/",
                               ns, "/rolebindings"),
                  json{{"apiVersion", "rbac.authorization.k8s.io/v1"},
                       {"kind", "RoleBinding"},
                       {"metadata", {{"name", binding_name}}},
                       {"roleRef",
                        {{"apiGroup", "rbac.authorization.k8s.io"},
                         {"kind", "ClusterRole"},
                         {"name", role}}},
                       {"subjects", json::array({subject})}});
  EXPECT_TRUE(binding.ok()) << binding.status();
}

// A service account in `ns` bound there to ClusterRole `role`; its token.
std::string ServiceAccountToken(const std::string& ns, const std::string& sa,
                                const std::string& role) {
  auto account =
      Kube().Post(absl::StrCat("/api/v1/namespaces/", ns, "/serviceaccounts"),
                  json{{"apiVersion", "v1"},
                       {"kind", "ServiceAccount"},
                       {"metadata", {{"name", sa}}}});
  EXPECT_TRUE(account.ok()) << account.status();
  Bind(ns, sa, {{"kind", "ServiceAccount"}, {"name", sa}, {"namespace", ns}},
       role);
  // What `kubectl create token` asks for.
  auto request = Kube().Post(absl::StrCat("/api/v1/namespaces/", ns,
                                          "/serviceaccounts/", sa, "/token"),
                             json{{"apiVersion", "authentication.k8s.io/v1"},
                                  {"kind", "TokenRequest"},
                                  {"spec", {{"expirationSeconds", 3600}}}});
  EXPECT_TRUE(request.ok()) << request.status();
  if (!request.ok()) return "";
  return (*request)["status"]["token"].get<std::string>();
}

class AuthTest : public ::testing::Test {
 protected:
  AuthTest() {
    ApplyShippedClusterRoles();
    a_.Apply(SubsetMeshYaml(kRollout));
    b_.Apply(SubsetMeshYaml(kRollout));
  }

  void SetUp() override {
    canaryd_a_ = Canaryd(a_.name());
    canaryd_b_ = Canaryd(b_.name());
    admin_a_ = TlsStub(canaryd_a_->address(), pki_.ca_file());
    admin_b_ = TlsStub(canaryd_b_->address(), pki_.ca_file());
    // Both rollouts hold at 20% until promoted.
    StartPaused(*admin_a_, a_.name());
    StartPaused(*admin_b_, b_.name());
  }

  // TLS, client certificates signed by the test CA accepted as identities.
  std::unique_ptr<CanarydProcess> Canaryd(const std::string& ns,
                                          std::vector<std::string> flags = {}) {
    flags.insert(flags.end(), {"--grpc-tls-cert-file=" + pki_.cert_file(),
                               "--grpc-tls-key-file=" + pki_.key_file(),
                               "--grpc-client-ca-file=" + pki_.ca_file()});
    return std::make_unique<CanarydProcess>(ns, flags);
  }

  // Resume with the admin's token, optionally marked as a call a standby
  // forwarded (which only the leader accepts).
  grpc::Status Resume(v1::RolloutService::Stub& stub, const std::string& ns,
                      const std::string& name, bool forwarded) {
    grpc::ClientContext context;
    Prepare(context, admin_token_);
    if (forwarded) context.AddMetadata("x-smartcanary-forwarded", "1");
    v1::RolloutRef ref;
    ref.set_namespace_(ns);
    ref.set_name(name);
    v1::Rollout out;
    return stub.Resume(&context, ref, &out);
  }

  void StartPaused(v1::RolloutService::Stub& stub, const std::string& ns) {
    const v1::StartRolloutRequest request =
        SubsetRolloutRequest(ns, kRollout, {SetWeightStep(20), PauseStep()});
    grpc::ClientContext context;
    Prepare(context, admin_token_);
    v1::Rollout out;
    grpc::Status status = stub.StartRollout(&context, request, &out);
    ASSERT_TRUE(status.ok()) << status.error_message();
    ASSERT_TRUE(WaitFor([&] { return Phase(stub, ns) == v1::PAUSED; }))
        << ns << " never paused at 20%";
  }

  v1::Phase Phase(v1::RolloutService::Stub& stub, const std::string& ns) {
    grpc::ClientContext context;
    Prepare(context, admin_token_);
    v1::Rollout out;
    if (!stub.GetRollout(&context, Ref(ns), &out).ok())
      return v1::PHASE_UNSPECIFIED;
    return out.phase();
  }

  int CanaryWeight(const std::string& ns) {
    auto vs = Kube().Get(kube::kVirtualServices.Item(ns, kRollout));
    EXPECT_TRUE(vs.ok()) << vs.status();
    return (*vs)["spec"]["http"][0]["route"][1].value("weight", -1);
  }

  // A call's status once RBAC has caught up with a fresh RoleBinding: an
  // answer other than PERMISSION_DENIED, or the last denial.
  template <typename Call>
  grpc::Status OnceBound(Call call) {
    grpc::Status status;
    WaitFor([&] {
      status = call();
      return status.error_code() != grpc::StatusCode::PERMISSION_DENIED;
    });
    return status;
  }

  grpc::Status Abort(v1::RolloutService::Stub& stub, const std::string& ns,
                     const std::string& token) {
    grpc::ClientContext context;
    Prepare(context, token);
    v1::Rollout out;
    return stub.Abort(&context, Ref(ns), &out);
  }

  grpc::Status Get(v1::RolloutService::Stub& stub, const std::string& ns,
                   const std::string& token) {
    grpc::ClientContext context;
    Prepare(context, token);
    v1::Rollout out;
    return stub.GetRollout(&context, Ref(ns), &out);
  }

  void ExpectUntouched(v1::RolloutService::Stub& stub, const std::string& ns) {
    EXPECT_EQ(Phase(stub, ns), v1::PAUSED) << ns;
    EXPECT_EQ(CanaryWeight(ns), 20) << ns;
  }

  TestNamespace a_, b_;
  const std::string admin_token_ = Kube().config().token;
  Pki pki_ = MakePki(absl::StrCat(TmpDir(), "/pki-", a_.name()));
  std::unique_ptr<CanarydProcess> canaryd_a_, canaryd_b_;
  std::unique_ptr<v1::RolloutService::Stub> admin_a_, admin_b_;
};

TEST_F(AuthTest, UnauthenticatedAbortIsRefusedAndChangesNothing) {
  ExpectRefused(Abort(*admin_a_, a_.name(), ""),
                grpc::StatusCode::UNAUTHENTICATED, "Bearer");
  ExpectRefused(Abort(*admin_a_, a_.name(), "not-a-real-token"),
                grpc::StatusCode::UNAUTHENTICATED, "not valid");
  ExpectUntouched(*admin_a_, a_.name());
}

TEST_F(AuthTest, OperatorInOneNamespaceCannotReadOrActInAnother) {
  const std::string token =
      ServiceAccountToken(a_.name(), "operator", "smartcanary-operator");
  // In A: allowed (once RBAC has seen the binding).
  grpc::Status got =
      OnceBound([&] { return Get(*admin_a_, a_.name(), token); });
  EXPECT_TRUE(got.ok()) << got.error_message();
  grpc::Status aborted =
      OnceBound([&] { return Abort(*admin_a_, a_.name(), token); });
  EXPECT_TRUE(aborted.ok()) << aborted.error_message();
  EXPECT_TRUE(WaitFor([&] {
    return Phase(*admin_a_, a_.name()) == v1::DEGRADED &&
           CanaryWeight(a_.name()) == 0;
  }));

  // In B: RBAC says no, and the message says who, what and where.
  const std::string in_b = absl::StrCat(" in namespace \"", b_.name(), "\"");
  ExpectRefused(Get(*admin_b_, b_.name(), token),
                grpc::StatusCode::PERMISSION_DENIED,
                absl::StrCat("user \"system:serviceaccount:", a_.name(),
                             ":operator\" may not get "
                             "canaryrollouts.smartcanary.dev",
                             in_b));
  ExpectRefused(
      Abort(*admin_b_, b_.name(), token), grpc::StatusCode::PERMISSION_DENIED,
      absl::StrCat("may not update canaryrollouts/abort.smartcanary.dev",
                   in_b));
  ExpectUntouched(*admin_b_, b_.name());

  // A canaryd bound to A does not serve B, whoever asks.
  ExpectRefused(Abort(*admin_a_, b_.name(), admin_token_),
                grpc::StatusCode::PERMISSION_DENIED,
                absl::StrCat("serves only namespace \"", a_.name(), "\""));
  ExpectUntouched(*admin_b_, b_.name());
}

TEST_F(AuthTest, ViewerCanReadButNotCommandOrChangeTheSpec) {
  const std::string token =
      ServiceAccountToken(a_.name(), "viewer", "smartcanary-viewer");
  grpc::Status got =
      OnceBound([&] { return Get(*admin_a_, a_.name(), token); });
  EXPECT_TRUE(got.ok()) << got.error_message();

  ExpectRefused(Abort(*admin_a_, a_.name(), token),
                grpc::StatusCode::PERMISSION_DENIED,
                "may not update canaryrollouts/abort");
  grpc::ClientContext promote_context;
  Prepare(promote_context, token);
  v1::PromoteRequest promote;
  *promote.mutable_rollout() = Ref(a_.name());
  v1::Rollout out;
  ExpectRefused(admin_a_->Promote(&promote_context, promote, &out),
                grpc::StatusCode::PERMISSION_DENIED,
                "may not update canaryrollouts/control");
  // The rollout exists: changing its spec is an update.
  grpc::ClientContext start_context;
  Prepare(start_context, token);
  ExpectRefused(
      admin_a_->StartRollout(
          &start_context,
          SubsetRolloutRequest(a_.name(), kRollout, {SetWeightStep(100)}),
          &out),
      grpc::StatusCode::PERMISSION_DENIED,
      "may not update canaryrollouts.smartcanary.dev");
  ExpectUntouched(*admin_a_, a_.name());
}

TEST_F(AuthTest, NamesThatCouldLeaveTheirNamespaceAreRefused) {
  v1::RolloutRef ref = Ref(a_.name());
  ref.set_name("../../" + b_.name() + "/canaryrollouts/" + kRollout);
  grpc::ClientContext get_context;
  Prepare(get_context, admin_token_);
  v1::Rollout out;
  ExpectRefused(admin_a_->GetRollout(&get_context, ref, &out),
                grpc::StatusCode::INVALID_ARGUMENT, "metadata.name: \"../../");
  grpc::ClientContext start_context;
  Prepare(start_context, admin_token_);
  ExpectRefused(
      admin_a_->StartRollout(
          &start_context,
          SubsetRolloutRequest(a_.name(), "x/../../y", {SetWeightStep(100)}),
          &out),
      grpc::StatusCode::INVALID_ARGUMENT, "is not a Kubernetes name");
  ExpectRefused(Abort(*admin_a_, a_.name() + "/../" + b_.name(), admin_token_),
                grpc::StatusCode::INVALID_ARGUMENT,
                "metadata.namespace: \"" + a_.name() + "/../");
  ExpectUntouched(*admin_a_, a_.name());
  ExpectUntouched(*admin_b_, b_.name());
}

TEST_F(AuthTest, ListWithoutNamespaceListsOnlyTheServedOne) {
  grpc::ClientContext context;
  Prepare(context, admin_token_);
  v1::ListRolloutsRequest request;  // no namespace
  v1::ListRolloutsResponse list;
  grpc::Status status = admin_a_->ListRollouts(&context, request, &list);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(list.rollouts_size(), 1);
  EXPECT_EQ(list.rollouts(0).namespace_(), a_.name());
}

TEST_F(AuthTest, ReplacedCertificateIsServedToNewConnections) {
  // A second CA signs the new certificate, so which one is served shows.
  const Pki next = MakePki(pki_.dir + "-next");
  Shell(absl::StrCat("cp ", next.key_file(), " ", pki_.dir, "/rotated.key && ",
                     "cp ", next.cert_file(), " ", pki_.dir, "/rotated.crt && ",
                     "mv ", pki_.dir, "/rotated.key ", pki_.key_file(), " && ",
                     "mv ", pki_.dir, "/rotated.crt ", pki_.cert_file()));
  EXPECT_TRUE(WaitFor([&] {
    auto stub = TlsStub(canaryd_a_->address(), next.ca_file());
    return Get(*stub, a_.name(), admin_token_).ok();
  })) << "canaryd never served the new certificate";
  auto old = TlsStub(canaryd_a_->address(), pki_.ca_file());
  EXPECT_EQ(Get(*old, a_.name(), admin_token_).error_code(),
            grpc::StatusCode::UNAVAILABLE);
}

TEST_F(AuthTest, CanaryctlUsesTheKubeconfigsTokenAndCa) {
  const std::string operator_token =
      ServiceAccountToken(a_.name(), "deployer", "smartcanary-operator");
  const std::string viewer_token =
      ServiceAccountToken(a_.name(), "watcher", "smartcanary-viewer");
  auto kubeconfig = [&](const std::string& name, const std::string& token) {
    const std::string path = absl::StrCat(pki_.dir, "/", name, ".kubeconfig");
    std::ofstream(path) << absl::StrCat(
        "apiVersion: v1\nkind: Config\ncurrent-context: c\n"
        "clusters:\n- name: k\n  cluster:\n    server: https://unused\n"
        "    certificate-authority-data: ",
        absl::Base64Escape(*ReadFile(pki_.ca_file())),
        "\ncontexts:\n- name: c\n  context: {cluster: k, user: u, namespace: ",
        a_.name(), "}\nusers:\n- name: u\n  user: {",
        token.empty() ? "" : "token: " + token, "}\n");
    return path;
  };
  const std::string deployer = kubeconfig("deployer", operator_token);
  const std::string watcher = kubeconfig("watcher", viewer_token);
  const std::string nobody = kubeconfig("nobody", "");
  auto canaryctl = [&](const std::string& config,
                       std::vector<std::string> args) {
    args.insert(args.end(),
                {"--kubeconfig", config, "--tls-server-name", "localhost"});
    return Canaryctl(canaryd_a_->address(), args, /*insecure=*/false);
  };

  CommandResult got;
  EXPECT_TRUE(WaitFor([&] {
    got = canaryctl(deployer, {"get", kRollout, "-o", "json"});
    return got.exit_code == 0;
  })) << got.output;
  EXPECT_NE(got.output.find("\"name\": \"checkout\""), std::string::npos)
      << got.output;

  CommandResult anonymous = canaryctl(nobody, {"abort", kRollout});
  EXPECT_EQ(anonymous.exit_code, 1) << anonymous.output;
  EXPECT_NE(anonymous.output.find("no credentials"), std::string::npos)
      << anonymous.output;

  CommandResult refused;
  WaitFor([&] {
    refused = canaryctl(watcher, {"abort", kRollout});
    return refused.output.find("may not update canaryrollouts/abort") !=
           std::string::npos;
  });
  EXPECT_EQ(refused.exit_code, 1) << refused.output;
  EXPECT_NE(refused.output.find("may not update canaryrollouts/abort"),
            std::string::npos)
      << refused.output;
  ExpectUntouched(*admin_a_, a_.name());

  CommandResult aborted = canaryctl(deployer, {"abort", kRollout});
  EXPECT_EQ(aborted.exit_code, 0) << aborted.output;
  EXPECT_TRUE(
      WaitFor([&] { return Phase(*admin_a_, a_.name()) == v1::DEGRADED; }));
}

TEST_F(AuthTest, ClientCertificateIsAnIdentityAuthorizedLikeAToken) {
  MakeClientCert(pki_, "alice", "/O=release-managers/CN=alice");
  Bind(a_.name(), "alice",
       {{"kind", "User"},
        {"name", "alice"},
        {"apiGroup", "rbac.authorization.k8s.io"}},
       "smartcanary-viewer");
  auto alice = TlsStub(canaryd_a_->address(), pki_.ca_file(),
                       pki_.dir + "/alice.crt", pki_.dir + "/alice.key");
  grpc::Status got = OnceBound([&] { return Get(*alice, a_.name(), ""); });
  EXPECT_TRUE(got.ok()) << got.error_message();
  ExpectRefused(Abort(*alice, a_.name(), ""),
                grpc::StatusCode::PERMISSION_DENIED,
                "user \"alice\" may not update canaryrollouts/abort");
  ExpectUntouched(*admin_a_, a_.name());

  // A certificate from another CA is no identity: the handshake fails.
  const Pki other = MakePki(pki_.dir + "-other");
  MakeClientCert(other, "mallory", "/O=system:masters/CN=mallory");
  auto mallory =
      TlsStub(canaryd_a_->address(), pki_.ca_file(), other.dir + "/mallory.crt",
              other.dir + "/mallory.key");
  EXPECT_EQ(Abort(*mallory, a_.name(), "").error_code(),
            grpc::StatusCode::UNAVAILABLE);
  ExpectUntouched(*admin_a_, a_.name());
}

TEST_F(AuthTest, StandbyForwardsTheCallersTokenToTheLeaderOverTls) {
  canaryd_a_->Kill9();
  const std::vector<std::string> flags = {
      "--leader-elect",       "--leader-election-namespace=" + a_.name(),
      "--lease-duration=3s",  "--renew-deadline=2s",
      "--retry-period=500ms", "--grpc-forward-server-name=localhost"};
  std::vector<std::unique_ptr<CanarydProcess>> replicas;
  std::vector<std::unique_ptr<v1::RolloutService::Stub>> stubs;
  for (int i = 0; i < 2; ++i) {
    replicas.push_back(Canaryd(a_.name(), flags));
    stubs.push_back(TlsStub(replicas[i]->address(), pki_.ca_file()));
  }
  // The leader answers a call marked as forwarded; a standby refuses it.
  int leader = -1;
  ASSERT_TRUE(WaitFor([&] {
    for (int i = 0; i < 2; ++i) {
      if (Resume(*stubs[i], a_.name(), "no-such-rollout", true).error_code() ==
          grpc::StatusCode::NOT_FOUND)
        leader = i;
    }
    return leader >= 0;
  }));
  v1::RolloutService::Stub& standby = *stubs[1 - leader];
  const std::string viewer =
      ServiceAccountToken(a_.name(), "viewer", "smartcanary-viewer");
  const std::string operator_token =
      ServiceAccountToken(a_.name(), "operator", "smartcanary-operator");
  ExpectRefused(Abort(standby, a_.name(), ""),
                grpc::StatusCode::UNAUTHENTICATED, "Bearer");
  grpc::Status viewed =
      OnceBound([&] { return Get(standby, a_.name(), viewer); });
  EXPECT_TRUE(viewed.ok()) << viewed.error_message();
  ExpectRefused(Abort(standby, a_.name(), viewer),
                grpc::StatusCode::PERMISSION_DENIED,
                "may not update canaryrollouts/abort");
  ExpectUntouched(*stubs[leader], a_.name());
  // Through the standby, over TLS, to the leader, which checks the token
  // again and aborts. Until the standby has read the Lease it answers
  // UNAVAILABLE (try again), and RBAC may not have seen the binding yet.
  grpc::Status aborted;
  WaitFor([&] {
    aborted = Abort(standby, a_.name(), operator_token);
    return aborted.ok();
  });
  EXPECT_TRUE(aborted.ok()) << aborted.error_message();
  EXPECT_TRUE(WaitFor([&] {
    return Phase(*stubs[leader], a_.name()) == v1::DEGRADED &&
           CanaryWeight(a_.name()) == 0;
  }));
}

// grpcurl, as an SRE or a CD script would call canaryd: TLS verified against
// the CA, the schema from reflection, and a service-account token.
TEST_F(AuthTest, GrpcurlWithATokenStillWorks) {
  const char* grpcurl = std::getenv("GRPCURL");
  ASSERT_NE(grpcurl, nullptr) << "GRPCURL is set by scripts/test.sh";
  const std::string token =
      ServiceAccountToken(a_.name(), "sre", "smartcanary-operator");
  auto call = [&](const std::string& header, const std::string& method) {
    return RunShell(absl::StrCat(
        grpcurl, " -cacert ", pki_.ca_file(), header, " -d '{\"namespace\": \"",
        a_.name(), "\", \"name\": \"", kRollout, "\"}' ", canaryd_a_->address(),
        " smartcanary.v1.RolloutService/", method));
  };
  const std::string bearer =
      absl::StrCat(" -H 'authorization: Bearer ", token, "'");
  CommandResult got;
  WaitFor([&] {  // until RBAC has the fresh RoleBinding
    got = call(bearer, "GetRollout");
    return got.exit_code == 0;
  });
  ASSERT_EQ(got.exit_code, 0) << got.output;
  EXPECT_NE(got.output.find("PAUSED"), std::string::npos) << got.output;

  const CommandResult anonymous = call("", "Abort");
  EXPECT_NE(anonymous.exit_code, 0);
  EXPECT_NE(anonymous.output.find("Unauthenticated"), std::string::npos)
      << anonymous.output;
  ExpectUntouched(*admin_a_, a_.name());

  const CommandResult aborted = call(bearer, "Abort");
  ASSERT_EQ(aborted.exit_code, 0) << aborted.output;
  EXPECT_EQ(CanaryWeight(a_.name()), 0);
}

}  // namespace
}  // namespace smartcanary::testing

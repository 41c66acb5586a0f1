// LeaderElector against the real API server: two electors in one process
// contend for one Lease. Short timings (3 s lease, 2 s renew deadline, 0.5 s
// retry); the assertions are on the order of events and on the Lease's own
// record, never on how fast something happened.
#include "controller/kube/leader_election.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "controller/kube/lease_record.h"
#include "tests/integration/cluster_fixture.h"

namespace smartcanary::testing {
namespace {

using kube::LeaderElector;
using kube::LeaseRecord;

constexpr char kLeaseName[] = "canaryd-leader";
const kube::LeaseTiming kShort{absl::Seconds(3), absl::Seconds(2),
                               absl::Milliseconds(500)};

// A TCP relay to the API server that a test can cut: from Cut() on, no byte
// passes either way and connections are neither answered nor closed, as
// when a network partition swallows the packets.
class TcpProxy {
 public:
  explicit TcpProxy(int upstream_port) : upstream_port_(upstream_port) {
    listener_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr = Loopback(0);
    EXPECT_EQ(bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof addr),
              0);
    EXPECT_EQ(listen(listener_, 64), 0);
    socklen_t length = sizeof addr;
    getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &length);
    port_ = ntohs(addr.sin_port);
    acceptor_ = std::thread([this] { Accept(); });
  }
  ~TcpProxy() {
    stop_ = true;
    acceptor_.join();
    std::lock_guard<std::mutex> lock(mu_);
    for (std::thread& pipe : pipes_) pipe.join();
    for (int fd : held_) close(fd);
    close(listener_);
  }
  int port() const { return port_; }
  void Cut() { cut_ = true; }

 private:
  static sockaddr_in Loopback(int port) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port);
    return addr;
  }

  void Accept() {
    while (!stop_) {
      pollfd ready{listener_, POLLIN, 0};
      if (poll(&ready, 1, 100) <= 0) continue;
      const int client = accept(listener_, nullptr, nullptr);
      if (client < 0) continue;
      std::lock_guard<std::mutex> lock(mu_);
      if (cut_) {
        held_.push_back(client);  // accepted, never answered
      } else {
        pipes_.emplace_back([this, client] { Relay(client); });
      }
    }
  }

  void Relay(int client) {
    const int server = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr = Loopback(upstream_port_);
    if (connect(server, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      close(server);
      close(client);
      return;
    }
    char buffer[16384];
    while (!stop_) {
      if (cut_) {  // hold both ends open and silent
        absl::SleepFor(absl::Milliseconds(50));
        continue;
      }
      pollfd fds[2] = {{client, POLLIN, 0}, {server, POLLIN, 0}};
      if (poll(fds, 2, 100) <= 0) continue;
      if (cut_) continue;
      bool closed = false;
      for (int i = 0; i < 2; ++i) {
        if (fds[i].revents == 0) continue;
        const ssize_t got = read(fds[i].fd, buffer, sizeof buffer);
        if (got <= 0 ||
            write(fds[1 - i].fd, buffer, got) != static_cast<ssize_t>(got)) {
          closed = true;
          break;
        }
      }
      if (closed) break;
    }
    close(server);
    close(client);
  }

  int upstream_port_;
  int listener_;
  int port_ = 0;
  std::atomic<bool> stop_{false}, cut_{false};
  std::mutex mu_;
  std::vector<std::thread> pipes_;
  std::vector<int> held_;
  std::thread acceptor_;
};

// The started/stopped callbacks of every elector, in the order they fired.
class Timeline {
 public:
  kube::LeaderCallbacks For(const std::string& who) {
    return {[this, who] { Add(who + " started"); },
            [this, who] { Add(who + " stopped"); }, nullptr};
  }
  bool Has(const std::string& event) const {
    std::lock_guard<std::mutex> lock(mu_);
    return std::find(events_.begin(), events_.end(), event) != events_.end();
  }
  std::vector<std::string> events() const {
    std::lock_guard<std::mutex> lock(mu_);
    return events_;
  }

 private:
  void Add(const std::string& event) {
    std::lock_guard<std::mutex> lock(mu_);
    events_.push_back(event);
  }
  mutable std::mutex mu_;
  std::vector<std::string> events_;
};

// Samples `later` then `earlier` until destroyed: `later` true at t1 and
// `earlier` still true at t2 > t1 means both led at t2 (as long as `later`
// does not step down meanwhile), so a detection is never a false alarm.
class OverlapMonitor {
 public:
  OverlapMonitor(const LeaderElector& later, const LeaderElector& earlier)
      : thread_([this, &later, &earlier] {
          while (!stop_) {
            if (later.IsLeader() && earlier.IsLeader()) overlap_ = true;
            absl::SleepFor(absl::Milliseconds(5));
          }
        }) {}
  ~OverlapMonitor() {
    stop_ = true;
    thread_.join();
  }
  bool overlap() const { return overlap_; }

 private:
  std::atomic<bool> stop_{false}, overlap_{false};
  std::thread thread_;
};

class LeaderElectionTest : public ::testing::Test {
 protected:
  std::unique_ptr<LeaderElector> Elector(const std::string& who,
                                         kube::LeaseTiming timing = kShort,
                                         const std::string& server = "") {
    kube::KubeConfig config = Kube().config();
    if (!server.empty()) config.server = server;
    auto elector = LeaderElector::Create(
        config,
        {namespace_.name(), kLeaseName, who + "_" + namespace_.name(), timing},
        timeline_.For(who));
    EXPECT_TRUE(elector.ok()) << elector.status();
    return elector.ok() ? std::move(*elector) : nullptr;
  }

  LeaseRecord Lease() const {
    auto lease =
        Kube().Get(absl::StrCat("/apis/coordination.k8s.io/v1/", "namespaces/",
                                namespace_.name(), "/leases/", kLeaseName));
    EXPECT_TRUE(lease.ok()) << lease.status();
    if (!lease.ok()) return {};
    auto spec = lease->find("spec");
    auto record = kube::LeaseRecordFromSpec(
        spec == lease->end() ? nlohmann::json() : *spec);
    EXPECT_TRUE(record.ok()) << record.status();
    return record.ok() ? *record : LeaseRecord();
  }

  // Until `standby` has read the Lease with `leader` holding it.
  static bool Sees(const LeaderElector& standby, const LeaderElector& leader) {
    return WaitFor(
        [&] { return standby.LeaderIdentity() == leader.identity(); });
  }

  TestNamespace namespace_;
  Timeline timeline_;
};

TEST_F(LeaderElectionTest, CreateRejectsAnUnsafeConfig) {
  auto equal = LeaderElector::Create(
      Kube().config(),
      {"ns",
       kLeaseName,
       "me",
       {absl::Seconds(3), absl::Seconds(3), absl::Milliseconds(500)}});
  EXPECT_EQ(equal.status().code(), absl::StatusCode::kInvalidArgument);
  auto nameless =
      LeaderElector::Create(Kube().config(), {"ns", "", "me", kShort});
  EXPECT_EQ(nameless.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(LeaderElectionTest, ExactlyOneOfTwoLeads) {
  auto a = Elector("a");
  auto b = Elector("b");
  a->Start();
  b->Start();
  ASSERT_TRUE(WaitFor([&] { return a->IsLeader() || b->IsLeader(); }));
  OverlapMonitor monitor(*a, *b);
  const bool a_leads = a->IsLeader();
  LeaderElector& leader = a_leads ? *a : *b;
  LeaderElector& standby = a_leads ? *b : *a;
  ASSERT_TRUE(Sees(standby, leader));
  // Watch the leader renew three times while the standby keeps trying.
  for (int renewals = 0; renewals < 3; ++renewals) {
    const LeaseRecord before = Lease();
    ASSERT_TRUE(
        WaitFor([&] { return Lease().renew_time != before.renew_time; }));
  }
  EXPECT_FALSE(monitor.overlap());
  EXPECT_EQ(Lease().holder_identity, leader.identity());
  EXPECT_EQ(leader.LeaderIdentity(), leader.identity());
  EXPECT_FALSE(timeline_.Has(a_leads ? "b started" : "a started"));
}

TEST_F(LeaderElectionTest, AKilledLeaderIsReplacedOnlyOnceItsLeaseRunsOut) {
  auto a = Elector("a");
  a->Start();
  ASSERT_TRUE(WaitFor([&] { return a->IsLeader(); }));
  auto b = Elector("b");
  b->Start();
  ASSERT_TRUE(Sees(*b, *a));

  a->Stop(/*release=*/false);  // as kill -9 would: nothing written
  const LeaseRecord last = Lease();
  EXPECT_EQ(last.holder_identity, a->identity());
  EXPECT_FALSE(a->IsLeader());

  ASSERT_TRUE(WaitFor([&] { return b->IsLeader(); }));
  const std::vector<std::string> events = timeline_.events();
  EXPECT_EQ(events,
            (std::vector<std::string>{"a started", "a stopped", "b started"}));
  const LeaseRecord taken = Lease();
  EXPECT_EQ(taken.holder_identity, b->identity());
  EXPECT_EQ(taken.lease_transitions, last.lease_transitions + 1);
  // b saw a's last record no earlier than a wrote it and then waited a
  // whole lease duration (same host, so these wall times compare).
  ASSERT_TRUE(taken.acquire_time && last.renew_time);
  EXPECT_GE(*taken.acquire_time - *last.renew_time,
            kShort.lease_duration - absl::Milliseconds(1));
}

TEST_F(LeaderElectionTest, AGracefulStopHandsOverBeforeTheLeaseCouldRunOut) {
  // A long lease: a takeover within it can only come from the release.
  const kube::LeaseTiming slow{absl::Seconds(60), absl::Seconds(40),
                               absl::Milliseconds(500)};
  auto a = Elector("a", slow);
  a->Start();
  ASSERT_TRUE(WaitFor([&] { return a->IsLeader(); }));
  auto b = Elector("b", slow);
  b->Start();
  ASSERT_TRUE(Sees(*b, *a));
  const LeaseRecord before = Lease();

  a->Stop(/*release=*/true);
  EXPECT_FALSE(a->IsLeader());
  ASSERT_TRUE(WaitFor([&] { return b->IsLeader(); }, absl::Seconds(40)));
  EXPECT_EQ(timeline_.events(),
            (std::vector<std::string>{"a started", "a stopped", "b started"}));
  const LeaseRecord taken = Lease();
  EXPECT_EQ(taken.holder_identity, b->identity());
  EXPECT_EQ(taken.lease_duration_seconds, 60);
  // The release keeps the count; b's takeover adds one.
  EXPECT_EQ(taken.lease_transitions, before.lease_transitions + 1);
  ASSERT_TRUE(taken.acquire_time && before.renew_time);
  EXPECT_LT(*taken.acquire_time - *before.renew_time, slow.lease_duration);
}

TEST_F(LeaderElectionTest, ACutOffLeaderStepsDownBeforeTheStandbyTakesOver) {
  const std::string server = Kube().config().server;
  int api_port = 0;
  ASSERT_TRUE(absl::SimpleAtoi(server.substr(server.rfind(':') + 1), &api_port))
      << server;
  TcpProxy proxy(api_port);
  auto a =
      Elector("a", kShort, absl::StrCat("https://127.0.0.1:", proxy.port()));
  a->Start();
  ASSERT_TRUE(WaitFor([&] { return a->IsLeader(); }));
  auto b = Elector("b");
  b->Start();
  ASSERT_TRUE(Sees(*b, *a));

  OverlapMonitor monitor(*b, *a);
  proxy.Cut();
  // No Stop(): a finds out by itself that it can no longer renew.
  ASSERT_TRUE(WaitFor([&] { return !a->IsLeader(); }));
  ASSERT_TRUE(WaitFor([&] { return b->IsLeader(); }));
  EXPECT_FALSE(monitor.overlap())
      << "the cut-off leader still claimed to lead after the standby took over";
  EXPECT_TRUE(WaitFor([&] { return timeline_.Has("a stopped"); }));
  EXPECT_EQ(Lease().holder_identity, b->identity());
  // a cannot even see that it lost.
  EXPECT_EQ(a->LeaderIdentity(), a->identity());
}

}  // namespace
}  // namespace smartcanary::testing

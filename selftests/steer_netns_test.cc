// Tier `netns`: the steering path end to end on veth between namespaces.
// xsk-loader (the real binary) attaches and exits; an AF_XDP socket from the
// socket helper registers in the pinned XSKMAP; frames generated in the peer
// namespace must land exactly where the filter sends them, and the counters
// must say so.
#include <chrono>
#include <filesystem>
#include <thread>

#include "gtest/gtest.h"
#include "xsk/xsk_socket.h"
#include "lib/xsk_steer_prog.h"
#include "nlohmann/json.hpp"
#include "selftests/lib/fixtures.h"
#include "selftests/lib/netns.h"
#include "lib/sandbox/packet.h"
#include "selftests/lib/traffic.h"
#include "selftests/lib/workload.h"

namespace xskit {
namespace {

using testing::Bin;
using testing::CmdResult;
using testing::InNetns;
using testing::NetnsPair;
using testing::Packet;
using testing::ReceiveAll;
using testing::RunCmd;
using testing::UdpSink;

class SteerNetnsTest : public ::testing::Test {
 protected:
  CmdResult Loader(const std::vector<std::string>& args) {
    return testing::RunLoader(root_.path(), pair_.ns_a(), args);
  }

  nlohmann::json Status() {
    CmdResult r = Loader({"status", pair_.dev_a(), "--json"});
    EXPECT_EQ(r.status, 0) << r.output;
    return nlohmann::json::parse(r.output, nullptr, false);
  }

  uint64_t Counter(const nlohmann::json& status, const char* name, int queue = 0) {
    return status["interfaces"][0]["queues"][queue][name].get<uint64_t>();
  }

  std::unique_ptr<XskSocket> OpenSocket(uint32_t queue = 0) {
    return testing::OpenSocketIn(pair_.ns_a(), pair_.dev_a(), queue, root_.path());
  }

  std::vector<std::vector<uint8_t>> Udp(int n, uint16_t dport) {
    return testing::UdpFrames(pair_, n, dport);
  }

  bool LinkHasXdp() {
    return RunCmd({"ip", "-o", "link", "show", "dev", pair_.dev_a()}, pair_.ns_a()).output.find(" xdp") !=
           std::string::npos;
  }

  void SetUp() override { testing::EnsureBpffs(); }

  testing::TestPinRoot root_;
  NetnsPair pair_;
};

TEST_F(SteerNetnsTest, MatchingToSocketRestToStackAndDetachLeavesNothing) {
  constexpr int kMatching = 100, kOther = 40;
  CmdResult a = Loader({"attach", pair_.dev_a(), "--match", "udp:4791"});
  ASSERT_EQ(a.status, 0) << a.output;
  // The loader has exited; the program and its pins stay.
  ASSERT_TRUE(LinkHasXdp());
  auto sock = OpenSocket();
  ASSERT_TRUE(sock);
  UdpSink stack(pair_.ns_a(), 9999);

  auto frames = Udp(kMatching, 4791);
  auto other = Udp(kOther, 9999);
  frames.insert(frames.end(), other.begin(), other.end());
  testing::SendFrames(pair_.ns_b(), pair_.dev_b(), frames);

  EXPECT_EQ(ReceiveAll(*sock, kMatching), static_cast<uint64_t>(kMatching)) << "AF_XDP socket";
  EXPECT_EQ(stack.Drain(), static_cast<uint64_t>(kOther)) << "kernel stack (UDP :9999)";
  nlohmann::json st = Status();
  EXPECT_EQ(Counter(st, "redirected"), static_cast<uint64_t>(kMatching));
  EXPECT_EQ(Counter(st, "pass_no_match"), static_cast<uint64_t>(kOther));
  EXPECT_EQ(Counter(st, "pass_no_socket"), 0u);
  EXPECT_EQ(Counter(st, "redirect_failed"), 0u);
  EXPECT_TRUE(st["interfaces"][0]["queues"][0]["socket"].get<bool>());
  EXPECT_EQ(st["interfaces"][0]["netns"], pair_.ns_a());

  sock.reset();
  CmdResult d = Loader({"detach", pair_.dev_a()});
  EXPECT_EQ(d.status, 0) << d.output;
  EXPECT_FALSE(LinkHasXdp()) << "ip link still shows XDP after detach";
  EXPECT_FALSE(testing::PinsLeft(root_.path())) << "pins left under " << root_.path();
}

TEST_F(SteerNetnsTest, QueueWithoutSocketPassesEverythingToTheStack) {
  constexpr int kFrames = 25;
  ASSERT_EQ(Loader({"attach", pair_.dev_a()}).status, 0);
  UdpSink stack(pair_.ns_a(), 9999);
  testing::SendFrames(pair_.ns_b(), pair_.dev_b(), Udp(kFrames, 9999));
  EXPECT_EQ(stack.Drain(), static_cast<uint64_t>(kFrames));
  nlohmann::json st = Status();
  EXPECT_EQ(Counter(st, "pass_no_socket"), static_cast<uint64_t>(kFrames));
  EXPECT_EQ(Counter(st, "redirected"), 0u);
  EXPECT_FALSE(st["interfaces"][0]["queues"][0]["socket"].get<bool>());
  EXPECT_EQ(Loader({"detach", pair_.dev_a()}).status, 0);
}

TEST_F(SteerNetnsTest, WithoutFilterTheSocketGetsEverything) {
  ASSERT_EQ(Loader({"attach", pair_.dev_a(), "--mode", "generic"}).status, 0);
  auto sock = OpenSocket();
  ASSERT_TRUE(sock);
  UdpSink stack(pair_.ns_a(), 9999);
  auto frames = Udp(30, 4791);
  auto other = Udp(20, 9999);
  frames.insert(frames.end(), other.begin(), other.end());
  testing::SendFrames(pair_.ns_b(), pair_.dev_b(), frames);
  EXPECT_EQ(ReceiveAll(*sock, 50), 50u);
  EXPECT_EQ(stack.Drain(100), 0u);
  nlohmann::json st = Status();
  EXPECT_EQ(st["interfaces"][0]["xdp_mode"], "generic");
  EXPECT_EQ(Counter(st, "redirected"), 50u);
  sock.reset();
  EXPECT_EQ(Loader({"detach", pair_.dev_a()}).status, 0);
}

TEST_F(SteerNetnsTest, ReattachIsIdempotentAndUpdatesInPlace) {
  ASSERT_EQ(Loader({"attach", pair_.dev_a()}).status, 0);
  nlohmann::json first = Status()["interfaces"][0];
  CmdResult again = Loader({"attach", pair_.dev_a()});
  EXPECT_EQ(again.status, 0);
  EXPECT_NE(again.output.find("already attached"), std::string::npos) << again.output;
  nlohmann::json second = Status()["interfaces"][0];
  EXPECT_EQ(first["prog_id"], second["prog_id"]) << "an unchanged re-attach must not reload";

  auto sock = OpenSocket();
  ASSERT_TRUE(sock);
  testing::SendFrames(pair_.ns_b(), pair_.dev_b(), Udp(10, 4791));
  ASSERT_EQ(ReceiveAll(*sock, 10), 10u);

  CmdResult update = Loader({"attach", pair_.dev_a(), "--match", "udp:4791"});
  EXPECT_EQ(update.status, 0) << update.output;
  EXPECT_NE(update.output.find("updated in place"), std::string::npos) << update.output;
  nlohmann::json third = Status()["interfaces"][0];
  EXPECT_EQ(third["link_id"], first["link_id"]) << "same link, program swapped";
  EXPECT_NE(third["prog_id"], first["prog_id"]);
  EXPECT_EQ(third["filter"], "udp:4791");
  EXPECT_TRUE(third["queues"][0]["socket"].get<bool>()) << "the socket survives the swap";
  EXPECT_EQ(third["queues"][0]["redirected"].get<uint64_t>(), 10u) << "counters survive the swap";

  testing::SendFrames(pair_.ns_b(), pair_.dev_b(), Udp(5, 4791));
  EXPECT_EQ(ReceiveAll(*sock, 5), 5u) << "the new program steers to the same socket";
  sock.reset();
  EXPECT_EQ(Loader({"detach", pair_.dev_a()}).status, 0);
}

// Issue 12 item 1: readers that hold pins open (an application's socket,
// the exporter) must not keep the program on the device after detach.
TEST_F(SteerNetnsTest, DetachWhileReadersHoldThePinsTakesTheProgramOff) {
  constexpr int kFrames = 20;
  ASSERT_EQ(Loader({"attach", pair_.dev_a(), "--match", "udp:4791"}).status, 0);
  auto sock = OpenSocket();
  ASSERT_TRUE(sock);
  // A reader as the exporter is one: every pin of the interface open.
  std::string dir = root_.path() + "/if/" + pair_.ns_a() + ":" + pair_.dev_a();
  auto reader = PinnedSteer::Open(dir);
  ASSERT_TRUE(reader.ok()) << reader.status();
  testing::SendFrames(pair_.ns_b(), pair_.dev_b(), Udp(kFrames, 4791));
  ASSERT_EQ(ReceiveAll(*sock, kFrames), static_cast<uint64_t>(kFrames));

  CmdResult d = Loader({"detach", pair_.dev_a()});
  EXPECT_EQ(d.status, 0) << d.output;
  CmdResult ip = RunCmd({"ip", "-j", "link", "show", "dev", pair_.dev_a()}, pair_.ns_a());
  auto j = nlohmann::json::parse(ip.output, nullptr, false);
  ASSERT_TRUE(j.is_array() && !j.empty()) << ip.output;
  EXPECT_FALSE(j[0].contains("xdp")) << "XDP still on the device after detach: " << ip.output;

  UdpSink stack(pair_.ns_a(), 4791);
  testing::SendFrames(pair_.ns_b(), pair_.dev_b(), Udp(kFrames, 4791));
  EXPECT_EQ(stack.Drain(), static_cast<uint64_t>(kFrames)) << "matching traffic reaches the stack";
  EXPECT_EQ(ReceiveAll(*sock, 0, std::chrono::milliseconds(300)), 0u) << "the socket still receives";

  CmdResult again = Loader({"attach", pair_.dev_a(), "--match", "udp:4791"});
  EXPECT_EQ(again.status, 0) << "attach right after detach: " << again.output;
  sock.reset();
  EXPECT_EQ(Loader({"detach", pair_.dev_a()}).status, 0);
  EXPECT_FALSE(LinkHasXdp());
}

// Issue 12 item 6: re-attaching in place with fewer --queues must take the
// dropped queues' sockets out of the XSKMAP (else they keep redirecting
// while status calls them unsteered).
TEST(SteerNetnsQueues, ShrinkingTheQueueSetUnregistersDroppedQueues) {
  testing::EnsureBpffs();
  testing::TestPinRoot root;
  NetnsPair pair(NetnsPair::Options{.queues = 2});
  auto loader = [&](const std::vector<std::string>& args) {
    return testing::RunLoader(root.path(), pair.ns_a(), args);
  };
  ASSERT_EQ(loader({"attach", pair.dev_a(), "--queues", "0-1", "--no-probes"}).status, 0);
  auto s0 = testing::OpenSocketIn(pair.ns_a(), pair.dev_a(), 0, root.path());
  auto s1 = testing::OpenSocketIn(pair.ns_a(), pair.dev_a(), 1, root.path());
  ASSERT_TRUE(s0 && s1);
  CmdResult shrink = loader({"attach", pair.dev_a(), "--queues", "0", "--no-probes"});
  ASSERT_EQ(shrink.status, 0) << shrink.output;
  EXPECT_NE(shrink.output.find("updated in place"), std::string::npos) << shrink.output;
  CmdResult st = loader({"status", pair.dev_a(), "--json"});
  ASSERT_EQ(st.status, 0) << st.output;
  auto q = nlohmann::json::parse(st.output)["interfaces"][0]["queues"];
  ASSERT_EQ(q.size(), 2u) << st.output;
  EXPECT_TRUE(q[0]["steered"].get<bool>());
  EXPECT_TRUE(q[0]["socket"].get<bool>()) << "queue 0 keeps its socket";
  EXPECT_FALSE(q[1]["steered"].get<bool>());
  EXPECT_FALSE(q[1]["socket"].get<bool>()) << "dropped queue 1 still in the XSKMAP: " << st.output;
  s0.reset();
  s1.reset();
  EXPECT_EQ(loader({"detach", pair.dev_a()}).status, 0);
}

// A loader killed at any point of attach leaves the device as it was; the
// next attach clears what the crash left and succeeds.
TEST_F(SteerNetnsTest, CrashMidAttachLeavesTheOldState) {
  for (const char* fp : {"after-link-create", "after-rename"}) {
    CmdResult crashed = RunCmd({"env", std::string("XSKIT_FAILPOINT=") + fp, Bin("loader/xsk-loader"),
                             "--pin-root", root_.path(), "attach", pair_.dev_a()},
                            pair_.ns_a());
    ASSERT_EQ(crashed.status, 99) << fp << ": " << crashed.output;
    EXPECT_FALSE(LinkHasXdp()) << fp << ": a crashed attach left a program on the device";
    CmdResult st = Loader({"status", pair_.dev_a(), "--json"});
    if (st.status == 0) {
      auto j = nlohmann::json::parse(st.output, nullptr, false);
      EXPECT_FALSE(j["interfaces"][0]["attached"].get<bool>()) << fp;
    }
    CmdResult ok = Loader({"attach", pair_.dev_a()});
    EXPECT_EQ(ok.status, 0) << fp << ": " << ok.output;
    EXPECT_TRUE(LinkHasXdp());
    EXPECT_EQ(Loader({"detach", pair_.dev_a()}).status, 0);
    EXPECT_FALSE(testing::PinsLeft(root_.path())) << fp << ": leftovers after detach";
  }
}

}  // namespace
}  // namespace xskit

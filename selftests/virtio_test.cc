// Tier `virtio`: the steering path on a real driver, virtio_net, inside the
// kernel-matrix VM (selftests/vmtest joins two virtio-net NICs on a qemu
// hub and exports XSKIT_VIRTIO_PAIR=ifA,ifB). Native XDP, the driver table's
// facts (IFF_TX_SKB_NO_LINEAR) and real traffic, checked exactly; and
// xsk-bench -z: zero-copy where the driver advertises it, a clean refusal
// where it does not.
#include <sys/stat.h>
#include <sys/utsname.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <thread>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "lib/iface_facts.h"
#include "lib/xsk_sockets_prog.h"
#include "xsk/xsk_socket.h"
#include "nlohmann/json.hpp"
#include "selftests/lib/bench_run.h"
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
using testing::RunCmd;

std::pair<std::string, std::string> VirtioPair() {
  const char* env = std::getenv("XSKIT_VIRTIO_PAIR");
  if (!env) return {};
  std::string s = env;
  auto comma = s.find(',');
  if (comma == std::string::npos) return {};
  return {s.substr(0, comma), s.substr(comma + 1)};
}

class VirtioTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto [a, b] = VirtioPair();
    if (a.empty())
      XSKIT_SKIP("no virtio-net pair (XSKIT_VIRTIO_PAIR unset): runs inside selftests/vmtest VMs");
    testing::EnsureBpffs();
    pair_ = std::make_unique<NetnsPair>(NetnsPair::Options{.existing_a = a, .existing_b = b});
  }

  CmdResult Loader(const std::vector<std::string>& args) {
    return testing::RunLoader(root_.path(), pair_->ns_a(), args);
  }

  testing::TestPinRoot root_;
  std::unique_ptr<NetnsPair> pair_;
};

TEST_F(VirtioTest, FactsComeFromTheDriver) {
  IfaceFacts facts;
  InNetns(pair_->ns_a(), [&] {
    auto f = ReadIfaceFacts(pair_->dev_a());
    ASSERT_TRUE(f.ok()) << f.status();
    facts = *f;
  });
  EXPECT_EQ(facts.driver, "virtio_net");
  EXPECT_TRUE(facts.xdp.native) << facts.xdp.source;
  EXPECT_TRUE(facts.tx_skb_no_linear) << "virtio_net declares IFF_TX_SKB_NO_LINEAR";
  CmdResult check = Loader({"check", pair_->dev_a(), "--json"});
  auto j = nlohmann::json::parse(check.output, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << check.output;
  bool no_linear_ok = false;
  for (const auto& f : j["findings"])
    if (f["check"] == "tx-skb-no-linear") no_linear_ok = f["verdict"] == "ok";
  EXPECT_TRUE(no_linear_ok) << check.output;
}

TEST_F(VirtioTest, NativeSteeringOnVirtioNet) {
  constexpr int kMatching = 60, kOther = 15;
  CmdResult a = Loader({"attach", pair_->dev_a(), "--mode", "native", "--match", "udp:4791"});
  ASSERT_EQ(a.status, 0) << a.output;
  auto sock = testing::OpenSocketIn(pair_->ns_a(), pair_->dev_a(), 0, root_.path());
  ASSERT_TRUE(sock);
  testing::UdpSink stack(pair_->ns_a(), 9999);
  auto frames = testing::UdpFrames(*pair_, kMatching, 4791, 64);
  auto other = testing::UdpFrames(*pair_, kOther, 9999, 64);
  frames.insert(frames.end(), other.begin(), other.end());
  testing::SendFrames(pair_->ns_b(), pair_->dev_b(), frames);

  EXPECT_EQ(testing::ReceiveAll(*sock, kMatching), static_cast<uint64_t>(kMatching));
  EXPECT_EQ(stack.Drain(), static_cast<uint64_t>(kOther));
  CmdResult st = Loader({"status", pair_->dev_a(), "--json"});
  auto j = nlohmann::json::parse(st.output, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << st.output;
  EXPECT_EQ(j["interfaces"][0]["xdp_mode"], "native");
  EXPECT_EQ(j["interfaces"][0]["driver"], "virtio_net");
  uint64_t redirected = 0, no_match = 0;
  for (const auto& q : j["interfaces"][0]["queues"]) {
    redirected += q["redirected"].get<uint64_t>();
    no_match += q["pass_no_match"].get<uint64_t>();
  }
  EXPECT_EQ(redirected, static_cast<uint64_t>(kMatching));
  EXPECT_EQ(no_match, static_cast<uint64_t>(kOther));
  sock.reset();
  EXPECT_EQ(Loader({"detach", pair_->dev_a()}).status, 0);
}

// ---- xsk-bench -z ----
//
// virtio_net has AF_XDP zero-copy Rx code from 6.11 but advertises it
// (netdev xdp-features xsk-zerocopy, which the kernel's zero-copy bind
// requires) only with the Tx half, "virtio_net: xdp_features add
// NETDEV_XDP_ACT_XSK_ZEROCOPY", merged for 6.13. The bind resets the
// queue pair (virtqueue_reset, which needs the device's
// VIRTIO_F_RING_RESET: qemu 7.2's virtio-net-pci offers it, queue_reset=on)
// and must name a queue below the current queue pairs (queue 0 here). On
// 6.1 and 6.12 the matrix therefore checks the refusal and skips the
// zero-copy run, saying why.

class VirtioZerocopyTest : public VirtioTest {
 protected:
  void SetUp() override {
    VirtioTest::SetUp();
    if (IsSkipped()) return;
    for (auto [ns, dev, facts] : {std::tuple{pair_->ns_a(), pair_->dev_a(), &facts_a_},
                                  std::tuple{pair_->ns_b(), pair_->dev_b(), &facts_b_}})
      InNetns(ns, [&] {
        auto f = ReadIfaceFacts(dev);
        ASSERT_TRUE(f.ok()) << f.status();
        *facts = *f;
      });
    utsname u{};
    ::uname(&u);
    // "virtio_net on 6.12.117+deb12-amd64: netlink xdp-features: basic,redirect,rx-sg"
    what_ = absl::StrCat(facts_a_.driver, " on ", u.release, ": ", facts_a_.xdp.source,
                         facts_a_.xdp.source == "netlink xdp-features"
                             ? absl::StrCat(": ", XdpFeatureNames(facts_a_.xdp.raw_xdp_features))
                             : "");
  }
  bool Zerocopy() const { return facts_a_.xdp.zerocopy && facts_b_.xdp.zerocopy; }

  // Nothing of xsk-bench's left: no XDP program on either NIC, no pin.
  void ExpectNothingLeft(const std::string& when) {
    EXPECT_EQ(testing::XdpAttached(pair_->ns_a(), pair_->dev_a()), "") << when << ": XDP left on " << pair_->dev_a();
    EXPECT_EQ(testing::XdpAttached(pair_->ns_b(), pair_->dev_b()), "") << when << ": XDP left on " << pair_->dev_b();
    EXPECT_EQ(testing::PinsUnder(root_.path()), std::vector<std::string>{}) << when << ": pins left";
  }

  IfaceFacts facts_a_, facts_b_;
  std::string what_;
};

// Where virtio_net has no zero-copy: -z is refused on either side with
// exit 5 and a message naming the driver and the facts, before anything is
// attached, and nothing is left behind.
TEST_F(VirtioZerocopyTest, RefusedWhereTheDriverHasNone) {
  if (Zerocopy()) XSKIT_SKIP(what_ + ": zero-copy advertised (TxOnlyToRxDropCountsExactly runs -z)");
  auto refused = [&](const std::vector<std::string>& args, const std::string& ns, const std::string& dev) {
    CmdResult r = RunCmd(testing::BenchArgv(root_.path(), args), ns);
    const std::string what = ::testing::PrintToString(args);
    EXPECT_EQ(r.status, 5) << what << ": unsupported by the driver: " << r.output;
    for (const std::string& part : {"-z: " + dev + " has no AF_XDP zero-copy (virtio_net, ", facts_a_.xdp.source})
      EXPECT_NE(r.output.find(part), std::string::npos) << what << ": lacks '" << part << "': " << r.output;
    return r.output;
  };
  refused({"-r", "-z", "-i", pair_->dev_b(), "-d", "1", "-Q"}, pair_->ns_b(), pair_->dev_b());
  ExpectNothingLeft("rxdrop -z");
  std::vector<std::string> tx = testing::TxOnlyToB(*pair_);
  for (const char* a : {"-z", "-C", "10", "-Q"}) tx.push_back(a);
  std::string out = refused(tx, pair_->ns_a(), pair_->dev_a());
  EXPECT_NE(out.find("bind: "), std::string::npos) << "the kernel's answer is quoted: " << out;
  ExpectNothingLeft("txonly -z");
}

// Where virtio_net has zero-copy: txonly -z from a into rxdrop -z on b
// (which attaches xsk_steer natively with --zerocopy for the run). One
// burst the receiver's fill ring covers, so nothing may be lost: the
// sender's completions, the steering program's redirects, the receiver's
// frames and b's rx_packets all equal what was sent, and both sockets say
// they bound in zero-copy mode.
TEST_F(VirtioZerocopyTest, TxOnlyToRxDropCountsExactly) {
  constexpr uint64_t kFrames = 1000;
  if (!Zerocopy()) XSKIT_SKIP(what_ + ": no AF_XDP zero-copy advertised (virtio_net has it from 6.13)");
  const uint64_t link0 = testing::LinkRxPackets(pair_->ns_b(), pair_->dev_b());
  {
    testing::Background rx(testing::BenchArgv(root_.path(), {"-r", "-z", "-i", pair_->dev_b(), "-Q", "--json"}),
                           pair_->ns_b());
    ASSERT_TRUE(testing::WaitForSocket(root_.path(), pair_->ns_b(), pair_->dev_b(), std::chrono::seconds(60)))
        << "xsk-bench -r -z registered its socket on " << pair_->dev_b() << " within 60 s";
    std::vector<std::string> args = testing::TxOnlyToB(*pair_);
    for (const char* a : {"-z", "-Q", "--json", "-C"}) args.push_back(a);
    args.push_back(absl::StrCat(kFrames));
    CmdResult t = RunCmd(testing::BenchArgv(root_.path(), args), pair_->ns_a());
    ASSERT_EQ(t.status, 0) << "txonly -z: " << t.output;
    nlohmann::json tx = testing::BenchResult(t);
    ASSERT_TRUE(tx.is_object()) << t.output;
    EXPECT_EQ(tx["setup"]["bind"], "zerocopy") << "txonly bound in zero-copy mode";
    EXPECT_EQ(tx["tx"]["packets"].get<uint64_t>(), kFrames) << "txonly -C sends exactly that many (completions)";
    EXPECT_EQ(tx["xdp_statistics"]["tx_invalid_descs"], 0) << "the driver took every descriptor";
    const uint64_t link =
        testing::Settled([&] { return testing::LinkRxPackets(pair_->ns_b(), pair_->dev_b()); }) - link0;
    EXPECT_EQ(link, kFrames) << pair_->dev_b() << "'s rx_packets: every frame sent arrived";
    std::this_thread::sleep_for(std::chrono::milliseconds(500));  // the receiver's last frames

    CmdResult out = rx.Stop();
    EXPECT_EQ(out.status, 130) << "interrupted, as Ctrl-C: " << out.output;
    nlohmann::json r = testing::BenchResult(out);
    ASSERT_TRUE(r.is_object()) << "xsk-bench -r -z --json: " << out.output;
    EXPECT_EQ(r["setup"]["bind"], "zerocopy") << "rxdrop bound in zero-copy mode";
    EXPECT_EQ(r["setup"]["xdp_mode"], "native") << "zero-copy needs native XDP";
    EXPECT_TRUE(r["setup"]["steer_attached_for_run"].get<bool>()) << "xsk-bench attached for the run";
    EXPECT_EQ(r["steer"]["redirected"].get<uint64_t>(), kFrames) << "the steering program redirected every frame";
    EXPECT_EQ(r["rx"]["packets"].get<uint64_t>(), kFrames) << "rxdrop received every frame sent";
    EXPECT_EQ(r["xdp_statistics"]["rx_dropped"], 0) << "the socket dropped nothing";
  }
  ExpectNothingLeft("after the run");
}

}  // namespace
}  // namespace xskit

namespace xskit {
namespace {

// The socket inventory names the mode the kernel bound: zero-copy on
// virtio_net where it advertises xsk-zerocopy (6.13+ in the VMs), from the
// socket's own xdp_sock, whichever source answers.
TEST_F(VirtioZerocopyTest, SocketInventoryShowsZeroCopyMode) {
  if (!Zerocopy()) XSKIT_SKIP(what_ + ": no AF_XDP zero-copy advertised (virtio_net has it from 6.13)");
  std::unique_ptr<XskSocket> sock;
  InNetns(pair_->ns_a(), [&] {
    auto s = XskSocket::Create(pair_->dev_a(), 0, /*zerocopy=*/true, {});
    ASSERT_TRUE(s.ok()) << s.status();
    sock = std::move(*s);
  });
  ASSERT_TRUE(sock);
  struct stat st {};
  ASSERT_EQ(fstat(sock->fd(), &st), 0);
  auto inv = TakeSocketInventory(nullptr);
  ASSERT_TRUE(inv.ok()) << inv.status();
  const AfXdpSocket* mine = nullptr;
  for (const auto& s : inv->sockets)
    if (s.inode == st.st_ino) mine = &s;
  ASSERT_NE(mine, nullptr) << "socket not in the inventory (" << inv->coverage.source << ")";
  EXPECT_EQ(mine->mode(), std::string("zerocopy"));
  EXPECT_EQ(mine->ifname, pair_->dev_a());
  EXPECT_EQ(mine->netns, pair_->ns_a());
}

}  // namespace
}  // namespace xskit

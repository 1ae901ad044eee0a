// Tier `benchtool`: xsk-bench's xdpsock flags end to end on veth, each
// count held against ground truth (link counters, an AF_PACKET capture,
// the steering program's counters):
//  - l2fwd: every frame sent into the forwarder comes back, byte for byte
//    with the MACs swapped, and at full rate received = sent - the drops
//    its socket names, forwarded = received = what reached the sender;
//  - -u (unaligned chunks) with a frame size no aligned umem takes: the
//    same exact counts for txonly -> rxdrop and for l2fwd;
//  - -z where the driver has no zero-copy (veth): refused with exit 5 and
//    the reason, nothing left behind (virtio_test.cc runs -z where the
//    driver has it).
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <memory>
#include <thread>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "selftests/lib/bench_run.h"
#include "selftests/lib/fixtures.h"
#include "selftests/lib/netns.h"
#include "lib/sandbox/packet.h"
#include "selftests/lib/workload.h"

namespace xskit {
namespace {

using json = nlohmann::json;
using testing::Background;
using testing::BenchArgv;
using testing::BenchResult;
using testing::CmdResult;
using testing::LinkRxPackets;
using testing::NetnsPair;
using testing::RunCmd;

// ---- l2fwd ----

// Every frame arriving on `dev` in `netns` (AF_PACKET, ETH_P_ALL), kept in
// the socket's buffer until Drain().
class Capture {
 public:
  Capture(const std::string& netns, const std::string& dev) {
    testing::InNetns(netns, [&] {
      fd_ = ::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
      if (fd_ < 0) return;
      int bytes = 64 << 20;
      ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof(bytes));
      sockaddr_ll sll{};
      sll.sll_family = AF_PACKET;
      sll.sll_protocol = htons(ETH_P_ALL);
      sll.sll_ifindex = static_cast<int>(if_nametoindex(dev.c_str()));
      if (::bind(fd_, reinterpret_cast<sockaddr*>(&sll), sizeof(sll)) != 0) {
        ::close(fd_);
        fd_ = -1;
      }
    });
  }
  ~Capture() {
    if (fd_ >= 0) ::close(fd_);
  }
  bool ok() const { return fd_ >= 0; }
  // Incoming frames equal to `want`, and every other incoming frame.
  struct Counts {
    uint64_t equal = 0, other = 0, dropped = 0;
  };
  Counts Drain(const std::vector<uint8_t>& want) {
    Counts c;
    uint8_t buf[2048];
    for (;;) {
      sockaddr_ll from{};
      socklen_t len = sizeof(from);
      ssize_t n = ::recvfrom(fd_, buf, sizeof(buf), MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&from), &len);
      if (n < 0) break;
      if (from.sll_pkttype == PACKET_OUTGOING) continue;
      bool same = static_cast<size_t>(n) == want.size() && std::memcmp(buf, want.data(), n) == 0;
      (same ? c.equal : c.other)++;
    }
    tpacket_stats st{};
    socklen_t sl = sizeof(st);
    if (::getsockopt(fd_, SOL_PACKET, PACKET_STATISTICS, &st, &sl) == 0) c.dropped = st.tp_drops;
    return c;
  }

 private:
  int fd_ = -1;
};

// A test pair with xsk_steer attached to b (generic XDP, no probes) under
// a private pin root, detached when the object goes.
class SteeredPair {
 public:
  SteeredPair() {
    testing::EnsureBpffs();
    CmdResult a = Loader({"attach", pair_.dev_b(), "--mode", "generic", "--no-probes"});
    attached_ = a.status == 0;
    EXPECT_TRUE(attached_) << "attach: " << a.output;
  }
  ~SteeredPair() {
    if (attached_) (void)Loader({"detach", pair_.dev_b()});
  }
  bool attached() const { return attached_; }
  const NetnsPair& pair() const { return pair_; }
  const std::string& root() const { return root_.path(); }
  CmdResult Loader(const std::vector<std::string>& args) {
    return testing::RunLoader(root_.path(), pair_.ns_b(), args);
  }
  // xsk-bench on b (rxdrop or l2fwd, with `flags`) in the background, up
  // once its socket is in the XSKMAP.
  std::unique_ptr<Background> Receiver(const std::vector<std::string>& flags) {
    std::vector<std::string> args = {"-S", "-i", pair_.dev_b(), "-Q", "--json"};
    args.insert(args.end(), flags.begin(), flags.end());
    auto rx = std::make_unique<Background>(BenchArgv(root(), args), pair_.ns_b());
    EXPECT_TRUE(testing::WaitForSocket(root(), pair_.ns_b(), pair_.dev_b()))
        << "xsk-bench registered its socket on " << pair_.dev_b() << " within 10 s";
    return rx;
  }
  // xsk-bench -t -c from a to b, exactly `count` frames (-C), with `flags`:
  // its --json result (null, with a test failure, when it failed).
  json Send(uint64_t count, const std::vector<std::string>& flags = {}) {
    std::vector<std::string> args = testing::TxOnlyToB(pair_);
    for (const char* a : {"-c", "-Q", "--json", "-C"}) args.push_back(a);
    args.push_back(absl::StrCat(count));
    args.insert(args.end(), flags.begin(), flags.end());
    CmdResult r = RunCmd(BenchArgv(root(), args), pair_.ns_a());
    json j = BenchResult(r);
    EXPECT_EQ(r.status, 0) << "txonly: " << r.output;
    EXPECT_TRUE(j.is_object()) << "txonly --json: " << r.output;
    return j;
  }

 private:
  testing::TestPinRoot root_;
  NetnsPair pair_;
  bool attached_ = false;
};

uint64_t Packets(const json& result, const char* side) {
  return result.is_object() ? result[side]["packets"].get<uint64_t>() : 0;
}

// Chunk placements the end-to-end tests run with: the default (aligned
// 4096-byte chunks) and -u with a frame size no aligned umem accepts, so
// frames straddle pages and Rx descriptors carry the offset in their
// upper bits.
const std::vector<std::string> kAligned = {};
const std::vector<std::string> kUnaligned = {"-u", "-f", "3000"};

class BenchToolL2Fwd : public ::testing::TestWithParam<std::vector<std::string>> {};

// xsk-bench -l on b; xsk-bench -t from a, first in bursts the forwarder's
// umem always has room for (nothing may be lost: every frame comes back),
// then one flood (losses allowed, but only where the socket counts them).
TEST_P(BenchToolL2Fwd, EveryFrameSentComesBackWithTheMacsSwapped) {
  constexpr uint64_t kBurst = 1000, kBursts = 6, kFlood = 100000;
  const std::vector<std::string>& chunks = GetParam();
  SteeredPair steered;
  ASSERT_TRUE(steered.attached());
  const NetnsPair& pair = steered.pair();
  std::vector<std::string> fwd_flags = {"-l"};
  fwd_flags.insert(fwd_flags.end(), chunks.begin(), chunks.end());
  std::unique_ptr<Background> fwd = steered.Receiver(fwd_flags);
  if (::testing::Test::HasFailure()) return;

  auto send = [&](uint64_t count) { return Packets(steered.Send(count, chunks), "tx"); };
  // What comes back settles once the forwarder has sent its last frame.
  const uint64_t back0 = LinkRxPackets(pair.ns_a(), pair.dev_a());
  auto settled_back = [&] {
    return testing::Settled([&] { return LinkRxPackets(pair.ns_a(), pair.dev_a()); }) - back0;
  };

  // Bursts: each fits in the forwarder's 2048 frames; six of them recycle
  // every frame through the completion and fill rings about three times.
  Capture cap(pair.ns_a(), pair.dev_a());
  ASSERT_TRUE(cap.ok()) << "AF_PACKET capture on " << pair.dev_a();
  uint64_t sent_bursts = 0;
  for (uint64_t i = 0; i < kBursts; i++) sent_bursts += send(kBurst);
  EXPECT_EQ(sent_bursts, kBursts * kBurst) << "txonly -C sends exactly that many (completions)";
  uint64_t back_bursts = settled_back();
  EXPECT_EQ(back_bursts, sent_bursts) << "every frame sent in bursts came back to " << pair.dev_a();
  // The frame the sender built (pps_bench and xsk-bench build it alike),
  // with source and destination MACs exchanged, nothing else changed.
  std::vector<uint8_t> swapped = xskit::testing::Packet()
                                     .Eth(pair.mac_a(), pair.mac_b())
                                     .IPv4(NetnsPair::kIpA, NetnsPair::kIpB, 17)
                                     .Udp(9, 9)
                                     .Payload(64 - 4 - 42, 0x42)
                                     .Build();
  Capture::Counts seen = cap.Drain(swapped);
  EXPECT_EQ(seen.dropped, 0u) << "the capture kept every frame (its counts below are complete)";
  EXPECT_EQ(seen.equal, sent_bursts) << "each frame came back byte for byte with the MACs swapped";
  EXPECT_EQ(seen.other, 0u) << "nothing else arrived on " << pair.dev_a();

  // Flood: the forwarder falls behind; what it cannot take, its socket counts.
  uint64_t sent_flood = send(kFlood);
  EXPECT_EQ(sent_flood, kFlood) << "txonly -C sends exactly that many (completions)";
  uint64_t back_total = settled_back();

  CmdResult out = fwd->Stop();
  EXPECT_EQ(out.status, 130) << "interrupted, as Ctrl-C: " << out.output;
  json r = BenchResult(out);
  ASSERT_TRUE(r.is_object()) << "xsk-bench -l --json: " << out.output;
  EXPECT_EQ(r["mode"], "l2fwd") << "mode";
  const uint64_t sent = sent_bursts + sent_flood;
  const uint64_t received = r["rx"]["packets"].get<uint64_t>();
  const uint64_t forwarded = r["fwd"]["packets"].get<uint64_t>();
  const uint64_t sock_dropped = r["xdp_statistics"]["rx_dropped"].get<uint64_t>();
  EXPECT_EQ(r["steer"]["redirected"].get<uint64_t>(), sent) << "the steering program redirected every frame sent";
  EXPECT_EQ(received + sock_dropped, sent) << "sent = received by the forwarder + its socket's rx_dropped";
  EXPECT_EQ(forwarded, received) << "every frame received was forwarded (Tx completions)";
  EXPECT_EQ(back_total, forwarded) << "every frame forwarded reached " << pair.dev_a();
}

INSTANTIATE_TEST_SUITE_P(Chunks, BenchToolL2Fwd, ::testing::Values(kAligned, kUnaligned),
                         [](const auto& info) { return info.param.empty() ? "Aligned" : "Unaligned3000"; });

// ---- -u: unaligned chunks ----

// txonly -u into rxdrop -u, frames of 3000 bytes (no power of two: only an
// unaligned umem takes them). The bursts are small enough that the
// receiver's 2048 fill entries cover three of them unrecycled, so nothing
// may be lost and every count is exact: the sender's completions, the
// steering program's redirects, the receiver's frames, the peer's link.
TEST(BenchToolUnaligned, RxDropReceivesEveryFrameSent) {
  constexpr uint64_t kBurst = 600, kBursts = 5;
  SteeredPair steered;
  ASSERT_TRUE(steered.attached());
  const NetnsPair& pair = steered.pair();

  // Without -u the same frame size is a usage error that says why.
  CmdResult aligned = RunCmd(BenchArgv(steered.root(), {"-r", "-i", pair.dev_b(), "-f", "3000", "-Q"}),
                             pair.ns_b());
  EXPECT_EQ(aligned.status, 2) << "-f 3000 without -u: usage error: " << aligned.output;
  EXPECT_NE(aligned.output.find("add -u"), std::string::npos) << aligned.output;

  const uint64_t link0 = LinkRxPackets(pair.ns_b(), pair.dev_b());
  std::vector<std::string> rx_flags = {"-r"};
  rx_flags.insert(rx_flags.end(), kUnaligned.begin(), kUnaligned.end());
  std::unique_ptr<Background> rx = steered.Receiver(rx_flags);
  if (::testing::Test::HasFailure()) return;

  uint64_t sent = 0;
  for (uint64_t i = 0; i < kBursts; i++) {
    json tx = steered.Send(kBurst, kUnaligned);
    if (!tx.is_object()) return;
    EXPECT_TRUE(tx["setup"]["unaligned"].get<bool>()) << "txonly reports -u";
    EXPECT_EQ(tx["setup"]["frame_size"], 3000) << "txonly's umem frame size";
    EXPECT_EQ(tx["xdp_statistics"]["tx_invalid_descs"], 0) << "the kernel took every descriptor";
    sent += Packets(tx, "tx");
  }
  EXPECT_EQ(sent, kBurst * kBursts) << "txonly -C sends exactly that many (completions)";
  const uint64_t link = testing::Settled([&] { return LinkRxPackets(pair.ns_b(), pair.dev_b()); }) - link0;
  EXPECT_EQ(link, sent) << pair.dev_b() << "'s rx_packets: every frame sent arrived";
  // The receiver polls its Rx ring without pause; give it a moment for the last frames.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));

  CmdResult out = rx->Stop();
  EXPECT_EQ(out.status, 130) << "interrupted, as Ctrl-C: " << out.output;
  json r = BenchResult(out);
  ASSERT_TRUE(r.is_object()) << "xsk-bench -r --json: " << out.output;
  EXPECT_TRUE(r["setup"]["unaligned"].get<bool>()) << "rxdrop reports -u";
  EXPECT_EQ(r["setup"]["frame_size"], 3000) << "rxdrop's umem frame size";
  EXPECT_EQ(r["setup"]["bind"], "copy") << "veth binds in copy mode";
  EXPECT_EQ(r["steer"]["redirected"].get<uint64_t>(), sent) << "the steering program redirected every frame";
  EXPECT_EQ(r["steer"]["pass_no_socket"].get<uint64_t>() + r["steer"]["redirect_failed"].get<uint64_t>(), 0u)
      << "no frame passed to the stack or failed to redirect";
  EXPECT_EQ(Packets(r, "rx"), sent) << "rxdrop received every frame sent";
  EXPECT_EQ(r["xdp_statistics"]["rx_dropped"], 0) << "the socket dropped nothing";
  EXPECT_EQ(r["xdp_statistics"]["rx_invalid_descs"], 0) << "no invalid Rx descriptor";
}

// ---- -z: zero-copy ----

// veth has no AF_XDP zero-copy (the VMs' virtio_net test the same where
// the driver has it, selftests/virtio_test.cc). -z is refused on either
// side with exit 5 and a message naming the driver and the netdev
// xdp-features, before anything is attached; against an attach made for
// copy-mode sockets with exit 12 (the socket would silently bind in copy
// mode). Nothing is left behind: no XDP program, no pin, no sandbox.
TEST(BenchToolZerocopy, RefusedWhereTheDriverHasNoneAndLeavesNothing) {
  testing::EnsureBpffs();
  testing::TestPinRoot root;
  NetnsPair pair;
  auto refused = [&](const std::vector<std::string>& args, const std::string& netns, int code,
                     const std::string& message) {
    CmdResult r = RunCmd(BenchArgv(root.path(), args), netns);
    std::string what = ::testing::PrintToString(args);
    EXPECT_EQ(r.status, code) << what << ": " << r.output;
    EXPECT_NE(r.output.find(message), std::string::npos) << what << ": lacks '" << message << "': " << r.output;
    return r.output;
  };
  auto nothing_left = [&](const std::string& what) {
    EXPECT_EQ(testing::XdpAttached(pair.ns_a(), pair.dev_a()), "") << what << ": XDP left on " << pair.dev_a();
    EXPECT_EQ(testing::XdpAttached(pair.ns_b(), pair.dev_b()), "") << what << ": XDP left on " << pair.dev_b();
    EXPECT_EQ(testing::PinsUnder(root.path()), std::vector<std::string>{}) << what << ": pins left";
  };
  const std::string no_zc = " has no AF_XDP zero-copy (veth, netlink xdp-features: ";

  refused({"-r", "-z", "-i", pair.dev_b(), "-d", "1", "-Q"}, pair.ns_b(), 5, "-z: " + pair.dev_b() + no_zc);
  nothing_left("rxdrop -z");
  std::vector<std::string> tx = testing::TxOnlyToB(pair);
  for (const char* a : {"-z", "-C", "10", "-Q"}) tx.push_back(a);
  std::string out = refused(tx, pair.ns_a(), 5, "-z: " + pair.dev_a() + no_zc);
  EXPECT_NE(out.find("bind: "), std::string::npos) << "the kernel's answer is quoted: " << out;
  nothing_left("txonly -z");

  // The sandbox (no -i): its namespaces go too. They are named after
  // xsk-bench's pid, which the refusal shows in the interface name.
  out = refused({"-t", "-z", "-d", "1", "-Q"}, "", 5, no_zc);
  auto at = out.find("-z: xsb");
  ASSERT_NE(at, std::string::npos) << out;
  std::string pid = out.substr(at + 7, out.find_first_not_of("0123456789", at + 7) - at - 7);
  EXPECT_FALSE(std::filesystem::exists("/run/netns/xskit-bench-" + pid + "-tx")) << "sandbox left: " << out;
  EXPECT_FALSE(std::filesystem::exists("/run/netns/xskit-bench-" + pid + "-rx")) << "sandbox left: " << out;

  // An attach for copy-mode sockets stays as it was.
  CmdResult a = testing::RunLoader(root.path(), pair.ns_b(), {"attach", pair.dev_b(), "--mode", "generic", "--no-probes"});
  ASSERT_EQ(a.status, 0) << "attach: " << a.output;
  const std::string prog = testing::XdpAttached(pair.ns_b(), pair.dev_b());
  refused({"-r", "-z", "-i", pair.dev_b(), "-d", "1", "-Q"}, pair.ns_b(), 12,
          "-z: " + pair.dev_b() + " is attached for copy-mode sockets");
  EXPECT_EQ(testing::XdpAttached(pair.ns_b(), pair.dev_b()), prog) << "the attach is unchanged";
  EXPECT_EQ(testing::RunLoader(root.path(), pair.ns_b(), {"detach", pair.dev_b()}).status, 0);
  nothing_left("after detach");
}

}  // namespace
}  // namespace xskit

// Tier `benchtool`: xsk-bench (the real binary) end to end.
//  - txonly in one namespace, rxdrop in the other: every frame sent is
//    received or dropped for a reason the probes (or the socket's own
//    statistics) name;
//  - its --json result parses, and its counters agree with what
//    `xsk-loader status --json` and xsk-exporter's /metrics read from the
//    same pins for the same run;
//  - with no interface it builds its sandbox and removes it at exit;
//  - l2fwd: every frame sent into the forwarder comes back, byte for byte
//    with the MACs swapped, and at full rate received = sent - the drops
//    its socket names, forwarded = received = what reached the sender;
//  - -u (unaligned chunks) with a frame size no aligned umem takes: the
//    same exact counts for txonly -> rxdrop and for l2fwd;
//  - -z where the driver has no zero-copy (veth): refused with exit 5 and
//    the reason, nothing left behind.
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <net/if.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <thread>
#include <fcntl.h>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "selftests/lib/bench_run.h"
#include "selftests/lib/fixtures.h"
#include "selftests/lib/http.h"
#include "selftests/lib/netns.h"
#include "selftests/lib/packet.h"
#include "selftests/lib/workload.h"

namespace xskit {
namespace {

using json = nlohmann::json;
using testing::Background;
using testing::BenchArgv;
using testing::BenchResult;
using testing::Bin;
using testing::CmdResult;
using testing::LinkRxPackets;
using testing::MacText;
using testing::NetnsPair;
using testing::RunCmd;

constexpr uint64_t kFrames = 100000;

uint64_t Sum(const json& rows, const char* field) {
  uint64_t n = 0;
  for (const auto& e : rows) n += e[field].get<uint64_t>();
  return n;
}

// One txonly -> rxdrop run shared by the tests of this suite.
class BenchToolTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    testing::EnsureBpffs();
    root_ = new testing::TestPinRoot();
    pair_ = new NetnsPair();
    CmdResult a = Loader({"attach", pair_->dev_b(), "--mode", "generic"}, pair_->ns_b());
    ASSERT_EQ(a.status, 0) << "attach: " << a.output;
    CmdResult p = Loader({"probes", "attach"});
    probes_ = p.status == 0;
    if (!probes_) probes_why_ = p.output;

    CmdResult rx_out;
    std::thread rx([&] {
      rx_out = RunCmd({Bin("bench/xsk-bench"), "--pin-root", root_->path(), "-r", "-S", "-i",
                       pair_->dev_b(), "-d", "5", "-Q", "--json"},
                      pair_->ns_b());
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // the receiver is up
    CmdResult tx_out = RunCmd({Bin("bench/xsk-bench"), "--pin-root", root_->path(), "-t", "-c",
                               "-i", pair_->dev_a(), "--dst-mac", MacText(pair_->mac_b()), "--src-ip",
                               NetnsPair::kIpA, "--dst-ip", NetnsPair::kIpB, "-C",
                               absl::StrCat(kFrames), "-Q", "--json"},
                              pair_->ns_a());
    rx.join();
    tx_status_ = tx_out.status;
    rx_status_ = rx_out.status;
    tx_ = new json(BenchResult(tx_out));
    rx_ = new json(BenchResult(rx_out));
    if (tx_->is_discarded() || tx_->is_null()) tx_raw_ = tx_out.output;
    if (rx_->is_discarded() || rx_->is_null()) rx_raw_ = rx_out.output;
    metrics_ = new std::string(ScrapeExporter());
    status_a_ = new json(json::parse(Loader({"status", "--json"}, pair_->ns_a()).output, nullptr, false));
    status_b_ = new json(json::parse(Loader({"status", pair_->dev_b(), "--json"}, pair_->ns_b()).output,
                                     nullptr, false));
  }
  static void TearDownTestSuite() {
    if (pair_) (void)Loader({"detach", pair_->dev_b()}, pair_->ns_b());
    if (probes_) (void)Loader({"probes", "detach"});
    delete pair_;
    delete root_;
    delete tx_;
    delete rx_;
    delete status_a_;
    delete status_b_;
    delete metrics_;
  }

  // One scrape of a real xsk-exporter over this run's pins.
  static std::string ScrapeExporter() {
    int port = testing::FreeLoopbackPort();
    pid_t pid = fork();
    if (pid == 0) {
      int devnull = open("/dev/null", O_WRONLY);
      dup2(devnull, 1);
      dup2(devnull, 2);
      std::string exporter = Bin("exporter/xsk-exporter");
      std::string addr = absl::StrCat("127.0.0.1:", port);
      execl(exporter.c_str(), exporter.c_str(), "--pin-root", root_->path().c_str(),
            "--web.listen-address", addr.c_str(), nullptr);
      _exit(127);
    }
    std::string body;
    for (int i = 0; i < 100 && body.empty(); i++) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      testing::HttpReply r = testing::HttpGet(port, "/metrics");
      if (r.status == 200) body = r.body;
    }
    kill(pid, SIGTERM);
    waitpid(pid, nullptr, 0);
    return body;
  }

  // Sum of the samples of `metric` whose labels contain every `needle`.
  static double MetricSum(const std::string& metric, const std::vector<std::string>& needles) {
    double sum = 0;
    std::istringstream in(*metrics_);
    for (std::string line; std::getline(in, line);) {
      if (line.rfind(metric + "{", 0) != 0) continue;
      bool all = true;
      for (const auto& n : needles) all = all && line.find(n) != std::string::npos;
      if (all) sum += std::stod(line.substr(line.rfind(' ') + 1));
    }
    return sum;
  }
  static CmdResult Loader(std::vector<std::string> args, const std::string& netns = "") {
    std::vector<std::string> argv = {Bin("loader/xsk-loader"), "--pin-root", root_->path()};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunCmd(argv, netns);
  }

  static inline testing::TestPinRoot* root_ = nullptr;
  static inline NetnsPair* pair_ = nullptr;
  static inline bool probes_ = false;
  static inline std::string probes_why_, tx_raw_, rx_raw_;
  static inline int tx_status_ = -1, rx_status_ = -1;
  static inline json *tx_ = nullptr, *rx_ = nullptr, *status_a_ = nullptr, *status_b_ = nullptr;
  static inline std::string* metrics_ = nullptr;
};

TEST_F(BenchToolTest, ResultsParse) {
  ASSERT_EQ(tx_status_, 0) << "txonly exit status: " << tx_raw_;
  ASSERT_EQ(rx_status_, 0) << "rxdrop exit status: " << rx_raw_;
  ASSERT_TRUE(tx_->is_object()) << "txonly --json: " << tx_raw_;
  ASSERT_TRUE(rx_->is_object()) << "rxdrop --json: " << rx_raw_;
  EXPECT_EQ((*tx_)["mode"], "txonly") << "mode";
  EXPECT_EQ((*rx_)["mode"], "rxdrop") << "mode";
  EXPECT_EQ((*tx_)["setup"]["bind"], "copy") << "-c binds in copy mode";
  EXPECT_EQ((*rx_)["setup"]["xdp_mode"], "generic") << "the attach's mode is reported";
  EXPECT_FALSE((*rx_)["setup"]["steer_attached_for_run"].get<bool>())
      << "xsk-bench used the existing attach";
  EXPECT_GT((*tx_)["sendmsg"]["calls"].get<uint64_t>(), 0u) << "sendmsg calls counted";
  EXPECT_TRUE((*tx_)["sockopts"].contains("tx_budget")) << "XDP_MAX_TX_SKB_BUDGET probed";
  EXPECT_TRUE((*tx_)["sockopts"].contains("xmit_batch")) << "XDP_GENERIC_XMIT_BATCH probed";
}

TEST_F(BenchToolTest, SentEqualsReceivedPlusExplainedDrops) {
  ASSERT_TRUE(tx_->is_object() && rx_->is_object()) << tx_raw_ << rx_raw_;
  uint64_t sent = (*tx_)["tx"]["packets"].get<uint64_t>();
  uint64_t received = (*rx_)["rx"]["packets"].get<uint64_t>();
  EXPECT_EQ(sent, kFrames) << "txonly -C sends exactly that many (completions)";
  EXPECT_EQ((*rx_)["steer"]["redirected"].get<uint64_t>() + (*rx_)["steer"]["pass_no_socket"].get<uint64_t>() +
                (*rx_)["steer"]["pass_no_match"].get<uint64_t>() +
                (*rx_)["steer"]["redirect_failed"].get<uint64_t>(),
            sent)
      << "the steering program saw every frame sent";
  uint64_t sock_dropped = (*rx_)["xdp_statistics"]["rx_dropped"].get<uint64_t>();
  EXPECT_EQ(received + sock_dropped, sent) << "sent = received + the socket's rx_dropped";
  if (!probes_) GTEST_SKIP() << "probes could not attach: " << probes_why_;
  const json& p = (*rx_)["probes"];
  ASSERT_TRUE(p["attached"].get<bool>()) << "xsk-bench sees the probes";
  // Each lost frame once: kfree_skb by reason; redirect errors only where
  // they freed no skb (generic XDP frees the skb with reason XDP).
  uint64_t skbs = Sum(p.value("drops", json::array()), "skbs"), xdp_reason = 0;
  for (const auto& d : p.value("drops", json::array()))
    if (d["reason_name"] == "XDP") xdp_reason += d["skbs"].get<uint64_t>();
  uint64_t redirect_errs = Sum(p.value("xdp_errors", json::array()), "events");
  uint64_t explained = skbs + (redirect_errs > xdp_reason ? redirect_errs - xdp_reason : 0);
  EXPECT_EQ(p["lost_explained"].get<uint64_t>(), explained) << "xsk-bench's own accounting";
  EXPECT_EQ(received + explained, sent)
      << "sent = received + drops the probes explain (kfree_skb reasons, XDP redirect errors): "
      << p.dump();
}

TEST_F(BenchToolTest, JsonAgreesWithLoaderStatusForTheSameRun) {
  if (!probes_) GTEST_SKIP() << "probes could not attach: " << probes_why_;
  ASSERT_TRUE(tx_->is_object() && rx_->is_object() && status_a_->is_object() && status_b_->is_object());
  // Tx: the probes' sendmsg calls and descriptors of dev_a's queue 0.
  const json& setup_tx = (*tx_)["setup"]["tx"];
  const json* row = nullptr;
  for (const auto& e : (*status_a_)["probes"]["tx"])
    if (e["netns_ino"] == setup_tx["netns_ino"] && e["ifindex"] == setup_tx["ifindex"] && e["queue"] == 0)
      row = &e;
  ASSERT_NE(row, nullptr) << "status lists the sender's queue: " << (*status_a_)["probes"].dump();
  EXPECT_EQ((*tx_)["probes"]["tx"]["sendmsg_calls"], (*row)["calls"]) << "sendmsg calls agree";
  EXPECT_EQ((*tx_)["probes"]["tx"]["descs"], (*row)["descs"]) << "descriptors agree";
  EXPECT_EQ((*tx_)["probes"]["tx"]["descs"].get<uint64_t>(), kFrames) << "every frame passed sendmsg";
  EXPECT_EQ((*tx_)["sendmsg"]["descs"], (*row)["descs"]) << "user-side ring count = probes' count";
  // Rx: steering counters and drops of dev_b.
  const json& q0 = (*status_b_)["interfaces"][0]["queues"][0];
  EXPECT_EQ((*rx_)["steer"]["redirected"], q0["redirected"]) << "redirected agrees";
  EXPECT_EQ(Sum((*rx_)["probes"]["drops"], "skbs"), Sum((*status_b_)["probes"]["drops"], "skbs"))
      << "drops agree";
}

TEST_F(BenchToolTest, JsonAgreesWithTheExporterForTheSameRun) {
  ASSERT_FALSE(metrics_->empty()) << "xsk-exporter did not serve /metrics";
  // dev_b is attached (labels from its pins); dev_a only sends, so the
  // exporter names it by namespace and ifindex (it cannot read names
  // inside other namespaces without entering them).
  std::string ifindex_a;
  testing::InNetns(pair_->ns_a(), [&] {
    ifindex_a = absl::StrCat(if_nametoindex(pair_->dev_a().c_str()));
  });
  std::string a = "ifname=\"if" + ifindex_a + "\",netns=\"" + pair_->ns_a() + "\"";
  std::string b = "ifname=\"" + pair_->dev_b() + "\"";
  EXPECT_EQ(MetricSum("xsk_steer_packets_total", {b, "outcome=\"redirected\""}),
            (*rx_)["steer"]["redirected"].get<double>())
      << "redirected: xsk-bench vs xsk_steer_packets_total";
  if (!probes_) GTEST_SKIP() << "probes could not attach: " << probes_why_;
  EXPECT_EQ(MetricSum("xsk_tx_descriptors_total", {a}), (*tx_)["probes"]["tx"]["descs"].get<double>())
      << "descriptors: xsk-bench vs xsk_tx_descriptors_total";
  EXPECT_EQ(MetricSum("xsk_tx_sendmsg_calls_total", {a}),
            (*tx_)["probes"]["tx"]["sendmsg_calls"].get<double>())
      << "sendmsg calls: xsk-bench vs xsk_tx_sendmsg_calls_total";
}

TEST(BenchToolSandbox, RunsWithoutInterfaceAndCleansUp) {
  testing::EnsureBpffs();
  testing::TestPinRoot root;
  CmdResult r = RunCmd({Bin("bench/xsk-bench"), "--pin-root", root.path(), "-d", "1", "-Q", "--json"});
  ASSERT_EQ(r.status, 0) << r.output;
  json j = BenchResult(r);
  ASSERT_TRUE(j.is_object()) << r.output;
  EXPECT_TRUE(j["setup"]["sandbox"].get<bool>()) << "no -i: the sandbox";
  EXPECT_GT(j["tx"]["packets"].get<uint64_t>(), 0u) << "frames were sent";
  EXPECT_EQ(j["peer"]["rx_packets"], j["tx"]["packets"]) << "the peer received every frame";
  std::string ns = j["setup"]["tx"]["netns"].get<std::string>();
  EXPECT_FALSE(std::filesystem::exists("/run/netns/" + ns)) << "sandbox namespace removed";
}

TEST(BenchToolSandbox, L2FwdCountsWhatComesBack) {
  testing::EnsureBpffs();
  testing::TestPinRoot root;
  CmdResult r = RunCmd({Bin("bench/xsk-bench"), "--pin-root", root.path(), "-l", "-d", "1", "-Q", "--json"});
  ASSERT_EQ(r.status, 0) << r.output;
  json j = BenchResult(r);
  ASSERT_TRUE(j.is_object()) << r.output;
  const uint64_t sent = j["sender"]["packets"].get<uint64_t>(), received = j["rx"]["packets"].get<uint64_t>();
  EXPECT_GT(received, 0u) << "the forwarder received frames";
  EXPECT_EQ(received + j["xdp_statistics"]["rx_dropped"].get<uint64_t>(), sent)
      << "sent = received + the forwarder socket's rx_dropped";
  EXPECT_EQ(j["fwd"]["packets"], j["rx"]["packets"]) << "every frame received was forwarded";
  EXPECT_EQ(j["returned"]["packets"], j["fwd"]["packets"])
      << "returned (the sender veth's rx_packets) = forwarded";
  EXPECT_EQ(j["returned"]["ifname"], j["setup"]["tx"]["ifname"]) << "counted on the sender's side";
}

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

// Everything under a pin root (files and directories), for "nothing left".
std::vector<std::string> PinsUnder(const std::string& root) {
  std::vector<std::string> out;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(root, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec))
    out.push_back(it->path().string());
  return out;
}

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
    EXPECT_EQ(PinsUnder(root.path()), std::vector<std::string>{}) << what << ": pins left";
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

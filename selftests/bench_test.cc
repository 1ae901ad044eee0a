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
//    its socket names, forwarded = received = what reached the sender.
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <net/if.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <functional>
#include <sstream>
#include <thread>
#include <fcntl.h>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "selftests/lib/fixtures.h"
#include "selftests/lib/http.h"
#include "selftests/lib/netns.h"
#include "selftests/lib/packet.h"

namespace xskit {
namespace {

using json = nlohmann::json;
using testing::Bin;
using testing::CmdResult;
using testing::NetnsPair;
using testing::RunCmd;

constexpr uint64_t kFrames = 100000;

std::string Mac(const std::array<uint8_t, 6>& m) {
  char buf[18];
  std::snprintf(buf, sizeof(buf), "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
  return buf;
}

// The JSON document in a command's output (live lines go to stderr, which
// RunCmd merges: the document starts at the first "{" line).
json ParseResult(const CmdResult& r) {
  auto start = r.output.find("{\n");
  if (start == std::string::npos) return json();
  return json::parse(r.output.substr(start), nullptr, false);
}

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
                               "-i", pair_->dev_a(), "--dst-mac", Mac(pair_->mac_b()), "--src-ip",
                               NetnsPair::kIpA, "--dst-ip", NetnsPair::kIpB, "-C",
                               absl::StrCat(kFrames), "-Q", "--json"},
                              pair_->ns_a());
    rx.join();
    tx_status_ = tx_out.status;
    rx_status_ = rx_out.status;
    tx_ = new json(ParseResult(tx_out));
    rx_ = new json(ParseResult(rx_out));
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
  json j = ParseResult(r);
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
  json j = ParseResult(r);
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

// A command running in `netns` until Stop() interrupts it (SIGINT, as
// Ctrl-C would); stdout and stderr go to an unlinked file read back then.
class Background {
 public:
  Background(const std::vector<std::string>& argv, const std::string& netns) {
    char path[] = "/tmp/xskit-bench-test-XXXXXX";
    out_ = ::mkstemp(path);
    ::unlink(path);
    // Everything the child needs is made before fork (no allocation after).
    const std::string ns_path = "/run/netns/" + netns;
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(out_, 1);
      ::dup2(out_, 2);
      int fd = ::open(ns_path.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0 || ::setns(fd, CLONE_NEWNET) != 0) _exit(127);
      ::execv(args[0], args.data());
      _exit(127);
    }
  }
  ~Background() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (out_ >= 0) ::close(out_);
  }
  CmdResult Stop() {
    CmdResult r;
    int status = 0;
    ::kill(pid_, SIGINT);
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    r.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    char buf[4096];
    ssize_t n;
    ::lseek(out_, 0, SEEK_SET);
    while ((n = ::read(out_, buf, sizeof(buf))) > 0) r.output.append(buf, n);
    return r;
  }

 private:
  pid_t pid_ = -1;
  int out_ = -1;
};

// rx_packets of `dev` in `netns` (on veth: what the peer transmitted).
uint64_t LinkRxPackets(const std::string& netns, const std::string& dev) {
  CmdResult r = RunCmd({"ip", "-s", "-j", "link", "show", "dev", dev}, netns);
  json j = json::parse(r.output, nullptr, false);
  if (r.status != 0 || !j.is_array() || j.empty()) return 0;
  return j[0]["stats64"]["rx"]["packets"].get<uint64_t>();
}

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

// xsk-bench -l on b; xsk-bench -t from a, first in bursts the forwarder's
// umem always has room for (nothing may be lost: every frame comes back),
// then one flood (losses allowed, but only where the socket counts them).
TEST(BenchToolL2Fwd, EveryFrameSentComesBackWithTheMacsSwapped) {
  constexpr uint64_t kBurst = 1000, kBursts = 6, kFlood = 100000;
  testing::EnsureBpffs();
  testing::TestPinRoot root;
  NetnsPair pair;
  auto loader = [&](std::vector<std::string> args, const std::string& netns) {
    std::vector<std::string> argv = {Bin("loader/xsk-loader"), "--pin-root", root.path()};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunCmd(argv, netns);
  };
  CmdResult a = loader({"attach", pair.dev_b(), "--mode", "generic", "--no-probes"}, pair.ns_b());
  ASSERT_EQ(a.status, 0) << "attach: " << a.output;
  struct Detach {
    std::function<void()> fn;
    ~Detach() { fn(); }
  } detach{[&] { (void)loader({"detach", pair.dev_b()}, pair.ns_b()); }};

  Background fwd({Bin("bench/xsk-bench"), "--pin-root", root.path(), "-l", "-S", "-i", pair.dev_b(),
                  "-Q", "--json"},
                 pair.ns_b());
  // The forwarder is up once its socket is in the XSKMAP.
  bool registered = false;
  for (int i = 0; i < 100 && !registered; i++) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    json st = json::parse(loader({"status", pair.dev_b(), "--json"}, pair.ns_b()).output, nullptr, false);
    const auto socket = "/interfaces/0/queues/0/socket"_json_pointer;
    registered = st.is_object() && st.contains(socket) && st[socket].get<bool>();
  }
  ASSERT_TRUE(registered) << "xsk-bench -l registered its socket within 10 s";

  auto send = [&](uint64_t count) -> uint64_t {
    CmdResult r = RunCmd({Bin("bench/xsk-bench"), "--pin-root", root.path(), "-t", "-c", "-i",
                          pair.dev_a(), "--dst-mac", Mac(pair.mac_b()), "--src-ip", NetnsPair::kIpA,
                          "--dst-ip", NetnsPair::kIpB, "-C", absl::StrCat(count), "-Q", "--json"},
                         pair.ns_a());
    json j = ParseResult(r);
    EXPECT_EQ(r.status, 0) << "txonly: " << r.output;
    return j.is_object() ? j["tx"]["packets"].get<uint64_t>() : 0;
  };
  // What comes back settles once the forwarder has sent its last frame.
  auto settled_back = [&](uint64_t since) {
    uint64_t back = LinkRxPackets(pair.ns_a(), pair.dev_a()) - since, prev = ~0ull;
    for (int i = 0; i < 50 && back != prev; i++) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      prev = back;
      back = LinkRxPackets(pair.ns_a(), pair.dev_a()) - since;
    }
    return back;
  };
  const uint64_t back0 = LinkRxPackets(pair.ns_a(), pair.dev_a());

  // Bursts: each fits in the forwarder's 2048 frames; six of them recycle
  // every frame through the completion and fill rings about three times.
  Capture cap(pair.ns_a(), pair.dev_a());
  ASSERT_TRUE(cap.ok()) << "AF_PACKET capture on " << pair.dev_a();
  uint64_t sent_bursts = 0;
  for (uint64_t i = 0; i < kBursts; i++) sent_bursts += send(kBurst);
  EXPECT_EQ(sent_bursts, kBursts * kBurst) << "txonly -C sends exactly that many (completions)";
  uint64_t back_bursts = settled_back(back0);
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
  uint64_t back_total = settled_back(back0);

  CmdResult out = fwd.Stop();
  EXPECT_EQ(out.status, 130) << "interrupted, as Ctrl-C: " << out.output;
  json r = ParseResult(out);
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

}  // namespace
}  // namespace xskit

// Tier `benchtool`: status, top, the exporter and xsk-bench label the same
// workload the same way (lib/probe_snapshot.h, lib/decoders.h). A real
// workload on a veth pair, with xsk_steer (generic, udp:9) on dev_b and the
// probes attached, all inside one rxdrop run of xsk-bench on dev_b (small
// ring: failed redirects when it overflows): txonly bursts from dev_a
// (sendmsg errors by cause and errno), frames to dev_b's address on an
// unmatched port (NO_SOCKET) and to a MAC that is not dev_b's (OTHERHOST).
// Each view's label sets, restricted
// to the pair's namespaces, are compared: xsk-bench's (deltas of its run)
// within status', status' within the exporter's (read later: counters only
// grow), top's within the exporter's.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "selftests/lib/bench_run.h"
#include "selftests/lib/fixtures.h"
#include "selftests/lib/http.h"
#include "selftests/lib/netns.h"
#include "selftests/lib/traffic.h"
#include "lib/sandbox/packet.h"

namespace xskit {
namespace {

using json = nlohmann::json;
using testing::Bin;
using testing::CmdResult;
using testing::MacString;
using testing::NetnsPair;
using testing::RunCmd;
using LabelSet = std::set<std::string>;

constexpr uint16_t kUnmatchedPort = 7777;  // not steered (the match is udp:9), nothing listens

std::string Join(const LabelSet& s) {
  std::string out;
  for (const auto& e : s) absl::StrAppend(&out, "\n  ", e);
  return out.empty() ? " (none)" : out;
}

// Labels of one exposition line: {name -> value}.
std::map<std::string, std::string> LineLabels(const std::string& line) {
  std::map<std::string, std::string> out;
  size_t open = line.find('{'), close = line.rfind('}');
  if (open == std::string::npos || close == std::string::npos) return out;
  std::string body = line.substr(open + 1, close - open - 1);
  size_t pos = 0;
  while (pos < body.size()) {
    size_t eq = body.find("=\"", pos);
    if (eq == std::string::npos) break;
    size_t end = body.find('"', eq + 2);
    out[body.substr(pos, eq - pos)] = body.substr(eq + 2, end - eq - 2);
    pos = end + 2;  // past `",`
  }
  return out;
}

// A sendmsg error row's labels as the exporter has them ("cause|errno"),
// read alike from xsk-bench's backpressure and status' tx_errors: both are
// TxErrorRowJson (lib/probe_snapshot.h), so the keys are the same.
std::string TxErrorLabels(const json& e) {
  return absl::StrCat(e["cause"].get<std::string>(), "|", e["errno_name"].get<std::string>());
}

// An XDP error row's ("ifname|netns|event|errno or action"), from either
// view's xdp_errors (XdpErrorRowJson).
std::string XdpErrorLabels(const json& x) {
  return absl::StrCat(x["ifname"].get<std::string>(), "|", x["netns"].get<std::string>(), "|",
                      x["event"].get<std::string>(), "|",
                      x.contains("errno_name") ? x["errno_name"].get<std::string>()
                                               : x["action_name"].get<std::string>());
}

class LabelsAgreeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::EnsureBpffs();
    root_ = std::make_unique<testing::TestPinRoot>();
    pair_ = std::make_unique<NetnsPair>();
    // Only xsk-bench's frames (UDP port 9) go to the socket; the rest of
    // what reaches dev_b goes to the stack while the socket is open.
    CmdResult a = Loader({"attach", pair_->dev_b(), "--mode", "generic", "--no-probes", "--match", "udp:9"},
                         pair_->ns_b());
    ASSERT_EQ(a.status, 0) << "attach: " << a.output;
    CmdResult p = Loader({"probes", "attach"});
    if (p.status != 0) GTEST_SKIP() << "probes could not attach here: " << p.output;
    attached_ = true;
  }
  void TearDown() override {
    if (pair_) (void)Loader({"detach", pair_->dev_b()}, pair_->ns_b());
    if (attached_) (void)Loader({"probes", "detach"});
  }

  CmdResult Loader(std::vector<std::string> args, const std::string& netns = "") {
    std::vector<std::string> argv = {Bin("loader/xsk-loader"), "--pin-root", root_->path()};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunCmd(argv, netns);
  }
  CmdResult Bench(std::vector<std::string> args, const std::string& netns) {
    std::vector<std::string> argv = {Bin("xsk_bench/xsk-bench"), "--pin-root", root_->path(), "-Q", "--json"};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunCmd(argv, netns);
  }
  CmdResult Send(const std::string& dst_mac, uint64_t frames) {
    return Bench({"-t", "-c", "-i", pair_->dev_a(), "--dst-mac", dst_mac, "--src-ip", NetnsPair::kIpA,
                  "--dst-ip", NetnsPair::kIpB, "-C", absl::StrCat(frames), "--ring-size", "64", "-b", "64"},
                 pair_->ns_a());
  }
  // How many of NO_SOCKET and OTHERHOST status shows on dev_b.
  int StackDropsSeen() {
    json status = json::parse(Loader({"status", "--json"}).output, nullptr, false);
    if (!status.is_object()) return 0;
    std::set<std::string> seen;
    for (const auto& d : status["probes"].value("drops", json::array()))
      if (d.value("netns", "") == pair_->ns_b() && d.value("ifname", "") == pair_->dev_b()) {
        std::string r = d.value("reason_name", "");
        if (r == "NO_SOCKET" || r == "OTHERHOST") seen.insert(r);
      }
    return static_cast<int>(seen.size());
  }
  bool Ours(const std::string& netns) const { return netns == pair_->ns_a() || netns == pair_->ns_b(); }

  std::unique_ptr<testing::TestPinRoot> root_;
  std::unique_ptr<NetnsPair> pair_;
  bool attached_ = false;
};

TEST_F(LabelsAgreeTest, StatusTopExporterAndBenchPrintTheSameLabels) {
  // The workload, all of it inside the receiver's run so that its window
  // (dev_b's scope) holds every label, whatever the machine's speed:
  //  - txonly bursts to dev_b's socket (port 9, matched): sendmsg errors,
  //    and failed redirects when the small ring overflows (not guaranteed);
  //  - frames to dev_b's address on a port nothing matches or listens on:
  //    the stack drops them (NO_SOCKET);
  //  - frames to a MAC that is not dev_b's: OTHERHOST.
  testing::Background rx(testing::BenchArgv(root_->path(), {"-Q", "--json", "-r", "-S", "-i", pair_->dev_b(),
                                                            "-d", "120", "--ring-size", "64", "-b", "16"}),
                         pair_->ns_b());
  ASSERT_TRUE(testing::WaitForSocket(root_->path(), pair_->ns_b(), pair_->dev_b()))
      << "the receiver's socket never reached the XSKMAP";
  CmdResult tx1 = Send(MacString(pair_->mac_b()), 200000);
  constexpr int kStack = 500;
  const sandbox::Mac other_mac = {0x02, 0, 0, 0, 0, 0x99};
  std::vector<std::vector<uint8_t>> to_stack;
  for (int i = 0; i < kStack; i++) {
    for (const sandbox::Mac* dst : {&pair_->mac_b(), &other_mac})
      to_stack.push_back(sandbox::Packet()
                             .Eth(*dst, pair_->mac_a())
                             .IPv4(NetnsPair::kIpA, NetnsPair::kIpB)
                             .Udp(static_cast<uint16_t>(20000 + i), kUnmatchedPort)
                             .Payload(32)
                             .Build());
  }
  testing::SendFrames(pair_->ns_a(), pair_->dev_a(), to_stack);
  // The stack drops them in dev_b's softirq, after the send returns: stop
  // the receiver once both reasons show in status.
  for (int i = 0; i < 100 && StackDropsSeen() < 2; i++) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  CmdResult rx_out = rx.Stop();
  ASSERT_EQ(rx_out.status, 130) << "the receiver, interrupted as by Ctrl-C: " << rx_out.output;
  ASSERT_EQ(tx1.status, 0) << tx1.output;

  // xsk-bench: its runs' labels.
  LabelSet bench_drops, bench_errors, bench_xdp;
  for (const CmdResult* r : {&rx_out, &tx1}) {
    json j = testing::BenchResult(*r);
    ASSERT_TRUE(j.is_object()) << r->output;
    const json& p = j["probes"];
    for (const auto& d : p.value("drops", json::array()))
      bench_drops.insert(absl::StrCat(d["ifname"].get<std::string>(), "|", d["netns"].get<std::string>(), "|",
                                      d["reason_name"].get<std::string>()));
    for (const auto& b : p.value("backpressure", json::array())) bench_errors.insert(TxErrorLabels(b));
    for (const auto& x : p.value("xdp_errors", json::array())) bench_xdp.insert(XdpErrorLabels(x));
  }

  // status --json (host view: every site).
  json status = json::parse(Loader({"status", "--json"}).output, nullptr, false);
  ASSERT_TRUE(status.is_object());
  const json& sp = status["probes"];
  ASSERT_TRUE(sp.value("attached", false)) << sp.dump();
  LabelSet status_drops, status_errors, status_xdp, status_tx_sites;
  for (const auto& d : sp["drops"])
    if (Ours(d["netns"]))
      status_drops.insert(absl::StrCat(d["ifname"].get<std::string>(), "|", d["netns"].get<std::string>(), "|",
                                       d["reason_name"].get<std::string>()));
  for (const auto& e : sp["tx_errors"])
    if (Ours(e["netns"])) status_errors.insert(TxErrorLabels(e));
  for (const auto& x : sp["xdp_errors"])
    if (Ours(x["netns"])) status_xdp.insert(XdpErrorLabels(x));
  for (const auto& t : sp["tx"])
    if (Ours(t["netns"]))
      status_tx_sites.insert(absl::StrCat(t["ifname"].get<std::string>(), "@", t["netns"].get<std::string>()));

  // top: one plain frame after one interval (no terminal).
  CmdResult top = Loader({"top", "--iterations", "1", "--interval", "0.2"});
  ASSERT_EQ(top.status, 0) << top.output;
  LabelSet top_drops, top_sites;
  {
    bool in_drops = false;
    for (absl::string_view line : absl::StrSplit(top.output, '\n')) {
      std::vector<std::string> f = absl::StrSplit(line, ' ', absl::SkipEmpty());
      if (f.empty()) {
        in_drops = false;
        continue;
      }
      if (f[0] == "DROPS") {
        in_drops = true;
        continue;
      }
      std::vector<std::string> where = absl::StrSplit(f[0], '@');
      if (where.size() != 2 || !Ours(where[1])) continue;
      if (in_drops && f.size() >= 4)
        top_drops.insert(absl::StrCat(where[0], "|", where[1], "|", f[1]));
      else if (!in_drops)
        top_sites.insert(f[0]);
    }
  }

  // The exporter.
  std::string metrics = testing::ScrapeExporterOnce(root_->path());
  ASSERT_FALSE(metrics.empty()) << "xsk-exporter served no /metrics";
  LabelSet exp_drops, exp_errors, exp_xdp, exp_tx_sites;
  std::istringstream in(metrics);
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    auto l = LineLabels(line);
    if (!Ours(l["netns"])) continue;
    std::string metric = line.substr(0, line.find('{'));
    if (metric == "xsk_skb_drops_total")
      exp_drops.insert(absl::StrCat(l["ifname"], "|", l["netns"], "|", l["reason"]));
    else if (metric == "xsk_tx_sendmsg_errors_total")
      exp_errors.insert(absl::StrCat(l["cause"], "|", l["errno"]));
    else if (metric == "xsk_xdp_redirect_errors_total")
      exp_xdp.insert(absl::StrCat(l["ifname"], "|", l["netns"], "|redirect_err|", l["errno"]));
    else if (metric == "xsk_xdp_exceptions_total")
      exp_xdp.insert(absl::StrCat(l["ifname"], "|", l["netns"], "|exception|", l["action"]));
    else if (metric == "xsk_tx_sendmsg_calls_total")
      exp_tx_sites.insert(absl::StrCat(l["ifname"], "@", l["netns"]));
  }

  auto within = [](const LabelSet& part, const LabelSet& whole) {
    for (const auto& e : part)
      if (!whole.count(e)) return false;
    return true;
  };
  // The workload gave the views something to disagree on.
  EXPECT_GE(status_drops.size(), 2u) << "drop reasons on the pair:" << Join(status_drops);
  EXPECT_FALSE(status_tx_sites.empty()) << "the sender's queue";
  EXPECT_FALSE(bench_drops.empty()) << "xsk-bench saw drops:" << Join(bench_drops);

  EXPECT_TRUE(within(bench_drops, status_drops))
      << "drops: xsk-bench" << Join(bench_drops) << "\nstatus" << Join(status_drops);
  EXPECT_TRUE(within(bench_errors, status_errors))
      << "sendmsg errors: xsk-bench" << Join(bench_errors) << "\nstatus" << Join(status_errors);
  EXPECT_TRUE(within(bench_xdp, status_xdp))
      << "XDP errors: xsk-bench" << Join(bench_xdp) << "\nstatus" << Join(status_xdp);
  EXPECT_TRUE(within(status_drops, exp_drops))
      << "drops: status" << Join(status_drops) << "\nexporter" << Join(exp_drops);
  EXPECT_TRUE(within(status_errors, exp_errors))
      << "sendmsg errors: status" << Join(status_errors) << "\nexporter" << Join(exp_errors);
  EXPECT_TRUE(within(status_xdp, exp_xdp))
      << "XDP errors: status" << Join(status_xdp) << "\nexporter" << Join(exp_xdp);
  EXPECT_EQ(status_tx_sites, exp_tx_sites) << "the Tx queue's site: status vs exporter";
  EXPECT_TRUE(within(top_drops, exp_drops)) << "drops: top" << Join(top_drops) << "\nexporter" << Join(exp_drops);
  EXPECT_TRUE(within(status_tx_sites, top_sites))
      << "top lists the Tx site as status names it:" << Join(status_tx_sites) << "\ntop" << Join(top_sites);
  std::cout << "labels compared: drops" << Join(status_drops) << "\nsendmsg errors" << Join(status_errors)
            << "\nXDP errors" << Join(status_xdp) << "\n";
}

}  // namespace
}  // namespace xskit

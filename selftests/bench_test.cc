// Tier `benchtool`: xsk-bench (the real binary) end to end.
//  - txonly in one namespace, rxdrop in the other: every frame sent is
//    received or dropped for a reason the probes (or the socket's own
//    statistics) name;
//  - its --json result parses, and its counters agree with what
//    `xsk-loader status --json` and xsk-exporter's /metrics read from the
//    same pins for the same run;
//  - with no interface it builds its sandbox and removes it at exit.
// bench_flags_test.cc runs l2fwd, -u and -z the same way.
#include <fcntl.h>
#include <net/if.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "selftests/lib/bench_run.h"
#include "selftests/lib/fixtures.h"
#include "selftests/lib/http.h"
#include "selftests/lib/netns.h"

namespace xskit {
namespace {

using json = nlohmann::json;
using testing::BenchResult;
using testing::Bin;
using testing::CmdResult;
using testing::MacString;
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
      rx_out = RunCmd({Bin("xsk_bench/xsk-bench"), "--pin-root", root_->path(), "-r", "-S", "-i",
                       pair_->dev_b(), "-d", "5", "-Q", "--json"},
                      pair_->ns_b());
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // the receiver is up
    CmdResult tx_out = RunCmd({Bin("xsk_bench/xsk-bench"), "--pin-root", root_->path(), "-t", "-c",
                               "-i", pair_->dev_a(), "--dst-mac", MacString(pair_->mac_b()), "--src-ip",
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
    metrics_ = new std::string(testing::ScrapeExporterOnce(root_->path()));
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
  CmdResult r = RunCmd({Bin("xsk_bench/xsk-bench"), "--pin-root", root.path(), "-d", "1", "-Q", "--json"});
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
  CmdResult r = RunCmd({Bin("xsk_bench/xsk-bench"), "--pin-root", root.path(), "-l", "-d", "1", "-Q", "--json"});
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

}  // namespace
}  // namespace xskit

// Tier `probes`: the copy-mode signals on an Intel driver, igb (the
// kernel-matrix VM's pair, XSKIT_IGB_PAIR; qemu's -device igb). igb has no
// IFF_TX_SKB_NO_LINEAR and completes transmits from its Tx interrupt, not
// synchronously as veth does: descriptors per sendmsg, linear skbs and the
// CQ-full cause, exactly.
#include "lib/driver_table.h"
#include "nlohmann/json.hpp"
#include "selftests/lib/nic_pair.h"
#include "selftests/probes/fixture.h"

namespace xskit::testing {
namespace {

class IgbProbesTest : public ProbesTest {
 protected:
  void SetUp() override {
    auto [a, b] = PairFromEnv("XSKIT_IGB_PAIR");
    if (!a.empty()) ProbesTest::SetUp();  // the pinned probes
    if (HasFatalFailure()) return;
    if (a.empty()) XSKIT_SKIP(NoPairReason({"igb", "XSKIT_IGB_PAIR"}));
    net_ = std::make_unique<NetnsPair>(NetnsPair::Options{.existing_a = a, .existing_b = b});
    ASSERT_TRUE(WaitForCarrier(net_->ns_a(), net_->dev_a()) && WaitForCarrier(net_->ns_b(), net_->dev_b()));
    where_ = WhereIs(net_->ns_a(), net_->dev_a());
  }
  std::unique_ptr<NetnsPair> net_;
  Where where_;
};

TEST_F(IgbProbesTest, CopyModeBatchesAndLinearSkbsAreExact) {
  auto s = testing::CreateSocketIn(net_->ns_a(), net_->dev_a(), 0);
  ASSERT_TRUE(s);
  const xsk_probes_tx tx0 = Tx(where_, 0);
  const auto errs0 = TxErrors(where_, 0);
  auto frame = Frame(*net_);
  const uint32_t sizes[] = {1, 8, 32, 3};
  uint64_t hist[XSK_PROBES_BATCH_BUCKETS] = {}, descs = 0;
  for (uint32_t n : sizes) {
    ASSERT_EQ(SendBatch(*s, frame, n), 0) << "sendto with " << n << " descriptors on igb";
    Reap(*s);
    EXPECT_EQ(s->outstanding(), 0u) << "igb completed the batch of " << n;
    hist[ExpectedBucket(n)]++;
    descs += n;
  }
  xsk_probes_tx tx = Delta(tx0, Tx(where_, 0));
  EXPECT_EQ(tx.calls, std::size(sizes)) << "sendto calls";
  EXPECT_EQ(tx.descs, descs) << "descriptors transmitted";
  for (int i = 0; i < XSK_PROBES_BATCH_BUCKETS; i++)
    EXPECT_EQ(tx.hist[i], hist[i]) << "batch bucket " << i << " (from " << BatchBucketLow(i) << ")";
  EXPECT_EQ(tx.errors, 0u);
  EXPECT_TRUE(Delta(errs0, TxErrors(where_, 0)).empty()) << "no error causes";
  EXPECT_EQ(tx.linear_skbs, descs) << "igb has no IFF_TX_SKB_NO_LINEAR: every copy-mode skb is linear";
  EXPECT_EQ(tx.frag_skbs, 0u);
}

TEST_F(IgbProbesTest, CompletionQueueFullIsTheOnlyCause) {
  XskSocket::Options opts;
  opts.comp_size = 32;
  auto s = testing::CreateSocketIn(net_->ns_a(), net_->dev_a(), 0, opts);
  ASSERT_TRUE(s);
  const xsk_probes_tx tx0 = Tx(where_, 0);
  const auto errs0 = TxErrors(where_, 0);
  auto frame = Frame(*net_);
  EXPECT_EQ(SendBatch(*s, frame, 32), 0) << "fills the 32-entry CQ";
  // Never reaped: once igb completes them the CQ is full; the next call
  // cannot reserve a completion slot.
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  int err = SendBatch(*s, frame, 8);
  xsk_probes_tx tx = Delta(tx0, Tx(where_, 0));
  EXPECT_EQ(tx.calls, 2u);
  EXPECT_EQ(tx.descs, 32u) << "nothing sent once the CQ is full";
  EXPECT_EQ(tx.cq_size, 32u) << "CQ size gauge";
  auto errs = Delta(errs0, TxErrors(where_, 0));
  ASSERT_EQ(errs.size(), 1u) << "exactly one (errno, cause)";
  EXPECT_STREQ(CauseName(errs.begin()->first.second), "cq_full") << "cause";
  EXPECT_EQ(errs.begin()->first.first, static_cast<uint32_t>(err));
  EXPECT_EQ(errs.begin()->second, 1u);
}

// Zero-copy (6.14+ igb): sendmsg only wakes the driver, which takes the
// descriptors in its NAPI poll (xsk_tx_peek_release_desc_batch) and
// completes them from its Tx interrupt (xsk_tx_completed). K sendto calls
// of D descriptors, each completed before the next: the driver-side counts
// are K x D descriptors in K batches of D, K x D completions, and one
// driver wakeup per sendto (igb never clears the Tx need_wakeup flag).
TEST_F(IgbProbesTest, ZerocopyTxDriverBatchesAndCompletionsAreExact) {
  constexpr uint32_t kCalls = 4, kDescs = 16;
  if (RunningKernelSeries() < KernelSeries(6, 14))
    XSKIT_SKIP(absl::StrCat("igb has AF_XDP zero-copy from 6.14; this is ", RunningKernelRelease()));
  if (ModeOf(XSK_PROBES_SIG_ZC_TX_BATCH) != XSK_PROBES_MODE_FENTRY) {
    if (const char* e = std::getenv("XSKIT_EXPECT_PROBE_MODE"); e && std::string(e) == "fentry" &&
        !std::getenv("XSKIT_PROBE_MODE"))
      FAIL() << "zc_tx_batch is " << ProbeModeName(ModeOf(XSK_PROBES_SIG_ZC_TX_BATCH))
             << " on a kernel where fentry is expected";
    XSKIT_SKIP("the zero-copy driver-side signals need fentry (probe mode: " +
               std::string(ProbeModeName(ModeOf(XSK_PROBES_SIG_ZC_TX_BATCH))) + ")");
  }
  TestPinRoot steer_root("zc");  // the steering attach apart from the probes' root
  CmdResult a = RunLoader(steer_root.path(), net_->ns_a(),
                          {"attach", net_->dev_a(), "--mode", "native", "--zerocopy", "--no-probes"});
  ASSERT_EQ(a.status, 0) << a.output;
  absl::Cleanup detach = [&] { RunLoader(steer_root.path(), net_->ns_a(), {"detach", net_->dev_a()}); };
  auto s = OpenSocketIn(net_->ns_a(), net_->dev_a(), 0, steer_root.path());
  ASSERT_TRUE(s);
  auto zc = s->IsZerocopy();
  ASSERT_TRUE(zc.ok() && *zc) << "the socket bound in zero-copy mode";
  ASSERT_TRUE(WaitForCarrier(net_->ns_a(), net_->dev_a())) << "carrier after the zero-copy bind";

  const xsk_probes_zc z0 = Zc(where_, 0);
  auto frame = Frame(*net_);
  for (uint32_t k = 0; k < kCalls; k++) {
    ASSERT_EQ(SendBatch(*s, frame, kDescs), 0) << "sendto " << k << " with " << kDescs << " descriptors";
    for (int i = 0; i < 200 && s->outstanding(); i++) {
      s->Complete();
      if (s->outstanding()) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ASSERT_EQ(s->outstanding(), 0u) << "igb completed the batch of sendto " << k;
  }
  const xsk_probes_zc z = Delta(z0, Zc(where_, 0));
  std::printf("  zc q0: batches %llu (empty %llu), descs %llu, completions %llu in %llu calls, "
              "wakeups %llu, need_wakeup set/clear %llu/%llu\n",
              (unsigned long long)z.tx_batches, (unsigned long long)z.tx_hist[0],
              (unsigned long long)z.tx_descs, (unsigned long long)z.completions,
              (unsigned long long)z.completion_calls, (unsigned long long)z.wakeups_sendmsg,
              (unsigned long long)z.sendmsg_need_wakeup, (unsigned long long)z.sendmsg_no_need_wakeup);
  EXPECT_EQ(z.tx_descs, uint64_t{kCalls} * kDescs) << "descriptors the driver took (K x D)";
  EXPECT_EQ(z.completions, uint64_t{kCalls} * kDescs) << "descriptors the driver completed (K x D)";
  EXPECT_GE(z.completion_calls, 1u);
  EXPECT_LE(z.completion_calls, uint64_t{kCalls} * kDescs);
  EXPECT_EQ(z.tx_batches - z.tx_hist[0], kCalls)
      << "one non-empty driver batch per sendto (each submitted at once, completed before the next)";
  EXPECT_EQ(z.tx_hist[ExpectedBucket(kDescs)], kCalls) << "each batch took " << kDescs;
  EXPECT_EQ(z.sendmsg_need_wakeup + z.sendmsg_no_need_wakeup, kCalls) << "every sendto seen";
  EXPECT_EQ(z.wakeups_sendmsg, z.sendmsg_need_wakeup)
      << "a zero-copy sendto wakes the driver exactly when it finds need_wakeup set";
  EXPECT_EQ(z.wakeups_sendmsg, kCalls) << "igb leaves the Tx need_wakeup set: every sendto wakes it";

  // `xsk-loader status --json` renders the same row (the one snapshot).
  const xsk_probes_zc now = Zc(where_, 0);
  CmdResult st = RunLoader(root_->path(), "", {"status", "--json"});
  ASSERT_EQ(st.status, 0) << st.output;
  nlohmann::json j = nlohmann::json::parse(st.output, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << st.output;
  const nlohmann::json* row = nullptr;
  for (const auto& e : j["probes"]["zc"])
    if (e["netns_ino"] == where_.netns_ino && e["ifindex"] == where_.ifindex && e["queue"] == 0) row = &e;
  ASSERT_NE(row, nullptr) << "status --json lists the zero-copy row: " << j["probes"].dump();
  EXPECT_EQ((*row)["tx_descs"].get<uint64_t>(), now.tx_descs) << "status: driver descriptors";
  EXPECT_EQ((*row)["completions"].get<uint64_t>(), now.completions) << "status: completions";
  EXPECT_EQ((*row)["wakeups_sendmsg"].get<uint64_t>(), now.wakeups_sendmsg) << "status: wakeups";
}

// Zero-copy Rx: the driver fills its Rx ring from the socket's fill ring
// (xp_alloc_batch). A socket whose fill ring holds F buffers and is never
// refilled: the bind's refill takes all F (a short take: igb asks for its
// whole ring), the refills after the frames arrive find it empty, and the
// driver never obtains more than F buffers. All frames go to the socket
// (no --match, and RSS on queue 0 alone), so no buffer comes back to the
// pool by an XDP_PASS: obtained buffers == F == frames the socket received.
TEST_F(IgbProbesTest, ZerocopyRxFillTakesNeverExceedTheFillRing) {
  constexpr uint32_t kFill = 16;
  constexpr int kFrames = 64;
  if (RunningKernelSeries() < KernelSeries(6, 14))
    XSKIT_SKIP(absl::StrCat("igb has AF_XDP zero-copy from 6.14; this is ", RunningKernelRelease()));
  if (ModeOf(XSK_PROBES_SIG_ZC_RX_FILL) != XSK_PROBES_MODE_FENTRY)
    XSKIT_SKIP("the zero-copy fill signal needs fentry (probe mode: " +
               std::string(ProbeModeName(ModeOf(XSK_PROBES_SIG_ZC_RX_FILL))) + ")");
  ASSERT_TRUE(Ethtool(net_->ns_a(), {"-X", net_->dev_a(), "equal", "1"})) << "RSS onto queue 0";
  absl::Cleanup rss = [&] {
    Ethtool(net_->ns_a(), {"-X", net_->dev_a(), "default"});
    WaitForCarrier(net_->ns_a(), net_->dev_a());
  };
  TestPinRoot steer_root("zcrx");
  CmdResult a = RunLoader(steer_root.path(), net_->ns_a(),
                          {"attach", net_->dev_a(), "--mode", "native", "--zerocopy", "--no-probes"});
  ASSERT_EQ(a.status, 0) << a.output;
  absl::Cleanup detach = [&] { RunLoader(steer_root.path(), net_->ns_a(), {"detach", net_->dev_a()}); };
  ASSERT_TRUE(WaitForCarrier(net_->ns_a(), net_->dev_a()));
  const xsk_probes_zc z0 = Zc(where_, 0);
  std::unique_ptr<XskSocket> s;
  InNetns(net_->ns_a(), [&] {
    XskSocket::Options opts;
    opts.fill_size = kFill;
    opts.pin_root = steer_root.path();
    auto r = XskSocket::Open(net_->dev_a(), 0, opts);
    ASSERT_TRUE(r.ok()) << r.status();
    s = std::move(*r);
  });
  ASSERT_TRUE(s);
  auto zc = s->IsZerocopy();
  ASSERT_TRUE(zc.ok() && *zc) << "the socket bound in zero-copy mode";
  ASSERT_TRUE(WaitForCarrier(net_->ns_a(), net_->dev_a()) && WaitForCarrier(net_->ns_b(), net_->dev_b()));
  SendPaced(net_->ns_b(), net_->dev_b(), UdpFrames(*net_, kFrames, 4791));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const xsk_probes_zc z = Delta(z0, Zc(where_, 0));
  std::printf("  zc q0 rx: takes %llu, wanted %llu, obtained %llu, short %llu, empty %llu\n",
              (unsigned long long)z.rx_alloc_calls, (unsigned long long)z.rx_alloc_wanted,
              (unsigned long long)z.rx_alloc_frames, (unsigned long long)z.rx_alloc_short,
              (unsigned long long)z.rx_alloc_empty);
  EXPECT_EQ(z.rx_alloc_frames, kFill) << "the driver obtained every buffer of the fill ring, no more";
  EXPECT_GT(z.rx_alloc_wanted, uint64_t{kFill}) << "igb asks for its whole Rx ring";
  EXPECT_GE(z.rx_alloc_short, 1u) << "the bind's refill came back short";
  EXPECT_GE(z.rx_alloc_empty, 1u) << "the refills after the frames found the fill ring empty";
  EXPECT_EQ(ReceiveAll(*s, kFill), uint64_t{kFill}) << "every buffer taken carried a frame to the socket";
}

}  // namespace
}  // namespace xskit::testing

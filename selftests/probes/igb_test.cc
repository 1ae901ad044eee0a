// Tier `probes`: the copy-mode signals on an Intel driver, igb (the
// kernel-matrix VM's pair, XSKIT_IGB_PAIR; qemu's -device igb). igb has no
// IFF_TX_SKB_NO_LINEAR and completes transmits from its Tx interrupt, not
// synchronously as veth does: descriptors per sendmsg, linear skbs and the
// CQ-full cause, exactly. On 6.14+ with fentry, the zero-copy driver side
// (Tx batches, completions, wakeups, need_wakeup, fill-ring takes), in the
// probe maps, `status --json` and a real xsk-exporter's xsk_zc_* series.
#include "lib/driver_table.h"
#include "nlohmann/json.hpp"
#include "selftests/lib/exposition.h"
#include "selftests/lib/http.h"
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

  // Zero-copy steering on dev_a under the probes' own pin root, as a
  // deployment has it (`xsk-loader attach --zerocopy` beside the probes):
  // the exporter started on that root names the device by its pin
  // directory. DetachZerocopy keeps the probes for the next test.
  CmdResult AttachZerocopy() {
    return RunLoader(root_->path(), net_->ns_a(),
                     {"attach", net_->dev_a(), "--mode", "native", "--zerocopy", "--no-probes"});
  }
  void DetachZerocopy() {
    CmdResult d = RunLoader(root_->path(), net_->ns_a(), {"detach", net_->dev_a(), "--keep-probes"});
    EXPECT_EQ(d.status, 0) << d.output;
  }

  // One scrape of a real xsk-exporter over the probes' pin root.
  Exposition Scrape() {
    std::string body = ScrapeExporterOnce(root_->path());
    EXPECT_FALSE(body.empty()) << "xsk-exporter served no /metrics over " << root_->path();
    return Exposition::Parse(body);
  }

  // dev_a's queue 0 as DESIGN.md's metrics table labels the zero-copy
  // families: the attached interface by its pin directory's ifname and
  // netns (the name under /run/netns), and the queue.
  SeriesLabels Queue0() const {
    return {{"ifname", net_->dev_a()}, {"netns", net_->ns_a()}, {"queue", "0"}};
  }

  std::unique_ptr<NetnsPair> net_;
  Where where_;
};

// The exporter's value lies between two reads of the probe maps taken
// just before and just after its scrape (equal when nothing moved).
void ExpectBracketed(uint64_t before, double exported, uint64_t after, const std::string& what) {
  EXPECT_LE(static_cast<double>(before), exported) << what << ": exporter vs the probe maps";
  EXPECT_LE(exported, static_cast<double>(after)) << what << ": exporter vs the probe maps";
}

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
// (fentry) are K x D descriptors in K batches of D, K x D completions; in
// every probe mode, one driver wakeup per sendto (igb never clears the Tx
// need_wakeup flag). Every view agrees: the probe maps, `status --json`,
// and the exporter's series (scraped before and after: the same growth,
// with DESIGN.md's labels; without fentry the driver-side families are
// absent and xsk_probe_coverage says why).
TEST_F(IgbProbesTest, ZerocopyTxDriverBatchesAndCompletionsAreExact) {
  constexpr uint32_t kCalls = 4, kDescs = 16;
  if (RunningKernelSeries() < KernelSeries(6, 14))
    XSKIT_SKIP(absl::StrCat("igb has AF_XDP zero-copy from 6.14; this is ", RunningKernelRelease()));
  const bool driver_side = ModeOf(XSK_PROBES_SIG_ZC_TX_BATCH) == XSK_PROBES_MODE_FENTRY;
  if (!driver_side) {
    if (const char* e = std::getenv("XSKIT_EXPECT_PROBE_MODE"); e && std::string(e) == "fentry" &&
        !std::getenv("XSKIT_PROBE_MODE"))
      FAIL() << "zc_tx_batch is " << ProbeModeName(ModeOf(XSK_PROBES_SIG_ZC_TX_BATCH))
             << " on a kernel where fentry is expected";
    std::printf("  zc_tx_batch is %s: the driver-side signals are unavailable; wakeups and "
                "need_wakeup checked\n",
                ProbeModeName(ModeOf(XSK_PROBES_SIG_ZC_TX_BATCH)));
  }
  ASSERT_EQ(driver_side, ModeOf(XSK_PROBES_SIG_ZC_COMPLETIONS) == XSK_PROBES_MODE_FENTRY)
      << "driver batches and completions come with fentry together";
  ASSERT_NE(ModeOf(XSK_PROBES_SIG_NEED_WAKEUP), XSK_PROBES_MODE_UNAVAILABLE);
  ASSERT_NE(ModeOf(XSK_PROBES_SIG_ZC_WAKEUPS), XSK_PROBES_MODE_UNAVAILABLE);
  CmdResult a = AttachZerocopy();
  ASSERT_EQ(a.status, 0) << a.output;
  absl::Cleanup detach = [&] { DetachZerocopy(); };
  auto s = OpenSocketIn(net_->ns_a(), net_->dev_a(), 0, root_->path());
  ASSERT_TRUE(s);
  auto zc = s->IsZerocopy();
  ASSERT_TRUE(zc.ok() && *zc) << "the socket bound in zero-copy mode";
  ASSERT_TRUE(WaitForCarrier(net_->ns_a(), net_->dev_a())) << "carrier after the zero-copy bind";

  const xsk_probes_zc z0 = Zc(where_, 0);
  const Exposition m0 = Scrape();  // the exporter before the workload
  ASSERT_FALSE(m0.empty());
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
  if (driver_side) {
    EXPECT_EQ(z.tx_descs, uint64_t{kCalls} * kDescs) << "descriptors the driver took (K x D)";
    EXPECT_EQ(z.completions, uint64_t{kCalls} * kDescs) << "descriptors the driver completed (K x D)";
    EXPECT_GE(z.completion_calls, 1u);
    EXPECT_LE(z.completion_calls, uint64_t{kCalls} * kDescs);
    EXPECT_EQ(z.tx_batches - z.tx_hist[0], kCalls)
        << "one non-empty driver batch per sendto (each submitted at once, completed before the next)";
    EXPECT_EQ(z.tx_hist[ExpectedBucket(kDescs)], kCalls) << "each batch took " << kDescs;
  } else {
    EXPECT_EQ(z.tx_batches, 0u) << "no driver-side counts without fentry";
    EXPECT_EQ(z.tx_descs, 0u);
    EXPECT_EQ(z.completion_calls, 0u);
    EXPECT_EQ(z.completions, 0u);
  }
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

  // xsk-exporter renders the same counters: its series grew by the same
  // ground truth between a scrape before the workload and one after, and
  // each lies between the probe-map reads around its scrape.
  const xsk_probes_zc before = Zc(where_, 0);
  const Exposition m1 = Scrape();
  const xsk_probes_zc after = Zc(where_, 0);
  ASSERT_FALSE(m1.empty());
  const uint32_t driver_mode = driver_side ? XSK_PROBES_MODE_FENTRY : XSK_PROBES_MODE_UNAVAILABLE;
  const std::pair<const char*, uint32_t> coverage[] = {
      {"zc_tx_batch", driver_mode},
      {"zc_completions", driver_mode},
      {"zc_wakeups", ModeOf(XSK_PROBES_SIG_ZC_WAKEUPS)},
      {"need_wakeup", ModeOf(XSK_PROBES_SIG_NEED_WAKEUP)}};
  for (const auto& [signal, mode] : coverage) {
    auto cov = m1.Find("xsk_probe_coverage", {{"signal", signal}});
    ASSERT_EQ(cov.size(), 1u) << "one coverage series for " << signal;
    EXPECT_EQ(cov[0]->labels.at("mode"), ProbeModeName(mode)) << signal;
  }
  const SeriesLabels q = Queue0();
  auto grew = [&](const std::string& name, const SeriesLabels& l) {
    EXPECT_TRUE(m1.Value(name, l)) << name << " with exactly the labels of DESIGN.md's table";
    return m1.CounterOr0(name, l) - m0.CounterOr0(name, l);
  };
  EXPECT_EQ(grew("xsk_zc_driver_wakeups_total", With(q, "call", "sendmsg")), kCalls)
      << "exporter: one driver wakeup per sendto";
  const std::string nw = "xsk_tx_sendmsg_need_wakeup_calls_total";
  EXPECT_EQ(grew(nw, With(q, "need_wakeup", "set")), kCalls) << "exporter: need_wakeup set at every sendto";
  EXPECT_EQ(grew(nw, With(q, "need_wakeup", "clear")), 0) << "exporter: igb never clears it";
  ExpectBracketed(before.wakeups_sendmsg,
                  m1.CounterOr0("xsk_zc_driver_wakeups_total", With(q, "call", "sendmsg")),
                  after.wakeups_sendmsg, "sendmsg wakeups");
  ExpectBracketed(before.wakeups_poll, m1.CounterOr0("xsk_zc_driver_wakeups_total", With(q, "call", "poll")),
                  after.wakeups_poll, "poll wakeups");
  ExpectBracketed(before.sendmsg_need_wakeup, m1.CounterOr0(nw, With(q, "need_wakeup", "set")),
                  after.sendmsg_need_wakeup, "need_wakeup set");
  ExpectBracketed(before.sendmsg_no_need_wakeup, m1.CounterOr0(nw, With(q, "need_wakeup", "clear")),
                  after.sendmsg_no_need_wakeup, "need_wakeup clear");

  const std::string hist = "xsk_zc_tx_descriptors_per_batch";
  if (!driver_side) {
    const std::string absent[] = {"xsk_zc_tx_batches_total", "xsk_zc_tx_descriptors_total",
                                  "xsk_zc_tx_completion_calls_total", "xsk_zc_tx_completions_total",
                                  hist + "_count"};
    for (const std::string& name : absent)
      EXPECT_TRUE(m1.Find(name).empty()) << name << ": a signal the probe mode cannot see is absent";
    return;
  }
  const double kd = double{kCalls} * kDescs;
  EXPECT_EQ(grew("xsk_zc_tx_descriptors_total", q), kd) << "exporter: driver descriptors (K x D)";
  EXPECT_EQ(grew("xsk_zc_tx_completions_total", q), kd) << "exporter: completions (K x D)";
  const double comp_calls = grew("xsk_zc_tx_completion_calls_total", q);
  EXPECT_GE(comp_calls, 1);
  EXPECT_LE(comp_calls, kd);
  EXPECT_EQ(grew(hist + "_sum", q), kd) << "exporter: the batch histogram's sum";
  EXPECT_EQ(grew(hist + "_count", q) - grew(hist + "_bucket", With(q, "le", "0")), kCalls)
      << "exporter: one non-empty driver batch per sendto";
  EXPECT_EQ(grew(hist + "_bucket", With(q, "le", "31")) - grew(hist + "_bucket", With(q, "le", "15")),
            kCalls)
      << "exporter: each batch of " << kDescs << " in le=31";
  ExpectBracketed(before.tx_descs, m1.CounterOr0("xsk_zc_tx_descriptors_total", q), after.tx_descs,
                  "driver descriptors");
  ExpectBracketed(before.tx_batches, m1.CounterOr0("xsk_zc_tx_batches_total", q), after.tx_batches,
                  "driver batches");
  ExpectBracketed(before.tx_batches, m1.CounterOr0(hist + "_count", q), after.tx_batches,
                  "batch histogram count");
  ExpectBracketed(before.tx_hist[0], m1.CounterOr0(hist + "_bucket", With(q, "le", "0")), after.tx_hist[0],
                  "empty driver batches");
  ExpectBracketed(before.completions, m1.CounterOr0("xsk_zc_tx_completions_total", q), after.completions,
                  "completions");
  ExpectBracketed(before.completion_calls, m1.CounterOr0("xsk_zc_tx_completion_calls_total", q),
                  after.completion_calls, "completion calls");
}

// Zero-copy Rx: the driver fills its Rx ring from the socket's fill ring
// (xp_alloc_batch). A socket whose fill ring holds F buffers and is never
// refilled: the bind's refill takes all F (a short take: igb asks for its
// whole ring), the refills after the frames arrive find it empty, and the
// driver never obtains more than F buffers. All frames go to the socket
// (no --match, and RSS on queue 0 alone), so no buffer comes back to the
// pool by an XDP_PASS: obtained buffers == F == frames the socket received,
// in the probe maps and in the exporter's xsk_zc_fill_* series.
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
  CmdResult a = AttachZerocopy();
  ASSERT_EQ(a.status, 0) << a.output;
  absl::Cleanup detach = [&] { DetachZerocopy(); };
  ASSERT_TRUE(WaitForCarrier(net_->ns_a(), net_->dev_a()));
  const xsk_probes_zc z0 = Zc(where_, 0);
  const Exposition m0 = Scrape();  // the exporter before the socket's bind
  ASSERT_FALSE(m0.empty());
  std::unique_ptr<XskSocket> s;
  InNetns(net_->ns_a(), [&] {
    XskSocket::Options opts;
    opts.fill_size = kFill;
    opts.pin_root = root_->path();
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
  // xsk-exporter, before the socket hands any buffer back: the same F
  // buffers obtained, and every fill series between the probe-map reads
  // around its scrape.
  const xsk_probes_zc before = Zc(where_, 0);
  const Exposition m1 = Scrape();
  const xsk_probes_zc after = Zc(where_, 0);
  ASSERT_FALSE(m1.empty());
  auto cov = m1.Find("xsk_probe_coverage", {{"signal", "zc_rx_fill"}});
  ASSERT_EQ(cov.size(), 1u) << "one coverage series for zc_rx_fill";
  EXPECT_EQ(cov[0]->labels.at("mode"), "fentry");
  const SeriesLabels q = Queue0();
  for (const char* name : {"xsk_zc_fill_takes_total", "xsk_zc_fill_buffers_wanted_total",
                           "xsk_zc_fill_buffers_total", "xsk_zc_fill_short_takes_total",
                           "xsk_zc_fill_empty_takes_total"})
    EXPECT_TRUE(m1.Value(name, q)) << name << " with exactly the labels of DESIGN.md's table";
  auto grew = [&](const std::string& name) { return m1.CounterOr0(name, q) - m0.CounterOr0(name, q); };
  EXPECT_EQ(grew("xsk_zc_fill_buffers_total"), kFill)
      << "exporter: the driver obtained the fill ring's F buffers";
  EXPECT_GT(grew("xsk_zc_fill_buffers_wanted_total"), kFill) << "exporter: igb asks for its whole Rx ring";
  EXPECT_GE(grew("xsk_zc_fill_short_takes_total"), 1) << "exporter: the bind's short take";
  EXPECT_GE(grew("xsk_zc_fill_empty_takes_total"), 1) << "exporter: refills that found the ring empty";
  ExpectBracketed(before.rx_alloc_calls, m1.CounterOr0("xsk_zc_fill_takes_total", q), after.rx_alloc_calls,
                  "fill takes");
  ExpectBracketed(before.rx_alloc_wanted, m1.CounterOr0("xsk_zc_fill_buffers_wanted_total", q),
                  after.rx_alloc_wanted, "buffers wanted");
  ExpectBracketed(before.rx_alloc_frames, m1.CounterOr0("xsk_zc_fill_buffers_total", q),
                  after.rx_alloc_frames, "buffers obtained");
  ExpectBracketed(before.rx_alloc_short, m1.CounterOr0("xsk_zc_fill_short_takes_total", q),
                  after.rx_alloc_short, "short takes");
  ExpectBracketed(before.rx_alloc_empty, m1.CounterOr0("xsk_zc_fill_empty_takes_total", q),
                  after.rx_alloc_empty, "empty takes");

  // Receive() refills the fill ring and wakes the driver: last.
  EXPECT_EQ(ReceiveAll(*s, kFill), uint64_t{kFill}) << "every buffer taken carried a frame to the socket";
}

}  // namespace
}  // namespace xskit::testing

// Tier `probes`: the copy-mode signals on an Intel driver, igb (the
// kernel-matrix VM's pair, XSKIT_IGB_PAIR; qemu's -device igb). igb has no
// IFF_TX_SKB_NO_LINEAR and completes transmits from its Tx interrupt, not
// synchronously as veth does: descriptors per sendmsg, linear skbs and the
// CQ-full cause, exactly.
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

}  // namespace
}  // namespace xskit::testing

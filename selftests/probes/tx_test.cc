// Tier `probes`: the probe mode and the transmit path (batches, causes of short
// sends, poll-driven transmit, completion latency).
// Fixture and helpers: selftests/probes/fixture.h.
#include <bpf/btf.h>

#include "nlohmann/json.hpp"
#include "selftests/lib/bench_run.h"
#include "selftests/lib/nic_pair.h"
#include "selftests/probes/fixture.h"

namespace xskit::testing {
namespace {

TEST_F(ProbesTest, ModeIsTheExpectedOne) {
  auto signals = SignalsOf(probes_->info());
  ASSERT_EQ(signals.size(), static_cast<size_t>(XSK_PROBES_NR_SIGNALS)) << "signals in probes_info";
  for (const auto& s : signals)
    std::printf("  %-18s %-11s %s\n", SignalName(s.signal), ProbeModeName(s.mode),
                s.reason.c_str());
  // The mode the batch signal got, for the kernel-matrix summary table.
  ::testing::Test::RecordProperty("probe_mode", ProbeModeName(signals[XSK_PROBES_SIG_BATCH].mode));
  const char* expect_env = std::getenv("XSKIT_EXPECT_PROBE_MODE");
  if (!expect_env) XSKIT_SKIP("XSKIT_EXPECT_PROBE_MODE not set: no mode to assert");
  // tracepoint-probe-read is tracepoint mode with the Tx fallback forced.
  const bool probe_read = std::strcmp(expect_env, "tracepoint-probe-read") == 0;
  const char* expect = probe_read ? "tracepoint" : expect_env;
  for (auto sig : {XSK_PROBES_SIG_BATCH, XSK_PROBES_SIG_BACKPRESSURE, XSK_PROBES_SIG_OUTSTANDING,
                   XSK_PROBES_SIG_SKB_BUILD, XSK_PROBES_SIG_DRIVER_BUSY})
    EXPECT_STREQ(ProbeModeName(signals[sig].mode), expect)
        << "mode of " << SignalName(sig) << ": " << signals[sig].reason;
  if (std::strcmp(expect, "tracepoint") == 0) {
    // The Tx variant: plain loads wherever the kernel's BTF has the
    // bpf_rdonly_cast kfunc (6.2+), unless the probe-read one is forced.
    std::unique_ptr<btf, void (*)(btf*)> vmlinux(btf__load_vmlinux_btf(), btf__free);
    ASSERT_TRUE(vmlinux) << "read /sys/kernel/btf/vmlinux";
    const bool rdonly_cast =
        btf__find_by_name_kind(vmlinux.get(), "bpf_rdonly_cast", BTF_KIND_FUNC) > 0;
    const char* want = !probe_read && rdonly_cast ? "plain loads" : "probe reads";
    EXPECT_NE(signals[XSK_PROBES_SIG_BATCH].reason.find(want), std::string::npos)
        << "batch on " << RunningKernelRelease() << " (bpf_rdonly_cast "
        << (rdonly_cast ? "in BTF" : "not in BTF") << "): reason lacks '" << want
        << "': " << signals[XSK_PROBES_SIG_BATCH].reason;
  }
  if (std::strcmp(expect, "fentry") == 0) {
    for (auto sig : {XSK_PROBES_SIG_POLL_TX, XSK_PROBES_SIG_ALLOC_FAIL,
                     XSK_PROBES_SIG_BULK_ALLOC, XSK_PROBES_SIG_NAPI_BUILD})
      EXPECT_STREQ(ProbeModeName(signals[sig].mode), "fentry")
          << "mode of " << SignalName(sig) << ": " << signals[sig].reason;
  }
  // Every kernel of the matrix has tp_btf: the classic tracepoints are the
  // fallback for older ones, so landing there means a drop or XDP program
  // failed to verify.
  for (auto sig : {XSK_PROBES_SIG_DROPS, XSK_PROBES_SIG_XDP_ERRORS})
    EXPECT_STREQ(ProbeModeName(signals[sig].mode), "tp_btf")
        << "mode of " << SignalName(sig) << ": " << signals[sig].reason;
}

// The need_wakeup state at sendmsg (fentry and tracepoint mode alike): a
// copy-mode socket's Tx need_wakeup is set from the bind on (no driver
// clears it), so every non-blocking sendto finds it set; a blocking one
// fails with EOPNOTSUPP before looking and is not counted. A copy-mode
// sendto transmits itself: no driver wakeup.
TEST_F(ProbesTest, NeedWakeupStateIsCountedPerNonBlockingSendto) {
  constexpr uint32_t kCalls = 6;
  NetnsPair net;
  Where a = WhereIs(net.ns_a(), net.dev_a());
  auto s = testing::CreateSocketIn(net.ns_a(), net.dev_a(), 0);
  ASSERT_TRUE(s);
  const xsk_probes_zc z0 = Zc(a, 0);
  auto frame = Frame(net);
  for (uint32_t k = 0; k < kCalls; k++) {
    ASSERT_EQ(SendBatch(*s, frame, k % 3), 0) << "sendto " << k;
    Reap(*s);
  }
  EXPECT_EQ(::sendto(s->fd(), nullptr, 0, 0, nullptr, 0), -1) << "a blocking sendto";
  EXPECT_EQ(errno, EOPNOTSUPP);
  const xsk_probes_zc z = Delta(z0, Zc(a, 0));
  EXPECT_EQ(z.sendmsg_need_wakeup, kCalls) << "non-blocking sendto calls that found need_wakeup set";
  EXPECT_EQ(z.sendmsg_no_need_wakeup, 0u);
  EXPECT_EQ(z.wakeups_sendmsg, 0u) << "copy mode wakes no driver";
  EXPECT_EQ(z.tx_batches, 0u) << "no zero-copy driver batches on a copy-mode socket";
  EXPECT_EQ(z.completions, 0u);
}

TEST_F(ProbesTest, BatchHistogramAndTotalsAreExact) {
  NetnsPair net;
  Where a = WhereIs(net.ns_a(), net.dev_a());
  auto s = testing::CreateSocketIn(net.ns_a(), net.dev_a(), 0);
  ASSERT_TRUE(s);
  const xsk_probes_tx tx0 = Tx(a, 0);
  const auto errs0 = TxErrors(a, 0);
  auto frame = Frame(net);
  const uint32_t sizes[] = {0, 1, 2, 3, 4, 7, 8, 15, 16, 31, 32, 0, 5, 1};
  uint64_t hist[XSK_PROBES_BATCH_BUCKETS] = {};
  uint64_t descs = 0;
  for (uint32_t n : sizes) {
    ASSERT_EQ(SendBatch(*s, frame, n), 0) << "sendto with " << n << " descriptors";
    Reap(*s);
    hist[ExpectedBucket(n)]++;
    descs += n;
  }
  xsk_probes_tx tx = Delta(tx0, Tx(a, 0));
  EXPECT_EQ(tx.calls, std::size(sizes)) << "sendto calls";
  EXPECT_EQ(tx.descs, descs) << "descriptors transmitted";
  for (int i = 0; i < XSK_PROBES_BATCH_BUCKETS; i++)
    EXPECT_EQ(tx.hist[i], hist[i]) << "batch bucket " << i << " (from " << BatchBucketLow(i) << ")";
  EXPECT_EQ(tx.hist[0], 2u) << "wasted wakeups";
  EXPECT_EQ(tx.errors, 0u) << "errors";
  EXPECT_TRUE(Delta(errs0, TxErrors(a, 0)).empty()) << "no error causes";
  // veth has no IFF_TX_SKB_NO_LINEAR: every copy-mode skb is linear.
  EXPECT_EQ(tx.linear_skbs, descs) << "linear skbs";
  EXPECT_EQ(tx.frag_skbs, 0u) << "frag skbs";
  EXPECT_EQ(tx.cq_size, XskSocket::Options{}.comp_size) << "CQ size gauge";
  EXPECT_EQ(tx.in_flight, 0u) << "veth completes synchronously";
}

TEST_F(ProbesTest, BudgetExhaustedIsTheOnlyCause) {
  NetnsPair net;
  Where a = WhereIs(net.ns_a(), net.dev_a());
  auto s = testing::CreateSocketIn(net.ns_a(), net.dev_a(), 0);
  ASSERT_TRUE(s);
  const xsk_probes_tx tx0 = Tx(a, 0);
  const auto errs0 = TxErrors(a, 0);
  auto frame = Frame(net);
  // 64 descriptors: the first call stops at the 32-descriptor budget.
  EXPECT_EQ(SendBatch(*s, frame, 64), EAGAIN) << "first sendto hits the budget";
  s->Complete();
  EXPECT_EQ(SendBatch(*s, frame, 0), 0) << "second sendto sends the rest";
  Reap(*s);
  xsk_probes_tx tx = Delta(tx0, Tx(a, 0));
  EXPECT_EQ(tx.calls, 2u);
  EXPECT_EQ(tx.descs, 64u);
  EXPECT_EQ(tx.hist[ExpectedBucket(32)], 2u) << "two calls of 32";
  EXPECT_EQ(tx.errors, 1u);
  EXPECT_EQ(tx.tx_budget, 32u) << "budget gauge";
  auto errs = Delta(errs0, TxErrors(a, 0));
  ASSERT_EQ(errs.size(), 1u) << "exactly one (errno, cause)";
  EXPECT_EQ(errs.begin()->first.first, static_cast<uint32_t>(EAGAIN)) << "errno";
  EXPECT_STREQ(CauseName(errs.begin()->first.second), "budget") << "cause";
  EXPECT_EQ(errs.begin()->second, 1u) << "calls";
}

// XDP_MAX_TX_SKB_BUDGET (6.17+) raises the per-call budget: with 64, a
// workload of 5 * 64 + 1 descriptors takes six sendto calls, the first
// five stopping at the budget (one `budget` EAGAIN per 64 descriptors
// followed by more), the last sending the one left; the probes read the
// socket's budget (the gauge) in fentry and tracepoint mode alike.
TEST_F(ProbesTest, TxBudgetSockoptGivesOneBudgetStopPer64) {
  constexpr uint32_t kBudget = 64, kFull = 5, kDescs = kFull * kBudget + 1;
  bool have = false;
  for (const auto& p : ProbeXskSockopts())
    if (p.name == "XDP_MAX_TX_SKB_BUDGET") have = p.present;
  if (!have) XSKIT_SKIP("this kernel has no XDP_MAX_TX_SKB_BUDGET (6.17+)");
  NetnsPair net;
  Where a = WhereIs(net.ns_a(), net.dev_a());
  auto s = testing::CreateSocketIn(net.ns_a(), net.dev_a(), 0);
  ASSERT_TRUE(s);
  uint32_t budget = kBudget;
  ASSERT_EQ(::setsockopt(s->fd(), SOL_XDP, 9 /* XDP_MAX_TX_SKB_BUDGET */, &budget, sizeof(budget)), 0)
      << std::strerror(errno);
  const xsk_probes_tx tx0 = Tx(a, 0);
  const auto errs0 = TxErrors(a, 0);
  auto frame = Frame(net);
  ASSERT_EQ(s->QueueTx(kDescs, frame.size(), [&](uint32_t, std::span<uint8_t> b) {
              std::memcpy(b.data(), frame.data(), frame.size());
            }),
            kDescs);
  for (uint32_t i = 0; i < kFull; i++) {
    EXPECT_EQ(s->Kick(), EAGAIN) << "sendto " << i + 1 << " stops at the budget of " << kBudget;
    s->Complete();
  }
  EXPECT_EQ(s->Kick(), 0) << "the last sendto sends the one descriptor left";
  Reap(*s);
  xsk_probes_tx tx = Delta(tx0, Tx(a, 0));
  EXPECT_EQ(tx.calls, kFull + 1) << "sendto calls";
  EXPECT_EQ(tx.descs, kDescs) << "descriptors transmitted";
  EXPECT_EQ(tx.hist[ExpectedBucket(kBudget)], kFull) << "calls of 64";
  EXPECT_EQ(tx.hist[ExpectedBucket(1)], 1u) << "the call of 1";
  EXPECT_EQ(tx.errors, kFull);
  EXPECT_EQ(tx.tx_budget, kBudget) << "budget gauge: the socket's XDP_MAX_TX_SKB_BUDGET";
  auto errs = Delta(errs0, TxErrors(a, 0));
  ASSERT_EQ(errs.size(), 1u) << "exactly one (errno, cause)";
  EXPECT_EQ(errs.begin()->first.first, static_cast<uint32_t>(EAGAIN)) << "errno";
  EXPECT_STREQ(CauseName(errs.begin()->first.second), "budget") << "cause";
  EXPECT_EQ(errs.begin()->second, kFull) << "one budget stop per 64 descriptors followed by more";
}

// The same budget set the way operators set it, with xsk-bench --tx-budget
// 64: 6,500 descriptors queued 65 at a time. Every sendto that stops at the
// budget sent exactly 64 and returned EAGAIN (at most 101 of them: 6,500 =
// 101 * 64 + 36); the probes count exactly the EAGAINs xsk-bench got back,
// every one of cause `budget`, and every descriptor. (How many stops there
// are depends on how fast completions return to xsk-bench, hence "the
// EAGAINs it got" rather than a fixed 101.)
TEST_F(ProbesTest, XskBenchTxBudgetStopsEvery64Descriptors) {
  constexpr uint64_t kDescs = 6500, kBudget = 64;
  bool have = false;
  for (const auto& p : ProbeXskSockopts())
    if (p.name == "XDP_MAX_TX_SKB_BUDGET") have = p.present;
  if (!have) XSKIT_SKIP("this kernel has no XDP_MAX_TX_SKB_BUDGET (6.17+)");
  NetnsPair net;
  std::vector<std::string> args = TxOnlyToB(net);
  for (const char* a : {"-Q", "--json", "-C", "6500", "-b", "65", "--tx-budget", "64", "--ring-size", "2048"})
    args.push_back(a);
  CmdResult r = RunCmd(BenchArgv(root_->path(), args), net.ns_a());
  ASSERT_EQ(r.status, 0) << r.output;
  nlohmann::json j = BenchResult(r);
  ASSERT_TRUE(j.is_object()) << r.output;
  ASSERT_TRUE(j["sockopts"]["tx_budget"].value("applied", false)) << j["sockopts"].dump();
  const uint64_t eagain = j["sendmsg"]["errors"]["EAGAIN"].get<uint64_t>();
  EXPECT_EQ(j["sendmsg"]["descs"].get<uint64_t>(), kDescs) << "descriptors xsk-bench sent";
  EXPECT_GE(eagain, 1u) << "xsk-bench kept more than 64 pending at least once";
  EXPECT_LE(eagain, (kDescs - 1) / kBudget) << "each stop sent 64";

  const nlohmann::json& p = j["probes"];
  ASSERT_TRUE(p.value("attached", false)) << p.dump();
  const nlohmann::json& tx = p["tx"];
  EXPECT_EQ(tx["descs"].get<uint64_t>(), kDescs) << "descriptors the probes saw";
  EXPECT_EQ(tx["sendmsg_calls"], j["sendmsg"]["calls"]) << "sendto calls: probes vs xsk-bench";
  EXPECT_EQ(tx["tx_budget"].get<uint64_t>(), kBudget) << "budget gauge";
  uint64_t calls_of_64 = 0;
  for (const auto& b : tx["batch_hist"])
    if (b["low"].get<uint64_t>() == kBudget) calls_of_64 = b["calls"].get<uint64_t>();
  EXPECT_GE(calls_of_64, eagain) << "every stop at the budget sent 64 (no more can be sent by one call)";
  ASSERT_EQ(p["backpressure"].size(), 1u) << "exactly one (errno, cause): " << p["backpressure"].dump();
  EXPECT_EQ(p["backpressure"][0]["cause"], "budget");
  EXPECT_EQ(p["backpressure"][0]["errno"], EAGAIN) << "the errno's number, as status prints it";
  EXPECT_EQ(p["backpressure"][0]["errno_name"], "EAGAIN");
  EXPECT_EQ(p["backpressure"][0]["calls"].get<uint64_t>(), eagain)
      << "the probes' budget stops are the EAGAINs xsk-bench got";
}

TEST_F(ProbesTest, CompletionQueueFullIsTheOnlyCause) {
  NetnsPair net;
  Where a = WhereIs(net.ns_a(), net.dev_a());
  XskSocket::Options opts;
  opts.comp_size = 32;
  auto s = testing::CreateSocketIn(net.ns_a(), net.dev_a(), 0, opts);
  ASSERT_TRUE(s);
  const xsk_probes_tx tx0 = Tx(a, 0);
  const auto errs0 = TxErrors(a, 0);
  auto frame = Frame(net);
  EXPECT_EQ(SendBatch(*s, frame, 32), 0) << "fills the 32-entry CQ";
  // Never reaped: the next call cannot reserve a completion slot.
  int err = SendBatch(*s, frame, 8);
  xsk_probes_tx tx = Delta(tx0, Tx(a, 0));
  EXPECT_EQ(tx.calls, 2u);
  EXPECT_EQ(tx.descs, 32u) << "nothing sent once the CQ is full";
  EXPECT_EQ(tx.cq_size, 32u) << "CQ size gauge";
  EXPECT_EQ(tx.cq_pending, 32u) << "transmitted, not reaped";
  auto errs = Delta(errs0, TxErrors(a, 0));
  ASSERT_EQ(errs.size(), 1u) << "exactly one (errno, cause)";
  EXPECT_STREQ(CauseName(errs.begin()->first.second), "cq_full") << "cause";
  EXPECT_EQ(errs.begin()->first.first, static_cast<uint32_t>(err))
      << "errno as the call returned it (0: a kernel that stalls without an error)";
  EXPECT_EQ(errs.begin()->second, 1u);
  EXPECT_EQ(tx.errors + tx.stalls, 1u) << "one error or stall";
}

// poll() drives copy-mode Tx too (xsk_poll with need_wakeup): counted as
// poll-driven descriptors, apart from sendmsg's calls and histogram.
TEST_F(ProbesTest, PollDrivenTransmitIsCountedApart) {
  auto signals = SignalsOf(probes_->info());
  if (signals[XSK_PROBES_SIG_POLL_TX].mode != XSK_PROBES_MODE_FENTRY)
    XSKIT_SKIP("poll-driven Tx needs fentry on xsk_poll: " +
               signals[XSK_PROBES_SIG_POLL_TX].reason);
  NetnsPair net;
  Where a = WhereIs(net.ns_a(), net.dev_a());
  auto s = testing::CreateSocketIn(net.ns_a(), net.dev_a(), 0);
  ASSERT_TRUE(s);
  auto frame = Frame(net);
  constexpr uint32_t kFrames = 20;
  const xsk_probes_tx tx0 = Tx(a, 0);
  ASSERT_EQ(s->QueueTx(kFrames, frame.size(), [&](uint32_t, std::span<uint8_t> b) {
              std::memcpy(b.data(), frame.data(), frame.size());
            }),
            kFrames);
  pollfd pfd{.fd = s->fd(), .events = POLLOUT, .revents = 0};
  ASSERT_EQ(::poll(&pfd, 1, 0), 1) << std::strerror(errno);
  Reap(*s);
  xsk_probes_tx tx = Delta(tx0, Tx(a, 0));
  EXPECT_EQ(tx.poll_calls, 1u) << "one poll()";
  EXPECT_EQ(tx.poll_descs, kFrames) << "descriptors poll() transmitted";
  EXPECT_EQ(tx.calls, 0u) << "no sendmsg";
  EXPECT_EQ(tx.descs, 0u) << "sendmsg's totals untouched";
  EXPECT_EQ(s->outstanding(), 0u) << "all completed";
}

// Waits until `n` completions came back (the held-Tx device flushes 4 s
// after its first kick), so the next test finds the device idle. Returns
// how many came.
TEST_F(ProbesTest, SendBufferFullIsTheOnlyCause) {
  const char* nic = HeldTxNic();
  if (!nic) XSKIT_SKIP("XSKIT_VIRTIO_HELD_TX not set (needs the VM's held-Tx virtio_net NIC)");
  Where w = WhereHere(nic);
  auto s = HeldTxSocket(nic, 0, false);  // clamped up to SOCK_MIN_SNDBUF
  ASSERT_TRUE(s);
  const xsk_probes_tx tx0 = Tx(w, 0);
  const auto errs0 = TxErrors(w, 0);
  EXPECT_EQ(SendBatch(*s, HeldTxFrame(), 8), EAGAIN) << "sendto with a full send buffer";
  xsk_probes_tx tx = Delta(tx0, Tx(w, 0));
  auto errs = Delta(errs0, TxErrors(w, 0));
  uint32_t done = AwaitCompletions(*s, tx.descs);
  EXPECT_EQ(tx.calls, 1u);
  EXPECT_GE(tx.descs, 1u) << "the first skb always fits";
  EXPECT_LT(tx.descs, 8u) << "the send buffer stopped the call";
  EXPECT_EQ(tx.frag_skbs, tx.descs) << "frag-built skbs (IFF_TX_SKB_NO_LINEAR)";
  // What fills the buffer: skbs the device still holds at exit.
  EXPECT_GE(tx.in_flight, 1u) << "transmitted, not completed at exit";
  EXPECT_LE(tx.in_flight, tx.descs);
  EXPECT_EQ(tx.errors, 1u);
  ASSERT_EQ(errs.size(), 1u) << "exactly one (errno, cause)";
  EXPECT_EQ(errs.begin()->first.first, static_cast<uint32_t>(EAGAIN)) << "errno";
  EXPECT_STREQ(CauseName(errs.begin()->first.second), "sndbuf_full") << "cause";
  EXPECT_EQ(errs.begin()->second, 1u);
  EXPECT_EQ(done, tx.descs) << "the device completed what it held";
}

// A send buffer far larger than the device's Tx ring, the device holding
// its skbs: calls of 32 (the budget, never exceeded) until virtio_net stops
// its queue; the next call meets NETDEV_TX_BUSY, and that is the one cause.
TEST_F(ProbesTest, DriverBusyIsTheOnlyCause) {
  const char* nic = HeldTxNic();
  if (!nic) XSKIT_SKIP("XSKIT_VIRTIO_HELD_TX not set (needs the VM's held-Tx virtio_net NIC)");
  Where w = WhereHere(nic);
  auto s = HeldTxSocket(nic, 64 << 20, true);
  ASSERT_TRUE(s);
  const xsk_probes_tx tx0 = Tx(w, 0);
  const auto errs0 = TxErrors(w, 0);
  auto frame = HeldTxFrame();
  int err = 0, calls = 0;
  // virtio_net's Tx ring has 256 entries: at most 9 full calls fit.
  while (err == 0 && calls < 16) {
    err = SendBatch(*s, frame, 32);
    calls++;
  }
  xsk_probes_tx tx = Delta(tx0, Tx(w, 0));
  auto errs = Delta(errs0, TxErrors(w, 0));
  uint32_t done = AwaitCompletions(*s, tx.descs);
  ASSERT_EQ(err, EAGAIN) << "a call met the stopped queue (after " << calls << " calls)";
  EXPECT_EQ(tx.calls, static_cast<uint64_t>(calls));
  EXPECT_GT(tx.descs, 32u) << "the ring took several calls' worth";
  auto signals = SignalsOf(probes_->info());
  const bool fentry = signals[XSK_PROBES_SIG_DRIVER_BUSY].mode == XSK_PROBES_MODE_FENTRY;
  // fexit sock_alloc_send_pskb also sees the skb built for the refused
  // descriptor (freed, its descriptor cancelled); the derived count cannot.
  EXPECT_EQ(tx.frag_skbs, tx.descs + (fentry ? 1 : 0)) << "skbs built";
  // virtio_net stops its queue with fewer than 2 + MAX_SKB_FRAGS of its 256
  // entries free: that many skbs are in the device at exit. (qemu's timer
  // may have flushed earlier ones already, so descs can exceed 256.)
  EXPECT_GE(tx.in_flight, 256u - 2 - 17) << "skbs the device holds at exit";
  EXPECT_LE(tx.in_flight, tx.descs);
  EXPECT_EQ(tx.errors, 1u);
  ASSERT_EQ(errs.size(), 1u) << "exactly one (errno, cause)";
  EXPECT_EQ(errs.begin()->first.first, static_cast<uint32_t>(EAGAIN)) << "errno";
  EXPECT_STREQ(CauseName(errs.begin()->first.second), "driver_busy") << "cause";
  EXPECT_EQ(errs.begin()->second, 1u);
  if (fentry)
    EXPECT_EQ(tx.xmit_busy, 1u) << "fexit __dev_direct_xmit saw NETDEV_TX_BUSY once";
  EXPECT_EQ(done, tx.descs) << "the device completed what it held";
}

// Completion latency (fentry, behind --latency) on the held-Tx device: every
// skb completes when the device's timer flushes, 4 s after the first kick,
// so every sample lies at or above 2^31 ns and none below.
TEST_F(ProbesTest, CompletionLatencySeesTheHeldBuffers) {
  const char* nic = HeldTxNic();
  if (!nic) XSKIT_SKIP("XSKIT_VIRTIO_HELD_TX not set (needs the VM's held-Tx virtio_net NIC)");
  TestPinRoot lat_root("latency");
  PinLayout lat_pins(lat_root.path());
  ProbeOptions opts;
  opts.mode = ProbeModeFromEnv();
  opts.latency = true;
  bool already = false;
  auto signals = AttachProbes(lat_pins, opts, &already);
  ASSERT_TRUE(signals.ok()) << signals.status().message();
  absl::Cleanup detach = [&] { (void)DetachProbes(lat_pins); };
  if ((*signals)[XSK_PROBES_SIG_LATENCY].mode != XSK_PROBES_MODE_FENTRY)
    XSKIT_SKIP("completion latency needs fentry: " + (*signals)[XSK_PROBES_SIG_LATENCY].reason);
  auto lat_probes = PinnedProbes::Open(lat_pins.ProbesDir());
  ASSERT_TRUE(lat_probes.ok()) << lat_probes.status().message();
  Where w = WhereHere(nic);
  auto s = HeldTxSocket(nic, 64 << 20, true);
  ASSERT_TRUE(s);
  constexpr uint32_t kFrames = 16;
  EXPECT_EQ(SendBatch(*s, HeldTxFrame(), kFrames), 0);
  EXPECT_EQ(AwaitCompletions(*s, kFrames), kFrames) << "the device completed what it held";
  auto rows = lat_probes->ReadLatency();
  ASSERT_TRUE(rows.ok()) << rows.status().message();
  xsk_probes_latency l{};
  for (const auto& [k, v] : *rows)
    if (k.netns_ino == w.netns_ino && k.ifindex == w.ifindex && k.queue == 0) l = v;
  EXPECT_EQ(l.count, kFrames) << "one sample per skb";
  uint64_t at_or_above = 0;
  for (int b = 31; b < XSK_PROBES_LAT_BUCKETS; b++) at_or_above += l.hist[b];
  EXPECT_EQ(at_or_above, l.count) << "every sample >= 2^31 ns (the device held them 4 s)";
  if (l.count) EXPECT_GE(l.sum_ns / l.count, 3'000'000'000ull) << "mean latency";
}


}  // namespace
}  // namespace xskit::testing

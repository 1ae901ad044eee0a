// Tier `probes`: the transmit, backpressure, drop and allocation probes
// against traffic whose ground truth the test generates, checked exactly.
// Each test uses its own namespaces, so its counters have keys of their own
// (netns inode, ifindex, queue) even though the probes are global.
// XSKIT_EXPECT_PROBE_MODE=fentry|tracepoint (the kernel-matrix runner) makes
// the mode an assertion: a silent fallback is a failure.
#include <arpa/inet.h>
#include <poll.h>
#include <sched.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <thread>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "lib/attach.h"
#include "lib/drop_reasons.h"
#include "lib/xsk_probes_prog.h"
#include "xsk/xsk_socket.h"
#include "selftests/lib/alloc_paths.h"
#include "selftests/lib/fixtures.h"
#include "selftests/lib/netns.h"
#include "selftests/lib/workload.h"
#include "lib/sandbox/packet.h"

namespace xskit::testing {
namespace {

struct Where {
  uint64_t netns_ino = 0;
  uint32_t ifindex = 0;
};

// Inside InNetns(): this thread's netns inode and the device's ifindex.
Where WhereIs(const std::string& netns, const std::string& dev) {
  Where w;
  InNetns(netns, [&] {
    struct stat st {};
    if (::stat("/proc/thread-self/ns/net", &st) == 0) w.netns_ino = st.st_ino;
    w.ifindex = if_nametoindex(dev.c_str());
  });
  return w;
}

// The expected batch bucket, written out (not the BPF's arithmetic).
int ExpectedBucket(uint32_t n) {
  if (n == 0) return 0;
  if (n == 1) return 1;
  if (n < 4) return 2;
  if (n < 8) return 3;
  if (n < 16) return 4;
  if (n < 32) return 5;
  if (n < 64) return 6;
  if (n < 128) return 7;
  if (n < 256) return 8;
  return 9;
}

// The calling thread's own netns (the VM's initial one) and `dev` in it.
Where WhereHere(const std::string& dev) {
  Where w;
  struct stat st {};
  if (::stat("/proc/thread-self/ns/net", &st) == 0) w.netns_ino = st.st_ino;
  w.ifindex = if_nametoindex(dev.c_str());
  return w;
}

// The VM's virtio_net NIC whose qemu device holds transmitted buffers for
// 4 s (tx=timer, see selftests/vmtest/run): its skbs stay in flight, so a
// send buffer or the driver's Tx ring fills deterministically. Kept silent
// by the VM's init (no IPv6, no address), so only a test's frames arm the
// device's timer; used in the initial namespace, one test at a time.
const char* HeldTxNic() { return std::getenv("XSKIT_VIRTIO_HELD_TX"); }

// after - before, counters only; gauges from `after`.
xsk_probes_tx Delta(const xsk_probes_tx& before, const xsk_probes_tx& after) {
  xsk_probes_tx d = after;
  d.calls -= before.calls;
  d.descs -= before.descs;
  for (int i = 0; i < XSK_PROBES_BATCH_BUCKETS; i++) d.hist[i] -= before.hist[i];
  d.errors -= before.errors;
  d.stalls -= before.stalls;
  d.linear_skbs -= before.linear_skbs;
  d.frag_skbs -= before.frag_skbs;
  d.alloc_fail -= before.alloc_fail;
  d.xmit_busy -= before.xmit_busy;
  d.poll_calls -= before.poll_calls;
  d.poll_descs -= before.poll_descs;
  return d;
}

template <typename K>
std::map<K, uint64_t> Delta(const std::map<K, uint64_t>& before, std::map<K, uint64_t> after) {
  for (const auto& [k, n] : before) after[k] -= n;
  std::erase_if(after, [](const auto& kv) { return kv.second == 0; });
  return after;
}

// Namespace inodes and ifindexes are reused once a namespace is gone, so a
// test's keys may carry an earlier test's counts: every check is on the
// difference between a snapshot before the traffic and one after it.
class ProbesTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    EnsureBpffs();
    root_ = new TestPinRoot();
    pins_ = new PinLayout(root_->path());
    // The loader's own resolution (auto, unless XSKIT_PROBE_MODE forces a
    // mode): ModeIsTheExpectedOne then checks it against what this kernel
    // must give, so a silent fallback fails.
    ProbeOptions opts;
    opts.mode = ProbeModeFromEnv();
    bool already = false;
    auto signals = AttachProbes(*pins_, opts, &already);
    attach_status_ = new absl::Status(signals.status());
  }
  static void TearDownTestSuite() {
    if (pins_) (void)DetachProbes(*pins_);
    delete attach_status_;
    delete pins_;
    delete root_;  // removes the pin root and whatever is left below it
    attach_status_ = nullptr;
    pins_ = nullptr;
    root_ = nullptr;
  }
  void SetUp() override {
    ASSERT_TRUE(attach_status_->ok()) << "attach probes: " << attach_status_->message();
    auto p = PinnedProbes::Open(pins_->ProbesDir());
    ASSERT_TRUE(p.ok()) << p.status().message();
    probes_ = std::make_unique<PinnedProbes>(std::move(*p));
  }

  xsk_probes_tx Tx(const Where& w, uint32_t queue) {
    auto rows = probes_->ReadTx();
    EXPECT_TRUE(rows.ok());
    if (rows.ok())
      for (const auto& [k, v] : *rows)
        if (k.netns_ino == w.netns_ino && k.ifindex == w.ifindex && k.queue == queue) return v;
    return xsk_probes_tx{};
  }

  // (errno, cause) -> calls for one interface and queue.
  std::map<std::pair<uint32_t, uint32_t>, uint64_t> TxErrors(const Where& w, uint32_t queue) {
    std::map<std::pair<uint32_t, uint32_t>, uint64_t> out;
    auto rows = probes_->ReadTxErrors();
    EXPECT_TRUE(rows.ok());
    if (rows.ok())
      for (const auto& [k, n] : *rows)
        if (k.q.netns_ino == w.netns_ino && k.q.ifindex == w.ifindex && k.q.queue == queue)
          out[{k.err, k.cause}] += n;
    return out;
  }

  // reason name -> skbs dropped on one interface (non-AF_XDP skbs).
  std::map<std::string, uint64_t> Drops(const Where& w) {
    std::map<std::string, uint64_t> out;
    auto names = DropReasons::FromKernel();
    EXPECT_TRUE(names.ok());
    auto rows = probes_->ReadDrops();
    EXPECT_TRUE(rows.ok());
    if (rows.ok() && names.ok())
      for (const auto& [k, n] : *rows)
        if (k.netns_ino == w.netns_ino && k.ifindex == w.ifindex && !k.xsk)
          out[names->Name(k.reason)] += n;
    return out;
  }

  // errno -> xdp_redirect_err events on one interface.
  std::map<uint32_t, uint64_t> RedirectErrors(const Where& w) {
    std::map<uint32_t, uint64_t> out;
    auto rows = probes_->ReadXdpErrors();
    EXPECT_TRUE(rows.ok());
    if (rows.ok())
      for (const auto& [k, n] : *rows)
        if ((k.netns_ino == w.netns_ino || k.netns_ino == 0) && k.ifindex == w.ifindex &&
            k.event == XSK_PROBES_XDP_REDIRECT_ERR)
          out[k.value] += n;
    return out;
  }

  static std::vector<uint8_t> Frame(const NetnsPair& net) {
    return Packet().Eth(net.mac_b(), net.mac_a()).IPv4(NetnsPair::kIpA, NetnsPair::kIpB)
        .Udp(1234, 9).Payload(18).Build();
  }

  // Queues n frames and kicks once; returns the kick's errno.
  static int SendBatch(XskSocket& s, const std::vector<uint8_t>& frame, uint32_t n) {
    if (n) {
      EXPECT_EQ(s.QueueTx(n, frame.size(), [&](uint32_t, std::span<uint8_t> b) {
                  std::memcpy(b.data(), frame.data(), frame.size());
                }),
                n);
    }
    return s.Kick();
  }

  static void Reap(XskSocket& s) {
    for (int i = 0; i < 100 && s.outstanding(); i++) {
      s.Complete();
      if (s.outstanding()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }

  // UDP datagrams from netns a to b:port.
  static void SendUdp(const NetnsPair& net, uint16_t port, int n) {
    InNetns(net.ns_a(), [&] {
      int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
      ASSERT_GE(fd, 0);
      sockaddr_in to{};
      to.sin_family = AF_INET;
      to.sin_port = htons(port);
      inet_pton(AF_INET, NetnsPair::kIpB, &to.sin_addr);
      char payload[32] = {};
      for (int i = 0; i < n; i++)
        ASSERT_EQ(::sendto(fd, payload, sizeof(payload), 0, reinterpret_cast<sockaddr*>(&to),
                           sizeof(to)),
                  static_cast<ssize_t>(sizeof(payload)))
            << "datagram " << i;
      ::close(fd);
    });
  }

  static TestPinRoot* root_;
  static PinLayout* pins_;
  static absl::Status* attach_status_;
  std::unique_ptr<PinnedProbes> probes_;
};

TestPinRoot* ProbesTest::root_ = nullptr;
PinLayout* ProbesTest::pins_ = nullptr;
absl::Status* ProbesTest::attach_status_ = nullptr;

TEST_F(ProbesTest, ModeIsTheExpectedOne) {
  auto signals = SignalsOf(probes_->info());
  ASSERT_EQ(signals.size(), static_cast<size_t>(XSK_PROBES_NR_SIGNALS)) << "signals in probes_info";
  for (const auto& s : signals)
    std::printf("  %-18s %-11s %s\n", SignalName(s.signal), ProbeModeName(s.mode),
                s.reason.c_str());
  // The mode the batch signal got, for the kernel-matrix summary table.
  ::testing::Test::RecordProperty("probe_mode", ProbeModeName(signals[XSK_PROBES_SIG_BATCH].mode));
  const char* expect = std::getenv("XSKIT_EXPECT_PROBE_MODE");
  if (!expect) XSKIT_SKIP("XSKIT_EXPECT_PROBE_MODE not set: no mode to assert");
  for (auto sig : {XSK_PROBES_SIG_BATCH, XSK_PROBES_SIG_BACKPRESSURE, XSK_PROBES_SIG_OUTSTANDING,
                   XSK_PROBES_SIG_SKB_BUILD, XSK_PROBES_SIG_DRIVER_BUSY})
    EXPECT_STREQ(ProbeModeName(signals[sig].mode), expect)
        << "mode of " << SignalName(sig) << ": " << signals[sig].reason;
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
uint32_t AwaitCompletions(XskSocket& s, uint32_t n) {
  uint32_t done = 0;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (done < n && std::chrono::steady_clock::now() < deadline) {
    done += s.Complete();
    if (done < n) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return done;
}

std::unique_ptr<XskSocket> HeldTxSocket(const char* nic, int sndbuf, bool force) {
  auto r = XskSocket::Create(nic, 0, /*zerocopy=*/false, XskSocket::Options{});
  EXPECT_TRUE(r.ok()) << r.status().message();
  if (!r.ok()) return nullptr;
  EXPECT_EQ(::setsockopt((*r)->fd(), SOL_SOCKET, force ? SO_SNDBUFFORCE : SO_SNDBUF, &sndbuf,
                         sizeof(sndbuf)),
            0)
      << std::strerror(errno);
  return std::move(*r);
}

std::vector<uint8_t> HeldTxFrame() {
  return Packet().Eth({0x52, 0x54, 0, 0, 0, 0x99}, {0x52, 0x54, 0, 0, 0, 0x03})
      .IPv4("192.0.2.1", "192.0.2.2").Udp(1234, 9).Payload(18).Build();
}

// The kernel's smallest send buffer, the device holding every skb: the
// first skb's truesize plus its umem chunk (charged to sk_wmem_alloc by the
// IFF_TX_SKB_NO_LINEAR build) already exceed it, so the call stops with
// EAGAIN for the send buffer and for nothing else.
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

TEST_F(ProbesTest, UdpToClosedPortCountsNoSocketDrops) {
  NetnsPair net;
  Where b = WhereIs(net.ns_b(), net.dev_b());
  constexpr int kDatagrams = 50;
  const auto drops0 = Drops(b);
  SendUdp(net, 9, kDatagrams);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  auto drops = Delta(drops0, Drops(b));
  EXPECT_EQ(drops["NO_SOCKET"], static_cast<uint64_t>(kDatagrams)) << "NO_SOCKET drops on dev_b";
}

TEST_F(ProbesTest, XskRxRingFullCountsRedirectErrors) {
  NetnsPair net;
  Where b = WhereIs(net.ns_b(), net.dev_b());
  absl::Status attached;
  InNetns(net.ns_b(), [&] {
    AttachRequest req;
    req.ifname = net.dev_b();
    req.pin_root = root_->path();
    auto r = Attach(req);
    attached = r.status();
  });
  ASSERT_TRUE(attached.ok()) << "attach xsk_steer to dev_b: " << attached.message();
  std::unique_ptr<XskSocket> s;
  XskSocket::Options opts;
  opts.rx_size = 64;
  opts.pin_root = root_->path();
  InNetns(net.ns_b(), [&] {
    auto r = XskSocket::Open(net.dev_b(), 0, opts);
    ASSERT_TRUE(r.ok()) << r.status().message();
    s = std::move(*r);
  });
  ASSERT_TRUE(s);
  constexpr int kDatagrams = 200;
  const auto errs0 = RedirectErrors(b);
  SendUdp(net, 4791, kDatagrams);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  auto st = s->Statistics();
  ASSERT_TRUE(st.ok());
  auto errs = Delta(errs0, RedirectErrors(b));
  uint64_t total = 0;
  for (const auto& [e, n] : errs) total += n;
  EXPECT_EQ(st->rx_ring_full, static_cast<uint64_t>(kDatagrams - 64)) << "kernel's rx_ring_full";
  EXPECT_EQ(total, st->rx_ring_full) << "redirect errors == the socket's rx_ring_full";
  EXPECT_EQ(errs[ENOBUFS], st->rx_ring_full) << "by errno ENOBUFS";

  // The socket goes: xsk_steer passes to the stack, no redirect error.
  s.reset();
  SendUdp(net, 4791, 20);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  uint64_t after = 0;
  for (const auto& [e, n] : Delta(errs0, RedirectErrors(b))) after += n;
  EXPECT_EQ(after, total) << "no socket on the queue: no redirect errors";
}

TEST_F(ProbesTest, VirtioPairCountsFragSkbs) {
  const char* pair = std::getenv("XSKIT_VIRTIO_PAIR");
  if (!pair || !std::strchr(pair, ','))
    XSKIT_SKIP("XSKIT_VIRTIO_PAIR not set (needs a virtio_net pair: the VM)");
  std::string devs(pair);
  // The pair in test namespaces, up and addressed (an earlier tier may have
  // left the devices down in the initial namespace).
  NetnsPair net(NetnsPair::Options{.existing_a = devs.substr(0, devs.find(',')),
                                   .existing_b = devs.substr(devs.find(',') + 1)});
  Where w = WhereIs(net.ns_a(), net.dev_a());
  auto s = testing::CreateSocketIn(net.ns_a(), net.dev_a(), 0);
  ASSERT_TRUE(s);
  std::vector<uint8_t> frame = Packet()
                                   .Eth(net.mac_b(), net.mac_a())
                                   .IPv4(NetnsPair::kIpA, NetnsPair::kIpB)
                                   .Udp(1234, 9)
                                   .Payload(18)
                                   .Build();
  const xsk_probes_tx tx0 = Tx(w, 0);
  for (int i = 0; i < 4; i++) {
    int err = SendBatch(*s, frame, 16);
    EXPECT_TRUE(err == 0 || err == EAGAIN || err == EBUSY) << "sendto: " << std::strerror(err);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    s->Complete();
  }
  xsk_probes_tx tx = Delta(tx0, Tx(w, 0));
  EXPECT_EQ(tx.descs, 64u) << "descriptors transmitted on " << net.dev_a();
  EXPECT_EQ(tx.linear_skbs, 0u) << "virtio_net has IFF_TX_SKB_NO_LINEAR: no linear skbs";
  EXPECT_EQ(tx.frag_skbs, tx.descs) << "one frag-built skb per descriptor";
}

// ------------------------------------------------ skb-head allocations
// Frames along the kernel paths of selftests/lib/alloc_paths.h, whose
// allocations the kernel source fixes. The allocation counters are
// host-wide (no interface, no namespace), so these tests count on a quiet
// host, as the kernel-matrix VMs are: any other allocation from the skb
// head cache during a test adds to its counts, and the failure message says
// how many the host made in the same time without the test's frames.

xsk_probes_alloc AllocDelta(const xsk_probes_alloc& before, const xsk_probes_alloc& after) {
  return {after.bulk_calls - before.bulk_calls, after.bulk_objs - before.bulk_objs,
          after.napi_build_skb - before.napi_build_skb,
          after.napi_build_fail - before.napi_build_fail};
}

xsk_probes_alloc ReadAllocOrZero(const PinnedProbes& probes) {
  auto a = probes.ReadAlloc();
  EXPECT_TRUE(a.ok()) << "read alloc_stats: " << a.status().message();
  return a.ok() ? *a : xsk_probes_alloc{};
}

// The counters' change since `before` once `done` holds for it (or after
// 30 s: the kthreads and NAPI finish after the sender returns, and TCG is
// slow), read again 200 ms later so that a late allocation would show.
xsk_probes_alloc AllocSince(const PinnedProbes& probes, const xsk_probes_alloc& before,
                            const std::function<bool(const xsk_probes_alloc&)>& done) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!done(AllocDelta(before, ReadAllocOrZero(probes))) &&
         std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  return AllocDelta(before, ReadAllocOrZero(probes));
}

// What the host allocates on its own in the time a test takes (1 s).
std::string Background(const PinnedProbes& probes) {
  const xsk_probes_alloc before = ReadAllocOrZero(probes);
  std::this_thread::sleep_for(std::chrono::seconds(1));
  xsk_probes_alloc d = AllocDelta(before, ReadAllocOrZero(probes));
  return absl::StrCat("host background in 1 s without the test's frames: ", d.bulk_calls,
                      " bulk calls, ", d.bulk_objs, " objects, ", d.napi_build_skb,
                      " napi_build_skb");
}

// Frames for a MAC nobody has: every skb a path builds from them is dropped
// at ip_rcv (PACKET_OTHERHOST), so nothing answers or allocates more.
std::vector<uint8_t> OtherHostFrame(const NetnsPair& net) {
  return Packet().Eth({0x02, 0, 0, 0, 0, 0x99}, net.mac_a())
      .IPv4(NetnsPair::kIpA, NetnsPair::kIpB).Udp(1234, 9).Payload(18).Build();
}

// 200 frames: within veth's 256-entry xdp ring and the cpumap queue even if
// nothing drains them before the last is sent, so none can be dropped;
// not a multiple of any batch size.
constexpr uint32_t kAllocFrames = 200;
constexpr uint32_t kLiveBatch = 64;  // BPF_PROG_TEST_RUN's default

uint32_t CeilDiv(uint32_t a, uint32_t b) { return (a + b - 1) / b; }

// kAllocFrames frames enter dev_a and meet `sender` (BPF_PROG_TEST_RUN,
// live frames); with `on_b`, dev_b runs that program on the frames XDP_TX
// passed over the veth. *delta: the counters' change once kAllocFrames
// objects were counted (and 200 ms more).
void RunAllocPath(const PinnedProbes& probes, XdpProg sender, std::optional<XdpProg> on_b,
                  xsk_probes_alloc* delta) {
  auto paths = AllocPaths::Load();
  ASSERT_TRUE(paths.ok()) << paths.status().message();
  NetnsPair net;
  if (on_b == XdpProg::kToCpumap) {
    absl::Status entry = (*paths)->AddCpumapEntry(2 * kAllocFrames);
    ASSERT_TRUE(entry.ok()) << entry.message();
  }
  absl::Status attached = absl::OkStatus();
  if (on_b) attached = (*paths)->Attach(net.ns_b(), net.dev_b(), *on_b);
  absl::Cleanup detach = [&] {
    if (on_b) {
      EXPECT_TRUE((*paths)->Detach(net.ns_b(), net.dev_b()).ok()) << "detach dev_b";
    }
  };
  ASSERT_TRUE(attached.ok()) << attached.message();
  const xsk_probes_alloc before = ReadAllocOrZero(probes);
  absl::Status sent = (*paths)->RunLiveFrames(net.ns_a(), net.dev_a(), sender,
                                              OtherHostFrame(net), kAllocFrames, kLiveBatch);
  ASSERT_TRUE(sent.ok()) << sent.message();
  *delta = AllocSince(probes, before,
                      [](const xsk_probes_alloc& d) { return d.bulk_objs >= kAllocFrames; });
  std::printf("  %llu bulk calls, %llu objects\n",
              static_cast<unsigned long long>(delta->bulk_calls),
              static_cast<unsigned long long>(delta->bulk_objs));
}

// XDP_PASS in live-frame mode: xdp_recv_frames() takes each batch's heads
// with one bulk call, in the sender's own context: calls and objects exact.
TEST_F(ProbesTest, BulkAllocOneCallPerTestRunBatch) {
  auto signals = SignalsOf(probes_->info());
  if (signals[XSK_PROBES_SIG_BULK_ALLOC].mode != XSK_PROBES_MODE_FENTRY)
    XSKIT_SKIP("bulk allocations need fentry: " + signals[XSK_PROBES_SIG_BULK_ALLOC].reason);
  xsk_probes_alloc d{};
  RunAllocPath(*probes_, XdpProg::kPass, std::nullopt, &d);
  if (HasFatalFailure()) return;
  EXPECT_EQ(d.bulk_objs, kAllocFrames) << "one skb head per frame; " << Background(*probes_);
  EXPECT_EQ(d.bulk_calls, CeilDiv(kAllocFrames, kLiveBatch))
      << "one bulk call per batch of " << kLiveBatch << "; " << Background(*probes_);
}

// XDP_TX over the veth, dev_b redirecting every frame into CPU 0's cpumap:
// its kthread takes one bulk call per batch of at most 8 frames.
TEST_F(ProbesTest, BulkAllocCpumapKthreadCountsEveryFrame) {
  auto signals = SignalsOf(probes_->info());
  if (signals[XSK_PROBES_SIG_BULK_ALLOC].mode != XSK_PROBES_MODE_FENTRY)
    XSKIT_SKIP("bulk allocations need fentry: " + signals[XSK_PROBES_SIG_BULK_ALLOC].reason);
  if (KernelHasFunc("napi_skb_cache_get_bulk"))
    XSKIT_SKIP("the cpumap takes skb heads from the NAPI cache here (napi_skb_cache_get_bulk, "
               "6.15): refills of 16 from an unknown level, no exact count");
  xsk_probes_alloc d{};
  RunAllocPath(*probes_, XdpProg::kTx, XdpProg::kToCpumap, &d);
  if (HasFatalFailure()) return;
  EXPECT_EQ(d.bulk_objs, kAllocFrames) << "one skb head per frame; " << Background(*probes_);
  EXPECT_GE(d.bulk_calls, CeilDiv(kAllocFrames, 8)) << "at most 8 frames (CPUMAP_BATCH) a call";
  EXPECT_LE(d.bulk_calls, kAllocFrames) << "at least one frame a call";
}

// XDP_TX over the veth, dev_b passing the xdp_frames to the stack:
// veth_xdp_rcv_bulk_skb() takes one bulk call per batch of at most 16.
TEST_F(ProbesTest, BulkAllocVethFramePassCountsEveryFrame) {
  auto signals = SignalsOf(probes_->info());
  if (signals[XSK_PROBES_SIG_BULK_ALLOC].mode != XSK_PROBES_MODE_FENTRY)
    XSKIT_SKIP("bulk allocations need fentry: " + signals[XSK_PROBES_SIG_BULK_ALLOC].reason);
  if (!KernelHasFunc("xdp_alloc_skb_bulk"))
    XSKIT_SKIP("veth takes skb heads from the NAPI cache here (xdp_alloc_skb_bulk is gone, "
               "6.15): refills of 16 from an unknown level, no exact count");
  xsk_probes_alloc d{};
  RunAllocPath(*probes_, XdpProg::kTx, XdpProg::kPass, &d);
  if (HasFatalFailure()) return;
  EXPECT_EQ(d.bulk_objs, kAllocFrames) << "one skb head per frame; " << Background(*probes_);
  EXPECT_GE(d.bulk_calls, CeilDiv(kAllocFrames, 16))
      << "at most 16 frames (VETH_XDP_BATCH) a call";
  EXPECT_LE(d.bulk_calls, kAllocFrames) << "at least one frame a call";
}

// UDP datagrams into a veth with an XDP program: veth copies every skb (a
// socket's skb has no XDP headroom) through skb_pp_cow_data() ->
// napi_build_skb(), whose head comes from the per-CPU NAPI cache; XDP_DROP
// frees it to the slab, so the cache empties and is refilled 16 at a time
// (NAPI_SKB_CACHE_BULK) from a level of at most 64 (NAPI_SKB_CACHE_SIZE).
// The refills are bulk calls of exactly 16; how many depends on the level
// the test finds. (napi_build_skb itself is not asserted: skbuff.c inlines
// it into skb_pp_cow_data, so fexit napi_build_skb never sees these copies.)
TEST_F(ProbesTest, BulkAllocNapiCacheRefillsForVethCopies) {
  auto signals = SignalsOf(probes_->info());
  if (signals[XSK_PROBES_SIG_BULK_ALLOC].mode != XSK_PROBES_MODE_FENTRY)
    XSKIT_SKIP("bulk allocations need fentry: " + signals[XSK_PROBES_SIG_BULK_ALLOC].reason);
  if (!KernelHasFunc("skb_pp_cow_data"))
    XSKIT_SKIP("veth copies skbs for XDP with build_skb() here, not from the NAPI cache "
               "(skb_pp_cow_data, 6.9)");
  auto paths = AllocPaths::Load();
  ASSERT_TRUE(paths.ok()) << paths.status().message();
  NetnsPair net;
  absl::Status attached = (*paths)->Attach(net.ns_b(), net.dev_b(), XdpProg::kDrop);
  absl::Cleanup detach = [&] {
    EXPECT_TRUE((*paths)->Detach(net.ns_b(), net.dev_b()).ok()) << "detach dev_b";
  };
  ASSERT_TRUE(attached.ok()) << attached.message();
  const xsk_probes_alloc before = ReadAllocOrZero(*probes_);
  // From CPU 0 only: veth's NAPI runs where the datagram was sent, so one
  // CPU's cache serves every copy and the bounds below hold.
  InNetns(net.ns_a(), [&] {
    cpu_set_t cpu0;
    CPU_ZERO(&cpu0);
    CPU_SET(0, &cpu0);
    ASSERT_EQ(::sched_setaffinity(0, sizeof(cpu0), &cpu0), 0) << std::strerror(errno);
    int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
    ASSERT_GE(fd, 0);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(9);
    inet_pton(AF_INET, NetnsPair::kIpB, &to.sin_addr);
    char payload[32] = {};
    for (uint32_t i = 0; i < kAllocFrames; i++)
      ASSERT_EQ(::sendto(fd, payload, sizeof(payload), 0, reinterpret_cast<sockaddr*>(&to),
                         sizeof(to)),
                static_cast<ssize_t>(sizeof(payload)))
          << "datagram " << i;
    ::close(fd);
  });
  const uint32_t least = CeilDiv(kAllocFrames - 64, 16);
  xsk_probes_alloc d = AllocSince(*probes_, before, [&](const xsk_probes_alloc& a) {
    return a.bulk_calls >= least;
  });
  std::printf("  %llu bulk calls, %llu objects\n",
              static_cast<unsigned long long>(d.bulk_calls),
              static_cast<unsigned long long>(d.bulk_objs));
  EXPECT_EQ(d.bulk_objs, 16 * d.bulk_calls)
      << "every bulk call a NAPI cache refill of 16; " << Background(*probes_);
  EXPECT_GE(d.bulk_calls, least) << "refills beyond a full cache; " << Background(*probes_);
  EXPECT_LE(d.bulk_calls, CeilDiv(kAllocFrames, 16)) << "refills from an empty cache";
}

}  // namespace
}  // namespace xskit::testing

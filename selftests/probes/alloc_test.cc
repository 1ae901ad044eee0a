// Tier `probes`: skb-head allocations (bulk allocation paths).
// Fixture and helpers: selftests/probes/fixture.h.
#include "selftests/probes/fixture.h"

namespace xskit::testing {
namespace {

// ------------------------------------------------ skb-head allocations
// Frames along the kernel paths of selftests/lib/alloc_paths.h, whose
// allocations the kernel source fixes. The allocation counters are
// host-wide (no interface, no namespace), so these tests count on a quiet
// host, as the kernel-matrix VMs are: any other allocation from the skb
// head cache during a test adds to its counts, and the failure message says
// how many the host made in the same time without the test's frames.

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
  while (!done(Delta(before, ReadAllocOrZero(probes))) &&
         std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  return Delta(before, ReadAllocOrZero(probes));
}

// What the host allocates on its own in the time a test takes (1 s).
std::string Background(const PinnedProbes& probes) {
  const xsk_probes_alloc before = ReadAllocOrZero(probes);
  std::this_thread::sleep_for(std::chrono::seconds(1));
  xsk_probes_alloc d = Delta(before, ReadAllocOrZero(probes));
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

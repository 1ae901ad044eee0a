// Tier `probes`: drops (skbs to a closed port, XSK Rx ring full, frag skbs on
// the virtio pair).
// Fixture and helpers: selftests/probes/fixture.h.
#include <fstream>
#include <sstream>

#include "selftests/probes/fixture.h"

namespace xskit::testing {
namespace {

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

// A field of /proc/net/snmp ("Udp", "NoPorts") in the calling thread's netns.
uint64_t SnmpField(const std::string& proto, const std::string& field) {
  std::ifstream f("/proc/thread-self/net/snmp");
  std::string names, values;
  while (std::getline(f, names) && std::getline(f, values)) {
    if (names.rfind(proto + ":", 0) != 0) continue;
    std::istringstream n(names), v(values);
    std::string name, value;
    while (n >> name && v >> value)
      if (name == field) return std::stoull(value);
  }
  ADD_FAILURE() << proto << " " << field << " not in /proc/net/snmp";
  return 0;
}

// The drop storm: tens of thousands of frames to a closed port, as fast as
// AF_XDP copy mode sends them (drops on whichever CPUs the sender runs),
// against the kernel's own count of them (Udp NoPorts in the receiver's
// netns). Per reason the count is exact in every drop mode: the default
// (--drops=interfaces) keys it by the interface, so it is checked to the
// unit; a second probe set with --drops=reasons counts by reason alone,
// host-wide, so it is sandwiched: at least the storm, at most every
// NO_SOCKET drop the first set saw on any interface in a window enclosing
// its own (equal on a quiet host).
TEST_F(ProbesTest, DropStormCountsEveryDropByReasonExactly) {
  NetnsPair net;
  Where b = WhereIs(net.ns_b(), net.dev_b());
  auto names = DropReasons::FromKernel();
  ASSERT_TRUE(names.ok()) << names.status().message();
  TestPinRoot reasons_root("reasons");  // a root of its own: not the suite's probes
  PinLayout reasons_pins(reasons_root.path());
  ProbeOptions opts;
  opts.mode = ProbeModeFromEnv();
  opts.drops = DropsMode::kReasons;
  bool already = false;
  auto reasons_set = AttachProbes(reasons_pins, opts, &already);
  ASSERT_TRUE(reasons_set.ok()) << "attach --drops=reasons: " << reasons_set.status().message();
  ASSERT_FALSE(already) << reasons_pins.ProbesDir() << " held probes already";
  absl::Cleanup detach = [&] { (void)DetachProbes(reasons_pins); };
  EXPECT_STREQ(ProbeModeName((*reasons_set)[XSK_PROBES_SIG_DROPS].mode), "tp_btf")
      << (*reasons_set)[XSK_PROBES_SIG_DROPS].reason;
  auto reasons_probes = PinnedProbes::Open(reasons_pins.ProbesDir());
  ASSERT_TRUE(reasons_probes.ok()) << reasons_probes.status().message();
  // NO_SOCKET drops: on every interface (one set) and by reason alone (the other).
  auto no_socket = [&](const PinnedProbes& p, bool reason_only) {
    uint64_t n = 0;
    auto rows = p.ReadDrops();
    EXPECT_TRUE(rows.ok());
    if (rows.ok())
      for (const auto& [k, v] : *rows)
        if (names->Name(k.reason) == "NO_SOCKET" && (!reason_only || k.ifindex == 0)) n += v;
    return n;
  };

  auto s = testing::CreateSocketIn(net.ns_a(), net.dev_a(), 0);
  ASSERT_TRUE(s);
  auto frame = Frame(net);  // UDP to port 9: no socket in netns b
  constexpr uint32_t kFrames = 50000, kBatch = 64;
  uint64_t no_ports0 = 0, no_ports1 = 0;
  InNetns(net.ns_b(), [&] { no_ports0 = SnmpField("Udp", "NoPorts"); });
  const auto drops0 = Drops(b);
  const uint64_t all0 = no_socket(*probes_, false);
  const uint64_t by_reason0 = no_socket(*reasons_probes, true);

  // Queue what fits, kick, reap; a kick's EAGAIN (budget, full CQ) only
  // leaves descriptors for the next turn.
  uint32_t queued = 0, done = 0;
  auto fill = [&](uint32_t, std::span<uint8_t> buf) {
    std::memcpy(buf.data(), frame.data(), frame.size());
  };
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (done < kFrames && std::chrono::steady_clock::now() < deadline) {
    if (queued < kFrames)
      queued += s->QueueTx(std::min(kBatch, kFrames - queued), frame.size(), fill);
    int err = s->Kick();
    ASSERT_TRUE(err == 0 || err == EAGAIN || err == EBUSY) << "sendto: " << std::strerror(err);
    done += s->Complete();
  }
  ASSERT_EQ(done, kFrames) << "frames completed within 60 s";
  std::this_thread::sleep_for(std::chrono::milliseconds(200));

  const uint64_t by_reason1 = no_socket(*reasons_probes, true);
  const uint64_t all1 = no_socket(*probes_, false);
  auto drops = Delta(drops0, Drops(b));
  InNetns(net.ns_b(), [&] { no_ports1 = SnmpField("Udp", "NoPorts"); });
  const uint64_t no_ports = no_ports1 - no_ports0;
  uint64_t on_b = 0;
  for (const auto& [reason, n] : drops) on_b += n;

  EXPECT_EQ(no_ports, kFrames) << "the kernel's Udp NoPorts in netns b: every frame reached UDP";
  EXPECT_EQ(drops["NO_SOCKET"], no_ports) << "NO_SOCKET drops on dev_b (--drops=interfaces)";
  EXPECT_EQ(on_b, drops["NO_SOCKET"]) << "no other drop reason on dev_b";
  EXPECT_GE(by_reason1 - by_reason0, no_ports) << "--drops=reasons: at least the storm";
  EXPECT_LE(by_reason1 - by_reason0, all1 - all0)
      << "--drops=reasons: at most every NO_SOCKET drop on the host in an enclosing window";
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


}  // namespace
}  // namespace xskit::testing

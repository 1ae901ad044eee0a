// Tier `probes`: drops (skbs to a closed port, XSK Rx ring full, frag skbs on
// the virtio pair).
// Fixture and helpers: selftests/probes/fixture.h.
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

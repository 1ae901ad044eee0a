#include "lib/driver_table.h"

namespace xskit {

// A page minus XDP headroom (256) and skb_shared_info (320), minus the
// Ethernet header: the largest MTU whose frames fit one page, which is what
// drivers without multi-buffer XDP accept. 3046 is 3072-byte Rx buffers
// minus Ethernet, FCS and two VLAN tags (Intel drivers, legacy-rx off).
const std::vector<DriverFacts>& AllDriverFacts() {
  static const std::vector<DriverFacts> kFacts = {
      {.driver = "i40e",
       .native_xdp = true,
       .zerocopy = true,
       .max_xdp_mtu = 3046,
       .mtu_is_peer_mtu = false,
       .tx_skb_no_linear = false,
       .zerocopy_needs = "native mode; the queue id below the VSI's queue pairs (combined channels)",
       .constraints = {"XDP adds one XDP Tx ring per queue pair: combined channels must leave "
                       "room for them (ethtool -L IF combined N)",
                       "legacy-rx private flag lowers the XDP MTU limit to 2048-byte buffers"},
       .wakeup_needs_xdp_prog = true},
      {.driver = "ixgbe",
       .native_xdp = true,
       .zerocopy = true,
       .max_xdp_mtu = 3046,
       .mtu_is_peer_mtu = false,
       .tx_skb_no_linear = false,
       .zerocopy_needs = "native mode; the queue id below the number of XDP Tx rings",
       .constraints = {"XDP Tx rings are one per CPU, at most 64; with more CPUs the rings are "
                       "shared under a lock (slower XDP_TX/redirect)",
                       "RSS spreads over at most 16 queues unless Flow Director is used"},
       .wakeup_needs_xdp_prog = true},
      {.driver = "ice",
       .native_xdp = true,
       .zerocopy = true,
       .max_xdp_mtu = 3046,
       .mtu_is_peer_mtu = false,
       .tx_skb_no_linear = false,
       .zerocopy_needs = "native mode",
       .constraints = {},
       .wakeup_needs_xdp_prog = true},
      // Intel 82576/82580/i350/i210 (qemu -device igb is an 82576): native
      // XDP since 5.10, AF_XDP zero-copy since 6.14 (igb_xsk.c). The XDP Tx
      // rings are the regular ones, shared under a lock.
      {.driver = "igb",
       .native_xdp = true,
       .zerocopy = true,
       .max_xdp_mtu = 3046,
       .mtu_is_peer_mtu = false,
       .tx_skb_no_linear = false,
       .zerocopy_needs = "kernel 6.14 or later; native mode; the queue id below the combined channels",
       .constraints = {"XDP_TX and redirects share the stack's Tx rings under a lock (one per CPU "
                       "modulo the Tx queues)",
                       "RSS hashes IPv4/IPv6 addresses and TCP ports; UDP flows spread by address only"},
       .zerocopy_since = KernelSeries(6, 14),
       .wakeup_needs_xdp_prog = true},
      {.driver = "mlx5_core",
       .native_xdp = true,
       .zerocopy = true,
       .max_xdp_mtu = 3498,
       .mtu_is_peer_mtu = false,
       .tx_skb_no_linear = false,
       .zerocopy_needs = "native mode; XSK queues are extra channels numbered after the regular ones",
       .constraints = {"striding RQ and LRO change the XDP MTU limit"}},
      // Zero-copy Rx code since 6.11, advertised (xdp-features xsk-zerocopy)
      // with the Tx half since 6.13; the bind needs a device that goes
      // through the DMA API (qemu: iommu_platform=on) and VIRTIO_F_RING_RESET.
      {.driver = "virtio_net",
       .native_xdp = true,
       .zerocopy = true,
       .max_xdp_mtu = 3506,
       .mtu_is_peer_mtu = false,
       .tx_skb_no_linear = true,
       .zerocopy_needs = "kernel 6.13 or later; a device with VIRTIO_F_ACCESS_PLATFORM (qemu: "
                         "iommu_platform=on) and ring reset",
       .constraints = {"native XDP needs the host's guest offloads (GUEST_TSO4/6, ECN, UFO, "
                       "CSUM) off, and enough queue pairs for one XDP Tx queue per CPU"},
       .zerocopy_since = KernelSeries(6, 13)},
      {.driver = "veth",
       .native_xdp = true,
       .zerocopy = false,
       .max_xdp_mtu = 3506,
       .mtu_is_peer_mtu = true,
       .tx_skb_no_linear = false,
       .zerocopy_needs = "not supported",
       .constraints = {"native XDP runs in veth's NAPI on the receiving side"}},
  };
  return kFacts;
}

const DriverFacts* FindDriverFacts(absl::string_view driver) {
  for (const auto& f : AllDriverFacts())
    if (f.driver == driver) return &f;
  return nullptr;
}

}  // namespace xskit

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
                       "legacy-rx private flag lowers the XDP MTU limit to 2048-byte buffers"}},
      {.driver = "ixgbe",
       .native_xdp = true,
       .zerocopy = true,
       .max_xdp_mtu = 3046,
       .mtu_is_peer_mtu = false,
       .tx_skb_no_linear = false,
       .zerocopy_needs = "native mode; the queue id below the number of XDP Tx rings",
       .constraints = {"XDP Tx rings are one per CPU, at most 64; with more CPUs the rings are "
                       "shared under a lock (slower XDP_TX/redirect)",
                       "RSS spreads over at most 16 queues unless Flow Director is used"}},
      {.driver = "ice",
       .native_xdp = true,
       .zerocopy = true,
       .max_xdp_mtu = 3046,
       .mtu_is_peer_mtu = false,
       .tx_skb_no_linear = false,
       .zerocopy_needs = "native mode",
       .constraints = {}},
      {.driver = "mlx5_core",
       .native_xdp = true,
       .zerocopy = true,
       .max_xdp_mtu = 3498,
       .mtu_is_peer_mtu = false,
       .tx_skb_no_linear = false,
       .zerocopy_needs = "native mode; XSK queues are extra channels numbered after the regular ones",
       .constraints = {"striding RQ and LRO change the XDP MTU limit"}},
      {.driver = "virtio_net",
       .native_xdp = true,
       .zerocopy = false,  // Rx code from 6.11; advertised in xdp-features (and so bindable) from 6.13
       .max_xdp_mtu = 3506,
       .mtu_is_peer_mtu = false,
       .tx_skb_no_linear = true,
       .zerocopy_needs = "kernel 6.13 or later and a device that reports it",
       .constraints = {"native XDP needs the host's guest offloads (GUEST_TSO4/6, ECN, UFO, "
                       "CSUM) off, and enough queue pairs for one XDP Tx queue per CPU"}},
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

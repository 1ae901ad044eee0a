// Recorded driver facts: what a driver supports and what it demands, for
// kernels that do not report it (the netdev netlink family's xdp-features
// arrived in 6.3) and for what no kernel reports at all (the native XDP MTU
// limit, IFF_TX_SKB_NO_LINEAR, queue constraints).
//
// Each entry was read off the driver's source; `zerocopy_since` says from
// which kernel zero-copy holds. The kernel matrix (selftests/vmtest, tier
// drivers) checks the veth, virtio_net and igb entries against what each
// kernel reports; the others are recorded facts.
#pragma once

#include "absl/strings/string_view.h"
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace xskit {

struct DriverFacts {
  absl::string_view driver;
  bool native_xdp;
  bool zerocopy;               // AF_XDP zero-copy (XDP_ZEROCOPY bind)
  uint32_t max_xdp_mtu;        // native XDP without multi-buffer; 0 = no limit known
  bool mtu_is_peer_mtu;        // veth: the limit applies to the peer's MTU
  bool tx_skb_no_linear;       // IFF_TX_SKB_NO_LINEAR: generic zerocopy xmit path
  absl::string_view zerocopy_needs;  // what zero-copy demands of the setup
  std::vector<absl::string_view> constraints;  // checked or warned before attach
  // The kernel from which `zerocopy` holds (KernelSeries(6, 14)); 0: every
  // kernel xskit supports. Before it the driver has no zero-copy.
  uint32_t zerocopy_since = 0;
  // ndo_xsk_wakeup refuses (EINVAL/ENETDOWN) while no XDP program is
  // attached: a zero-copy socket's sendto/poll kicks fail until one is.
  bool wakeup_needs_xdp_prog = false;

  // Whether zero-copy holds on kernel `series` (KernelSeries(major, minor)).
  bool ZerocopyOn(uint32_t series) const { return zerocopy && series >= zerocopy_since; }
};

constexpr uint32_t KernelSeries(uint32_t major, uint32_t minor) { return major << 16 | minor << 8; }

// The recorded entry for `driver`, if there is one.
const DriverFacts* FindDriverFacts(absl::string_view driver);

// Every recorded driver (for `check --list-drivers` and tests).
const std::vector<DriverFacts>& AllDriverFacts();

}  // namespace xskit

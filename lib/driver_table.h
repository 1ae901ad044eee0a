// Recorded driver facts: what a driver supports and what it demands, for
// kernels that do not report it (the netdev netlink family's xdp-features
// arrived in 6.3) and for what no kernel reports at all (the native XDP MTU
// limit, IFF_TX_SKB_NO_LINEAR, queue constraints).
//
// Each entry was read off the driver's source; `since` says from which
// kernel the capability holds. Tests check these against real veth and
// virtio_net devices; the others are recorded facts.
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
};

// The recorded entry for `driver`, if there is one.
const DriverFacts* FindDriverFacts(absl::string_view driver);

// Every recorded driver (for `check --list-drivers` and tests).
const std::vector<DriverFacts>& AllDriverFacts();

}  // namespace xskit

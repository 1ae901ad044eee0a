// Netlink queries (libmnl): rtnetlink for a link's state, the netdev generic
// netlink family for XDP/XSK features. Both answer for the caller's network
// namespace, unlike /sys/class/net, which follows the mount namespace.
#pragma once

#include "absl/strings/string_view.h"
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace xskit {

struct LinkState {
  int ifindex = 0;
  std::string ifname;
  uint32_t mtu = 0;
  uint32_t num_rx_queues = 0;
  uint32_t num_tx_queues = 0;
  int link_ifindex = 0;       // IFLA_LINK: a veth's peer
  bool up = false;
  // IFLA_XDP: what is attached now.
  uint8_t xdp_attached = 0;   // XDP_ATTACHED_*
  uint32_t xdp_prog_id = 0;
  uint32_t xdp_skb_prog_id = 0;
  uint32_t xdp_drv_prog_id = 0;
};

// RTM_GETLINK by name. ExitCode::kNoSuchInterface when it does not exist.
absl::StatusOr<LinkState> GetLink(absl::string_view ifname);

// The netdev family's view of a device (kernel 6.3+).
struct NetdevXdpFeatures {
  uint64_t xdp_features = 0;      // NETDEV_XDP_ACT_*
  uint32_t zc_max_segs = 0;       // 0 when the kernel does not report it
  bool has_zc_max_segs = false;
  uint64_t xsk_features = 0;      // NETDEV_XSK_FLAGS_*
  bool has_xsk_features = false;
};

// nullopt when the kernel has no netdev family (before 6.3).
absl::StatusOr<std::optional<NetdevXdpFeatures>> GetNetdevXdpFeatures(int ifindex);

// netdev family constants (uapi/linux/netdev.h; Debian 12's headers predate it).
inline constexpr uint64_t kXdpActBasic = 1;
inline constexpr uint64_t kXdpActRedirect = 2;
inline constexpr uint64_t kXdpActNdoXmit = 4;
inline constexpr uint64_t kXdpActXskZerocopy = 8;
inline constexpr uint64_t kXdpActHwOffload = 16;
inline constexpr uint64_t kXdpActRxSg = 32;
inline constexpr uint64_t kXdpActNdoXmitSg = 64;
inline constexpr uint64_t kXskFlagTxTimestamp = 1;
inline constexpr uint64_t kXskFlagTxChecksum = 2;
inline constexpr uint64_t kXskFlagTxLaunchTime = 4;

}  // namespace xskit

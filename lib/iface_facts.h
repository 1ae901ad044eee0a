// Everything xskit needs to know about an interface, behind one call.
//
// The kernel is asked first (rtnetlink, ethtool, the netdev family's
// xdp-features); the recorded driver table (driver_table.h) fills in what
// the running kernel does not report. `xdp_source` says which one answered.
#pragma once

#include "absl/strings/string_view.h"
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "lib/driver_table.h"
#include "lib/netlink.h"

namespace xskit {

struct XdpCapabilities {
  bool native = false;         // driver-mode XDP
  bool zerocopy = false;       // AF_XDP XDP_ZEROCOPY
  bool rx_sg = false;          // multi-buffer Rx
  std::optional<uint32_t> zc_max_segs;
  std::optional<uint64_t> xsk_features;  // NETDEV_XSK_FLAGS_*
  uint64_t raw_xdp_features = 0;
  std::string source;          // "netlink xdp-features", "recorded table", "unknown driver"
};

struct Channels {
  uint32_t rx = 0, tx = 0, combined = 0;
  uint32_t max_rx = 0, max_tx = 0, max_combined = 0;
  bool reported = false;       // ETHTOOL_GCHANNELS answered
};

struct BusyPoll {
  std::optional<int> busy_poll_us;      // net.core.busy_poll
  std::optional<int> busy_read_us;      // net.core.busy_read
  std::optional<int> napi_defer_hard_irqs;
  std::optional<long> gro_flush_timeout_ns;
};

// A socket option of AF_XDP, probed on a fresh socket.
struct SockoptProbe {
  std::string name;
  int optname = 0;
  bool present = false;
  std::string detail;
};

struct IfaceFacts {
  LinkState link;
  std::string driver;
  std::string driver_version;
  std::string bus_info;
  Channels channels;
  XdpCapabilities xdp;
  const DriverFacts* recorded = nullptr;  // the table entry, if any
  bool tx_skb_no_linear = false;          // from the table: no kernel API reports it
  BusyPoll busy_poll;
  uint32_t online_cpus = 0;

  // Queues an AF_XDP socket can bind to: combined (or rx) channels, else
  // the device's real rx queue count.
  uint32_t QueueCount() const;
};

// Reads the facts of `ifname` in the caller's network namespace.
// ExitCode::kNoSuchInterface when it does not exist.
absl::StatusOr<IfaceFacts> ReadIfaceFacts(absl::string_view ifname);

// Probes AF_XDP socket options: XDP_MAX_TX_SKB_BUDGET (6.17+) and the
// copy-mode batch size of the XDP_GENERIC_XMIT_BATCH series.
std::vector<SockoptProbe> ProbeXskSockopts();

std::string XdpFeatureNames(uint64_t features);
std::string XskFeatureNames(uint64_t features);

}  // namespace xskit

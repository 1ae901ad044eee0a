#include "lib/iface_facts.h"

#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "lib/errors.h"
#include "lib/log.h"
#include "lib/xsk_sockopts.h"

#ifndef AF_XDP
#define AF_XDP 44
#endif
#ifndef SOL_XDP
#define SOL_XDP 283
#endif

namespace xskit {
namespace {

// ethtool ioctl: one struct in, the same struct out. (The ethtool netlink
// family says the same; the ioctl is one call and exists on every kernel.)
int EthtoolIoctl(absl::string_view ifname, void* cmd) {
  int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -errno;
  ifreq ifr{};
  std::memcpy(ifr.ifr_name, ifname.data(), std::min(ifname.size(), sizeof(ifr.ifr_name) - 1));
  ifr.ifr_data = static_cast<char*>(cmd);
  int ret = ::ioctl(fd, SIOCETHTOOL, &ifr) < 0 ? -errno : 0;
  ::close(fd);
  return ret;
}

template <typename T>
std::optional<T> ReadNumber(const std::string& path) {
  std::ifstream in(path);
  T v{};
  if (in >> v) return v;
  return std::nullopt;
}

void FillXdpCapabilities(IfaceFacts& f) {
  auto nl = GetNetdevXdpFeatures(f.link.ifindex);
  if (nl.ok() && nl->has_value()) {
    const NetdevXdpFeatures& n = **nl;
    f.xdp.raw_xdp_features = n.xdp_features;
    f.xdp.native = n.xdp_features & kXdpActBasic;
    f.xdp.zerocopy = n.xdp_features & kXdpActXskZerocopy;
    f.xdp.rx_sg = n.xdp_features & kXdpActRxSg;
    if (n.has_zc_max_segs) f.xdp.zc_max_segs = n.zc_max_segs;
    if (n.has_xsk_features) f.xdp.xsk_features = n.xsk_features;
    f.xdp.source = "netlink xdp-features";
    return;
  }
  if (!nl.ok()) spdlog::debug("netdev family: {}", nl.status().ToString());
  if (f.recorded) {
    f.xdp.native = f.recorded->native_xdp;
    // Only kernels before 6.3 lack xdp-features: a driver whose zero-copy
    // came later (virtio_net 6.13, igb 6.14) has none on them.
    f.xdp.zerocopy = f.recorded->ZerocopyOn(KernelSeries(6, 2));
    f.xdp.source = "recorded table (kernel has no netdev xdp-features)";
  } else {
    f.xdp.source = "unknown driver, kernel has no netdev xdp-features";
  }
}

void FillBusyPoll(IfaceFacts& f) {
  // /proc/sys/net follows the network namespace.
  f.busy_poll.busy_poll_us = ReadNumber<int>("/proc/sys/net/core/busy_poll");
  f.busy_poll.busy_read_us = ReadNumber<int>("/proc/sys/net/core/busy_read");
  // /sys/class/net follows the mount namespace: trust it only when it shows
  // this very device (same ifindex).
  std::string dir = absl::StrCat("/sys/class/net/", f.link.ifname);
  if (ReadNumber<int>(dir + "/ifindex") == f.link.ifindex) {
    f.busy_poll.napi_defer_hard_irqs = ReadNumber<int>(dir + "/napi_defer_hard_irqs");
    f.busy_poll.gro_flush_timeout_ns = ReadNumber<long>(dir + "/gro_flush_timeout");
  }
}

}  // namespace

uint32_t IfaceFacts::QueueCount() const {
  if (channels.reported) {
    uint32_t n = channels.combined + channels.rx;
    if (n > 0) return n;
  }
  return link.num_rx_queues ? link.num_rx_queues : 1;
}

absl::StatusOr<IfaceFacts> ReadIfaceFacts(absl::string_view ifname) {
  IfaceFacts f;
  XSKIT_ASSIGN_OR_RETURN(f.link, GetLink(ifname));

  ethtool_drvinfo info{};
  info.cmd = ETHTOOL_GDRVINFO;
  if (int err = EthtoolIoctl(ifname, &info); err == 0) {
    f.driver = info.driver;
    f.driver_version = info.version;
    f.bus_info = info.bus_info;
  } else {
    spdlog::debug("ETHTOOL_GDRVINFO {}: {}", ifname, std::strerror(-err));
    f.driver = "unknown";
  }

  ethtool_channels ch{};
  ch.cmd = ETHTOOL_GCHANNELS;
  if (EthtoolIoctl(ifname, &ch) == 0) {
    f.channels = {ch.rx_count, ch.tx_count, ch.combined_count,
                  ch.max_rx, ch.max_tx, ch.max_combined, true};
  }

  f.recorded = FindDriverFacts(f.driver);
  f.tx_skb_no_linear = f.recorded && f.recorded->tx_skb_no_linear;
  FillXdpCapabilities(f);
  FillBusyPoll(f);
  long cpus = ::sysconf(_SC_NPROCESSORS_ONLN);
  f.online_cpus = cpus > 0 ? static_cast<uint32_t>(cpus) : 1;
  return f;
}

std::vector<SockoptProbe> ProbeXskSockopts() {
  // The optnames and where they come from: lib/xsk_sockopts.h.
  std::vector<SockoptProbe> out = {
      {"XDP_MAX_TX_SKB_BUDGET", kXdpMaxTxSkbBudget, false, ""},
      {"XDP_GENERIC_XMIT_BATCH", kXdpGenericXmitBatch, false, ""},
  };
  int fd = ::socket(AF_XDP, SOCK_RAW | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    for (auto& p : out) p.detail = absl::StrCat("no AF_XDP socket: ", std::strerror(errno));
    return out;
  }
  for (auto& p : out) {
    // A value no kernel accepts for either option tells presence without
    // changing anything: ENOPROTOOPT means unknown, EINVAL means known.
    uint32_t value = 0;
    int ret = ::setsockopt(fd, SOL_XDP, p.optname, &value, sizeof(value));
    int err = ret == 0 ? 0 : errno;
    p.present = err != ENOPROTOOPT && err != EOPNOTSUPP;
    p.detail = err == ENOPROTOOPT || err == EOPNOTSUPP
                   ? "not offered by this kernel"
                   : absl::StrCat("offered (optname ", p.optname, ")");
  }
  ::close(fd);
  return out;
}

std::string XdpFeatureNames(uint64_t features) {
  static const std::pair<uint64_t, const char*> kNames[] = {
      {kXdpActBasic, "basic"},         {kXdpActRedirect, "redirect"},
      {kXdpActNdoXmit, "ndo-xmit"},    {kXdpActXskZerocopy, "xsk-zerocopy"},
      {kXdpActHwOffload, "hw-offload"}, {kXdpActRxSg, "rx-sg"},
      {kXdpActNdoXmitSg, "ndo-xmit-sg"}};
  std::vector<std::string> names;
  for (auto [bit, name] : kNames)
    if (features & bit) names.emplace_back(name);
  return names.empty() ? "none" : absl::StrJoin(names, ",");
}

std::string XskFeatureNames(uint64_t features) {
  static const std::pair<uint64_t, const char*> kNames[] = {
      {kXskFlagTxTimestamp, "tx-timestamp"},
      {kXskFlagTxChecksum, "tx-checksum"},
      {kXskFlagTxLaunchTime, "tx-launch-time-fifo"}};
  std::vector<std::string> names;
  for (auto [bit, name] : kNames)
    if (features & bit) names.emplace_back(name);
  return names.empty() ? "none" : absl::StrJoin(names, ",");
}

}  // namespace xskit

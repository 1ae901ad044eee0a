#include "loader/preflight.h"

#include <bpf/bpf.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "lib/attach.h"
#include "lib/pins.h"
#include "lib/preconditions.h"

namespace xskit {
namespace {

Finding Ok(std::string check, std::string detail) {
  return {std::move(check), Verdict::kOk, std::move(detail), "", ExitCode::kOk};
}
Finding Warn(std::string check, std::string detail, std::string action) {
  return {std::move(check), Verdict::kWarn, std::move(detail), std::move(action), ExitCode::kOk};
}
Finding Fail(std::string check, std::string detail, std::string action, ExitCode code) {
  return {std::move(check), Verdict::kFail, std::move(detail), std::move(action), code};
}

void CheckEnvironment(std::vector<Finding>& out) {
  auto caps = RequireCapabilities({Cap::kBpf, Cap::kNetAdmin, Cap::kPerfmon});
  out.push_back(caps.ok() ? Ok("privileges", "CAP_BPF, CAP_NET_ADMIN, CAP_PERFMON present")
                          : Fail("privileges", std::string(caps.message()), "run as root",
                                 ExitCode::kPermission));
  auto btf = RequireKernelBtf();
  out.push_back(btf.ok() ? Ok("btf", "kernel BTF at /sys/kernel/btf/vmlinux")
                         : Fail("btf", std::string(btf.message()),
                                "use a kernel with CONFIG_DEBUG_INFO_BTF=y", ExitCode::kNoBtf));
  auto pins = PinLayout::Resolve(std::nullopt);
  out.push_back(pins.ok() ? Ok("bpffs", absl::StrCat("pins go to ", pins->root()))
                          : Fail("bpffs", std::string(pins.status().message()),
                                 "mount -t bpf bpf /sys/fs/bpf", ExitCode::kNoBpffs));
}

void CheckXdp(const IfaceFacts& f, const PreflightOptions& opts, std::vector<Finding>& out) {
  const std::string& n = f.link.ifname;
  if (f.xdp.native)
    out.push_back(Ok("xdp-native", absl::StrCat("native XDP supported (", f.xdp.source, ")")));
  else
    out.push_back(opts.want_native
                      ? Fail("xdp-native", absl::StrCat("no native XDP (", f.xdp.source, ")"),
                             "use --mode generic", ExitCode::kUnsupported)
                      : Warn("xdp-native",
                             absl::StrCat("no native XDP (", f.xdp.source,
                                          "): attach will use generic (skb) mode"),
                             "expect copy-mode rates; a driver with native XDP does better"));
  if (f.xdp.raw_xdp_features)
    out.push_back(Ok("xdp-features", XdpFeatureNames(f.xdp.raw_xdp_features)));

  std::string segs = f.xdp.zc_max_segs ? absl::StrCat(", zero-copy max segments ", *f.xdp.zc_max_segs)
                                       : std::string(", zero-copy max segments not reported");
  if (f.xdp.zerocopy)
    out.push_back(Ok("xsk-zerocopy", absl::StrCat("AF_XDP zero-copy supported", segs)));
  else
    out.push_back(opts.want_zerocopy
                      ? Fail("xsk-zerocopy", absl::StrCat("no AF_XDP zero-copy", segs),
                             "drop --zerocopy (copy mode)", ExitCode::kUnsupported)
                      : Warn("xsk-zerocopy", absl::StrCat("no AF_XDP zero-copy: sockets run in copy mode", segs),
                             f.recorded ? std::string(f.recorded->zerocopy_needs)
                                        : "zero-copy needs driver support"));
  // igb, ixgbe, i40e, ice: ndo_xsk_wakeup refuses while no XDP program is
  // attached, so a zero-copy socket's first sendto/poll kick fails with
  // EINVAL (a Tx-only socket too) unless a program is there first.
  if (f.xdp.zerocopy && f.recorded && f.recorded->wakeup_needs_xdp_prog) {
    const uint32_t prog = std::max({f.link.xdp_prog_id, f.link.xdp_drv_prog_id, f.link.xdp_skb_prog_id});
    if (prog)
      out.push_back(Ok("xsk-wakeup", absl::StrCat(f.driver, " wakes zero-copy sockets only with an XDP "
                                                  "program attached: one is (id ", prog, ")")));
    else
      out.push_back(Warn("xsk-wakeup",
                         absl::StrCat(f.driver, " refuses AF_XDP wakeups (sendto/poll of a zero-copy "
                                      "socket fail with EINVAL) while no XDP program is attached to ", n),
                         absl::StrCat("attach before binding, Tx-only sockets too: xsk-loader attach ", n,
                                      " --mode native --zerocopy")));
  }
  if (f.xdp.xsk_features)
    out.push_back(Ok("xsk-features", absl::StrCat("AF_XDP Tx metadata: ",
                                                  XskFeatureNames(*f.xdp.xsk_features))));
  else
    out.push_back(Warn("xsk-features", "the kernel does not report AF_XDP Tx metadata features",
                       "Tx timestamps/checksum offload need a 6.8+ kernel and driver support"));

  if (f.recorded && f.recorded->max_xdp_mtu) {
    if (f.link.mtu > f.recorded->max_xdp_mtu)
      out.push_back(Fail("mtu", absl::StrCat("MTU ", f.link.mtu, " above the ", f.recorded->max_xdp_mtu,
                                             " native XDP allows on ", f.driver),
                         absl::StrCat("ip link set dev ", n, " mtu ", f.recorded->max_xdp_mtu,
                                      ", or --mode generic"),
                         ExitCode::kMtuTooLarge));
    else
      out.push_back(Ok("mtu", absl::StrCat("MTU ", f.link.mtu, " within the native XDP limit ",
                                           f.recorded->max_xdp_mtu)));
  } else {
    out.push_back(Ok("mtu", absl::StrCat("MTU ", f.link.mtu, " (no recorded XDP limit for ", f.driver, ")")));
  }
}

void CheckQueuesAndPaths(const IfaceFacts& f, std::vector<Finding>& out) {
  const std::string& n = f.link.ifname;
  std::string ch = f.channels.reported
                       ? absl::StrCat("channels rx ", f.channels.rx, " tx ", f.channels.tx,
                                      " combined ", f.channels.combined, " (max combined ",
                                      f.channels.max_combined, ")")
                       : absl::StrCat("channels not reported; ", f.link.num_rx_queues, " rx queues");
  if (f.QueueCount() < f.online_cpus)
    out.push_back(Warn("channels", absl::StrCat(ch, "; ", f.QueueCount(), " queue(s) for ",
                                                f.online_cpus, " CPUs"),
                       absl::StrCat("one socket per queue: raise queues with ethtool -L ", n,
                                    " combined ", f.online_cpus, " if the driver allows")));
  else
    out.push_back(Ok("channels", absl::StrCat(ch, "; ", f.online_cpus, " CPUs")));

  out.push_back(f.tx_skb_no_linear
                    ? Ok("tx-skb-no-linear",
                         "driver sets IFF_TX_SKB_NO_LINEAR: copy-mode Tx builds skbs from umem "
                         "pages (generic zerocopy xmit)")
                    : Warn("tx-skb-no-linear",
                           f.recorded ? absl::StrCat(f.driver, " needs a linear skb: copy-mode Tx copies every frame")
                                      : "unknown for this driver (no kernel API reports it)",
                           "zero-copy (native) avoids the copy where the driver has it"));

  const BusyPoll& bp = f.busy_poll;
  auto shown = [](const auto& v) { return v ? absl::StrCat(*v) : std::string("n/a"); };
  std::string bpd = absl::StrCat("net.core.busy_poll=", shown(bp.busy_poll_us),
                                 " busy_read=", shown(bp.busy_read_us));
  if (bp.napi_defer_hard_irqs)
    absl::StrAppend(&bpd, " napi_defer_hard_irqs=", *bp.napi_defer_hard_irqs,
                    " gro_flush_timeout=", shown(bp.gro_flush_timeout_ns));
  if (bp.busy_poll_us.value_or(0) == 0 && bp.busy_read_us.value_or(0) == 0 &&
      bp.napi_defer_hard_irqs.value_or(0) == 0)
    out.push_back(Warn("busy-poll", absl::StrCat(bpd, ": interrupt-driven"),
                       absl::StrCat("for busy polling set SO_PREFER_BUSY_POLL and "
                                    "SO_BUSY_POLL_BUDGET on the socket, and napi_defer_hard_irqs/"
                                    "gro_flush_timeout in /sys/class/net/", n)));
  else
    out.push_back(Ok("busy-poll", bpd));

  for (const auto& p : ProbeXskSockopts())
    out.push_back(p.present ? Ok(absl::StrCat("sockopt-", p.name), p.detail)
                            : Warn(absl::StrCat("sockopt-", p.name), p.detail,
                                   p.optname == 9 ? "the per-call Tx budget is fixed at 32 before 6.17"
                                                  : "copy-mode Tx sends one descriptor at a time"));

  if (f.recorded)
    for (auto c : f.recorded->constraints) out.push_back(Warn("driver-constraint", std::string(c), ""));

  uint32_t prog = f.link.xdp_prog_id ? f.link.xdp_prog_id
                                     : std::max(f.link.xdp_drv_prog_id, f.link.xdp_skb_prog_id);
  if (prog)
    out.push_back(Warn("xdp-attached", absl::StrCat("an XDP program (id ", prog, ") is attached"),
                       "xsk-loader status tells whether it is xskit's; attach replaces a foreign "
                       "one only with --force"));
  else
    out.push_back(Ok("xdp-attached", "no XDP program attached"));
}

}  // namespace

absl::StatusOr<std::vector<Finding>> Preflight(const std::string& ifname,
                                               const PreflightOptions& opts) {
  XSKIT_ASSIGN_OR_RETURN(IfaceFacts f, ReadIfaceFacts(ifname));
  std::vector<Finding> out;
  out.push_back(Ok("interface", absl::StrCat(ifname, " ifindex ", f.link.ifindex, ", driver ",
                                             f.driver, " ", f.driver_version, ", bus ",
                                             f.bus_info.empty() ? "-" : f.bus_info,
                                             f.link.up ? ", up" : ", DOWN")));
  CheckEnvironment(out);
  CheckXdp(f, opts, out);
  CheckQueuesAndPaths(f, out);
  return out;
}

const char* VerdictName(Verdict v) {
  switch (v) {
    case Verdict::kOk: return "ok";
    case Verdict::kWarn: return "warn";
    case Verdict::kFail: return "fail";
  }
  return "?";
}

nlohmann::json FindingsJson(const std::string& ifname, const std::vector<Finding>& findings) {
  nlohmann::json j;
  j["interface"] = ifname;
  j["ready"] = true;
  j["findings"] = nlohmann::json::array();
  for (const auto& f : findings) {
    if (f.verdict == Verdict::kFail) j["ready"] = false;
    j["findings"].push_back({{"check", f.check},
                             {"verdict", VerdictName(f.verdict)},
                             {"detail", f.detail},
                             {"action", f.action}});
  }
  return j;
}

std::string RenderFindings(const std::vector<Finding>& findings) {
  std::string out;
  for (const auto& f : findings) {
    absl::StrAppend(&out, absl::StrFormat("%-4s %-32s %s", VerdictName(f.verdict), f.check, f.detail));
    if (!f.action.empty()) absl::StrAppend(&out, "\n     ", std::string(32, ' '), " -> ", f.action);
    absl::StrAppend(&out, "\n");
  }
  return out;
}

}  // namespace xskit

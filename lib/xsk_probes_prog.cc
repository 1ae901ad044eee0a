#include "lib/xsk_probes_prog.h"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <dirent.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <functional>
#include <memory>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/str_cat.h"
#include "lib/enums.h"
#include "lib/errors.h"
#include "lib/log.h"
#include "lib/percpu_maps.h"
#include "lib/pins.h"
#include "lib/xsk_probes_coverage.h"
#include "xsk_probes.skel.h"

namespace xskit {
namespace {

using namespace probes_coverage;  // Variant, Resolution, SignalTable, InfoOf

// ------------------------------------------------------------ variants

// One way of measuring a group of signals (lib/xsk_probes_coverage.h): the
// programs it loads and the kernel functions (BTF FUNC names, alternatives
// in order) it needs.
struct VariantDef {
  const char* name;
  uint32_t mode;                        // enum xsk_probes_mode
  std::vector<std::string> functions;   // all needed (each a '|' list of alternatives)
};

const VariantDef& Def(Variant v) {
  static const VariantDef defs[kNrVariants] = {
      {"tx/fentry", XSK_PROBES_MODE_FENTRY, {"xsk_sendmsg"}},
      {"tx/tracepoint", XSK_PROBES_MODE_TRACEPOINT, {}},
      // bpf_rdonly_cast: a kfunc, so a BTF FUNC like the fentry targets.
      {"tx/tracepoint-plain", XSK_PROBES_MODE_TRACEPOINT, {"bpf_rdonly_cast"}},
      {"poll/fentry", XSK_PROBES_MODE_FENTRY, {"xsk_poll"}},
      {"busy/fentry", XSK_PROBES_MODE_FENTRY, {"__dev_direct_xmit"}},
      {"alloc/fentry", XSK_PROBES_MODE_FENTRY, {"sock_alloc_send_pskb"}},
      {"bulk/fentry", XSK_PROBES_MODE_FENTRY,
       {"kmem_cache_alloc_bulk_noprof|kmem_cache_alloc_bulk"}},
      {"napi/fentry", XSK_PROBES_MODE_FENTRY, {"napi_build_skb"}},
      {"latency/fentry", XSK_PROBES_MODE_FENTRY, {"sock_alloc_send_pskb", "xsk_destruct_skb"}},
      {"drops/tp_btf", XSK_PROBES_MODE_TP_BTF, {}},
      {"drops/tracepoint", XSK_PROBES_MODE_TRACEPOINT, {}},
      {"drops-reasons/tp_btf", XSK_PROBES_MODE_TP_BTF, {}},
      {"drops-reasons/tracepoint", XSK_PROBES_MODE_TRACEPOINT, {}},
      {"xdp/tp_btf", XSK_PROBES_MODE_TP_BTF, {}},
      {"xdp/tracepoint", XSK_PROBES_MODE_TRACEPOINT, {}},
      {"zc-tx/fentry", XSK_PROBES_MODE_FENTRY,
       {"xsk_tx_peek_release_desc_batch", "xsk_tx_peek_desc", "xsk_tx_release"}},
      {"zc-completions/fentry", XSK_PROBES_MODE_FENTRY, {"xsk_tx_completed"}},
      {"zc-rx/fentry", XSK_PROBES_MODE_FENTRY, {"xp_alloc_batch", "xp_alloc"}},
  };
  return defs[v];
}

// The programs of a variant. `bulk_fn` picks the kmem_cache_alloc_bulk name.
std::vector<bpf_program*> ProgsOf(xsk_probes* s, Variant v, const std::string& bulk_fn) {
  auto& p = s->progs;
  switch (v) {
    case kTxFentry: return {p.fentry_xsk_sendmsg, p.fexit_xsk_sendmsg};
    case kTxTracepoint:
      return {p.tp_enter_sendto, p.tp_enter_sendmsg, p.tp_exit_sendto, p.tp_exit_sendmsg};
    case kTxTracepointPlain:
      return {p.tp_enter_sendto_plain, p.tp_enter_sendmsg_plain, p.tp_exit_sendto_plain,
              p.tp_exit_sendmsg_plain};
    case kPollFentry: return {p.fentry_xsk_poll, p.fexit_xsk_poll};
    case kBusyFentry: return {p.fexit_dev_direct_xmit};
    case kAllocFentry: return {p.fexit_sock_alloc_send_pskb};
    case kBulkFentry:
      return {bulk_fn == "kmem_cache_alloc_bulk" ? p.fexit_kmem_cache_alloc_bulk
                                                 : p.fexit_kmem_cache_alloc_bulk_noprof};
    case kNapiFentry: return {p.fexit_napi_build_skb};
    case kLatFentry: return {p.lat_alloc, p.lat_destruct};
    case kDropsBtf: return {p.btf_kfree_skb};
    case kDropsTracepoint: return {p.tp_kfree_skb};
    case kDropsReasonsBtf: return {p.btf_kfree_skb_reasons};
    case kDropsReasonsTracepoint: return {p.tp_kfree_skb_reasons};
    case kXdpBtf: return {p.btf_xdp_redirect_err, p.btf_xdp_exception};
    case kXdpTracepoint: return {p.tp_xdp_redirect_err, p.tp_xdp_exception};
    case kZcTxFentry:
      return {p.zc_tx_batch_enter, p.zc_tx_batch_exit, p.zc_tx_peek_desc, p.zc_tx_release};
    case kZcCompFentry: return {p.zc_tx_completed};
    case kZcRxFentry: return {p.zc_rx_batch_enter, p.zc_rx_batch_exit, p.zc_rx_alloc};
    default: return {};
  }
}

using SkelPtr = std::unique_ptr<xsk_probes, void (*)(xsk_probes*)>;

// Opens the skeleton with only `enabled` variants autoloaded.
absl::StatusOr<SkelPtr> OpenWith(const std::vector<Variant>& enabled, const std::string& bulk_fn,
                                 bool trial) {
  SkelPtr s(xsk_probes__open(), xsk_probes__destroy);
  if (!s) return ErrnoError("open xsk_probes skeleton", errno);
  bpf_program* prog;
  bpf_object__for_each_program(prog, s->obj) bpf_program__set_autoload(prog, false);
  for (Variant v : enabled)
    for (bpf_program* p : ProgsOf(s.get(), v, bulk_fn)) bpf_program__set_autoload(p, true);
  bool latency = std::find(enabled.begin(), enabled.end(), kLatFentry) != enabled.end();
  if (!latency) bpf_map__set_max_entries(s->maps.lat_start, 1);
  // `calls` holds the calls in progress of the fentry (sendmsg, poll) and probe-read Tx
  // programs; the plain-load ones keep theirs in task storage.
  auto has = [&](Variant v) { return std::find(enabled.begin(), enabled.end(), v) != enabled.end(); };
  if (!has(kTxFentry) && !has(kTxTracepoint) && !has(kPollFentry))
    bpf_map__set_max_entries(s->maps.calls, 1);
  if (trial) {
    // A trial only asks the verifier and the attach-target check; keep maps tiny.
    bpf_map* m;
    bpf_object__for_each_map(m, s->obj) {
      if (m == s->maps.rodata) continue;
      if (bpf_map__type(m) == BPF_MAP_TYPE_HASH || bpf_map__type(m) == BPF_MAP_TYPE_PERCPU_HASH)
        bpf_map__set_max_entries(m, 1);
    }
  }
  bool alloc = std::find(enabled.begin(), enabled.end(), kAllocFentry) != enabled.end();
  s->rodata->derive_skb_build = !alloc;
  s->rodata->default_tx_budget = 32;
  return s;
}

// The first existing name of a "a|b" alternative list, or "".
std::string FindFunc(const btf* vmlinux, const std::string& alternatives) {
  for (absl::string_view name : absl::StrSplit(alternatives, '|')) {
    std::string n(name);
    if (btf__find_by_name_kind(vmlinux, n.c_str(), BTF_KIND_FUNC) > 0) return n;
  }
  return "";
}

// Classic tracepoints need tracefs; mount it where it is expected if absent.
void EnsureTracefs() {
  struct stat st {};
  if (::stat("/sys/kernel/tracing/events", &st) == 0) return;
  if (::stat("/sys/kernel/debug/tracing/events", &st) == 0) return;
  if (::mount("tracefs", "/sys/kernel/tracing", "tracefs", 0, nullptr) != 0)
    spdlog::debug("mount tracefs on /sys/kernel/tracing: {}", std::strerror(errno));
}

std::string LoadErrorText(int err) {
  err = err < 0 ? -err : err;
  if (err == EPERM) return "EPERM (the kernel refuses it here)";
  return absl::StrCat(std::strerror(err), " (", err, ")");
}

// Which variants load on this kernel: BTF lookups, then one trial load per
// candidate (fentry and tp_btf loads can be refused as a whole).
// Loads `variants` at once (the caller keeps what it loaded); 0 when all loaded.
using LoadAll = std::function<int(const std::vector<Variant>& variants, const std::string& bulk_fn)>;

absl::StatusOr<Resolution> Resolve(const ProbeOptions& opts, const LoadAll& load_all) {
  std::unique_ptr<btf, void (*)(btf*)> vmlinux(btf__load_vmlinux_btf(), btf__free);
  if (!vmlinux)
    return ErrnoError("read the kernel's BTF (/sys/kernel/btf/vmlinux); the probes need "
                      "CONFIG_DEBUG_INFO_BTF=y",
                      errno, ExitCode::kNoBtf);
  Resolution r;
  r.bulk_fn = FindFunc(vmlinux.get(), "kmem_cache_alloc_bulk_noprof|kmem_cache_alloc_bulk");

  const bool tracepoint_only = opts.mode == ProbeModeRequest::kTracepoint ||
                               opts.mode == ProbeModeRequest::kTracepointProbeRead;
  // What BTF and the requested mode allow, before asking the verifier.
  auto allowed = [&](Variant v) -> bool {
    const VariantDef& d = Def(v);
    for (const auto& f : d.functions)
      if (FindFunc(vmlinux.get(), f).empty()) {
        r.why[v] = absl::StrCat(f, " is not in this kernel's BTF");
        return false;
      }
    if (tracepoint_only && d.mode == XSK_PROBES_MODE_FENTRY) {
      r.why[v] = "fentry not requested (tracepoint mode)";
      return false;
    }
    return true;
  };
  // Where every candidate loads (any kernel that allows fentry), loading
  // them all at once decides, and that load is the one kept: each load
  // parses the kernel's BTF and runs the verifier again, about a second
  // under qemu's TCG. Otherwise one trial per candidate says which.
  std::vector<Variant> candidates;
  for (Variant v : {kTxFentry, kPollFentry, kBusyFentry, kAllocFentry, kBulkFentry, kNapiFentry,
                    kZcTxFentry, kZcCompFentry, kZcRxFentry})
    if (allowed(v)) candidates.push_back(v);
  if (opts.latency && allowed(kLatFentry)) candidates.push_back(kLatFentry);
  if (opts.drops == DropsMode::kInterfaces && allowed(kDropsBtf)) candidates.push_back(kDropsBtf);
  if (opts.drops == DropsMode::kReasons && allowed(kDropsReasonsBtf)) candidates.push_back(kDropsReasonsBtf);
  if (allowed(kXdpBtf)) candidates.push_back(kXdpBtf);
  // Tracepoint Tx with plain loads: tried with the rest where Tx cannot be
  // fentry (forced), else alone once fentry is refused.
  if (opts.mode == ProbeModeRequest::kTracepoint && allowed(kTxTracepointPlain))
    candidates.push_back(kTxTracepointPlain);
  const bool all_load = !candidates.empty() && load_all(candidates, r.bulk_fn) == 0;

  auto trial = [&](Variant v) -> bool {
    const bool candidate = std::find(candidates.begin(), candidates.end(), v) != candidates.end();
    if (!candidate && v != kTxTracepointPlain) return false;
    if (all_load && candidate) return true;
    const VariantDef& d = Def(v);
    auto s = OpenWith({v}, r.bulk_fn, /*trial=*/true);
    if (!s.ok()) {
      r.why[v] = std::string(s.status().message());
      return false;
    }
    int err = xsk_probes__load(s->get());
    if (err) {
      r.why[v] = absl::StrCat("trial load: ", LoadErrorText(err));
      spdlog::debug("probe variant {}: {}", d.name, r.why[v]);
      return false;
    }
    return true;
  };

  // Tx: fentry, else the syscall tracepoints.
  bool tx_fentry = trial(kTxFentry);
  if (tx_fentry) {
    r.enabled.push_back(kTxFentry);
  } else if (opts.mode == ProbeModeRequest::kFentry) {
    return Error(ExitCode::kUnsupported,
                 absl::StrCat("fentry mode requested but not available: ", r.why[kTxFentry]));
  } else if (opts.mode == ProbeModeRequest::kTracepointProbeRead) {
    r.why[kTxTracepointPlain] = "probe reads requested (--mode tracepoint-probe-read)";
    r.enabled.push_back(kTxTracepoint);
  } else if (allowed(kTxTracepointPlain) && trial(kTxTracepointPlain)) {
    // bpf_rdonly_cast (6.2+) and task storage from a tracepoint: plain loads.
    r.enabled.push_back(kTxTracepointPlain);
  } else {
    // 6.1: no bpf_rdonly_cast. A bpf_probe_read_kernel per field.
    r.enabled.push_back(kTxTracepoint);
  }
  for (Variant v : {kPollFentry, kBusyFentry, kAllocFentry, kBulkFentry, kNapiFentry, kZcTxFentry,
                    kZcCompFentry, kZcRxFentry})
    if (trial(v)) r.enabled.push_back(v);
  if (opts.latency) {
    if (trial(kLatFentry)) r.enabled.push_back(kLatFentry);
  } else {
    r.why[kLatFentry] = "off by default (per-skb hash work); enable with --latency";
  }
  switch (opts.drops) {
    case DropsMode::kInterfaces:
      r.enabled.push_back(trial(kDropsBtf) ? kDropsBtf : kDropsTracepoint);
      break;
    case DropsMode::kReasons:
      r.enabled.push_back(trial(kDropsReasonsBtf) ? kDropsReasonsBtf : kDropsReasonsTracepoint);
      r.why[kDropsBtf] = r.why[kDropsReasonsBtf];
      break;
    case DropsMode::kOff:
      r.why[kDropsBtf] = r.why[kDropsReasonsBtf] = "off (--drops=off)";
      break;
  }
  r.enabled.push_back(trial(kXdpBtf) ? kXdpBtf : kXdpTracepoint);
  // Without fentry everywhere the variants left are tracepoints: need tracefs.
  EnsureTracefs();
  (void)tx_fentry;
  return r;
}

}  // namespace

// ------------------------------------------------------------ coverage

namespace probes_coverage {

std::string FitReason(std::string reason) {
  if (reason.size() <= kReasonMax) return reason;
  static constexpr absl::string_view kEllipsis = "\u2026";
  size_t cut = reason.rfind(' ', kReasonMax - kEllipsis.size());
  if (cut == std::string::npos || cut == 0) cut = kReasonMax - kEllipsis.size();
  while (cut > 0 && reason[cut - 1] == ' ') cut--;
  reason.resize(cut);
  // Not inside a UTF-8 sequence (the reasons are ASCII today).
  while (!reason.empty() && (static_cast<unsigned char>(reason.back()) & 0xC0) == 0x80)
    reason.pop_back();
  if (!reason.empty() && (static_cast<unsigned char>(reason.back()) & 0xC0) == 0xC0)
    reason.pop_back();
  return absl::StrCat(reason, kEllipsis);
}

namespace {

bool Has(const Resolution& r, Variant v) {
  return std::find(r.enabled.begin(), r.enabled.end(), v) != r.enabled.end();
}

void SetSignal(std::vector<SignalMode>& out, xsk_probes_signal s, uint32_t mode,
               std::string reason) {
  out[s] = SignalMode{s, mode, FitReason(std::move(reason))};
}

// The zero-copy path. The driver-side signals need fentry on the AF_XDP
// core's driver API; without it the socket counters (xsk_socket_*_total:
// fill_ring_empty, rx_dropped, tx_ring_empty) are the zero-copy signals.
void ZeroCopySignals(const Resolution& r, uint32_t tx_mode, std::vector<SignalMode>& out) {
  auto without = [](const std::string& why) {
    return absl::StrCat("needs fentry on the AF_XDP core's driver API (", why,
                        "); without it the socket inventory's counters (xsk_socket_*_total: "
                        "fill_ring_empty, rx_dropped, rx_ring_full, tx_ring_empty) are the "
                        "zero-copy signals");
  };
  struct ZcSignal {
    xsk_probes_signal signal;
    Variant variant;
    const char* how;
  };
  for (const ZcSignal& z : {
           ZcSignal{XSK_PROBES_SIG_ZC_TX_BATCH, kZcTxFentry,
                    "fexit xsk_tx_peek_release_desc_batch; xsk_tx_peek_desc up to xsk_tx_release "
                    "(drivers taking descriptors one by one); by the pool's netdev and queue"},
           ZcSignal{XSK_PROBES_SIG_ZC_COMPLETIONS, kZcCompFentry,
                    "fentry xsk_tx_completed(pool, nb_entries)"},
           ZcSignal{XSK_PROBES_SIG_ZC_RX_FILL, kZcRxFentry,
                    "fexit xp_alloc_batch (xsk_buff_alloc_batch) and xp_alloc (xsk_buff_alloc; "
                    "copy-mode Rx takes one per frame): buffers asked/obtained, short and empty "
                    "takes"},
       }) {
    if (Has(r, z.variant))
      SetSignal(out, z.signal, XSK_PROBES_MODE_FENTRY, z.how);
    else
      SetSignal(out, z.signal, XSK_PROBES_MODE_UNAVAILABLE, without(r.why[z.variant]));
  }
  const bool poll = Has(r, kPollFentry);
  SetSignal(out, XSK_PROBES_SIG_NEED_WAKEUP, tx_mode,
            "pool->cached_need_wakeup & XDP_WAKEUP_TX at each non-blocking sendmsg entry");
  SetSignal(out, XSK_PROBES_SIG_ZC_WAKEUPS, tx_mode,
            absl::StrCat("xsk_wakeup is inlined (not in BTF): counted where the kernel decides "
                         "it, a zero-copy socket's sendmsg with the Tx need_wakeup set (not "
                         "busy-polling with SO_PREFER_BUSY_POLL)",
                         poll ? ", and poll() with any need_wakeup set"
                              : absl::StrCat("; wakeups from poll() need fentry on xsk_poll (",
                                             r.why[kPollFentry], ")")));
}

}  // namespace

std::vector<SignalMode> SignalTable(const Resolution& r) {
  std::vector<SignalMode> out(XSK_PROBES_NR_SIGNALS);
  for (int i = 0; i < XSK_PROBES_NR_SIGNALS; i++) out[i].signal = static_cast<xsk_probes_signal>(i);

  bool tx_f = Has(r, kTxFentry);
  std::string tx_why =
      tx_f ? "fentry/fexit xsk_sendmsg: Tx ring consumer before/after each call"
      : Has(r, kTxTracepointPlain)
          ? absl::StrCat("syscalls:sys_{enter,exit}_{sendto,sendmsg}, plain loads from the fd "
                         "(bpf_rdonly_cast) (fentry: ",
                         r.why[kTxFentry], "); sendmmsg and io_uring sends are not seen")
          : absl::StrCat("syscalls:sys_{enter,exit}_{sendto,sendmsg} + CO-RE probe reads from "
                         "the fd (plain loads: ",
                         r.why[kTxTracepointPlain], ") (fentry: ", r.why[kTxFentry],
                         "); sendmmsg and io_uring sends are not seen");
  uint32_t tx_mode = tx_f ? XSK_PROBES_MODE_FENTRY : XSK_PROBES_MODE_TRACEPOINT;
  SetSignal(out, XSK_PROBES_SIG_BATCH, tx_mode, tx_why);
  SetSignal(out, XSK_PROBES_SIG_BACKPRESSURE, tx_mode,
            "cause from kernel state at exit: budget, CQ prod/cons/size, sk_wmem_alloc vs "
            "sk_sndbuf");
  SetSignal(out, XSK_PROBES_SIG_OUTSTANDING, tx_mode,
            "CQ cached_prod - consumer (pending) and - producer (in flight) at each sendmsg exit");
  SetSignal(out, XSK_PROBES_SIG_BATCH_XMIT, XSK_PROBES_MODE_UNAVAILABLE,
            "no batched copy-mode xmit (XDP_GENERIC_XMIT_BATCH) in this kernel");
  if (Has(r, kPollFentry))
    SetSignal(out, XSK_PROBES_SIG_POLL_TX, XSK_PROBES_MODE_FENTRY, "fentry/fexit xsk_poll");
  else
    SetSignal(out, XSK_PROBES_SIG_POLL_TX, XSK_PROBES_MODE_UNAVAILABLE,
              absl::StrCat("Tx kicked by poll()/busy-poll recv needs fentry on xsk_poll (",
                           r.why[kPollFentry], ")"));
  if (Has(r, kBusyFentry))
    SetSignal(out, XSK_PROBES_SIG_DRIVER_BUSY, XSK_PROBES_MODE_FENTRY,
              "fexit __dev_direct_xmit == NETDEV_TX_BUSY");
  else
    SetSignal(out, XSK_PROBES_SIG_DRIVER_BUSY, tx_mode,
              absl::StrCat("EAGAIN with the socket's Tx queue stopped by its driver "
                           "(DRV_XOFF/FROZEN) at sendmsg exit; the per-xmit NETDEV_TX_BUSY "
                           "count needs fexit __dev_direct_xmit (",
                           r.why[kBusyFentry], ")"));
  if (Has(r, kAllocFentry)) {
    SetSignal(out, XSK_PROBES_SIG_SKB_BUILD, XSK_PROBES_MODE_FENTRY,
              "fexit sock_alloc_send_pskb on AF_XDP sockets, by IFF_TX_SKB_NO_LINEAR");
    SetSignal(out, XSK_PROBES_SIG_ALLOC_FAIL, XSK_PROBES_MODE_FENTRY,
              "fexit sock_alloc_send_pskb == NULL (errcode != -EAGAIN)");
  } else {
    SetSignal(out, XSK_PROBES_SIG_SKB_BUILD, tx_mode,
              absl::StrCat("derived at sendmsg exit: one skb per consumed descriptor of a "
                           "copy-mode socket, by the device's IFF_TX_SKB_NO_LINEAR "
                           "(multi-buffer frames over-count) (fentry: ",
                           r.why[kAllocFentry], ")"));
    SetSignal(out, XSK_PROBES_SIG_ALLOC_FAIL, tx_mode,
              "from sendmsg's errno (ENOBUFS with a Tx ring, ENOMEM): tx_errors cause "
              "alloc_fail; the per-skb alloc_fail counter needs fentry");
  }
  if (Has(r, kBulkFentry))
    SetSignal(out, XSK_PROBES_SIG_BULK_ALLOC, XSK_PROBES_MODE_FENTRY,
              absl::StrCat("fexit ", r.bulk_fn, " on skbuff_head_cache"));
  else
    SetSignal(out, XSK_PROBES_SIG_BULK_ALLOC, XSK_PROBES_MODE_UNAVAILABLE,
              absl::StrCat("kmem_cache_alloc_bulk has no tracepoint; fentry: ",
                           r.why[kBulkFentry]));
  if (Has(r, kNapiFentry))
    SetSignal(out, XSK_PROBES_SIG_NAPI_BUILD, XSK_PROBES_MODE_FENTRY,
              "fexit napi_build_skb: out-of-line calls (drivers: i40e, ice, mlx5, ...); calls "
              "inlined inside net/core/skbuff.c (skb_pp_cow_data, 6.9+: veth and generic XDP "
              "copies) are not seen");
  else
    SetSignal(out, XSK_PROBES_SIG_NAPI_BUILD, XSK_PROBES_MODE_UNAVAILABLE,
              absl::StrCat("napi_build_skb has no tracepoint; fentry: ", r.why[kNapiFentry]));
  if (Has(r, kLatFentry))
    SetSignal(out, XSK_PROBES_SIG_LATENCY, XSK_PROBES_MODE_FENTRY,
              "fexit sock_alloc_send_pskb -> fentry xsk_destruct_skb");
  else
    SetSignal(out, XSK_PROBES_SIG_LATENCY,
              absl::StrContains(r.why[kLatFentry], "--latency") ? XSK_PROBES_MODE_DISABLED
                                                               : XSK_PROBES_MODE_UNAVAILABLE,
              r.why[kLatFentry]);
  constexpr const char* kByReason =
      " by reason only (--drops=reasons): interface 0, AF_XDP not told apart";
  if (Has(r, kDropsBtf))
    SetSignal(out, XSK_PROBES_SIG_DROPS, XSK_PROBES_MODE_TP_BTF,
              "tp_btf/kfree_skb by reason, netns, interface, AF_XDP or not");
  else if (Has(r, kDropsTracepoint))
    SetSignal(out, XSK_PROBES_SIG_DROPS, XSK_PROBES_MODE_TRACEPOINT,
              absl::StrCat("skb:kfree_skb (tp_btf: ", r.why[kDropsBtf], ")"));
  else if (Has(r, kDropsReasonsBtf))
    SetSignal(out, XSK_PROBES_SIG_DROPS, XSK_PROBES_MODE_TP_BTF,
              absl::StrCat("tp_btf/kfree_skb", kByReason));
  else if (Has(r, kDropsReasonsTracepoint))
    SetSignal(out, XSK_PROBES_SIG_DROPS, XSK_PROBES_MODE_TRACEPOINT,
              absl::StrCat("skb:kfree_skb", kByReason, " (tp_btf: ", r.why[kDropsBtf], ")"));
  else
    SetSignal(out, XSK_PROBES_SIG_DROPS, XSK_PROBES_MODE_DISABLED, r.why[kDropsBtf]);
  ZeroCopySignals(r, tx_mode, out);
  if (Has(r, kXdpBtf))
    SetSignal(out, XSK_PROBES_SIG_XDP_ERRORS, XSK_PROBES_MODE_TP_BTF,
              "tp_btf/xdp_redirect_err, tp_btf/xdp_exception");
  else
    SetSignal(out, XSK_PROBES_SIG_XDP_ERRORS, XSK_PROBES_MODE_TRACEPOINT,
              absl::StrCat("xdp:xdp_redirect_err, xdp:xdp_exception, netns not visible (tp_btf: ",
                           r.why[kXdpBtf], ")"));
  return out;
}

xsk_probes_info InfoOf(const std::vector<SignalMode>& signals) {
  xsk_probes_info info{};
  info.version = ProbesInfoVersion();
  info.nr_signals = XSK_PROBES_NR_SIGNALS;
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  info.attach_time_ns = static_cast<uint64_t>(ts.tv_sec) * 1000000000ULL + ts.tv_nsec;
  for (const auto& s : signals) {
    info.signals[s.signal].mode = s.mode;
    const std::string reason = FitReason(s.reason);  // SignalTable's fit already
    std::memcpy(info.signals[s.signal].reason, reason.data(), reason.size());
  }
  return info;
}

}  // namespace probes_coverage

// -------------------------------------------------------------- names

const char* SignalName(xsk_probes_signal s) {
  switch (s) {
    case XSK_PROBES_SIG_BATCH: return "batch";
    case XSK_PROBES_SIG_BATCH_XMIT: return "batch_xmit";
    case XSK_PROBES_SIG_BACKPRESSURE: return "backpressure";
    case XSK_PROBES_SIG_DRIVER_BUSY: return "driver_busy";
    case XSK_PROBES_SIG_OUTSTANDING: return "outstanding";
    case XSK_PROBES_SIG_POLL_TX: return "poll_tx";
    case XSK_PROBES_SIG_DROPS: return "drops";
    case XSK_PROBES_SIG_XDP_ERRORS: return "xdp_errors";
    case XSK_PROBES_SIG_LATENCY: return "completion_latency";
    case XSK_PROBES_SIG_SKB_BUILD: return "skb_build";
    case XSK_PROBES_SIG_ALLOC_FAIL: return "alloc_fail";
    case XSK_PROBES_SIG_BULK_ALLOC: return "bulk_alloc";
    case XSK_PROBES_SIG_NAPI_BUILD: return "napi_build_skb";
    case XSK_PROBES_SIG_ZC_TX_BATCH: return "zc_tx_batch";
    case XSK_PROBES_SIG_ZC_COMPLETIONS: return "zc_completions";
    case XSK_PROBES_SIG_ZC_WAKEUPS: return "zc_wakeups";
    case XSK_PROBES_SIG_NEED_WAKEUP: return "need_wakeup";
    case XSK_PROBES_SIG_ZC_RX_FILL: return "zc_rx_fill";
    default: return "unknown";
  }
}

const char* ProbeModeName(uint32_t mode) {
  return NameOf(kProbeModeNames, static_cast<xsk_probes_mode>(mode), "unavailable");
}

const char* CauseName(uint32_t cause) {
  return NameOf(kCauseNames, static_cast<xsk_probes_cause>(cause), "other");
}

const char* DropsModeName(DropsMode m) { return NameOf(kDropsModeNames, m, "interfaces"); }

uint32_t BatchBucketLow(int i) { return i <= 0 ? 0 : 1u << (i - 1); }

std::vector<SignalMode> SignalsOf(const xsk_probes_info& info) {
  std::vector<SignalMode> out;
  for (uint32_t i = 0; i < XSK_PROBES_NR_SIGNALS && i < info.nr_signals; i++) {
    const auto& s = info.signals[i];
    out.push_back(SignalMode{static_cast<xsk_probes_signal>(i), s.mode,
                             std::string(s.reason, strnlen(s.reason, sizeof(s.reason)))});
  }
  return out;
}

ProbeModeRequest ProbeModeFromEnv() {
  const char* m = std::getenv("XSKIT_PROBE_MODE");
  if (m && std::strcmp(m, "fentry") == 0) return ProbeModeRequest::kFentry;
  if (m && std::strcmp(m, "tracepoint") == 0) return ProbeModeRequest::kTracepoint;
  if (m && std::strcmp(m, "tracepoint-probe-read") == 0)
    return ProbeModeRequest::kTracepointProbeRead;
  return ProbeModeRequest::kAuto;
}

// --------------------------------------------------------- XskProbesProg

absl::StatusOr<XskProbesProg> XskProbesProg::Load(const ProbeOptions& opts) {
  SkelPtr all(nullptr, xsk_probes__destroy);
  std::vector<Variant> all_variants;
  auto load_all = [&](const std::vector<Variant>& vs, const std::string& bulk_fn) -> int {
    auto s = OpenWith(vs, bulk_fn, /*trial=*/false);
    if (!s.ok()) return -EINVAL;
    if (int err = xsk_probes__load(s->get())) return err;
    all = std::move(*s);
    all_variants = vs;
    return 0;
  };
  XSKIT_ASSIGN_OR_RETURN(Resolution r, Resolve(opts, load_all));
  XskProbesProg p;
  auto same_set = [](std::vector<Variant> a, std::vector<Variant> b) {
    std::sort(a.begin(), a.end());
    std::sort(b.begin(), b.end());
    return a == b;
  };
  if (all && same_set(all_variants, r.enabled)) {
    p.skel_ = all.release();
  } else {
    all.reset();
    XSKIT_ASSIGN_OR_RETURN(SkelPtr s, OpenWith(r.enabled, r.bulk_fn, /*trial=*/false));
    if (int err = xsk_probes__load(s.get()))
      return ErrnoError("load xsk_probes (run with --log-level debug for the verifier log)", err);
    p.skel_ = s.release();
  }
  p.signals_ = SignalTable(r);
  p.info_ = InfoOf(p.signals_);
  uint32_t key = 0;
  if (bpf_map_update_elem(bpf_map__fd(p.skel_->maps.probes_info), &key, &p.info_, BPF_ANY) != 0)
    return ErrnoError("write probes_info", errno);
  return p;
}

XskProbesProg::XskProbesProg(XskProbesProg&& o) noexcept
    : skel_(std::exchange(o.skel_, nullptr)),
      signals_(std::move(o.signals_)),
      info_(o.info_),
      links_(std::move(o.links_)) {
  o.links_.clear();
}

XskProbesProg& XskProbesProg::operator=(XskProbesProg&& o) noexcept {
  if (this != &o) {
    this->~XskProbesProg();
    new (this) XskProbesProg(std::move(o));
  }
  return *this;
}

XskProbesProg::~XskProbesProg() {
  for (auto& [name, link] : links_) bpf_link__destroy(link);  // unpinned links detach here
  links_.clear();
  if (skel_) xsk_probes__destroy(skel_);
  skel_ = nullptr;
}

absl::Status XskProbesProg::Attach() {
  bpf_program* prog;
  bpf_object__for_each_program(prog, skel_->obj) {
    if (!bpf_program__autoload(prog)) continue;
    bpf_link* link = bpf_program__attach(prog);
    if (!link)
      return ErrnoError(absl::StrCat("attach probe ", bpf_program__name(prog), " (",
                                     bpf_program__section_name(prog), ")"),
                        errno);
    links_.emplace_back(bpf_program__name(prog), link);
  }
  return absl::OkStatus();
}

absl::Status XskProbesProg::Pin(const std::string& dir) const {
  XSKIT_RETURN_IF_ERROR(MakeDirs(dir));
  const std::pair<const char*, bpf_map*> maps[] = {
      {kPinTxStats, skel_->maps.tx_stats},     {kPinTxErrors, skel_->maps.tx_errors},
      {kPinDrops, skel_->maps.drops},          {kPinDropSlots, skel_->maps.drop_slots},
      {kPinXdpErrors, skel_->maps.xdp_errors},
      {kPinAllocStats, skel_->maps.alloc_stats}, {kPinLatency, skel_->maps.latency},
      {kPinZcStats, skel_->maps.zc_stats},
  };
  for (const auto& [name, map] : maps)
    XSKIT_RETURN_IF_ERROR(PinFd(bpf_map__fd(map), PinPath(dir, name)));
  for (const auto& [name, link] : links_) {
    std::string path = PinPath(dir, absl::StrCat("link_", name));
    if (int err = bpf_link__pin(link, path.c_str())) return ErrnoError(absl::StrCat("pin ", path), err);
    XSKIT_RETURN_IF_ERROR(ApplyPinAccess(path, PinAccess::kOwnerOnly));
  }
  // The info map last: its presence means "probes attached".
  std::string info = PinPath(dir, kPinProbesInfo);
  return PinFd(bpf_map__fd(skel_->maps.probes_info), info);
}

// ------------------------------------------------------ attach / detach

bool ProbesPinned(const PinLayout& pins) {
  struct stat st {};
  return ::stat(PinPath(pins.ProbesDir(), kPinProbesInfo).c_str(), &st) == 0;
}

namespace {

constexpr const char* kExplicitMarker = "explicit";
constexpr absl::string_view kProbesStagingPrefix = ":probes-staging-";

absl::Status MarkExplicit(const PinLayout& pins) {
  std::string marker = PinPath(pins.ProbesDir(), kExplicitMarker);
  if (::mkdir(marker.c_str(), 0755) != 0 && errno != EEXIST)
    return ErrnoError(absl::StrCat("mkdir ", marker), errno);
  return absl::OkStatus();
}

// Staging directories of probe attaches whose process is gone.
void SweepProbeStaging(const PinLayout& pins) {
  DIR* d = ::opendir(pins.root().c_str());
  if (!d) return;
  std::vector<std::string> stale;
  while (dirent* e = ::readdir(d)) {
    absl::string_view name = e->d_name;
    if (!absl::StartsWith(name, kProbesStagingPrefix)) continue;
    int pid = 0;
    if (!absl::SimpleAtoi(name.substr(kProbesStagingPrefix.size()), &pid)) continue;
    if (pid > 0 && (::kill(pid, 0) == 0 || errno == EPERM)) continue;
    stale.emplace_back(name);
  }
  ::closedir(d);
  for (const auto& name : stale) (void)RemovePinDir(PinPath(pins.root(), name));
}

}  // namespace

bool ProbesAttachedExplicitly(const PinLayout& pins) {
  struct stat st {};
  return ::stat(PinPath(pins.ProbesDir(), kExplicitMarker).c_str(), &st) == 0;
}

namespace {

// The layout version of a probe set another xskit version pinned, which an
// attach replaces (docs/DESIGN.md, "Upgrades"): its info pin is an info map
// of some version (ReadPinnedInfoVersion: an array of one entry, 4-byte key,
// a version word first), the version is not this build's, and not 0 (no
// xskit version). Anything else is `refusal`, and stays as it is.
absl::StatusOr<uint32_t> OtherVersionToReplace(const PinLayout& pins, absl::Status refusal) {
  auto version = ReadPinnedInfoVersion(pins.ProbesDir(), kPinProbesInfo);
  if (!version.ok() || *version == 0 || *version == ProbesInfoVersion()) return refusal;
  return *version;
}

}  // namespace

absl::StatusOr<std::vector<SignalMode>> AttachProbes(const PinLayout& pins,
                                                      const ProbeOptions& opts, bool* already,
                                                      bool explicitly, uint32_t* replaced) {
  *already = false;
  if (replaced) *replaced = 0;
  SweepProbeStaging(pins);
  uint32_t other_version = 0;
  if (ProbesPinned(pins)) {
    auto pinned = PinnedProbes::Open(pins.ProbesDir());
    if (pinned.ok()) {
      if (explicitly) XSKIT_RETURN_IF_ERROR(MarkExplicit(pins));
      *already = true;
      return SignalsOf(pinned->info());
    }
    XSKIT_ASSIGN_OR_RETURN(other_version, OtherVersionToReplace(pins, pinned.status()));
    // `probes attach` asked for the old set: so it did for the new one.
    explicitly = explicitly || ProbesAttachedExplicitly(pins);
  } else {
    // A directory without the info pin is an older loader's half-pinned set.
    XSKIT_RETURN_IF_ERROR(RemovePinDir(pins.ProbesDir()));
  }
  XSKIT_ASSIGN_OR_RETURN(XskProbesProg prog, XskProbesProg::Load(opts));
  XSKIT_RETURN_IF_ERROR(prog.Attach());
  // Staged, then renamed into place: the commit point. Until the rename the
  // links live in this process too, so a crash detaches them.
  const std::string staging = PinPath(pins.root(), absl::StrCat(kProbesStagingPrefix, ::getpid()));
  absl::Status st = prog.Pin(staging);
  if (st.ok() && explicitly) {
    std::string marker = PinPath(staging, kExplicitMarker);
    if (::mkdir(marker.c_str(), 0755) != 0) st = ErrnoError(absl::StrCat("mkdir ", marker), errno);
  }
  if (st.ok() && other_version) {
    Failpoint("probes-before-exchange");
    // Readers see the old set or the new one, never neither; the staging
    // path then holds the old set, whose links detach as its pins go (a
    // crash before that leaves it to the next attach's SweepProbeStaging).
    st = ExchangeDirs(staging, pins.ProbesDir());
    if (st.ok()) {
      Failpoint("probes-after-exchange");
      if (auto removed = RemovePinDir(staging); !removed.ok())
        spdlog::warn("the replaced probes (info version {}) stay in {} until the next attach: {}",
                     other_version, staging, removed.message());
      if (replaced) *replaced = other_version;
      return prog.signals();
    }
  } else if (st.ok() && ::rename(staging.c_str(), pins.ProbesDir().c_str()) != 0) {
    st = ErrnoError(absl::StrCat("rename ", staging, " -> ", pins.ProbesDir()), errno);
  }
  if (!st.ok()) {
    (void)RemovePinDir(staging);
    return st;
  }
  return prog.signals();
}

absl::Status DetachProbes(const PinLayout& pins) {
  struct stat st {};
  if (::stat(pins.ProbesDir().c_str(), &st) != 0)
    return Error(ExitCode::kNotAttached,
                 absl::StrCat("no probes pinned under ", pins.ProbesDir()));
  // <root> stays, empty (lib/pins.h RemovePinDir).
  return RemovePinDir(pins.ProbesDir(), pins.root());
}

}  // namespace xskit

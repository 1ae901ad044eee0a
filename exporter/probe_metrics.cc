// The probe half of XskCollector: tx batching, backpressure, drops, XDP
// errors, allocation path and probe coverage, from the pins under
// <root>/probes/ (PinnedProbes). The probes key their maps by (netns inode,
// ifindex); those are turned into ifname/netns labels through the attached
// interfaces' steer_info, and only attached, live interfaces are exported
// (host-wide drops on other devices are not xskit's to publish), except
// drops of skbs that belonged to an AF_XDP socket.
#include <net/if.h>

#include <cstring>
#include <map>
#include <sys/stat.h>
#include <filesystem>
#include <optional>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "exporter/collector.h"
#include "exporter/decoders.h"
#include "exporter/families.h"

namespace xskit::exporter {
namespace {

using prometheus::MetricType;

struct IfaceLabels {
  std::string ifname, netns;
};

// (netns inode, ifindex) -> labels of the attached, live, selected interfaces.
class IfaceIndex {
 public:
  explicit IfaceIndex(const std::vector<std::unique_ptr<IfaceEntry>>& ifaces) {
    for (const auto& e : ifaces) {
      if (!e->live()) continue;
      IfaceLabels l{e->parts.ifname, e->parts.netns};
      by_key_[{e->steer->info().netns_ino, e->link.ifindex}] = l;
      by_index_[e->link.ifindex].push_back(l);
    }
  }
  // netns_ino 0 (a classic tracepoint cannot see the netns): by ifindex
  // alone when that is unambiguous.
  const IfaceLabels* Find(uint64_t netns_ino, uint32_t ifindex) const {
    if (netns_ino == 0) {
      auto it = by_index_.find(ifindex);
      return it != by_index_.end() && it->second.size() == 1 ? &it->second[0] : nullptr;
    }
    auto it = by_key_.find({netns_ino, ifindex});
    return it == by_key_.end() ? nullptr : &it->second;
  }

 private:
  std::map<std::pair<uint64_t, uint32_t>, IfaceLabels> by_key_;
  std::map<uint32_t, std::vector<IfaceLabels>> by_index_;
};

bool Available(const xsk_probes_info& info, xsk_probes_signal s) {
  if (static_cast<uint32_t>(s) >= info.nr_signals) return false;
  uint32_t m = info.signals[s].mode;
  return m == XSK_PROBES_MODE_FENTRY || m == XSK_PROBES_MODE_TP_BTF ||
         m == XSK_PROBES_MODE_TRACEPOINT;
}

// Names of the namespaces under /run/netns by inode (a stat each: no
// privilege needed, unlike entering them to read device names).
std::map<uint64_t, std::string> NetnsNames() {
  std::map<uint64_t, std::string> names;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator("/run/netns", ec)) {
    struct stat st {};
    if (::stat(e.path().c_str(), &st) == 0) names[st.st_ino] = e.path().filename().string();
  }
  return names;
}

// The labels of the device a probe key names: an attached interface by its
// labels; another device of the exporter's own namespace by its name; any
// other by ifindex and namespace inode (names there are not ours to read).
// Devices xskit is not attached to are published too: a Tx-only AF_XDP
// application needs no steering, and host drops belong beside AF_XDP's.
// With --interfaces only the selected (attached) ones are.
std::optional<IfaceLabels> SiteOf(const IfaceIndex& ifaces, uint64_t netns_ino, uint32_t ifindex,
                                  uint64_t self_netns, bool filtered,
                                  const std::map<uint64_t, std::string>& netns_names) {
  if (const IfaceLabels* l = ifaces.Find(netns_ino, ifindex)) return *l;
  if (filtered) return std::nullopt;
  IfaceLabels out;
  bool own = netns_ino == self_netns || netns_ino == 0;
  if (!own) {
    auto it = netns_names.find(netns_ino);
    out.netns = it != netns_names.end() ? it->second : absl::StrCat("ns", netns_ino);
  }
  char buf[IF_NAMESIZE] = {};
  if (ifindex != 0)
    out.ifname = own && if_indextoname(ifindex, buf) ? std::string(buf) : absl::StrCat("if", ifindex);
  return out;
}

Labels Queue(const IfaceLabels& l, uint32_t queue) {
  return {{"ifname", l.ifname}, {"netns", l.netns}, {"queue", absl::StrCat(queue)}};
}

}  // namespace

void XskCollector::CollectProbes(std::vector<prometheus::MetricFamily>& out) const {
  FamilyBuilder coverage("xsk_probe_coverage",
                         "Probe mode in use per signal; unavailable with the reason (always 1).",
                         MetricType::Gauge);
  const PinnedProbes* p = cache_.probes();
  if (!p) {
    for (int s = 0; s < XSK_PROBES_NR_SIGNALS; s++)
      coverage.Add({{"signal", SignalName(static_cast<xsk_probes_signal>(s))},
                    {"mode", "unavailable"},
                    {"reason", "probes not attached (xsk-loader probes attach)"}},
                   1);
    coverage.MoveTo(out);
    return;
  }
  const xsk_probes_info& info = p->info();
  for (const auto& s : SignalsOf(info)) {
    bool on = Available(info, s.signal);
    coverage.Add({{"signal", SignalName(s.signal)},
                  {"mode", on ? ProbeModeName(s.mode) : "unavailable"},
                  {"reason", s.reason}},
                 1);
  }

  IfaceIndex ifaces(cache_.ifaces());
  const std::map<uint64_t, std::string> netns_names = NetnsNames();
  auto site = [&](uint64_t netns_ino, uint32_t ifindex) {
    return SiteOf(ifaces, netns_ino, ifindex, self_netns_, cache_.filtered(), netns_names);
  };
  auto read_error = [this](const char* what, const absl::Status& st) {
    Error("probes_read", absl::StrCat(what, ": ", st.message()));
  };

  // ---- transmit: batching, outstanding, skb build path, alloc failures
  FamilyBuilder calls("xsk_tx_sendmsg_calls_total",
                      "sendmsg/sendto calls on AF_XDP sockets.", MetricType::Counter);
  FamilyBuilder descs("xsk_tx_descriptors_total",
                      "Tx descriptors consumed by those calls.", MetricType::Counter);
  FamilyBuilder empty("xsk_tx_empty_wakeups_total",
                      "sendmsg calls that found no descriptor to send.", MetricType::Counter);
  FamilyBuilder batch("xsk_tx_descriptors_per_sendmsg",
                      "Descriptors one sendmsg consumed from the Tx ring.",
                      MetricType::Histogram);
  FamilyBuilder outstanding("xsk_tx_descriptors_outstanding",
                            "Descriptors transmitted and not yet completed, at the last "
                            "sendmsg.",
                            MetricType::Gauge);
  FamilyBuilder skbs("xsk_tx_skbs_total", "skbs built for copy-mode transmit, by build path.",
                     MetricType::Counter);
  FamilyBuilder alloc_fail("xsk_skb_alloc_failures_total",
                           "skb allocations for AF_XDP transmit that failed.",
                           MetricType::Counter);
  bool batch_on = Available(info, XSK_PROBES_SIG_BATCH);
  bool out_on = Available(info, XSK_PROBES_SIG_OUTSTANDING);
  bool build_on = Available(info, XSK_PROBES_SIG_SKB_BUILD);
  bool fail_on = Available(info, XSK_PROBES_SIG_ALLOC_FAIL);
  bool fail_fentry = fail_on && info.signals[XSK_PROBES_SIG_ALLOC_FAIL].mode ==
                                    XSK_PROBES_MODE_FENTRY;
  const std::vector<double> batch_bounds = BatchBucketBounds();
  if (auto rows = p->ReadTx(); rows.ok()) {
    for (const auto& [k, v] : *rows) {
      auto l = site(k.netns_ino, k.ifindex);
      if (!l) continue;
      Labels q = Queue(*l, k.queue);
      if (batch_on) {
        calls.Add(q, v.calls);
        descs.Add(q, v.descs);
        empty.Add(q, v.hist[0]);
        std::vector<uint64_t> per(v.hist, v.hist + XSK_PROBES_BATCH_BUCKETS - 1);
        batch.AddHistogram(q, batch_bounds, per, v.hist[XSK_PROBES_BATCH_BUCKETS - 1],
                           static_cast<double>(v.descs));
      }
      if (out_on) outstanding.Add(q, v.in_flight);
      if (build_on) {
        Labels lin = q, frag = q;
        lin.push_back({"path", "linear"});
        frag.push_back({"path", "frags"});
        skbs.Add(lin, v.linear_skbs);
        skbs.Add(frag, v.frag_skbs);
      }
      if (fail_fentry) alloc_fail.Add(q, v.alloc_fail);
    }
  } else {
    read_error("tx_stats", rows.status());
  }

  // ---- backpressure: errors by cause and errno
  FamilyBuilder errors("xsk_tx_sendmsg_errors_total",
                       "sendmsg calls on AF_XDP sockets that failed (or stalled: errno "
                       "\"none\"), by cause and errno.",
                       MetricType::Counter);
  bool bp_on = Available(info, XSK_PROBES_SIG_BACKPRESSURE);
  if (auto rows = p->ReadTxErrors(); rows.ok()) {
    for (const auto& [k, n] : *rows) {
      auto l = site(k.q.netns_ino, k.q.ifindex);
      if (!l) continue;
      Labels q = Queue(*l, k.q.queue);
      if (bp_on) {
        Labels e = q;
        e.push_back({"cause", TxCauseLabel(k.cause)});
        e.push_back({"errno", ErrnoLabel(static_cast<int>(k.err))});
        errors.Add(e, n);
      }
      // Without fentry the failures are known only from sendmsg's errno.
      if (fail_on && !fail_fentry && k.cause == XSK_PROBES_CAUSE_ALLOC_FAIL)
        alloc_fail.Add(q, n);
    }
  } else {
    read_error("tx_errors", rows.status());
  }

  // ---- completion latency (only when enabled)
  FamilyBuilder latency("xsk_tx_completion_latency_seconds",
                        "Time from skb build to its completion (destructor).",
                        MetricType::Histogram);
  if (Available(info, XSK_PROBES_SIG_LATENCY)) {
    if (auto rows = p->ReadLatency(); rows.ok()) {
      const std::vector<double> bounds = LatencyBucketBounds();
      for (const auto& [k, v] : *rows) {
        auto l = site(k.netns_ino, k.ifindex);
        if (!l) continue;
        std::vector<uint64_t> per(v.hist, v.hist + XSK_PROBES_LAT_BUCKETS - 1);
        uint64_t in_buckets = 0;
        for (uint64_t c : per) in_buckets += c;
        latency.AddHistogram(Queue(*l, k.queue), bounds, per,
                             v.count > in_buckets ? v.count - in_buckets : 0,
                             static_cast<double>(v.sum_ns) / 1e9);
      }
    } else {
      read_error("latency", rows.status());
    }
  }

  // ---- drops by kernel drop reason
  FamilyBuilder drops("xsk_skb_drops_total",
                      "skbs freed as dropped (kfree_skb), by the kernel's drop reason.",
                      MetricType::Counter);
  if (Available(info, XSK_PROBES_SIG_DROPS)) {
    if (auto rows = p->ReadDrops(); rows.ok()) {
      for (const auto& [k, n] : *rows) {
        auto where_or = site(k.netns_ino, k.ifindex);
        if (!where_or) continue;
        const IfaceLabels& where = *where_or;
        std::string reason =
            reasons_ ? reasons_->Name(k.reason) : absl::StrCat("reason_", k.reason);
        drops.Add({{"reason", reason},
                   {"ifname", where.ifname},
                   {"netns", where.netns},
                   {"xsk", k.xsk ? "true" : "false"}},
                  n);
      }
    } else {
      read_error("drops", rows.status());
    }
  }

  // ---- XDP redirect errors and exceptions
  FamilyBuilder redirect("xsk_xdp_redirect_errors_total",
                         "XDP redirects that failed, by errno.", MetricType::Counter);
  FamilyBuilder exceptions("xsk_xdp_exceptions_total",
                           "XDP exceptions (aborted or invalid actions), by action.",
                           MetricType::Counter);
  if (Available(info, XSK_PROBES_SIG_XDP_ERRORS)) {
    if (auto rows = p->ReadXdpErrors(); rows.ok()) {
      for (const auto& [k, n] : *rows) {
        auto where_or = site(k.netns_ino, k.ifindex);
        if (!where_or) continue;
        const IfaceLabels& where = *where_or;
        if (k.event == XSK_PROBES_XDP_REDIRECT_ERR)
          redirect.Add({{"ifname", where.ifname},
                        {"netns", where.netns},
                        {"errno", ErrnoLabel(static_cast<int>(k.value))}},
                       n);
        else
          exceptions.Add({{"ifname", where.ifname},
                          {"netns", where.netns},
                          {"action", XdpActionLabel(k.value)}},
                         n);
      }
    } else {
      read_error("xdp_errors", rows.status());
    }
  }

  // ---- host-wide allocation path
  FamilyBuilder allocs("xsk_skb_allocs_total", "skb heads allocated, by allocation path.",
                       MetricType::Counter);
  bool bulk_on = Available(info, XSK_PROBES_SIG_BULK_ALLOC);
  bool napi_on = Available(info, XSK_PROBES_SIG_NAPI_BUILD);
  if (bulk_on || napi_on) {
    if (auto a = p->ReadAlloc(); a.ok()) {
      if (bulk_on) allocs.Add({{"path", "bulk"}}, a->bulk_objs);
      if (napi_on) allocs.Add({{"path", "napi_cache"}}, a->napi_build_skb);
    } else {
      read_error("alloc_stats", a.status());
    }
  }

  for (FamilyBuilder* f : {&calls, &descs, &empty, &batch, &outstanding, &errors, &latency,
                           &skbs, &alloc_fail, &allocs, &drops, &redirect, &exceptions,
                           &coverage})
    f->MoveTo(out);
}

}  // namespace xskit::exporter

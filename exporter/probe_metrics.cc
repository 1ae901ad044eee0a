// The probe half of XskCollector: tx batching, backpressure, drops, XDP
// errors, allocation path and probe coverage, rendered from one
// ProbeSnapshot of the pins under <root>/probes/ (lib/probe_snapshot.h):
// its sites name the attached, live interfaces by their pin directory's
// ifname/netns and every other device as the snapshot does; with
// --interfaces only the selected (attached) ones are published.
#include "absl/strings/str_cat.h"
#include "exporter/collector.h"
#include "exporter/decoders.h"
#include "exporter/families.h"
#include "lib/probe_snapshot.h"

namespace xskit::exporter {
namespace {

using prometheus::MetricType;

Labels Queue(const ProbeSite& l, uint32_t queue) {
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
  std::vector<KnownIface> known;
  for (const auto& e : cache_.ifaces())
    if (e->live())
      known.push_back({e->steer->info().netns_ino, e->link.ifindex, e->parts.ifname, e->parts.netns});
  ProbeSnapshot snap = ReadProbeSnapshot(*p, SiteResolver(std::move(known), self_netns_),
                                         reasons_ ? &*reasons_ : nullptr);
  if (cache_.filtered())
    snap = snap.Filter([](const ProbeSite& site) { return site.attached; });
  for (const auto& [what, message] : snap.read_errors)
    Error("probes_read", absl::StrCat(what, ": ", message));
  for (const auto& s : snap.signals) {
    bool on = snap.Has(s.signal);
    coverage.Add({{"signal", SignalName(s.signal)},
                  {"mode", on ? ProbeModeName(s.mode) : "unavailable"},
                  {"reason", s.reason}},
                 1);
  }

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
  const bool batch_on = snap.Has(XSK_PROBES_SIG_BATCH);
  const bool out_on = snap.Has(XSK_PROBES_SIG_OUTSTANDING);
  const bool build_on = snap.Has(XSK_PROBES_SIG_SKB_BUILD);
  const bool fail_on = snap.Has(XSK_PROBES_SIG_ALLOC_FAIL);
  const bool fail_fentry =
      fail_on && snap.info.signals[XSK_PROBES_SIG_ALLOC_FAIL].mode == XSK_PROBES_MODE_FENTRY;
  const std::vector<double> batch_bounds = BatchBucketBounds();
  for (const auto& r : snap.tx) {
    const xsk_probes_tx& v = r.tx;
    Labels q = Queue(r.site, r.queue);
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

  // ---- backpressure: errors by cause and errno
  FamilyBuilder errors("xsk_tx_sendmsg_errors_total",
                       "sendmsg calls on AF_XDP sockets that failed (or stalled: errno "
                       "\"none\"), by cause and errno.",
                       MetricType::Counter);
  const bool bp_on = snap.Has(XSK_PROBES_SIG_BACKPRESSURE);
  for (const auto& r : snap.tx_errors) {
    Labels q = Queue(r.site, r.queue);
    if (bp_on) {
      Labels e = q;
      e.push_back({"cause", r.cause_label});
      e.push_back({"errno", r.errno_label});
      errors.Add(e, r.calls);
    }
    // Without fentry the failures are known only from sendmsg's errno.
    if (fail_on && !fail_fentry && r.cause == XSK_PROBES_CAUSE_ALLOC_FAIL) alloc_fail.Add(q, r.calls);
  }

  // ---- completion latency (only when enabled)
  FamilyBuilder latency("xsk_tx_completion_latency_seconds",
                        "Time from skb build to its completion (destructor).",
                        MetricType::Histogram);
  if (snap.Has(XSK_PROBES_SIG_LATENCY)) {
    const std::vector<double> bounds = LatencyBucketBounds();
    for (const auto& r : snap.latency) {
      const xsk_probes_latency& v = r.latency;
      std::vector<uint64_t> per(v.hist, v.hist + XSK_PROBES_LAT_BUCKETS - 1);
      uint64_t in_buckets = 0;
      for (uint64_t c : per) in_buckets += c;
      latency.AddHistogram(Queue(r.site, r.queue), bounds, per,
                           v.count > in_buckets ? v.count - in_buckets : 0,
                           static_cast<double>(v.sum_ns) / 1e9);
    }
  }

  // ---- drops by kernel drop reason
  FamilyBuilder drops("xsk_skb_drops_total",
                      "skbs freed as dropped (kfree_skb), by the kernel's drop reason.",
                      MetricType::Counter);
  if (snap.Has(XSK_PROBES_SIG_DROPS))
    for (const auto& r : snap.drops)
      drops.Add({{"reason", r.reason_label},
                 {"ifname", r.site.ifname},
                 {"netns", r.site.netns},
                 {"xsk", r.xsk ? "true" : "false"}},
                r.skbs);

  // ---- XDP redirect errors and exceptions
  FamilyBuilder redirect("xsk_xdp_redirect_errors_total",
                         "XDP redirects that failed, by errno.", MetricType::Counter);
  FamilyBuilder exceptions("xsk_xdp_exceptions_total",
                           "XDP exceptions (aborted or invalid actions), by action.",
                           MetricType::Counter);
  if (snap.Has(XSK_PROBES_SIG_XDP_ERRORS))
    for (const auto& r : snap.xdp_errors)
      (r.event == XSK_PROBES_XDP_REDIRECT_ERR ? redirect : exceptions)
          .Add({{"ifname", r.site.ifname},
                {"netns", r.site.netns},
                {r.event == XSK_PROBES_XDP_REDIRECT_ERR ? "errno" : "action", r.value_label}},
               r.events);

  // ---- host-wide allocation path
  FamilyBuilder allocs("xsk_skb_allocs_total", "skb heads allocated, by allocation path.",
                       MetricType::Counter);
  if (snap.alloc) {
    if (snap.Has(XSK_PROBES_SIG_BULK_ALLOC)) allocs.Add({{"path", "bulk"}}, snap.alloc->bulk_objs);
    if (snap.Has(XSK_PROBES_SIG_NAPI_BUILD))
      allocs.Add({{"path", "napi_cache"}}, snap.alloc->napi_build_skb);
  }

  // ---- the zero-copy path (driver side, wakeups, need_wakeup)
  FamilyBuilder zc_batches("xsk_zc_tx_batches_total",
                           "Zero-copy Tx batches the driver took from the Tx ring (NAPI polls "
                           "included that found none).",
                           MetricType::Counter);
  FamilyBuilder zc_descs("xsk_zc_tx_descriptors_total",
                         "Tx descriptors the driver took in those batches.", MetricType::Counter);
  FamilyBuilder zc_per_batch("xsk_zc_tx_descriptors_per_batch",
                             "Descriptors one driver Tx batch took.", MetricType::Histogram);
  FamilyBuilder zc_comp_calls("xsk_zc_tx_completion_calls_total",
                              "xsk_tx_completed calls by the driver.", MetricType::Counter);
  FamilyBuilder zc_comps("xsk_zc_tx_completions_total",
                         "Tx descriptors the driver completed.", MetricType::Counter);
  FamilyBuilder zc_wakeups("xsk_zc_driver_wakeups_total",
                           "Driver wakeups (ndo_xsk_wakeup) of zero-copy sockets, by the call "
                           "that woke it.",
                           MetricType::Counter);
  FamilyBuilder need_wakeup("xsk_tx_sendmsg_need_wakeup_calls_total",
                            "Non-blocking sendmsg calls by the Tx need_wakeup flag they found.",
                            MetricType::Counter);
  FamilyBuilder fill_takes("xsk_zc_fill_takes_total",
                           "Buffer takes from the fill ring (driver refills; copy-mode Rx one "
                           "per frame).",
                           MetricType::Counter);
  FamilyBuilder fill_wanted("xsk_zc_fill_buffers_wanted_total",
                            "Buffers those takes asked for.", MetricType::Counter);
  FamilyBuilder fill_got("xsk_zc_fill_buffers_total", "Buffers those takes obtained.",
                         MetricType::Counter);
  FamilyBuilder fill_short("xsk_zc_fill_short_takes_total",
                           "Fill ring takes that obtained fewer buffers than asked.",
                           MetricType::Counter);
  FamilyBuilder fill_empty("xsk_zc_fill_empty_takes_total",
                           "Fill ring takes that obtained none (the fill ring was empty).",
                           MetricType::Counter);
  const bool zc_tx_on = snap.Has(XSK_PROBES_SIG_ZC_TX_BATCH);
  const bool zc_comp_on = snap.Has(XSK_PROBES_SIG_ZC_COMPLETIONS);
  const bool zc_wake_on = snap.Has(XSK_PROBES_SIG_ZC_WAKEUPS);
  const bool poll_on = snap.Has(XSK_PROBES_SIG_POLL_TX);
  const bool nw_on = snap.Has(XSK_PROBES_SIG_NEED_WAKEUP);
  const bool fill_on = snap.Has(XSK_PROBES_SIG_ZC_RX_FILL);
  for (const auto& r : snap.zc) {
    const xsk_probes_zc& v = r.zc;
    Labels q = Queue(r.site, r.queue);
    if (zc_tx_on && v.tx_batches) {
      zc_batches.Add(q, v.tx_batches);
      zc_descs.Add(q, v.tx_descs);
      std::vector<uint64_t> per(v.tx_hist, v.tx_hist + XSK_PROBES_BATCH_BUCKETS - 1);
      zc_per_batch.AddHistogram(q, batch_bounds, per, v.tx_hist[XSK_PROBES_BATCH_BUCKETS - 1],
                                static_cast<double>(v.tx_descs));
    }
    if (zc_comp_on && v.completion_calls) {
      zc_comp_calls.Add(q, v.completion_calls);
      zc_comps.Add(q, v.completions);
    }
    if (zc_wake_on && (v.wakeups_sendmsg || v.wakeups_poll)) {
      Labels s = q, p = q;
      s.push_back({"call", "sendmsg"});
      zc_wakeups.Add(s, v.wakeups_sendmsg);
      if (poll_on) {
        p.push_back({"call", "poll"});
        zc_wakeups.Add(p, v.wakeups_poll);
      }
    }
    if (nw_on && (v.sendmsg_need_wakeup || v.sendmsg_no_need_wakeup)) {
      Labels set = q, clear = q;
      set.push_back({"need_wakeup", "set"});
      clear.push_back({"need_wakeup", "clear"});
      need_wakeup.Add(set, v.sendmsg_need_wakeup);
      need_wakeup.Add(clear, v.sendmsg_no_need_wakeup);
    }
    if (fill_on && v.rx_alloc_calls) {
      fill_takes.Add(q, v.rx_alloc_calls);
      fill_wanted.Add(q, v.rx_alloc_wanted);
      fill_got.Add(q, v.rx_alloc_frames);
      fill_short.Add(q, v.rx_alloc_short);
      fill_empty.Add(q, v.rx_alloc_empty);
    }
  }

  for (FamilyBuilder* f : {&calls, &descs, &empty, &batch, &outstanding, &errors, &latency,
                           &skbs, &alloc_fail, &allocs, &drops, &redirect, &exceptions,
                           &zc_batches, &zc_descs, &zc_per_batch, &zc_comp_calls, &zc_comps,
                           &zc_wakeups, &need_wakeup, &fill_takes, &fill_wanted, &fill_got,
                           &fill_short, &fill_empty, &coverage})
    f->MoveTo(out);
}

}  // namespace xskit::exporter

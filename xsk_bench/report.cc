#include "xsk_bench/report.h"

#include <cstdio>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace xskit::bench {
namespace {

using json = nlohmann::json;

double Div(double a, double b) { return b > 0 ? a / b : 0; }

std::string Pct(double share) { return absl::StrFormat("%.0f%%", share * 100); }

// The probes' per-interval explanation for the live line.
std::string ProbeLive(const ProbeView& pv, const ProbeSnapshot& d, double dt, bool tx) {
  if (!pv.attached()) return "probes: not attached";
  std::vector<std::string> parts;
  const xsk_probes_tx t = SampleTx(d);
  if (tx && pv.Has(XSK_PROBES_SIG_BATCH) && t.calls)
    parts.push_back(absl::StrFormat("%.1f desc/sendmsg", Div(t.descs, t.calls)));
  if (tx && pv.Has(XSK_PROBES_SIG_BACKPRESSURE)) {
    std::map<uint32_t, std::pair<std::string, uint64_t>> by_cause;
    for (const auto& r : d.tx_errors) {
      by_cause[r.cause].first = r.cause_label;
      by_cause[r.cause].second += r.calls;
    }
    std::vector<std::string> causes;
    for (const auto& [cause, row] : by_cause)
      causes.push_back(absl::StrCat(row.first, " ", Pct(Div(row.second, t.calls))));
    parts.push_back(causes.empty() ? "no backpressure" : absl::StrJoin(causes, " "));
  }
  if (pv.Has(XSK_PROBES_SIG_DROPS)) {
    std::map<uint32_t, std::pair<std::string, uint64_t>> by_reason;
    for (const auto& r : d.drops) {
      by_reason[r.reason].first = r.reason_label;
      by_reason[r.reason].second += r.skbs;
    }
    for (const auto& [reason, row] : by_reason)
      parts.push_back(absl::StrCat("drop ", row.first, " ", Si(row.second / dt), "/s"));
  }
  if (pv.Has(XSK_PROBES_SIG_ZC_TX_BATCH)) {
    uint64_t batches = 0, descs = 0;
    for (const auto& r : d.zc) {
      batches += r.zc.tx_batches - r.zc.tx_hist[0];
      descs += r.zc.tx_descs;
    }
    if (descs) parts.push_back(absl::StrFormat("%.1f desc/driver batch", Div(descs, batches)));
  }
  if (pv.Has(XSK_PROBES_SIG_XDP_ERRORS)) {
    uint64_t n = 0;
    for (const auto& r : d.xdp_errors) n += r.events;
    if (n) parts.push_back(absl::StrCat("xdp redirect errors ", Si(n / dt), "/s"));
  }
  return absl::StrCat("probes: ", parts.empty() ? "idle" : absl::StrJoin(parts, ", "));
}

json Rate(uint64_t packets, double secs, uint32_t pkt_size) {
  double pps = Div(packets, secs);
  return {{"packets", packets}, {"pps", pps}, {"mbps", pps * pkt_size * 8 / 1e6}};
}

}  // namespace

std::string Si(double v) {
  if (v >= 1e9) return absl::StrFormat("%.2fG", v / 1e9);
  if (v >= 1e6) return absl::StrFormat("%.2fM", v / 1e6);
  if (v >= 1e3) return absl::StrFormat("%.1fk", v / 1e3);
  return absl::StrFormat("%.0f", v);
}

void Reporter::Live(const Snapshot& prev, const Snapshot& cur, double since) const {
  if (o_.quiet) return;
  double dt = cur.t - prev.t;
  bool tx = o_.mode == Mode::kTxOnly;
  std::string line = absl::StrFormat("%6.1fs ", since);
  auto rate = [&](uint64_t a, uint64_t b) { return Div(b - a, dt); };
  if (tx) {
    double pps = rate(prev.tx_packets, cur.tx_packets);
    absl::StrAppend(&line, absl::StrFormat("tx %sp/s %6.0f Mbit/s", Si(pps),
                                           pps * o_.pkt_size * 8 / 1e6));
    double kicks = cur.kicks - prev.kicks;
    if (o_.backend == Backend::kAfXdp)
      absl::StrAppend(&line, absl::StrFormat(" | sendmsg %s/s %.1f desc/call, EAGAIN %s",
                                             Si(kicks / dt),
                                             Div(static_cast<uint32_t>(cur.tx_consumed - prev.tx_consumed), kicks),
                                             Pct(Div(cur.eagain - prev.eagain, kicks))));
    else
      absl::StrAppend(&line, absl::StrFormat(" | sendmmsg %s/s %.1f pkt/call", Si(kicks / dt),
                                             Div(cur.tx_packets - prev.tx_packets, kicks)));
  } else {
    double pps = rate(prev.rx_packets, cur.rx_packets);
    absl::StrAppend(&line, absl::StrFormat("rx %sp/s %6.0f Mbit/s", Si(pps),
                                           pps * o_.pkt_size * 8 / 1e6));
    if (o_.mode == Mode::kL2Fwd)
      absl::StrAppend(&line, absl::StrFormat(" fwd %sp/s", Si(rate(prev.fwd_packets, cur.fwd_packets))));
    if (sandbox_)
      absl::StrAppend(&line, absl::StrFormat(" (sender %sp/s)", Si(rate(prev.tx_packets, cur.tx_packets))));
    absl::StrAppend(&line, absl::StrFormat(" | wakeups %s/s", Si(rate(prev.rx_wakeups, cur.rx_wakeups))));
  }
  absl::StrAppend(&line, " | ", ProbeLive(probes_, cur.probes.Delta(prev.probes), dt, tx));
  std::fprintf(o_.json ? stderr : stdout, "%s\n", line.c_str());
  std::fflush(o_.json ? stderr : stdout);
}

json Reporter::ProbesJson(const RunFacts& f) const {
  json p;
  p["attached"] = probes_.attached();
  if (!probes_.attached()) {
    p["why_not"] = probes_.why_not();
    return p;
  }
  p["attached_for_run"] = probes_.attached_for_run();
  json sigs = json::array();
  for (const auto& s : probes_.signals())
    sigs.push_back({{"signal", SignalName(s.signal)}, {"mode", ProbeModeName(s.mode)}});
  p["signals"] = sigs;
  const ProbeSnapshot& d = f.probes;
  const xsk_probes_tx dtx = SampleTx(d);
  bool tx_side = o_.mode == Mode::kTxOnly || f.generator;
  tx_side = tx_side && o_.backend == Backend::kAfXdp;  // the probes see AF_XDP sockets only
  if (tx_side && probes_.Has(XSK_PROBES_SIG_BATCH)) {
    json hist = json::array();
    for (int i = 0; i < XSK_PROBES_BATCH_BUCKETS; i++)
      hist.push_back({{"low", BatchBucketLow(i)}, {"calls", dtx.hist[i]}});
    json t = {{"ifname", f.tx_ep.ifname},
              {"sendmsg_calls", dtx.calls},
              {"descs", dtx.descs},
              {"descs_per_sendmsg", Div(dtx.descs, dtx.calls)},
              {"wasted_wakeups", dtx.hist[0]},
              {"batch_hist", hist},
              {"errors", dtx.errors},
              {"stalls", dtx.stalls},
              {"cq_size", dtx.cq_size},
              {"tx_budget", dtx.tx_budget}};
    if (probes_.Has(XSK_PROBES_SIG_SKB_BUILD)) {
      t["linear_skbs"] = dtx.linear_skbs;
      t["frag_skbs"] = dtx.frag_skbs;
    }
    if (probes_.Has(XSK_PROBES_SIG_DRIVER_BUSY)) t["xmit_busy"] = dtx.xmit_busy;
    p["tx"] = t;
  }
  if (tx_side && probes_.Has(XSK_PROBES_SIG_BACKPRESSURE)) {
    json bp = json::array();
    for (const auto& r : d.tx_errors) {
      json e = TxErrorRowJson(r);
      e["share_of_calls"] = Div(r.calls, dtx.calls);
      bp.push_back(std::move(e));
    }
    p["backpressure"] = bp;
  }
  if (probes_.Has(XSK_PROBES_SIG_DROPS)) {
    json drops = json::array();
    for (const auto& r : d.drops) drops.push_back(DropRowJson(r));
    p["drops"] = drops;
  }
  if (probes_.Has(XSK_PROBES_SIG_XDP_ERRORS)) {
    json xe = json::array();
    for (const auto& r : d.xdp_errors) xe.push_back(XdpErrorRowJson(r));
    p["xdp_errors"] = xe;
  }
  // Frames lost on the way, each counted once: every kfree_skb with a
  // reason, plus redirect errors that freed no skb (native XDP drops an
  // xdp_frame; in generic mode the failed redirect is also a kfree_skb
  // with reason XDP, already counted).
  // l2fwd on the sandbox: the forwarded frames come back to the sender's
  // interface, whose stack drops them (they are not addressed to it); that
  // is the end of the return leg ("returned"), not a loss.
  if (probes_.Has(XSK_PROBES_SIG_DROPS) && probes_.Has(XSK_PROBES_SIG_XDP_ERRORS)) {
    const bool return_leg = o_.mode == Mode::kL2Fwd && f.generator;
    uint64_t skbs = 0, xdp_reason = 0, redirect_errs = 0, returned_dropped = 0;
    for (const auto& r : d.drops) {
      if (return_leg && r.site.netns_ino == f.tx_scope.netns_ino && r.site.ifindex == f.tx_scope.ifindex) {
        returned_dropped += r.skbs;
        continue;
      }
      skbs += r.skbs;
      if (r.reason_label == "XDP") xdp_reason += r.skbs;
    }
    for (const auto& r : d.xdp_errors)
      if (r.event == XSK_PROBES_XDP_REDIRECT_ERR) redirect_errs += r.events;
    p["lost_explained"] = skbs + (redirect_errs > xdp_reason ? redirect_errs - xdp_reason : 0);
    if (return_leg) p["returned_dropped_by_sender"] = returned_dropped;
  }
  // The zero-copy path of the benchmark's interfaces (driver side by the
  // pool's queue, wakeups and need_wakeup by the socket's).
  json zc = json::array();
  for (const auto& r : d.zc) {
    json e = ZcRowJson(r, [&](xsk_probes_signal s) { return probes_.Has(s); });
    e["ifname"] = r.site.ifname;
    e["netns"] = r.site.netns;
    if (probes_.Has(XSK_PROBES_SIG_ZC_TX_BATCH))
      e["descs_per_batch"] = Div(r.zc.tx_descs, r.zc.tx_batches - r.zc.tx_hist[0]);
    zc.push_back(std::move(e));
  }
  p["zc"] = zc;
  json alloc = json::object();
  const xsk_probes_alloc da = d.alloc.value_or(xsk_probes_alloc{});
  if (probes_.Has(XSK_PROBES_SIG_BULK_ALLOC)) {
    alloc["bulk_calls"] = da.bulk_calls;
    alloc["bulk_objs"] = da.bulk_objs;
  }
  if (probes_.Has(XSK_PROBES_SIG_NAPI_BUILD)) {
    alloc["napi_build_skb"] = da.napi_build_skb;
    alloc["napi_build_fail"] = da.napi_build_fail;
  }
  if (!alloc.empty()) p["alloc"] = alloc;
  return p;
}

json Reporter::Result(const RunFacts& f) const {
  json r;
  r["tool"] = "xsk-bench";
  r["mode"] = ModeName(o_.mode);
  r["backend"] = BackendName(o_.backend);
  r["interrupted"] = f.interrupted;
  auto side = [](const Endpoint& e, const Scope& s) {
    return json{{"netns", e.netns}, {"ifname", e.ifname}, {"netns_ino", s.netns_ino},
                {"ifindex", s.ifindex}, {"mac", MacString(e.mac)}, {"ip", e.ip}};
  };
  json setup = {{"sandbox", f.sandbox},
                {"queue", o_.queue},
                {"bind", f.bind},
                {"need_wakeup", o_.need_wakeup},
                {"busy_poll", o_.busy_poll},
                {"poll", o_.poll},
                {"unaligned", o_.unaligned},
                {"pkt_size", o_.pkt_size},
                {"frame_len", o_.pkt_size - 4},
                {"frame_size", o_.frame_size},
                {"batch", o_.batch},
                {"ring_size", o_.ring_size}};
  bool tx_side = o_.mode == Mode::kTxOnly || f.generator;
  if (tx_side) setup["tx"] = side(f.tx_ep, f.tx_scope);
  if (o_.mode != Mode::kTxOnly) {
    setup["rx"] = side(f.rx_ep, f.rx_scope);
    setup["xdp_mode"] = f.steer_mode;
  }
  // rxdrop/l2fwd: the receiver's steering; txonly -z: the program igb,
  // ixgbe, i40e and ice need before they take a zero-copy socket's kicks.
  setup["steer_attached_for_run"] = f.steer_attached_for_run;
  r["setup"] = setup;
  r["duration_s"] = f.elapsed_s;
  if (o_.mode == Mode::kTxOnly) {
    r["tx"] = Rate(f.tx_packets, f.elapsed_s, o_.pkt_size);
    json calls = {{"calls", f.kicks},
                  {"errors", {{"EAGAIN", f.err_eagain}, {"EBUSY", f.err_ebusy},
                              {"ENOBUFS", f.err_enobufs}, {"other", f.err_other}}}};
    if (o_.backend == Backend::kAfXdp) {
      calls["descs"] = f.tx_consumed;
      calls["descs_per_call"] = Div(f.tx_consumed, f.kicks);
      r["sendmsg"] = calls;
    } else {
      calls["packets_per_call"] = Div(f.tx_packets, f.kicks);
      r["sendmmsg"] = calls;
    }
    if (!f.peer.is_null()) r["peer"] = f.peer;
  } else {
    r["rx"] = Rate(f.rx_packets, f.elapsed_s, o_.pkt_size);
    r["rx"]["wakeups"] = f.rx_wakeups;
    r["rx"]["empty_polls"] = f.rx_empty_polls;
    if (o_.mode == Mode::kL2Fwd) r["fwd"] = Rate(f.fwd_packets, f.elapsed_s, o_.pkt_size);
    if (!f.returned.is_null()) r["returned"] = f.returned;
    if (f.generator) {
      r["sender"] = Rate(f.tx_packets, f.elapsed_s, o_.pkt_size);
      r["sender"]["xdp_statistics"] = f.generator_xdp_stats;
    }
    if (f.steer) {
      json s;
      for (int i = 0; i < XSK_STEER_NR_OUTCOMES; i++)
        s[OutcomeName(static_cast<xsk_steer_outcome>(i))] = f.steer->packets[i];
      r["steer"] = s;
    }
  }
  if (!f.xdp_stats.is_null()) r["xdp_statistics"] = f.xdp_stats;
  r["sockopts"] = f.sockopts;
  r["probes"] = ProbesJson(f);
  if (f.generator && r["probes"].contains("lost_explained")) {
    uint64_t sent = f.tx_packets, got = f.rx_packets, lost = r["probes"]["lost_explained"];
    r["accounting"] = {{"sent", sent}, {"received", got}, {"lost_explained", lost},
                       {"unexplained", static_cast<int64_t>(sent) - static_cast<int64_t>(got + lost)}};
  }
  return r;
}

std::string RenderSummary(const json& r) {
  std::string out;
  const json& s = r["setup"];
  auto row = [&](const std::string& k, const std::string& v) {
    absl::StrAppend(&out, absl::StrFormat("  %-18s %s\n", k, v));
  };
  std::string where;
  if (s.contains("tx") && s.contains("rx"))
    where = absl::StrCat(s["tx"]["ifname"].get<std::string>(), " -> ", s["rx"]["ifname"].get<std::string>());
  else
    where = (s.contains("tx") ? s["tx"] : s["rx"])["ifname"].get<std::string>();
  absl::StrAppend(&out, absl::StrFormat(
      "== xsk-bench %s (%s) on %s%s, %s, %u B, batch %u, %s%s, %.1f s\n",
      r["mode"].get<std::string>(), r["backend"].get<std::string>(), where,
      s["sandbox"].get<bool>() ? " (sandbox)" : "", s["bind"].get<std::string>(),
      s["pkt_size"].get<uint32_t>(), s["batch"].get<uint32_t>(),
      s["need_wakeup"].get<bool>() ? "need_wakeup" : "no need_wakeup",
      s.contains("xdp_mode") ? absl::StrCat(", XDP ", s["xdp_mode"].get<std::string>()) : "",
      r["duration_s"].get<double>()));
  auto rate = [](const json& j) {
    return absl::StrFormat("%sp/s, %.0f Mbit/s (%s packets)", Si(j["pps"].get<double>()),
                           j["mbps"].get<double>(), Si(j["packets"].get<double>()));
  };
  if (r.contains("tx")) row("tx", rate(r["tx"]));
  if (r.contains("rx")) row("rx", rate(r["rx"]));
  if (r.contains("fwd")) row("forwarded", rate(r["fwd"]));
  if (r.contains("sender")) row("sender (ours)", rate(r["sender"]));
  if (r.contains("returned"))
    row("returned", absl::StrCat(r["returned"]["packets"].get<uint64_t>(), " on ",
                                 r["returned"]["ifname"].get<std::string>(), " (forwarded ",
                                 r["fwd"]["packets"].get<uint64_t>(), ")"));
  if (r.contains("peer"))
    row("peer received", absl::StrCat(r["peer"]["rx_packets"].get<uint64_t>(), " on ",
                                      r["peer"]["ifname"].get<std::string>(), " (dropped ",
                                      r["peer"]["rx_dropped"].get<uint64_t>(), ")"));
  if (r.contains("sendmsg")) {
    const json& c = r["sendmsg"];
    uint64_t calls = c["calls"].get<uint64_t>();
    row("sendmsg (user)", absl::StrFormat("%s calls, %.1f desc/call, EAGAIN %s, EBUSY %s, ENOBUFS %s",
                                          Si(calls), c["descs_per_call"].get<double>(),
                                          Pct(Div(c["errors"]["EAGAIN"].get<uint64_t>(), calls)),
                                          Pct(Div(c["errors"]["EBUSY"].get<uint64_t>(), calls)),
                                          Pct(Div(c["errors"]["ENOBUFS"].get<uint64_t>(), calls))));
  }
  if (r.contains("sendmmsg"))
    row("sendmmsg", absl::StrFormat("%s calls, %.1f packets/call",
                                    Si(r["sendmmsg"]["calls"].get<double>()),
                                    r["sendmmsg"]["packets_per_call"].get<double>()));
  if (r.contains("accounting")) {
    const json& a = r["accounting"];
    row("accounting", absl::StrCat("sent ", a["sent"].get<uint64_t>(), " = received ",
                                   a["received"].get<uint64_t>(), " + lost (probes) ",
                                   a["lost_explained"].get<uint64_t>(), a["unexplained"].get<int64_t>() == 0
                                       ? ": every frame accounted for"
                                       : absl::StrCat(", unexplained ", a["unexplained"].get<int64_t>())));
  }
  if (r.contains("steer")) {
    std::vector<std::string> parts;
    for (auto& [k, v] : r["steer"].items()) parts.push_back(absl::StrCat(k, " ", v.get<uint64_t>()));
    row("steering", absl::StrJoin(parts, ", "));
  }
  if (r.contains("xdp_statistics") && !r["xdp_statistics"].contains("error")) {
    std::vector<std::string> parts;
    for (auto& [k, v] : r["xdp_statistics"].items())
      if (v.get<uint64_t>()) parts.push_back(absl::StrCat(k, " ", v.get<uint64_t>()));
    row("XDP_STATISTICS", parts.empty() ? "all zero" : absl::StrJoin(parts, ", "));
  }
  for (auto& [k, v] : r["sockopts"].items())
    row(k, absl::StrCat(v.value("name", ""), ": ",
                        !v["available"].get<bool>() ? "unavailable on this kernel"
                        : v["applied"].get<bool>()  ? absl::StrCat("set to ", v["requested"].get<uint32_t>())
                                                    : "available, not set"));
  const json& p = r["probes"];
  if (!p["attached"].get<bool>()) {
    row("probes", p["why_not"].get<std::string>());
    return out;
  }
  row("probes", p["attached_for_run"].get<bool>() ? "attached for this run (--observe)" : "attached");
  if (p.contains("tx")) {
    const json& t = p["tx"];
    std::vector<std::string> hist;
    uint64_t calls = t["sendmsg_calls"].get<uint64_t>();
    for (const auto& b : t["batch_hist"])
      if (b["calls"].get<uint64_t>())
        hist.push_back(absl::StrCat(b["low"].get<uint32_t>(), "+: ", Pct(Div(b["calls"].get<uint64_t>(), calls))));
    row("batch efficiency",
        absl::StrFormat("%.1f desc per sendmsg over %s calls (budget %u, CQ %u); by size %s",
                        t["descs_per_sendmsg"].get<double>(), Si(calls), t["tx_budget"].get<uint32_t>(),
                        t["cq_size"].get<uint32_t>(), hist.empty() ? "-" : absl::StrJoin(hist, ", ")));
    if (t.contains("linear_skbs")) {
      uint64_t lin = t["linear_skbs"].get<uint64_t>(), frag = t["frag_skbs"].get<uint64_t>();
      row("skb build", absl::StrFormat("linear %s, frags %s", Pct(Div(lin, lin + frag)),
                                       Pct(Div(frag, lin + frag))));
    }
  }
  if (p.contains("backpressure")) {
    std::vector<std::string> parts;
    for (const auto& b : p["backpressure"])
      parts.push_back(absl::StrFormat("%s/%s %s of calls", b["cause"].get<std::string>(),
                                      b["errno_name"].get<std::string>(),
                                      Pct(b["share_of_calls"].get<double>())));
    row("backpressure", parts.empty() ? "none" : absl::StrJoin(parts, ", "));
  }
  if (p.contains("drops")) {
    std::vector<std::string> parts;
    for (const auto& d : p["drops"])
      parts.push_back(absl::StrCat(d["reason_name"].get<std::string>(), "@",
                                   d["ifname"].get<std::string>(), d["xsk"].get<bool>() ? " (xsk)" : "",
                                   " ", d["skbs"].get<uint64_t>()));
    row("drops by reason", parts.empty() ? "none" : absl::StrJoin(parts, ", "));
  }
  if (p.contains("xdp_errors") && !p["xdp_errors"].empty()) {
    std::vector<std::string> parts;
    for (const auto& d : p["xdp_errors"])
      parts.push_back(absl::StrCat(d["event"].get<std::string>(), " ",
                                   d.contains("errno_name") ? d["errno_name"].get<std::string>()
                                                            : d["action_name"].get<std::string>(),
                                   " ", d["events"].get<uint64_t>()));
    row("xdp errors", absl::StrJoin(parts, ", "));
  }
  if (p.contains("alloc")) {
    std::vector<std::string> parts;
    for (auto& [k, v] : p["alloc"].items()) parts.push_back(absl::StrCat(k, " ", v.get<uint64_t>()));
    row("allocation path", absl::StrJoin(parts, ", "));
  } else {
    row("allocation path", "unavailable with this probe mode (needs fentry)");
  }
  return out;
}

}  // namespace xskit::bench
